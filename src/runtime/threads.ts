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
import type { Worker } from 'node:worker_threads';
import type { SharedWorld } from '../comm/shm/world.js';
import { abortWorld, heartbeats, ranksNotWaiting } from '../comm/shm/world.js';
import { CommError, WorkerError } from '../core/errors.js';
import { kernels } from '../core/kernels.js';
import { shareWasmKernels } from '../core/kernels-wasm.js';
import { isShared } from '../core/storage.js';
import type { FaultRecord, FitInfo, LaunchRequest } from '../models/paradigm.js';
import { resolveElastic } from './elastic.js';
import type { ProgressEvent } from '../models/context.js';
import { checkStrategy } from '../strategies/index.js';
import { compressionOf } from './compression.js';
import { fitInfoParts, jobFor, rankFailure, resolveTimeout, resolveWorkers, shardRange } from './job.js';
import type { RankResult } from './rank.js';
import type { ThreadLauncherMessage, ThreadRankStart, ThreadWorkerMessage } from './thread-worker.js';
import type { PooledWorker } from './thread-pool.js';
import { acquireWorkers, discardWorker, releaseWorker } from './thread-pool.js';
import { acquireArenas, releaseArenas } from './job-arenas.js';
import { releaseRowArrays } from './row-arrays.js';
import { refuseCollectiveLane, refuseInsecureTransport, refuseNetwork } from './network.js';

/** Longest a worker may take to start (import modules, build its model) when timeoutMs is shorter. */
const STARTUP_MS = 60_000;
/** Progress messages from rank 0 at most this often (all events are kept; they are batched). */
const PROGRESS_INTERVAL_MS = 100;

/**
 * Run the fit on threads; under a restart policy (FitOptions.maxRestarts, runtime/elastic.ts) a run
 * that fails on a worker's error or a lost or silent worker is started again with the same number
 * of workers, at most `maxRestarts` times: from the newest checkpoint file when a checkpoint folder is
 * set (the threads' in-memory state dies with the failed run), else from the start.
 */
export async function launchThreads<State>(request: LaunchRequest<State>): Promise<{ state: State; info: FitInfo }> {
  // Features on the heap need a copy into shared memory anyway: it goes into this thread's WASM
  // kernel memory, where the workers' kernels read it in place (launchThreadsOnce), and is released
  // when the fit (restarts included) is over. Features already shared stay where they are.
  const placed = isShared(request.data.x) ? null : kernels().resident(request.data.x);
  try {
    return await launchThreadsRestarting(placed === null ? request : { ...request, data: request.data.with({ x: placed.array }) });
  } finally {
    placed?.release();
  }
}

async function launchThreadsRestarting<State>(request: LaunchRequest<State>): Promise<{ state: State; info: FitInfo }> {
  const size = resolveWorkers(request.options.workers, request.data.rows, false);
  const policy = resolveElastic(request.options, size, 'threads');
  if (policy === undefined) return launchThreadsOnce(request);
  const faults: FaultRecord[] = [];
  let options = request.options;
  for (let restarts = 0; ; restarts++) {
    try {
      const fitted = await launchThreadsOnce({ ...request, options });
      const last = faults.at(-1);
      if (last !== undefined) {
        // The restarted run's start-up (threads, model, the checkpoint broadcast waits for it) is the reload.
        last.reloadMs = fitted.info.startupMs ?? 0;
        last.lostMs = last.reformMs + last.reloadMs;
      }
      return { state: fitted.state, info: { ...fitted.info, ...(faults.length === 0 ? {} : { faults }) } };
    } catch (error) {
      const failed = performance.now();
      if (!(error instanceof WorkerError || error instanceof CommError)) throw error;
      const rank = (error as { rank?: number }).rank ?? 0;
      if (restarts + 1 > policy.maxRestarts) {
        error.message = `${error.message}\n(max-restarts ${policy.maxRestarts} exhausted: rank ${rank} failed after ${restarts} restart${restarts === 1 ? '' : 's'})`;
        throw error;
      }
      process.stderr.write(
        `shardlearn: worker rank ${rank} failed (${error.message.split('\n')[0]}); restart ${restarts + 1} of ${policy.maxRestarts}\n`,
      );
      if (options.checkpoint !== undefined) options = { ...options, checkpoint: { ...options.checkpoint, resume: true } };
      faults.push({
        rank,
        lost: [rank],
        generation: restarts + 1,
        workers: size,
        detectedMs: 0, // the failure reaches this thread as it happens
        reformMs: performance.now() - failed,
        reloadMs: 0,
        lostMs: performance.now() - failed,
      });
    }
  }
}

