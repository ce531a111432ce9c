/**
 * One federated client's round, wherever the client runs (the launcher's thread, a worker thread, a
 * child process): given the server's message (the global weights), train the model on the client's
 * own rows for the local epochs through the client strategy (federated/client-strategy.ts), corrupt
 * the update when the client is Byzantine, and pass it through the update transforms. Messages are
 * the ZeroMQ wire format's frames (comm/zmq/wire.ts) on every path: the bytes counted as up and down
 * traffic are those of the messages actually serialised (by the ZeroMQ transport's own counters for
 * client processes, by `wireBytes` of the encoded frames for simulated clients). Under
 * `--compression` the update travels as the codec's bytes in one wire byte frame
 * (runtime/federated-upload.ts), encoded here by the host's encoder and decoded by the server.
 *
 * The model is rebuilt from the registry per task with the federation's settings in place of its
 * own (`epochs` ← local epochs, `batchSize` ← local batch, `seed` ← the client's seed of the round),
 * and trained in a world of one with the agreed classes (TrainContext.classes): no model code knows
 * it is federated.
 *
 * @example
 * const { task, global } = decodeTask(encodeTask(task, global));
 * const { reply, delta } = await runClientTask(job, task, global, rowsOfClient);
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LocalCommunicator } from '../comm/local.js';
import { decodeMessage, encodeMessage, wireBytes } from '../comm/zmq/wire.js';
import { ConfigError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { ClientRule } from '../federated/aggregators.js';
import type { ByzantineAttack } from '../federated/byzantine.js';
import { corruptUpdate } from '../federated/byzantine.js';
import type { ClientMode } from '../federated/client-strategy.js';
import { FederatedClientStrategy } from '../federated/client-strategy.js';
import { createUpdateTransform, transformUpdate } from '../federated/transforms.js';
import type { ModelFitOptions, TrainContext, Trainable } from '../models/context.js';
import { createModel, modelNames } from '../models/registry.js';
import { PROTOCOL_VERSION } from '../comm/zmq/wire.js';
import type { Codec } from '../comm/codecs/index.js';
import type { UploadEncoder, UploadSettings } from './federated-upload.js';
import { decodeUpload } from './federated-upload.js';

/** What every client of a fit shares; sent to each client host once. Serialisable. */
export interface ClientJob {
  model: { name: string; params: Record<string, unknown> };
  /** The federation's sorted classes (classifiers), or null (regressors). */
  classes: number[] | null;
  rule: ClientRule;
  localEpochs: number;
  localBatchSize: number | undefined;
  /** Update transform specs applied in order (federated/transforms.ts). */
  transforms: string[];
  /** Fit settings passed to the model as TrainContext.options. */
  options: ModelFitOptions;
  /** Modules a host imports first (where custom models register). */
  modules: string[];
  /** How clients compress their uploads (`--compression`), or null for dense float64 updates. */
  upload: UploadSettings | null;
}

/** One client's work in one round (the header of the server's message; the global weights travel as its array). */
export interface ClientTask {
  round: number;
  client: number;
  seed: number;
  /** The corruption a Byzantine client applies to its update, or null for an honest one. */
  attack: ByzantineAttack | null;
  /** Simulated straggling: wait this long before answering. */
  delayMs: number;
}

/** A client's reply (the header of its message; the delta travels as its array). */
export interface ClientReply {
  round: number;
  client: number;
  /** The client's rows (FedAvg's weight). */
  weight: number;
  /** Mean training loss of the client's last local epoch, when the model reports one. */
  loss: number | null;
  /** The codec of a compressed upload (its bytes travel as the message's byte frame). */
  codec?: string;
}

export function encodeTask(task: ClientTask, global: Float64Array): Buffer[] {
  return encodeMessage({ v: PROTOCOL_VERSION, k: 'user', tag: 'train', h: { ...task } }, [global]);
}

export function decodeTask(frames: readonly Uint8Array[]): { task: ClientTask; global: Float64Array } {
  const { envelope, arrays } = decodeMessage(frames);
  const global = arrays[0];
  if (envelope.tag !== 'train' || !(global instanceof Float64Array))
    throw new ConfigError(`a client expected a 'train' message with the float64 global weights, got '${envelope.tag ?? '?'}'`);
  return { task: envelope.h as unknown as ClientTask, global };
}

/** A reply's frames: the update as a float64 array, or a compressed upload's bytes as one byte frame. */
export function encodeReply(reply: ClientReply, update: Float64Array | Uint8Array): Buffer[] {
  const envelope = { v: PROTOCOL_VERSION, k: 'user', tag: 'update', h: { ...reply } } as const;
  return update instanceof Float64Array ? encodeMessage(envelope, [update]) : encodeMessage(envelope, [], [update]);
}

/**
 * The reply and the client's update (of `length` values), decoded with `codec` (null: a dense
 * upload). Malformed frames throw WireError; an update that is not what the server expects, CommError.
 */
