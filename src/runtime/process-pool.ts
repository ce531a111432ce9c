/**
 * The warm process pool of the `processes` paradigm (FitOptions.reuseProcesses), the counterpart of
 * the threads' pool (thread-pool.ts). Starting a worker process means forking, booting Node and
 * importing the library (which compiles the WASM kernels): 0.15–0.35 s of a processes×2 fit's
 * 0.4–0.5 s start-up here. A pooled child that finished a job successfully (result sent, world
 * closed: it reports `idle` with that job's id) stays alive and takes the next job's start order.
 *
 * Kept worlds: the ranks of a successful job on the local path keep their ZeroMQ world (sockets
 * bound, peers joined, lanes connected) under an id the pool gives it, and the next job with the
 * same world size and timeouts runs on the same children in the same rank order and renews that
 * world instead of joining one (comm/zmq/renewal.ts): a warm processes×2 fit's start-up
 * (FitInfo.startupMs) fell from a median 9.8 ms to 5.7 ms here, its whole fit from 18 to 11 ms on
 * 8,000 rows (bench/processes-pool.ts --no-fork). The folder of the job that formed the world stays
 * until the world is dropped. A kept world is dropped (its ranks told to close it, its folder removed)
 * when one of its children dies or is discarded, when a renewal fails (the ranks then join a fresh
 * world, kept in its place), or when a job ends with a rank that did not keep it. Jobs that cannot
 * use a kept world take the children no kept world holds, and fork more rather than break one up.
 *
 * Nothing of one job reaches the next but imported modules and a kept world: every job gets a
 * fresh job id, a fresh 32-byte secret and a fresh 0700 folder (for its shard files, and for a
 * fresh world); a kept world is taken over only after every rank proved the new job's secret to
 * every other, and its hellos must then prove the new job's — so the second job's world refuses a
 * hello proving the first job's secret or naming its job id, kept or not. A child whose job failed,
 * timed out or was aborted is never pooled: the launcher kills it (`discardProcesses`). A pooled
 * child that died while idle leaves the pool (its 'exit'), and the next job forks a new one in its
 * place; a job that needs more children than are idle forks the rest, one that needs fewer leaves
 * the others idle.
 *
 * Idle children are unref()ed (the parent still exits when its work is done) and killed after
 * `PROCESS_IDLE_TIMEOUT_MS` unused; on the parent's exit they are sent SIGTERM, and a child whose
 * IPC channel closes (the parent died, even by SIGKILL) exits at once (process-worker.ts): no orphans.
 *
 * Elastic runs (minWorkers/maxRestarts) and fault injection (FitOptions.inject) never use the pool:
 * their replacements and kills belong to one run.
 *
 * @example
 * await model.fit(data, { paradigm: 'processes', workers: 2, reuseProcesses: true }); // forks 2 (startupMs ≈ 450)
 * await model.fit(data, { paradigm: 'processes', workers: 2, reuseProcesses: true }); // reuses them and their world (startupMs ≈ 5–8)
 * await shutdownProcessPool(); // kill the idle children now, not after 30 s
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { LocalDir } from '../comm/zmq/local.js';
import { ConfigError } from '../core/errors.js';
import type { KeptWorldPlace, ProcessDropWorld, ProcessIdle } from './process-worker.js';
import { reapAll } from './reap.js';

/** Idle pooled children are killed after this long without a job. */
export const PROCESS_IDLE_TIMEOUT_MS = 30_000;
/** How long a child that sent its result may take to close its world and report idle before it is killed instead of pooled. */
const IDLE_REPORT_TIMEOUT_MS = 5_000;
const WORKER_URL = new URL('./process-worker.js', import.meta.url);

interface PooledProcess {
  readonly child: ChildProcess;
  busy: boolean;
  /** The job id of the last `idle` report, and the world it kept then. */
  lastIdle: string | undefined;
  lastKept: KeptWorldPlace | undefined;
  onIdle: (() => void) | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** The kept world this child is a rank of. */
  world: KeptWorld | undefined;
}

/** A world its ranks kept after a job: which children in rank order, for which jobs (`key`), and its folder. */
interface KeptWorld {
  readonly id: string;
  readonly key: string;
  readonly members: PooledProcess[];
  dir: LocalDir;
}

/** What a pooled job's start orders say about its world (ProcessStart.world). */
export interface PooledWorld {
  id: string;
  reuse: boolean;
}

const pool: PooledProcess[] = [];
const worlds: KeptWorld[] = [];
let exitHook = false;

