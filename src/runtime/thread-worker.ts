/**
 * The entry point of one `threads` worker (rank): the threads paradigm's transport for the one rank
 * body (rank.ts). It builds the shared-memory communicator and runs the job, whose rows are the
 * whole shared dataset with this rank's range (a view, no copy), and posts back RankMessages.
 * postMessage carries only the job, throttled progress (rank 0), the result and errors — never
 * training traffic, which goes through shared memory. A worker serves one job
 * after another (the launcher's pool, runtime/thread-pool.ts); each job builds its own model,
 * communicator and strategy, so nothing of one fit reaches the next but imported modules.
 *
 * It imports the layers that register kernels, models and strategies (what the package entry
 * registers); the rank body imports any `workerModules` the caller named.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import '../core/index.js';
import { activateKernels, kernels } from '../core/kernels.js';
import type { SharedWasmKernels } from '../core/kernels-wasm.js';
import { attachWasmKernels } from '../core/kernels-wasm.js';
import '../models/index.js';
import { SharedMemoryCommunicator } from '../comm/shm/communicator.js';
import type { SharedWorld } from '../comm/shm/world.js';
import type { RankJob, RankMessage } from './rank.js';
import { errorReport, resultForLauncher, runRank } from './rank.js';

/** One rank of one threads job: the job (its data the whole shared dataset and this rank's range), and the shared world. */
export interface ThreadRankStart {
  rank: number;
  world: SharedWorld;
  job: RankJob;
  /** The shared parameter arena (Hogwild trains in it). */
  sharedParams: Float64Array;
  /** The row-pass board (row-board.ts): the ranks share their row passes out through it. */
  rowBoard: SharedArrayBuffer;
  /** Least time between two progress messages from rank 0. */
  progressIntervalMs: number;
  /** Longest wait for a peer while some rank has not crossed the start line (longer than the launcher's start-up watchdog). */
  startTimeoutMs: number;
  /** The launcher's WASM kernel memory, when the data lives in it: the job's kernels run over it (no copy of the data). */
  kernels?: SharedWasmKernels;
  /** With `kernels`: the job's registry of per-row arrays in that memory (row-arrays.ts). */
  rowArrays?: Float64Array;
}

/** What the launcher posts to a worker: a job (one rank of one fit); each rank starts training when it is ready (crossStartLine). */
export type ThreadLauncherMessage = { type: 'job'; input: ThreadRankStart };

/** What a worker posts to the launcher: 'online' once (to the pool), then a RankMessage per job event. */
export type ThreadWorkerMessage = { type: 'online' } | RankMessage;

async function run(input: ThreadRankStart, post: (message: ThreadWorkerMessage) => void): Promise<void> {
  // Kernels over the launcher's memory for this job, unless this thread runs another backend (SHARDLEARN_KERNELS=ts).
  const attached = input.kernels !== undefined && kernels().name === 'wasm' ? attachWasmKernels(input.kernels) : null;
  const own = attached === null ? null : activateKernels(attached);
  let result: ThreadWorkerMessage;
  try {
    result = await runJob(input, attached !== null, post);
  } finally {
    if (own !== null) activateKernels(own);
    attached?.heap.releaseScratch();
  }
  // Only now: the result tells the launcher this thread is idle, and an idle thread may be terminated
  // at once (shutdownThreadPool). Posted before the scratch went back, a termination could land inside
  // releaseScratch and leave the launcher's allocator lock held (CI: "the allocator's lock was held for
  // 10000 ms" in the four thread-pool tests after a shutdown).
  post(result);
}

/** Run the job; its result message, for `run` to post once this thread no longer touches shared state. */
async function runJob(
  input: ThreadRankStart,
  attached: boolean,
  post: (message: ThreadWorkerMessage) => void,
): Promise<ThreadWorkerMessage> {
  const { rank, job } = input;
  const comm = new SharedMemoryCommunicator(input.world, rank, { timeoutMs: job.timeoutMs });
  const result = await runRank(job, {
    rank,
    size: input.world.size,
    paradigm: 'threads',
    comm,
    sharedRows: true,
    sharedParams: input.sharedParams,
    rowBoard: input.rowBoard,
    // Shared per-row arrays need every rank on the launcher's memory: a rank on the TS kernels
    // (SHARDLEARN_KERNELS=ts) has none, and then neither does any (the same choice on every rank).
    ...(attached && input.rowArrays !== undefined ? { rowArrays: input.rowArrays } : {}),
    progress: (events) => post({ type: 'progress', rank, events }),
    progressIntervalMs: input.progressIntervalMs,
    heartbeat: () => comm.heartbeat(),
    ready: () => {
      post({ type: 'ready', rank }); // the launcher's start-up watchdog counts these
      comm.crossStartLine(input.startTimeoutMs);
      return Promise.resolve();
    },
  });
  await comm.close();
  return resultForLauncher(result);
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  // A pooled worker runs one job after another; between jobs it only waits here.
  port.on('message', (message: ThreadLauncherMessage) => {
    const input = message.input;
    run(input, (report) => port.postMessage(report)).catch((error: unknown) =>
      port.postMessage(errorReport(input.rank, error) satisfies ThreadWorkerMessage),
    );
  });
  port.postMessage({ type: 'online' } satisfies ThreadWorkerMessage);
}