export function decodeReply(
  frames: readonly Uint8Array[],
  codec: Codec | null,
  length: number,
): { reply: ClientReply; delta: Float64Array } {
  const { envelope, arrays, bytes } = decodeMessage(frames);
  if (envelope.tag !== 'update' || envelope.h === undefined)
    throw new ConfigError(`the server expected an 'update' message, got '${envelope.tag ?? '?'}'`);
  const reply = envelope.h as unknown as ClientReply;
  return { reply, delta: decodeUpload(codec, { client: reply.client, codec: reply.codec, arrays, bytes }, length) };
}

export { wireBytes };

/** The model of `job` with the federation's local settings in place of its own. */
function clientModel(job: ClientJob, overrides: Record<string, unknown>): Trainable<unknown> {
  if (!modelNames().includes(job.model.name))
    throw new ConfigError(
      `model '${job.model.name}' is not registered where this client runs; pass the module that registers it in workerModules`,
      {
        field: 'model',
      },
    );
  return createModel(job.model.name, { ...job.model.params, ...overrides }) as Trainable<unknown>;
}

/** Run `model.train` on `rows` with a client strategy in a world of one; returns the strategy and the state. */
export async function trainWithStrategy(
  job: ClientJob,
  rows: Dataset,
  mode: ClientMode,
  global: Float64Array | null,
  overrides: Record<string, unknown>,
): Promise<{ strategy: FederatedClientStrategy; state: unknown; loss: number | null }> {
  const model = clientModel(job, overrides);
  const strategy = new FederatedClientStrategy(mode, global, { proximalMu: job.rule.proximalMu, model: job.model.name });
  let loss: number | null = null;
  const context: TrainContext = {
    comm: new LocalCommunicator(),
    strategy,
    report: (event) => {
      if (event.loss !== undefined) loss = event.loss;
    },
    options: job.options,
    model: { name: model.name, params: model.params },
    ...(job.classes === null ? {} : { classes: Float64Array.from(job.classes) }),
  };
  const state = await model.train(rows, context);
  return { strategy, state, loss };
}

/**
 * Every client task builds a fresh network, whose WASM kernel workspaces are freed only when the
 * garbage collector finalises their views (core/kernels-wasm-layers.ts). Those views are small JS
 * objects, so the JS heap never pressures a collection and the 4 GiB kernel memory fills first:
 * measured, FedSGD on the CNN (80-row batches, ≈ 18 MB of im2col workspace per task) died with
 * "WebAssembly kernel memory is full" after ≈ 230 tasks. A host therefore forces a collection
 * every `GC_EVERY_TASKS` tasks (node's gc, exposed at run time) and yields to the event loop, where
 * the finalisers that release the blocks run.
 */
const GC_EVERY_TASKS = 4;
let tasksSinceCollection = 0;
let collect: (() => void) | undefined;

async function reclaimKernelMemory(): Promise<void> {
  if (++tasksSinceCollection < GC_EVERY_TASKS) return;
  tasksSinceCollection = 0;
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Train one client's round on its rows: the reply and the update to send back — `delta`, and under
 * `--compression` also `encoded`, the codec's bytes of it by `encoder` (the host's, which holds the
 * client's error-feedback memory); the upload is `encoded ?? delta`.
 */
export async function runClientTask(
  job: ClientJob,
  task: ClientTask,
  global: Float64Array,
  rows: Dataset,
  encoder: UploadEncoder | null = null,
): Promise<{ reply: ClientReply; delta: Float64Array; encoded: Uint8Array | null }> {
  if ((job.upload === null) !== (encoder === null))
    throw new ConfigError(
      `client ${task.client}'s host has ${encoder === null ? 'no' : 'an'} upload encoder for a job whose uploads are ${job.upload === null ? 'dense' : `'${job.upload.codec}'`}`,
    );
  const gradient = job.rule.kind === 'gradient';
  const overrides: Record<string, unknown> = { epochs: gradient ? 1 : job.localEpochs, seed: task.seed };
  const batchSize = gradient ? rows.rows : job.localBatchSize;
  if (batchSize !== undefined) overrides['batchSize'] = batchSize;
  const { strategy, loss } = await trainWithStrategy(job, rows, gradient ? 'gradient' : 'local-sgd', global, overrides);
  await reclaimKernelMemory();
  let delta = strategy.update();
  if (task.attack !== null) delta = corruptUpdate(delta, task.attack);
  const update = transformUpdate(job.transforms.map(createUpdateTransform), { client: task.client, delta, weight: rows.rows }, task.round);
  const encoded = encoder === null ? null : encoder.encode(task, update.delta);
  if (task.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, task.delayMs));
  const reply: ClientReply = { round: task.round, client: task.client, weight: update.weight, loss };
  if (encoder !== null) reply.codec = encoder.codec.spec;
  return { reply, delta: update.delta, encoded };
}
