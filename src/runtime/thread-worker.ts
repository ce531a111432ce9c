/**
 * The entry point of one `threads` worker (rank). It rebuilds the model from its registry name and
 * hyperparameters, views its contiguous shard of the shared dataset (no copy), builds the
 * shared-memory communicator and the strategy, runs the model's SPMD `train`, and posts back its
 * result. postMessage carries only the job (startup data), throttled progress (rank 0), the result
 * and errors — never training traffic, which goes through shared memory. A worker serves one job
 * after another (the launcher's pool, runtime/thread-pool.ts); each job builds its own model,
 * communicator and strategy, so nothing of one fit reaches the next but imported modules.
 *
 * It imports the layers that register kernels, models and strategies (what the package entry
 * registers), plus any `workerModules` the caller named for models registered outside shardlearn.
 */
import { batchedProgress } from './progress.js';
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort } from 'node:worker_threads';
import '../core/index.js';
import '../models/index.js';
import { SharedMemoryCommunicator } from '../comm/shm/communicator.js';
import type { SharedWorld } from '../comm/shm/world.js';
import type { CommStats } from '../comm/communicator.js';
import { ConfigError, ShardlearnError } from '../core/errors.js';
import type { FloatArray } from '../core/storage.js';
import { Dataset } from '../data/dataset.js';
import type { ProgressEvent } from '../models/context.js';
import { createModel, modelNames } from '../models/registry.js';
import { createStrategy } from '../strategies/index.js';
import type { CompressionOptions } from '../strategies/index.js';

export interface ThreadWorkerData {
  rank: number;
  world: SharedWorld;
  model: { name: string; params: Record<string, unknown> };
  strategy: string;
  compression: CompressionOptions | undefined;
  /** The whole dataset in shared memory; this rank trains on rows [start, end). */
  data: {
    x: FloatArray;
    y: Float64Array | null;
    rows: number;
    cols: number;
    featureNames: readonly string[];
    labelNames: readonly string[] | null;
    source: string;
    rowKeys: Float64Array | null;
    rowKeyBase: number;
    start: number;
    end: number;
  };
  /** The shared parameter arena (Hogwild trains in it). */
  sharedParams: Float64Array;
  timeoutMs: number;
  /** Least time between two progress messages from rank 0. */
  progressIntervalMs: number;
  /** file: URLs to import first. */
  modules: string[];
}

/** What the launcher posts to a worker: a job (one rank of one fit), then 'go' once every rank is ready. */
export type ThreadLauncherMessage = { type: 'job'; input: ThreadWorkerData } | { type: 'go' };

/** What a worker posts to the launcher. Times are absolute (performance.timeOrigin + now), comparable across threads. */
export type ThreadWorkerMessage =
  | { type: 'online' }
  | { type: 'ready' }
  | { type: 'progress'; events: (ProgressEvent & { at: number })[] }
  | { type: 'result'; rank: number; state: unknown; stats: CommStats; trainMs: number; cpuMs: number | undefined }
  | { type: 'error'; rank: number; name: string; code: string | undefined; peer: number | undefined; message: string; stack: string | undefined };


/**
 * CPU time this thread has used, in ms, from Linux's /proc/thread-self/stat (utime + stime, fields
 * 14 and 15, in USER_HZ = 100 ticks per second); undefined elsewhere. Unlike wall time it does not
 * grow when other processes compete for the cores, so it shows the work a rank did.
 */
function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The models the library itself registers; a pooled worker keeps them across jobs. */
const builtinModels = new Set(modelNames());
/** Per workerModule, the model names importing it registered (imports are cached: the second job's import adds none). */
const registeredBy = new Map<string, string[]>();

/**
 * The models this job may use: the library's plus those its own workerModules register. A pooled
 * worker has also imported earlier jobs' modules, but a job must see what a fresh thread would.
 */
async function jobModels(modules: readonly string[]): Promise<Set<string>> {
  const names = new Set(builtinModels);
  for (const module of modules) {
    let added = registeredBy.get(module);
    if (added === undefined) {
      const before = new Set(modelNames());
      await import(module);
      added = modelNames().filter((name) => !before.has(name));
      registeredBy.set(module, added);
    }
    for (const name of added) names.add(name);
  }
  return names;
}

async function run(input: ThreadWorkerData, post: (message: ThreadWorkerMessage) => void, go: Promise<void>): Promise<void> {
  const known = await jobModels(input.modules);
  if (!known.has(input.model.name)) {
    throw new ConfigError(
      `model '${input.model.name}' is not registered in the worker threads; if you registered it yourself, ` +
        `pass the module that registers it in fit options { workerModules: [...] }. Registered: ${[...known].join(', ')}`,
      { field: 'model' },
    );
  }
  const model = createModel(input.model.name, input.model.params);
  const { data } = input;
  const whole = new Dataset({ x: data.x, rows: data.rows, cols: data.cols, y: data.y, featureNames: data.featureNames, labelNames: data.labelNames, source: data.source, rowKeys: data.rowKeys, rowKeyBase: data.rowKeyBase });
  const shard = whole.slice(data.start, data.end);
  const comm = new SharedMemoryCommunicator(input.world, input.rank, { timeoutMs: input.timeoutMs });
  const strategy = createStrategy(input.strategy, { comm, sharedParams: input.sharedParams, compression: input.compression });

  // rank 0 speaks for the run (nanoGPT's master_process); every report is also a heartbeat.
  const progress = batchedProgress(input.rank, input.progressIntervalMs, (events) => post({ type: 'progress', events }));
  const flush = progress.flush;
  const report = (event: ProgressEvent): void => {
    comm.heartbeat();
    progress.report(event);
  };

  post({ type: 'ready' });
  await go;
  const started = performance.now();
  const cpuStarted = threadCpuMs();
  const state = await model.train(shard, { comm, strategy, report, shared: { data: whole, first: data.start } });
  const trainMs = performance.now() - started;
  const cpuEnded = threadCpuMs();
  const cpuMs = cpuStarted === undefined || cpuEnded === undefined ? undefined : cpuEnded - cpuStarted;
  flush();
  await comm.close();
  post({ type: 'result', rank: input.rank, state: input.rank === 0 ? state : null, stats: { ...comm.stats }, trainMs, cpuMs });
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  // A pooled worker runs one job after another: 'job' starts a rank, 'go' (once every rank of that
  // job is ready) starts its training. Between jobs it only waits here.
  let startTraining: (() => void) | null = null;
  port.on('message', (message: ThreadLauncherMessage) => {
    if (message.type === 'go') {
      startTraining?.();
      startTraining = null;
      return;
    }
    const input = message.input;
    const go = new Promise<void>((resolve) => (startTraining = resolve));
    run(input, (report) => port.postMessage(report), go).catch((error: unknown) => {
      const known = error instanceof ShardlearnError ? error : null;
      port.postMessage({
        type: 'error',
        rank: input.rank,
        name: error instanceof Error ? error.name : 'Error',
        code: known?.code,
        peer: (known as { rank?: number } | null)?.rank,
        message: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      } satisfies ThreadWorkerMessage);
    });
  });
  port.postMessage({ type: 'online' } satisfies ThreadWorkerMessage);
}
