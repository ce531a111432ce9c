/**
 * The `threads` paradigm: N worker_threads of this process train one model, SPMD, over one copy of
 * the data in shared memory. The dataset is moved into a SharedArrayBuffer once (a no-op when it is
 * already there) and cut into N contiguous shards — views, not copies; the workers talk through a
 * shared-memory communicator (comm/shm/communicator.ts), so no training byte goes through postMessage.
 *
 * Failure is part of the contract: a worker that throws ends the run at once with a `WorkerError`
 * carrying its rank and original stack; a worker that stops answering is named by the peers that
 * wait for it (`CommError('TIMEOUT')`), and a run where nobody makes progress for `timeoutMs` is
 * stopped by the watchdog. On failure the abort flag is raised and every thread of the run terminated.
 * After a successful run the threads return to a per-process pool (runtime/thread-pool.ts) for the
 * next fit, idle and unref()ed, so the process still exits normally afterwards; `reuseThreads: false`
 * terminates them instead.
 *
 * @example
 * const model = await new KMeans({ k: 10 }).fit(data, { paradigm: 'threads', workers: 2 });
 * model.fitInfo?.computeMs; // per-rank compute time; model.fitInfo?.comm[r].commMs its communication time
 */
import { progressHistory } from './progress.js';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { CommStats } from '../comm/communicator.js';
import type { SharedWorld } from '../comm/shm/world.js';
import { abortWorld, createSharedWorld, heartbeats, ranksNotWaiting } from '../comm/shm/world.js';
import { CommError, ConfigError, WorkerError } from '../core/errors.js';
import type { FitInfo, LaunchRequest } from '../models/paradigm.js';
import type { ProgressEvent } from '../models/context.js';
import { checkStrategy } from '../strategies/index.js';
import { compressionOf } from './compression.js';
import type { ThreadLauncherMessage, ThreadWorkerData, ThreadWorkerMessage } from './thread-worker.js';
import type { PooledWorker } from './thread-pool.js';
import { acquireWorkers, discardWorker, releaseWorker } from './thread-pool.js';
import { refuseNetwork } from './network.js';

/** Default of `timeoutMs`: two minutes without any worker calling the communicator or reporting. */
const DEFAULT_TIMEOUT_MS = 120_000;
/** Longest a worker may take to start (import modules, build its model) when timeoutMs is shorter. */
const STARTUP_MS = 60_000;
/** Progress messages from rank 0 at most this often (all events are kept; they are batched). */
const PROGRESS_INTERVAL_MS = 100;
/**
 * Float64 values in the shared parameter arena Hogwild trains in: 8 Mi parameters (64 MiB). It is
 * reserved, not committed — Linux maps untouched pages lazily (a 256 MiB SharedArrayBuffer raised
 * this process's RSS by under 1 MB here), so runs that do not use it pay nothing.
 */
const PARAM_ARENA_LENGTH = 8 * 1024 * 1024;

function resolveWorkers(requested: number | undefined, rows: number): number {
  const workers = requested ?? Math.min(availableParallelism(), 4);
  if (!Number.isInteger(workers) || workers < 1) {
    throw new ConfigError(`workers must be a positive integer, got ${workers}`, { field: 'workers' });
  }
  if (workers > rows) {
    throw new ConfigError(`workers=${workers} exceeds the ${rows} rows of the data: every worker needs at least one row; use fewer workers`, { field: 'workers' });
  }
  return workers;
}

