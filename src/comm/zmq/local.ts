/**
 * The local path of the ZeroMQ transport: ranks that all run on this host (the `processes`
 * paradigm) talk over `ipc://` (Unix domain) sockets in a fresh folder of mode 0700, with ZeroMQ's
 * NULL mechanism instead of CURVE — authenticated, but not needlessly encrypted.
 *
 * Why this is still authenticated: a Unix socket is reached through its path, and the kernel checks
 * the search permission of every folder on that path at connect time; in a 0700 folder owned by this
 * user only this user (and root) can connect. That is the same trust boundary as the job's secret,
 * which the launcher hands its children over IPC and any process of this user could read anyway. On
 * top of it every connection still opens with the hello (zmq/hello.ts), whose job id and generation
 * must match, plus a proof of the job secret (HKDF of it, `helloProof`): a process that can connect
 * but is not of this job is refused and logged, as over TCP. Frames are still capped by
 * maxMessageBytes and handshakes by handshakeTimeoutMs.
 *
 * Across hosts everything is encrypted by default (CURVE, zmq/security.ts; the collectives' lane in
 * AES-256-GCM records, zmq/lane-sealed.ts): bytes on a network may be read or forged by others; bytes
 * through a 0700 folder's socket cannot.
 *
 * @example
 * const local = await createLocalDir();                    // /tmp/shardlearn-Ab12Cd, mode 0700
 * await ZmqCommunicator.join({ ...options, ipcDir: local.dir });
 * await local.remove();                                    // on close and on failure
 */
import { hkdfSync, timingSafeEqual } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { chmod, lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { onTmpfs } from './lane-files.js';

/** Longest Unix socket path (sun_path is 108 bytes on Linux, with its terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;
/** The only mode a local folder may have: this user reads, writes and searches it; nobody else. */
export const LOCAL_DIR_MODE = 0o700;

/** A job's local folder and how to remove it with every socket in it. */
export interface LocalDir {
  dir: string;
  remove(): Promise<void>;
}

/** tmpfs on Linux: where a job's local folder goes when it can (localParent). */
const SHM = '/dev/shm';

/**
 * Where a job's local folder goes by default: /dev/shm when it is tmpfs (the lane's board and segment
 * files stay in memory there: zmq/lane-board.ts), else the system's temp folder. TMPDIR, when set,
 * is obeyed as it is.
 */
export function localParent(): string {
  if (process.env['TMPDIR'] === undefined && onTmpfs(SHM)) {
    try {
      accessSync(SHM, constants.W_OK | constants.X_OK);
      return SHM;
    } catch {
      // not writable here: the temp folder
    }
  }
  return tmpdir();
}

/** A fresh folder of mode 0700 (by default under `localParent()`), for one job's ipc:// sockets and lane files. */
export async function createLocalDir(parent = localParent()): Promise<LocalDir> {
  const dir = await mkdtemp(join(parent, 'shardlearn-'));
  await chmod(dir, LOCAL_DIR_MODE); // mkdtemp gives 0700 already; the umask cannot widen it, but say so
  await checkLocalDir(dir);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Refuse a folder that would not authenticate the ranks connecting through it: not a real folder
 * (a symbolic link could be redirected), not owned by this user, or open to anyone else (mode other
 * than 0700), or too long a path for a socket. A ConfigError naming the folder and what is wrong.
 */
export async function checkLocalDir(dir: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(dir);
  } catch (error) {
    throw new ConfigError(`the local transport folder '${dir}' cannot be used: ${(error as Error).message}`, {
      field: 'ipcDir',
      cause: error,
    });
  }
  const problem = !stats.isDirectory()
    ? 'it is not a folder (symbolic links are refused)'
    : process.getuid !== undefined && stats.uid !== process.getuid()
      ? `it is owned by uid ${stats.uid}, not by this user (uid ${process.getuid()})`
      : (stats.mode & 0o777) !== LOCAL_DIR_MODE
        ? `its mode is ${(stats.mode & 0o777).toString(8).padStart(4, '0')}, expected 0700 (only this user may connect to the sockets in it)`
        : Buffer.byteLength(ipcPath(dir, 0)) > MAX_SOCKET_PATH_BYTES
          ? `its socket paths would exceed ${MAX_SOCKET_PATH_BYTES} bytes (use a shorter temp folder, e.g. TMPDIR=/tmp)`
          : null;
  if (problem !== null) throw new ConfigError(`the local transport folder '${dir}' cannot be used: ${problem}`, { field: 'ipcDir' });
}

function ipcPath(dir: string, rank: number): string {
  return join(dir, `rank-${rank}.sock`);
}

/** The ipc:// endpoint rank `rank` binds in the job's local folder. */
export function ipcEndpoint(dir: string, rank: number): string {
  return `ipc://${ipcPath(dir, rank)}`;
}

/** Whether `endpoint` is a rank's socket inside the job's local folder `dir` (what a rendezvous accepts on the local path). */
export function isLocalEndpoint(dir: string, endpoint: unknown): endpoint is string {
  return (
    typeof endpoint === 'string' &&
    /^ipc:\/\/.+\/rank-\d+\.sock$/.test(endpoint) &&
    endpoint.startsWith(`ipc://${dir}/`) &&
    !endpoint.includes('/../')
  );
}

/** What a rank of the local path puts in its hello to show it holds the job secret (hex of HKDF-SHA256(secret, job id)). */
export function helloProof(secret: Uint8Array, jobId: string): string {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from(jobId, 'utf8'), 'shardlearn local hello', 32)).toString('hex');
}

/** Whether a hello's `proof` field equals `expected` (compared in constant time). */
export function proofMatches(expected: string, proof: unknown): boolean {
  if (typeof proof !== 'string' || proof.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(proof, 'utf8'), Buffer.from(expected, 'utf8'));
}
