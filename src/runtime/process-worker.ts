/**
 * The entry point of one `processes` worker (rank), a child process of the launcher. It receives its
 * start order over IPC (never argv: the job secret is in it), joins the ZeroMQ world, gets its data
 * — its own shard of a `source` it loads itself, or the slice of the caller's dataset the launcher
 * shipped — runs the model's SPMD `train`, and reports back. IPC carries only the start order,
 * throttled progress (rank 0), the result and errors; training traffic goes over ZeroMQ.
 *
 * When the launcher disappears (its IPC channel closes) the worker exits at once: no orphans.
 */
import { batchedProgress } from './progress.js';
import '../core/index.js';
import '../models/index.js';
import { ZmqCommunicator } from '../comm/zmq/communicator.js';
import type { CommStats } from '../comm/communicator.js';
import { ConfigError, ShardlearnError } from '../core/errors.js';
import type { FloatArray } from '../core/storage.js';
import { Dataset } from '../data/dataset.js';
import { loadData } from '../data/load.js';
import { trainTestSplit } from '../data/split.js';
import type { ProgressEvent } from '../models/context.js';
import type { DataSource } from '../models/paradigm.js';
import { createModel, modelNames } from '../models/registry.js';
import { createStrategy } from '../strategies/index.js';
import type { CompressionOptions } from '../strategies/index.js';

/** This rank's rows, shipped by the launcher (library use with an in-memory Dataset). */
export interface InlineShard {
  kind: 'inline';
  x: FloatArray;
  y: Float64Array | null;
  rows: number;
  cols: number;
  featureNames: readonly string[];
  labelNames: readonly string[] | null;
  source: string;
  rowKeyBase: number;
}

export interface ProcessStart {
  type: 'start';
  rank: number;
  size: number;
  masterAddr: string;
  masterPort: number;
  /** Hex of the per-job secret. */
  secret: string;
  jobId: string;
  timeoutMs: number;
  model: { name: string; params: Record<string, unknown> };
  strategy: string;
  compression: CompressionOptions | undefined;
  data: InlineShard | { kind: 'source'; source: DataSource };
  progressIntervalMs: number;
  modules: string[];
  /** Report the bound port and wait for the port to advertise instead (a network-profile proxy; see network.ts). */
  advertise?: boolean;
}

/** The launcher's answer to a `listening` report when `advertise` is set: the port peers should use. */
export interface ProcessAdvertise {
  type: 'advertise';
  port: number;
}

export type ProcessWorkerMessage =
  | { type: 'listening'; rank: number; port: number }
  | { type: 'progress'; events: (ProgressEvent & { at: number })[] }
  | { type: 'result'; rank: number; state: unknown; stats: CommStats; trainMs: number }
  | { type: 'error'; rank: number; name: string; code: string | undefined; peer: number | undefined; host: string | undefined; message: string; stack: string | undefined };


/** This rank's training rows: the shipped slice, or its own shard of the source, split locally. */
export async function shardFor(data: ProcessStart['data'], rank: number, size: number): Promise<Dataset> {
  if (data.kind === 'inline') {
    return new Dataset({ x: data.x, rows: data.rows, cols: data.cols, y: data.y, featureNames: data.featureNames, labelNames: data.labelNames, source: data.source, rowKeyBase: data.rowKeyBase });
  }
  const { source } = data;
  const loaded = await loadData(source.spec, { ...(source.load ?? {}), shard: { rank, worldSize: size } });
  // The split is a per-row hash of global row keys, so each shard splits alone and agrees with the whole.
  if (loaded.test === null && source.split !== undefined) return trainTestSplit(loaded.train, source.split).train;
  return loaded.train;
}