/** Fork one worker process; `pooled` children stay for further jobs, the others exit after one. */
export function forkProcessWorker(pooled: boolean): ChildProcess {
  return fork(WORKER_URL, [], {
    serialization: 'advanced',
    // A pooled child collects the last job's garbage before the next one starts (process-worker.ts), so
    // that job's peak memory starts from what the child really holds, not from the last job's heap.
    execArgv: pooled ? ['--expose-gc'] : [],
    env: { ...process.env, SHARDLEARN_PROCESS_WORKER: '1', ...(pooled ? { SHARDLEARN_PROCESS_POOLED: '1' } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.connected;
}

function remove(entry: PooledProcess): void {
  clearTimeout(entry.idleTimer);
  const index = pool.indexOf(entry);
  if (index >= 0) pool.splice(index, 1);
  if (entry.world !== undefined) void dropWorld(entry.world);
}

/** Tell the live ranks of `world` to close it, and remove its folder: its children stay pooled, free for any job. */
async function dropWorld(world: KeptWorld): Promise<void> {
  const index = worlds.indexOf(world);
  if (index < 0) return;
  worlds.splice(index, 1);
  for (const member of world.members) {
    member.world = undefined;
    closeKept(member.child, world.id);
  }
  await world.dir.remove().catch(() => undefined);
}

/** Tell `child`, when it is alive, to close the world it keeps under `id`. */
function closeKept(child: ChildProcess, id: string): void {
  if (running(child)) child.send({ type: 'drop-world', id } satisfies ProcessDropWorld, () => undefined);
}

function startPooled(): PooledProcess {
  const child = forkProcessWorker(true);
  const entry: PooledProcess = {
    child,
    busy: true,
    lastIdle: undefined,
    lastKept: undefined,
    onIdle: undefined,
    idleTimer: undefined,
    world: undefined,
  };
  child.on('message', (message: ProcessIdle | { type?: undefined }) => {
    if (message.type !== 'idle') return;
    entry.lastIdle = message.jobId;
    entry.lastKept = message.kept;
    entry.onIdle?.();
  });
  // Always listening: a dead idle child only leaves the pool (a job's own listeners report failures).
  child.on('error', () => remove(entry));
  child.on('exit', () => remove(entry));
  pool.push(entry);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const { child: pooled } of pool) if (running(pooled)) pooled.kill('SIGTERM');
      for (const world of worlds) rmSync(world.dir.dir, { recursive: true, force: true });
    });
  }
  return entry;
}

function hold(entry: PooledProcess): void {
  clearTimeout(entry.idleTimer);
  entry.idleTimer = undefined;
  entry.busy = true;
  entry.child.ref();
  entry.child.channel?.ref();
}

function idle(entry: PooledProcess): void {
  entry.busy = false;
  entry.child.unref();
  entry.child.channel?.unref();
  entry.idleTimer = setTimeout(() => {
    remove(entry);
    entry.child.kill('SIGTERM');
  }, PROCESS_IDLE_TIMEOUT_MS);
  entry.idleTimer.unref();
}

/**
 * `size` children for one job, held (busy, ref()ed). With `worldKey` (a job on the local path; the
 * world size and the timeouts its world was joined with): the ranks of an idle kept world for that
 * key, in rank order, whose world the job renews (`world.reuse`); else, and without a key, the idle
 * live children no kept world holds (in pool order), then new ones forked into the pool — with a key
 * their world is to be kept under a fresh id.
 */
export function acquireProcesses(size: number, worldKey?: string): { children: ChildProcess[]; world?: PooledWorld } {
  const world =
    worldKey === undefined
      ? undefined
      : worlds.find(
          (candidate) =>
            candidate.key === worldKey && candidate.members.length === size && candidate.members.every((m) => !m.busy && running(m.child)),
        );
  if (world !== undefined) {
    world.members.forEach(hold);
    return { children: world.members.map((entry) => entry.child), world: { id: world.id, reuse: true } };
  }
  const taken: PooledProcess[] = [];
  for (const entry of [...pool]) {
    if (taken.length === size) break;
    if (entry.busy || entry.world !== undefined) continue;
    if (!running(entry.child)) {
      remove(entry); // died while idle and its 'exit' has not been seen yet
      continue;
    }
    hold(entry);
    taken.push(entry);
  }
  while (taken.length < size) taken.push(startPooled());
  const children = taken.map((entry) => entry.child);
  return worldKey === undefined ? { children } : { children, world: { id: `world-${randomBytes(6).toString('hex')}`, reuse: false } };
}

/**
 * After a successful job: wait until each child reports `idle` for `jobId` (its world closed or
 * kept), then give it back to the pool. A child that does not report within 5 s, or died, is killed
 * and dropped. With `world` (the job's PooledWorld, its key, and its own folder): when every rank
 * kept the world, the pool keeps it — in the folder of the job that joined it; true when that is
 * this job's `dir`, which then belongs to the pool — and otherwise drops it. Resolves once every
 * child is pooled or gone.
 */
