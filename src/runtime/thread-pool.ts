/**
 * The persistent worker pool of the `threads` paradigm. Starting a worker_thread means importing
 * the library and compiling its WASM kernels in it — 0.1–0.5 s per fit here (docs/notes/threads.md),
 * more than a short fit's training. So a worker that finished a job stays alive and waits for the
 * next one: the second and later fits of a process get warm threads.
 *
 * One pool per process, keyed by nothing but size: a job takes the first `size` idle workers and
 * starts more when there are not enough. An idle worker is `unref()`ed (a CLI still exits when its
 * work is done) and terminated after `IDLE_TIMEOUT_MS` without a job. A worker whose job failed,
 * timed out or was aborted is never returned here: the launcher terminates it (`discard`).
 *
 * @example
 * await model.fit(data, { paradigm: 'threads', workers: 2 }); // starts 2 threads (startupMs ≈ 300)
 * await model.fit(data, { paradigm: 'threads', workers: 2 }); // reuses them (startupMs ≈ 0)
 * await shutdownThreadPool(); // terminate the idle threads now, not after 30 s
 */
import { Worker } from 'node:worker_threads';
import { ConfigError, ShardlearnError } from '../core/errors.js';
import { resolveWorkers } from './job.js';
import type { ThreadWorkerMessage } from './thread-worker.js';

/** Idle workers are terminated after this long without a job, unless `configureThreadPool` says otherwise. */
export const IDLE_TIMEOUT_MS = 30_000;
let idleTimeoutMs = IDLE_TIMEOUT_MS;
/** Longest a new worker may take to come online (import the library, compile the kernels) for `prewarmThreads`. */
const STARTUP_MS = 60_000;

const WORKER_URL = new URL('./thread-worker.js', import.meta.url);

/** One worker thread, in the pool or lent to one job. */
export interface PooledWorker {
  readonly worker: Worker;
  /** Resolves with performance.now() when the worker has imported the library and waits for jobs. */
  readonly online: Promise<number>;
  /** True while a job uses it (or after a failure, until it is terminated). */
  busy: boolean;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

const pool: PooledWorker[] = [];
let execArgv: string[] | undefined;

/**
 * The parent's Node flags minus those that only make sense for the main script: a worker inherits
 * `process.execArgv`, and with `node --input-type=module -e …` it would refuse to start
 * ("--input-type can only be used with string input"). Loaders, memory limits and profilers stay.
 */
function workerExecArgv(): string[] {
  const kept: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag.startsWith('--input-type')) continue;
    if (flag === '-e' || flag === '--eval' || flag === '-p' || flag === '--print') {
      i++; // and the code that follows it
      continue;
    }
    if (/^--(eval|print)=/.test(flag)) continue;
    kept.push(flag);
  }
  return kept;
}

/**
 * A worker with the parent's flags; process-wide ones (V8 flags such as --no-liftoff) are refused by
 * worker_threads with ERR_WORKER_INVALID_EXEC_ARGV, which lists them: drop those and start it again.
 */
function newWorker(): Worker {
  const flags = (execArgv ??= workerExecArgv());
  try {
    return new Worker(WORKER_URL, { execArgv: flags });
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    const invalid = new Set(
      String((error as Error).message)
        .split(': ')
        .slice(1)
        .join(': ')
        .split(/,\s*/),
    );
    const valid = flags.filter((flag) => !invalid.has(flag));
    execArgv = valid.length < flags.length ? valid : []; // the message named none of ours: start bare
    return new Worker(WORKER_URL, { execArgv });
  }
}

function startWorker(): PooledWorker {
  const worker = newWorker();
  const online = new Promise<number>((resolve) => {
    const onMessage = (message: ThreadWorkerMessage): void => {
      if (message.type !== 'online') return;
      worker.off('message', onMessage);
      resolve(performance.now());
    };
    worker.on('message', onMessage);
  });
  const entry: PooledWorker = { worker, online, busy: true, idleTimer: undefined };
  // Always listening: an idle worker's 'error' would otherwise be an unhandled event in the caller.
  // A job's own listeners report failures; here the dead worker only leaves the pool.
  worker.on('error', () => remove(entry));
  worker.on('exit', () => remove(entry));
  return entry;
}

function remove(entry: PooledWorker): void {
  clearTimeout(entry.idleTimer);
  const index = pool.indexOf(entry);
  if (index >= 0) pool.splice(index, 1);
}

/**
 * `size` workers for one job, busy and ref()ed: the first idle ones of the pool, then new ones.
 * With `reuse` false every worker is new and stays out of the pool (the launcher discards it).
 */
export function acquireWorkers(size: number, reuse: boolean): PooledWorker[] {
  const taken: PooledWorker[] = [];
  if (reuse) {
    for (const entry of pool) {
      if (taken.length === size) break;
      if (entry.busy) continue;
      clearTimeout(entry.idleTimer);
      entry.idleTimer = undefined;
      entry.busy = true;
      entry.worker.ref();
      taken.push(entry);
    }
  }
  while (taken.length < size) {
    const entry = startWorker();
    if (reuse) pool.push(entry);
    taken.push(entry);
  }
  return taken;
}