async function run(start: ProcessStart, post: (message: ProcessWorkerMessage) => void, postAndWait: (message: ProcessWorkerMessage) => Promise<void>): Promise<void> {
  for (const module of start.modules) await import(module);
  if (!modelNames().includes(start.model.name)) {
    throw new ConfigError(`model '${start.model.name}' is not registered in the worker processes; pass the module that registers it in fit options { workerModules: [...] }. Registered: ${modelNames().join(', ')}`, { field: 'model' });
  }
  const model = createModel(start.model.name, start.model.params);
  const comm = await ZmqCommunicator.join({
    rank: start.rank,
    size: start.size,
    masterAddr: start.masterAddr,
    masterPort: start.masterPort,
    secret: Buffer.from(start.secret, 'hex'),
    jobId: start.jobId,
    timeoutMs: start.timeoutMs,
    onListening: (port) => {
      if (start.rank === 0 && start.advertise !== true) post({ type: 'listening', rank: 0, port });
    },
    ...(start.advertise === true ? { advertisePort: (port: number) => advertisedPort(start.rank, port, post) } : {}),
  });
  try {
    const shard = await shardFor(start.data, start.rank, start.size);
    const strategy = createStrategy(start.strategy, { comm, compression: start.compression });
    // rank 0 speaks for the run
    const { report, flush } = batchedProgress(start.rank, start.progressIntervalMs, (events) => post({ type: 'progress', events }));
    const started = performance.now();
    const state = await model.train(shard, { comm, strategy, report });
    const trainMs = performance.now() - started;
    flush();
    // Awaited: the worker disconnects right after, and closing the IPC channel drops a write still in
    // flight. A state of megabytes (an MLP with 3.7M parameters) was lost that way every time.
    await postAndWait({ type: 'result', rank: start.rank, state: start.rank === 0 ? state : null, stats: { ...comm.stats }, trainMs });
  } catch (error) {
    // Report first, then leave: the peers fail when they see this rank go, and the launcher should
    // hear this rank's own error (the root cause) before theirs. The goodbye carries it too.
    await postAndWait(errorReport(start.rank, error));
    if (typeof error === 'object' && error !== null) reported.add(error);
    await comm.close(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    throw error;
  }
  await comm.close();
}

/** Errors already reported to the launcher (from inside `run`, before the communicator closed). */
const reported = new WeakSet<object>();

/** Tell the launcher the bound port; resolve with the port it answers (its proxy in front of this rank). */
function advertisedPort(rank: number, port: number, post: (message: ProcessWorkerMessage) => void): Promise<number> {
  return new Promise((resolve) => {
    const listener = (message: ProcessAdvertise | ProcessStart): void => {
      if (message.type !== 'advertise') return;
      process.off('message', listener);
      resolve(message.port);
    };
    process.on('message', listener);
    post({ type: 'listening', rank, port });
  });
}

/** The error report for the launcher: a typed error keeps its code and the peer it names. */
export function errorReport(rank: number, error: unknown): Extract<ProcessWorkerMessage, { type: 'error' }> {
  const known = error instanceof ShardlearnError ? error : null;
  const named = known as { rank?: number; host?: string } | null;
  return {
    type: 'error',
    rank,
    name: error instanceof Error ? error.name : 'Error',
    code: known?.code,
    peer: named?.rank,
    host: named?.host,
    message: error instanceof Error ? error.message : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  };
}

if (process.env['SHARDLEARN_PROCESS_WORKER'] === '1' && process.send !== undefined) {
  const post = (message: ProcessWorkerMessage): Promise<void> =>
    new Promise((resolve) => {
      if (!process.connected) return resolve();
      process.send!(message, undefined, {}, () => resolve());
    });
  let finished = false;
  process.on('disconnect', () => {
    if (!finished) process.exit(0); // the launcher is gone: do not linger
  });
  process.once('message', (start: ProcessStart) => {
    run(start, (message) => void post(message), post).then(
      () => {
        finished = true;
        // Let queued IPC and ZeroMQ (linger) flush, then leave; the timer only backs that up.
        setTimeout(() => process.exit(0), 10_000).unref();
        process.disconnect();
      },
      async (error: unknown) => {
        if (!(typeof error === 'object' && error !== null && reported.has(error))) await post(errorReport(start.rank, error));
        process.exit(4);
      },
    );
  });
}