export async function releaseProcesses(
  children: readonly ChildProcess[],
  jobId: string,
  world?: PooledWorld & { key: string; dir: LocalDir },
): Promise<boolean> {
  await Promise.all(
    children.map(async (child) => {
      const entry = pool.find((candidate) => candidate.child === child);
      if (entry === undefined) return discardProcesses([child]);
      const reported = await new Promise<boolean>((resolve) => {
        if (entry.lastIdle === jobId) return resolve(true);
        const timer = setTimeout(() => finish(false), IDLE_REPORT_TIMEOUT_MS);
        const onExit = (): void => finish(false);
        const finish = (ok: boolean): void => {
          clearTimeout(timer);
          entry.onIdle = undefined;
          child.off('exit', onExit);
          resolve(ok);
        };
        entry.onIdle = () => {
          if (entry.lastIdle === jobId) finish(true);
        };
        child.once('exit', onExit);
      });
      if (reported && running(child)) idle(entry);
      else await discardProcesses([child]);
    }),
  );
  return world === undefined ? false : await keepWorld(children, world);
}

/**
 * Record the world the ranks of a finished job kept (or drop it when one did not); true when
 * `world.dir` now belongs to it. Resolves once a folder it gives up is removed: the job's caller
 * (and a test) then finds it gone, and a parent exiting right after leaves none behind.
 */
async function keepWorld(children: readonly ChildProcess[], world: PooledWorld & { key: string; dir: LocalDir }): Promise<boolean> {
  const members = children.map((child) => pool.find((entry) => entry.child === child && !entry.busy));
  const previous = worlds.find((candidate) => candidate.id === world.id);
  const places = members.map((entry) => entry?.lastKept);
  const dir = places[0]?.dir;
  const whole = members.every((entry) => entry !== undefined) && places.every((kept) => kept?.id === world.id && kept.dir === dir);
  if (!whole || (dir !== world.dir.dir && previous?.dir.dir !== dir)) {
    // A rank closed it (or died, or kept another): every rank closes what it kept.
    for (const entry of members) if (entry?.lastKept !== undefined) closeKept(entry.child, entry.lastKept.id);
    if (previous !== undefined) await dropWorld(previous);
    return false;
  }
  const adopted = dir === world.dir.dir;
  if (previous !== undefined) {
    // Renewed (its folder stays), or re-joined in this job's folder after a failed renewal (the old one goes).
    if (adopted) {
      const old = previous.dir;
      previous.dir = world.dir;
      await old.remove().catch(() => undefined);
    }
    return adopted;
  }
  const kept: KeptWorld = { id: world.id, key: world.key, members: members as PooledProcess[], dir: world.dir };
  for (const entry of kept.members) entry.world = kept;
  worlds.push(kept);
  return true;
}

/** Kill (TERM, then KILL after 2 s) and wait for the given children; those in the pool leave it. */
export async function discardProcesses(children: readonly ChildProcess[]): Promise<void> {
  const dropping: Promise<void>[] = [];
  for (const child of children) {
    const entry = pool.find((candidate) => candidate.child === child);
    if (entry?.world !== undefined) dropping.push(dropWorld(entry.world));
    if (entry !== undefined) remove(entry);
  }
  await Promise.all([reapAll(children), ...dropping]);
}

/**
 * Fork children now so that the pool holds at least `workers` idle ones when the next pooled fit
 * asks; their start-up then overlaps whatever the caller does meanwhile (loading the data).
 * @example
 * prewarmProcesses(2);
 * await model.fit(data, { paradigm: 'processes', workers: 2, reuseProcesses: true });
 */
export function prewarmProcesses(workers: number): void {
  if (!Number.isInteger(workers) || workers < 1)
    throw new ConfigError(`prewarmProcesses: workers must be a positive integer, not ${workers}`);
  const idleNow = pool.filter((entry) => !entry.busy && running(entry.child)).length;
  for (let i = idleNow; i < workers; i++) idle(startPooled());
}

/**
 * Kill every idle pooled child now and wait until they are gone. Running fits keep their children
 * (pooled or killed when they end). Idle children never hold the process open and leave after 30 s
 * on their own, or when this process exits; call this to free them sooner, or in tests that count
 * children.
 * @example
 * import { shutdownProcessPool } from 'shardlearn';
 * await shutdownProcessPool();
 */
export async function shutdownProcessPool(): Promise<void> {
  await discardProcesses(pool.filter((entry) => !entry.busy).map((entry) => entry.child));
}

/** The idle pooled children (for tests and diagnostics). */
export function idleProcesses(): ChildProcess[] {
  return pool.filter((entry) => !entry.busy && running(entry.child)).map((entry) => entry.child);
}

/** The kept worlds whose ranks are all idle: their ids, children's pids in rank order and folders (for tests and diagnostics). */
export function idleWorlds(): { id: string; pids: number[]; dir: string }[] {
  return worlds
    .filter((world) => world.members.every((entry) => !entry.busy && running(entry.child)))
    .map((world) => ({ id: world.id, pids: world.members.map((entry) => entry.child.pid!), dir: world.dir.dir }));
}

/** The pids of the idle pooled children (for tests and diagnostics). */
export function idleProcessPids(): number[] {
  return idleProcesses().map((child) => child.pid!);
}