/**
 * Start workers now so that the pool holds at least `size` idle ones when the next fit asks: their
 * start-up (importing the library, compiling the WASM kernels: 0.3–0.6 s each on this 2-core
 * machine, issue #19) then overlaps whatever the caller does meanwhile — the CLI loads the data. The
 * new workers are idle from the start (unref()ed, terminated after the idle timeout without a job);
 * a job that takes one before it is online posts its job to it, which runs once it is. The promise
 * resolves when every idle worker of the pool is online (awaiting it is optional).
 * @example
 * const warming = prewarmThreads(2); // undefined: as many as a fit would start by default
 * const data = (await loadData(spec, { placement: 'shared' })).train;
 * await warming; // not needed: the fit would wait for them anyway
 * await model.fit(data, { paradigm: 'threads', workers: 2 }); // startupMs ≈ 0
 */
export async function prewarmThreads(workers?: number): Promise<void> {
  const size = resolveWorkers(workers, Number.MAX_SAFE_INTEGER, true); // the count a fit would take
  const idle = pool.filter((entry) => !entry.busy).length;
  for (let i = idle; i < size; i++) {
    const entry = startWorker();
    pool.push(entry);
    releaseWorker(entry);
  }
  // An idle worker is unref()ed: one still starting is held ref()ed until online, so that a caller
  // awaiting this has a live event loop (else Node would exit with the promise unsettled).
  const starting = pool.filter((entry) => !entry.busy);
  for (const entry of starting) entry.worker.ref();
  try {
    await Promise.all(starting.map(onlineOrFailure));
  } finally {
    for (const entry of starting) if (!entry.busy) entry.worker.unref();
  }
}

/** When the worker is online; rejects if it exits or fails first, or takes longer than STARTUP_MS to start. */
function onlineOrFailure(entry: PooledWorker): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const thread = `pooled worker thread ${entry.worker.threadId}`;
    const onExit = (code: number): void => done(new ShardlearnError('WORKER_FAILED', `${thread} exited (code ${code}) while starting`));
    const onError = (error: Error): void =>
      done(new ShardlearnError('WORKER_FAILED', `${thread} failed while starting: ${error.message}`, { cause: error }));
    const timer = setTimeout(
      () => done(new ShardlearnError('TIMEOUT', `${thread} did not start within ${STARTUP_MS} ms (importing the library)`)),
      STARTUP_MS,
    );
    const done = (error: Error | null, at?: number): void => {
      clearTimeout(timer);
      entry.worker.off('exit', onExit);
      entry.worker.off('error', onError);
      if (error === null) resolve(at!);
      else reject(error);
    };
    entry.worker.on('exit', onExit);
    entry.worker.on('error', onError);
    entry.online.then((at) => done(null, at), done);
  });
}

/**
 * How long an idle pooled worker waits for its next job before it is terminated (default
 * IDLE_TIMEOUT_MS, 30 s); `Infinity` keeps idle workers until `shutdownThreadPool()` or the process
 * ends (they never keep it alive). Applies to workers that become idle from now on, and to those idle now.
 * @example
 * configureThreadPool({ idleTimeoutMs: Infinity }); // fits far apart keep warm threads
 */
export function configureThreadPool(options: { idleTimeoutMs: number }): void {
  const ms = options.idleTimeoutMs;
  if (!(ms >= 0))
    throw new ConfigError(`idleTimeoutMs must be a number of milliseconds ≥ 0 or Infinity, got ${String(ms)}`, { field: 'idleTimeoutMs' });
  idleTimeoutMs = ms;
  for (const entry of pool) if (!entry.busy) armIdleTimer(entry);
}

/** Give a worker whose job succeeded back to the pool (idle, unref()ed, terminated after the idle timeout). */
export function releaseWorker(entry: PooledWorker): void {
  if (!pool.includes(entry)) {
    void entry.worker.terminate(); // not pooled (reuseThreads: false) or already dropped
    return;
  }
  entry.busy = false;
  entry.worker.unref();
  armIdleTimer(entry);
}

/** (Re)start an idle worker's countdown to termination; none under an infinite idle timeout. */
function armIdleTimer(entry: PooledWorker): void {
  clearTimeout(entry.idleTimer);
  entry.idleTimer = undefined;
  if (!Number.isFinite(idleTimeoutMs)) return;
  entry.idleTimer = setTimeout(() => {
    remove(entry);
    void entry.worker.terminate();
  }, idleTimeoutMs);
  entry.idleTimer.unref();
}

/** Terminate a worker (failed, timed out, aborted, or not pooled) and drop it from the pool. */
export async function discardWorker(entry: PooledWorker): Promise<void> {
  remove(entry);
  await entry.worker.terminate();
}

/**
 * Terminate every idle pooled worker now and wait until they are gone. Fits that are running keep
 * their workers (those are terminated or pooled when they end). Idle workers never keep a process
 * alive and leave after the idle timeout (30 s by default) on their own; call this to free their memory sooner, or in tests that
 * count threads.
 *
 * @example
 * import { shutdownThreadPool } from 'shardlearn';
 * await shutdownThreadPool();
 */
export async function shutdownThreadPool(): Promise<void> {
  const idle = pool.filter((entry) => !entry.busy);
  await Promise.all(idle.map(discardWorker));
}

/** Idle workers in the pool (for tests and diagnostics). */
export function idleThreadCount(): number {
  return pool.filter((entry) => !entry.busy).length;
}