async function launchThreadsOnce<State>(request: LaunchRequest<State>): Promise<{ state: State; info: FitInfo }> {
  const { data, options } = request;
  refuseNetwork(options.network, 'threads');
  refuseInsecureTransport(options.insecureTransport, 'threads');
  refuseCollectiveLane(options.collectiveLane, 'threads');
  const size = resolveWorkers(options.workers, data.rows, false);
  const strategy = options.strategy ?? 'allreduce';
  checkStrategy(strategy, compressionOf(options));
  const timeoutMs = resolveTimeout(options.timeoutMs);

  const startedAt = performance.timeOrigin + performance.now();
  const started = performance.now();
  const shared = data.toShared(); // once: every rank's rows below are a view of this
  const arenas = acquireArenas(size);
  const world = arenas.world;
  const { history, onEvents } = progressHistory(options.onProgress, startedAt);
  const reuse = options.reuseThreads ?? true;

  // The whole shared dataset (its buffers are SharedArrayBuffers: posted, not copied) and this rank's range.
  const init = shared.init();
  // Data in this thread's WASM kernel memory (the CLI puts it there): the workers' kernels run over
  // that memory too and read it in place, instead of each copying the data into a memory of its own.
  const workerKernels = shareWasmKernels(shared.x);
  // Every rank's first row, then the row count (shardRange's start for rank `size` is the row count).
  const shardStarts = Array.from({ length: size + 1 }, (_, rank) => shardRange(shared.rows, rank, size).start);
  const startFor = (rank: number): ThreadRankStart => ({
    rank,
    world,
    job: jobFor(request, { kind: 'rows', init, start: shardStarts[rank]!, end: shardStarts[rank + 1]!, starts: shardStarts }, timeoutMs),
    sharedParams: arenas.params,
    rowBoard: arenas.rowBoard,
    progressIntervalMs: PROGRESS_INTERVAL_MS,
    // Past the watchdog's start-up allowance (supervise), so a rank that never comes is named by the launcher.
    startTimeoutMs: 2 * Math.max(timeoutMs, STARTUP_MS),
    ...(workerKernels === undefined ? {} : { kernels: workerKernels, rowArrays: arenas.rowArrays }),
  });

  const starts = Array.from({ length: size }, (_, rank) => startFor(rank));
  const entries: PooledWorker[] = acquireWorkers(size, reuse);
  const workers = entries.map((entry) => entry.worker);
  let succeeded = false;
  try {
    workers.forEach((worker, rank) => worker.postMessage({ type: 'job', input: starts[rank]! } satisfies ThreadLauncherMessage));
    const results = await supervise(workers, world, timeoutMs, onEvents);
    const seconds = (performance.now() - started) / 1000;
    // Every rank posted its result, so every worker was online: this only reads the times.
    const startupMs = Math.max(0, ...(await Promise.all(entries.map((entry) => entry.online))).map((at) => at - started));
    succeeded = true;
    return {
      state: results[0]!.state as State,
      info: {
        paradigm: 'threads',
        workers: size,
        strategy,
        seconds,
        startupMs,
        threadIds: workers.map((worker) => worker.threadId),
        ...fitInfoParts(results),
        history,
      },
    };
  } finally {
    abortWorld(world);
    // A worker of a failed, timed-out or aborted job may be stuck or half-way: never reuse it.
    if (succeeded && reuse) entries.forEach(releaseWorker);
    else await Promise.all(entries.map(discardWorker));
    // Every worker posted its result or is gone: none touches the per-row arrays any more.
    if (workerKernels !== undefined) releaseRowArrays(arenas.rowArrays, workerKernels);
    if (succeeded) releaseArenas(arenas);
  }
}

/** Wait for every rank's result; reject on the first failure or when nobody progresses for `timeoutMs`. */
function supervise(
  workers: Worker[],
  world: SharedWorld,
  timeoutMs: number,
  onEvents: (events: (ProgressEvent & { at: number })[]) => void,
): Promise<RankResult[]> {
  return new Promise((resolvePromise, rejectPromise) => {
    const size = workers.length;
    const results = new Array<RankResult>(size);
    let remaining = size;
    let settled = false;
    let lastBeats = heartbeats(world);
    let lastProgress = performance.now();
    let ready = 0;
    const readyRanks = new Set<number>();
    // The peers' own timeout names a silent rank precisely; the watchdog is the backstop for when
    // nobody waits on anybody (a world of one, or every rank stuck), so it allows a little longer.
    const watchdogMs = timeoutMs + Math.min(timeoutMs, 2000);
    const watchdog = setInterval(
      () => {
        if (ready < size) {
          if (performance.now() - lastProgress > Math.max(timeoutMs, STARTUP_MS)) {
            const waiting = workers.map((_, rank) => rank).filter((rank) => !readyRanks.has(rank));
            fail(
              new CommError(
                'TIMEOUT',
                `worker rank${waiting.length > 1 ? 's' : ''} ${waiting.join(', ')} did not start within ${Math.max(timeoutMs, STARTUP_MS)} ms (importing modules and building the model)`,
                { rank: waiting[0]! },
              ),
            );
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
                (silent.length > 0
                  ? `rank${silent.length > 1 ? 's' : ''} ${silent.join(', ')} stopped answering outside communication`
                  : 'every rank is blocked in communication') +
                ` (raise timeoutMs if one step legitimately takes longer)`,
              silent[0] === undefined ? {} : { rank: silent[0] },
            ),
          );
        }
      },
      Math.min(1000, Math.max(10, timeoutMs / 4)),
    );

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
            // Each rank starts training when it is up (it crosses the world's start line,
            // SharedMemoryCommunicator.crossStartLine), and start-up skew (module loading on a busy
            // machine) never counts against the communication timeout of the ranks that came first.
            readyRanks.add(rank);
            lastProgress = performance.now();
            if (++ready === size) lastBeats = heartbeats(world);
            return;
          case 'progress':
            try {
              onEvents(message.events);
            } catch (error) {
              fail(error instanceof Error ? error : new Error(String(error))); // the caller's onProgress threw
            }
            return;
          case 'result':
            results[message.rank] = message;
            if (--remaining === 0) {
              finish();
              resolvePromise(results);
            }
            return;
          case 'error':
            fail(rankFailure(message));
            return;
        }
      };
      const onError = (error: Error): void => fail(new WorkerError(rank, error.message, { cause: error }));
      const onExit = (code: number): void => {
        // Give a result posted just before the exit its turn on the event loop first.
        setTimeout(() => {
          if (!settled && results[rank] === undefined)
            fail(new WorkerError(rank, `its thread exited (code ${code}) before reporting a result`));
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