function moduleUrl(module: string): string {
  if (/^(file|data|node):/.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

type Outcome<State> = { state: State; stats: CommStats[]; trainMs: number[]; cpuMs: (number | undefined)[] };

export async function launchThreads<State>(request: LaunchRequest<State>): Promise<{ state: State; info: FitInfo }> {
  const { model, data, options } = request;
  refuseNetwork(options.network, 'threads');
  const size = resolveWorkers(options.workers, data.rows);
  const strategy = options.strategy ?? 'allreduce';
  const compression = compressionOf(options);
  checkStrategy(strategy, size, compression);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new ConfigError(`timeoutMs must be positive, got ${timeoutMs}`, { field: 'timeoutMs' });

  const startedAt = performance.timeOrigin + performance.now();
  const started = performance.now();
  const shared = data.toShared(); // once: every shard below is a view of this
  const world = createSharedWorld(size);
  const sharedParams = new Float64Array(new SharedArrayBuffer(PARAM_ARENA_LENGTH * 8));
  const { history, onEvents } = progressHistory(options.onProgress, startedAt);
  const modules = (options.workerModules ?? []).map(moduleUrl);
  const reuse = options.reuseThreads ?? true;

  const workerDataFor = (rank: number): ThreadWorkerData => {
    return {
      rank,
      world,
      model: { name: model.name, params: { ...model.params } as Record<string, unknown> },
      strategy,
      compression,
      data: {
        x: shared.x,
        y: shared.y,
        rows: shared.rows,
        cols: shared.cols,
        featureNames: shared.featureNames,
        labelNames: shared.labelNames,
        source: shared.source,
        rowKeys: shared.rowKeys,
        rowKeyBase: shared.rowKeyBase,
        start: Math.floor((rank * shared.rows) / size),
        end: Math.floor(((rank + 1) * shared.rows) / size),
      },
      sharedParams,
      timeoutMs,
      progressIntervalMs: PROGRESS_INTERVAL_MS,
      modules,
    };
  };

  const entries: PooledWorker[] = acquireWorkers(size, reuse);
  const workers = entries.map((entry) => entry.worker);
  let succeeded = false;
  try {
    workers.forEach((worker, rank) => worker.postMessage({ type: 'job', input: workerDataFor(rank) } satisfies ThreadLauncherMessage));
    const outcome = await supervise<State>(workers, world, timeoutMs, onEvents);
    const seconds = (performance.now() - started) / 1000;
    // Every rank posted its result, so every worker was online: this only reads the times.
    const startupMs = Math.max(0, ...(await Promise.all(entries.map((entry) => entry.online))).map((at) => at - started));
    succeeded = true;
    return {
      state: outcome.state,
      info: {
        paradigm: 'threads',
        workers: size,
        strategy,
        seconds,
        startupMs,
        threadIds: workers.map((worker) => worker.threadId),
        comm: outcome.stats,
        computeMs: outcome.trainMs.map((ms, rank) => ms - outcome.stats[rank]!.commMs),
        ...(outcome.cpuMs.every((ms) => ms !== undefined) ? { cpuMs: outcome.cpuMs } : {}),
        history,
      },
    };
  } finally {
    abortWorld(world);
    // A worker of a failed, timed-out or aborted job may be stuck or half-way: never reuse it.
    if (succeeded && reuse) entries.forEach(releaseWorker);
    else await Promise.all(entries.map(discardWorker));
  }
}

/** Wait for every rank's result; reject on the first failure or when nobody progresses for `timeoutMs`. */
function supervise<State>(workers: Worker[], world: SharedWorld, timeoutMs: number, onEvents: (events: (ProgressEvent & { at: number })[]) => void): Promise<Outcome<State>> {
  return new Promise((resolvePromise, rejectPromise) => {
    const size = workers.length;
    const stats: CommStats[] = new Array<CommStats>(size);
    const trainMs: number[] = new Array<number>(size).fill(0);
    const cpuMs: (number | undefined)[] = new Array<number | undefined>(size).fill(undefined);
    let state: State | undefined;
    let remaining = size;
    let settled = false;
    let lastBeats = heartbeats(world);
    let lastProgress = performance.now();
    let ready = 0;
    const readyRanks = new Set<number>();
    // The peers' own timeout names a silent rank precisely; the watchdog is the backstop for when
    // nobody waits on anybody (a world of one, or every rank stuck), so it allows a little longer.
    const watchdogMs = timeoutMs + Math.min(timeoutMs, 2000);
    const watchdog = setInterval(() => {
      if (ready < size) {
        if (performance.now() - lastProgress > Math.max(timeoutMs, STARTUP_MS)) {
          const waiting = workers.map((_, rank) => rank).filter((rank) => !readyRanks.has(rank));
          fail(new CommError('TIMEOUT', `worker rank${waiting.length > 1 ? 's' : ''} ${waiting.join(', ')} did not start within ${Math.max(timeoutMs, STARTUP_MS)} ms (importing modules and building the model)`, { rank: waiting[0]! }));
        }
        return;
      }
      const beats = heartbeats(world);
      if (beats.some((beat, rank) => beat !== lastBeats[rank])) lastProgress = performance.now();
      lastBeats = beats;
      if (performance.now() - lastProgress > watchdogMs) {
        const silent = ranksNotWaiting(world);
        fail(
          new CommError(
            'TIMEOUT',
            `no worker made progress for ${timeoutMs} ms; ` +
              (silent.length > 0 ? `rank${silent.length > 1 ? 's' : ''} ${silent.join(', ')} stopped answering outside communication` : 'every rank is blocked in communication') +
              ` (raise timeoutMs if one step legitimately takes longer)`,
            silent[0] === undefined ? {} : { rank: silent[0] },
          ),
        );
      }
    }, Math.min(1000, Math.max(10, timeoutMs / 4)));

    // A pooled worker outlives this job: its listeners must not (they would pile up, job after job).
    const detachers: (() => void)[] = [];
    const finish = (): void => {
      settled = true;
      clearInterval(watchdog);
      for (const detach of detachers) detach();
    };
    const fail = (error: Error): void => {
      if (settled) return;
      finish();
      abortWorld(world); // wake every blocked rank now, before the threads are terminated
      rejectPromise(error);
    };

    workers.forEach((worker, rank) => {
      const onMessage = (message: ThreadWorkerMessage): void => {
        if (settled) return;
        switch (message.type) {
          case 'online':
            return; // start-up is timed by the pool
          case 'ready':
            // Training starts when every rank is up, so start-up skew (module loading on a busy
            // machine) never counts against the communication timeout of the ranks that came first.
            readyRanks.add(rank);
            lastProgress = performance.now();
            if (++ready === size) {
              lastBeats = heartbeats(world);
              for (const each of workers) each.postMessage({ type: 'go' });
            }
            return;
          case 'progress':
            try {
              onEvents(message.events);
            } catch (error) {
              fail(error instanceof Error ? error : new Error(String(error))); // the caller's onProgress threw
            }
            return;
          case 'result':
            if (message.rank === 0) state = message.state as State;
            stats[message.rank] = message.stats;
            trainMs[message.rank] = message.trainMs;
            cpuMs[message.rank] = message.cpuMs;
            if (--remaining === 0) {
              finish();
              resolvePromise({ state: state as State, stats, trainMs, cpuMs });
            }
            return;
          case 'error':
            fail(workerFailure(message));
            return;
        }
      };
      const onError = (error: Error): void => fail(new WorkerError(rank, error.message, { cause: error }));
      const onExit = (code: number): void => {
        // Give a result posted just before the exit its turn on the event loop first.
        setTimeout(() => {
          if (!settled && stats[rank] === undefined) fail(new WorkerError(rank, `its thread exited (code ${code}) before reporting a result`));
        }, 50);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      detachers.push(() => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      });
    });
  });
}

/** The caller's error for a worker's report: its timeout naming a silent peer, or its own failure. */
function workerFailure(report: Extract<ThreadWorkerMessage, { type: 'error' }>): Error {
  const original = new Error(report.message);
  original.name = report.name;
  if (report.stack !== undefined) original.stack = report.stack;
  if (report.code === 'TIMEOUT') {
    return new CommError('TIMEOUT', report.message, report.peer === undefined ? { cause: original } : { cause: original, rank: report.peer });
  }
  const error = new WorkerError(report.rank, report.message, { cause: original });
  // The stack that matters is where the worker threw; keep it visible where users look first.
  if (report.stack !== undefined) error.stack = `${error.name}: ${error.message}\n    at rank ${report.rank}:\n${report.stack}`;
  return error;
}
