/**
 * A rank's tie to the `shardlearn launch` that started it: when the launcher dies, even by SIGKILL
 * (which it cannot forward), its ranks stop within moments instead of training to the end or to
 * their timeout with nobody left to read their output or reap them.
 *
 * Linux's prctl(PR_SET_PDEATHSIG) is not reachable from Node, and polling the parent pid needs a
 * timer in every rank; so the launcher (runtime/launch.ts) gives each rank one more pipe, as file
 * descriptor SHARDLEARN_LAUNCHER_FD, and never writes to it. The kernel closes the launcher's end
 * when the launcher exits however it exits, and the rank reads end-of-file: it then stops itself with
 * SIGTERM, as if the launcher had forwarded one, so handlers that clean up (netns.ts) still run.
 *
 * @example
 * followLauncher(); // at the start of a rank; does nothing in a process not started by `launch`
 */
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';

/** The environment variable naming the descriptor of the launcher's pipe (set by runtime/launch.ts). */
export const LAUNCHER_FD_VARIABLE = 'SHARDLEARN_LAUNCHER_FD';
/** The descriptor the launcher hands that pipe on (after stdin, stdout, stderr). */
export const LAUNCHER_FD = 3;
/** After SIGTERM, how long a rank's own handlers may take before it exits regardless. */
const STOP_GRACE_MS = 5000;

let following = false;

/** Stop this rank: SIGTERM (handlers run; with none the process ends), then exit after a grace period. */
function stopThisRank(): void {
  setTimeout(() => process.exit(128 + 15), STOP_GRACE_MS).unref();
  process.kill(process.pid, 'SIGTERM');
}

/**
 * When this process was started by `shardlearn launch`, call `onGone` (default: stop this rank) as
 * soon as the launcher is gone. Returns whether it follows a launcher. Idempotent. The variable is
 * removed from the environment, so that this rank's own children, whose descriptor 3 is something
 * else, do not follow it.
 */
export function followLauncher(onGone: () => void = stopThisRank): boolean {
  if (following) return true;
  const text = process.env[LAUNCHER_FD_VARIABLE];
  if (text === undefined || text === '') return false;
  delete process.env[LAUNCHER_FD_VARIABLE];
  const fd = Number(text);
  let isPipe = false;
  try {
    const stat = Number.isInteger(fd) && fd > 2 ? fstatSync(fd) : null;
    isPipe = stat !== null && (stat.isSocket() || stat.isFIFO());
  } catch {
    isPipe = false;
  }
  if (!isPipe) {
    process.emitWarning(
      `${LAUNCHER_FD_VARIABLE}=${text} is not an open pipe from a launcher; this process will not stop with its launcher`,
    );
    return false;
  }
  following = true;
  const link = new Socket({ fd, readable: true, writable: false });
  let gone = false;
  const onEnd = (): void => {
    if (gone) return;
    gone = true;
    onGone();
  };
  link.on('data', () => undefined); // the launcher never writes; reading is what delivers end-of-file
  link.once('end', onEnd);
  link.once('close', onEnd);
  link.on('error', onEnd);
  link.unref(); // the tie never keeps a finished rank alive
  return true;
}
