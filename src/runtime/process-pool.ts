/**
 * The warm process pool of the `processes` paradigm (FitOptions.reuseProcesses), the counterpart of
 * the threads' pool (thread-pool.ts). Starting a worker process means forking, booting Node and
 * importing the library (which compiles the WASM kernels): 0.15–0.35 s of a processes×2 fit's
 * 0.4–0.5 s start-up here. A pooled child that finished a job successfully (result sent, world
 * closed: it reports `idle` with that job's id) stays alive and takes the next job's start order.
 *
 * Nothing of one job reaches the next but imported modules: every job gets a fresh job id, a fresh
 * 32-byte secret, a fresh 0700 local folder and a fresh ZeroMQ world (the child's communicator is
 * closed before it reports idle), so the second job's world refuses a hello proving the first
 * job's secret or naming its job id. A child whose job failed, timed out or was aborted is never
 * pooled: the launcher kills it (`discardProcesses`). A pooled child that died while idle leaves the
 * pool (its 'exit'), and the next job forks a new one in its place; a job that needs more children
 * than are idle forks the rest, one that needs fewer leaves the others idle.
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
 * await model.fit(data, { paradigm: 'processes', workers: 2, reuseProcesses: true }); // reuses them (startupMs ≈ 15–20 on 2,000 rows)
 * await shutdownProcessPool(); // kill the idle children now, not after 30 s
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { ConfigError } from '../core/errors.js';
import { reapAll } from './reap.js';

/** Idle pooled children are killed after this long without a job. */
export const PROCESS_IDLE_TIMEOUT_MS = 30_000;
/** How long a child that sent its result may take to close its world and report idle before it is killed instead of pooled. */
const IDLE_REPORT_TIMEOUT_MS = 5_000;
const WORKER_URL = new URL('./process-worker.js', import.meta.url);

/** What a pooled child tells the launcher after a successful job: its world is closed, it waits for the next start order. */
export interface ProcessIdle {
  type: 'idle';
  jobId: string;
}

interface PooledProcess {
  readonly child: ChildProcess;
  busy: boolean;
  /** The job id of the last `idle` report. */
  lastIdle: string | undefined;
  onIdle: (() => void) | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

const pool: PooledProcess[] = [];
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
}

function startPooled(): PooledProcess {
  const child = forkProcessWorker(true);
  const entry: PooledProcess = { child, busy: true, lastIdle: undefined, onIdle: undefined, idleTimer: undefined };
  child.on('message', (message: { type?: string; jobId?: string }) => {
    if (message.type !== 'idle') return;
    entry.lastIdle = message.jobId;
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
 * `size` children for one job, held (busy, ref()ed): the idle live ones of the pool first (in pool
 * order), then new ones forked into the pool.
 */
export function acquireProcesses(size: number): ChildProcess[] {
  const taken: PooledProcess[] = [];
  for (const entry of [...pool]) {
    if (taken.length === size) break;
    if (entry.busy) continue;
    if (!running(entry.child)) {
      remove(entry); // died while idle and its 'exit' has not been seen yet
      continue;
    }
    hold(entry);
    taken.push(entry);
  }
  while (taken.length < size) taken.push(startPooled());
  return taken.map((entry) => entry.child);
}

/**
 * After a successful job: wait until each child reports `idle` for `jobId` (its world closed), then
 * give it back to the pool. A child that does not report within 5 s, or died, is killed and
 * dropped. Resolves once every child is pooled or gone.
 */
export async function releaseProcesses(children: readonly ChildProcess[], jobId: string): Promise<void> {
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
}

/** Kill (TERM, then KILL after 2 s) and wait for the given children; those in the pool leave it. */
export async function discardProcesses(children: readonly ChildProcess[]): Promise<void> {
  for (const child of children) {
    const entry = pool.find((candidate) => candidate.child === child);
    if (entry !== undefined) remove(entry);
  }
  await reapAll(children);
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

/** The pids of the idle pooled children (for tests and diagnostics). */
export function idleProcessPids(): number[] {
  return idleProcesses().map((child) => child.pid!);
}
