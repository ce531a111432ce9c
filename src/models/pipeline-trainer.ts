/**
 * Model parallelism for the neural classifiers: a GPipe pipeline (Huang et al., 2019). The layers
 * are cut into `comm.size` consecutive stages (pipeline-partition.ts: balanced by forward FLOPs),
 * stage r on rank r. Every global mini-batch — the same batches, in the same order, as sequential
 * `runSgd` — is cut into micro-batches; activations flow rank r → r + 1 and gradients r + 1 → r by
 * `comm.send`/`recv` in the order of pipeline-schedule.ts. Each stage sums its parameter gradients
 * over the micro-batches, divides by the batch size and steps its own optimizer on its own slice of
 * the parameters. Summing micro-batch gradients is the same mean gradient as one pass over the
 * batch, so the model equals sequential training up to floating-point summation order.
 *
 * Data: stage 0 needs the feature rows of every batch and the last stage its labels, but each rank
 * was handed one contiguous shard. Before training, every rank sends its rows to rank 0 and its
 * class codes (float32, exact below 2²⁴ classes) to the last rank, once: (total − rows₀) × cols ×
 * bytes-per-value plus (total − rows_last) × 4 bytes, counted in CommStats like all traffic. That
 * keeps the launcher unaware of model parallelism and works in every paradigm; under `threads` it
 * is a copy of memory the workers could share (a launcher that hands the pipeline the whole
 * dataset would save it).
 *
 * Per-row dropout seeds are computed on rank 0 (it holds the row keys) and travel with the
 * activations to the stages that need them.
 *
 * @example
 * const microBatches = pipelineMicroBatches(context.strategy); // null unless strategy 'pipeline'
 * if (microBatches !== null) params = await trainPipeline({ shard, context, codes, … });
 */
import type { Communicator, Message } from '../comm/communicator.js';
import { CommError } from '../core/errors.js';
import { Rng, hashUniform } from '../core/rng.js';
import type { FloatArray } from '../core/storage.js';
import type { Dataset } from '../data/dataset.js';
import type { LayerSpec } from '../nn/layer.js';
import { softmaxCrossEntropy } from '../nn/losses.js';
import { Network } from '../nn/network.js';
import type { Optimizer } from '../nn/optimizers.js';
import { Adam, SgdOptimizer, scheduledRate } from '../nn/optimizers.js';
import type { Tensor } from '../nn/tensor.js';
import { dtypeArray } from '../nn/tensor.js';
import type { GradientStrategy } from '../strategies/strategy.js';
import type { TrainContext } from './context.js';
import type { NeuralParams } from './neural-options.js';
import { layerCosts, partitionStages } from './pipeline-partition.js';
import type { PipelineOperation } from './pipeline-schedule.js';
import { microBatchSizes, stageOperations } from './pipeline-schedule.js';
import { globalLayout } from './spmd.js';

/** Micro-batches when the strategy object does not say (it is `pipeline`'s default too). */
const DEFAULT_MICRO_BATCHES = 4;

/**
 * The micro-batch count when `strategy` asks for pipeline training, else null. Read structurally
 * (models see strategies as interfaces only): the `pipeline` strategy carries `microBatches`.
 */
export function pipelineMicroBatches(strategy: GradientStrategy): number | null {
  if (strategy.name !== 'pipeline') return null;
  const value = (strategy as GradientStrategy & { microBatches?: unknown }).microBatches;
  return typeof value === 'number' ? value : DEFAULT_MICRO_BATCHES;
}

export interface PipelineJob {
  shard: Dataset;
  context: TrainContext;
  /** Class code (0..C−1) of each row of the shard. */
  codes: Int32Array;
  inputShape: readonly number[];
  layers: readonly LayerSpec[];
  /** The whole network's initial parameters (identical on every rank). */
  initial: Float64Array;
  params: NeuralParams;
  microBatches: number;
}

/** One stage's place in the network. */
interface StagePlan {
  inputShape: readonly number[];
  outputShape: readonly number[];
  /** First parameter of the stage in the whole network's flat vector, and how many it has. */
  offset: number;
  count: number;
  hasDropout: boolean;
}

/** Plan every stage: which layers, shapes in and out, where its parameters sit in the flat vector. */
export function planStages(layers: readonly LayerSpec[], inputShape: readonly number[], params: NeuralParams, stages: number): { ranges: { start: number; end: number }[]; plans: StagePlan[] } {
  const ranges = partitionStages(layerCosts(layers, inputShape, params.precision), stages);
  const plans: StagePlan[] = [];
  let shape = inputShape;
  let offset = 0;
  for (const { start, end } of ranges) {
    const specs = layers.slice(start, end);
    const network = new Network(specs, shape, params.precision);
    plans.push({ inputShape: shape, outputShape: network.outputShape, offset, count: network.size, hasDropout: specs.some((spec) => spec.type === 'dropout') });
    shape = network.outputShape;
    offset += network.size;
  }
  return { ranges, plans };
}

/** Train `job`'s network as a pipeline over `job.context.comm`; returns the whole parameter vector (on every rank). */
export async function trainPipeline(job: PipelineJob): Promise<Float64Array> {
  // A stage spends long stretches in `recv` while its neighbour computes; the communicator's
  // waits keep the worker thread alive (see comm/shared-memory-wait.ts).
  return runStages(job);
}

async function runStages(job: PipelineJob): Promise<Float64Array> {
  const { shard, context, params: p, microBatches } = job;
  const comm = context.comm;
  const stages = comm.size;
  const rank = comm.rank;
  const last = stages - 1;
  const { ranges, plans } = planStages(job.layers, job.inputShape, p, stages);
  const plan = plans[rank]!;
  const range = ranges[rank]!;
  // Dropout on stage s needs row seeds; rank 0 computes them and every stage before s passes them on.
  const seedsNeeded = plans.map((_, s) => plans.slice(s).some((later) => later.hasDropout));

  // One network per in-flight micro-batch (a layer keeps only its last forward's state for
  // backward), all bound to the first one's parameters and gradients: GPipe's activation memory.
  const specs = job.layers.slice(range.start, range.end);
  const replicas = Array.from({ length: microBatches }, () => new Network(specs, plan.inputShape, p.precision));
  const primary = replicas[0]!;
  for (const replica of replicas.slice(1)) for (const layer of replica.layers) layer.bind(primary.store);
  const master = job.initial.slice(plan.offset, plan.offset + plan.count);
  primary.loadParameters(master);

  const { offset: firstRow, total } = await globalLayout(comm, shard.rows);
  const cols = shard.cols;
  // Three phases, each with one receiver, so no two ranks ever wait on each other's sends.
  const rows = await gatherRows(comm, shard, firstRow, total);
  const codes = await gatherCodes(comm, job.codes, firstRow, total);
  const keys = seedsNeeded[0] ? await gatherKeys(comm, shard, firstRow, total) : null;

  const stepsPerEpoch = Math.ceil(total / p.batchSize);
  const totalSteps = stepsPerEpoch * p.epochs;
  const optimizer: Optimizer = p.optimizer === 'adam'
    ? new Adam(plan.count, { weightDecay: p.weightDecay })
    : new SgdOptimizer(plan.count, { momentum: p.momentum, weightDecay: p.weightDecay });
  const gradient = new Float64Array(plan.count);
  const storeGradients = primary.store.gradients;
  const inputs = Array.from({ length: microBatches }, () => dtypeArray(p.precision, Math.ceil(p.batchSize / microBatches) * cols));
  const microCodes = Array.from({ length: microBatches }, () => new Int32Array(Math.ceil(p.batchSize / microBatches)));
  const visits = new Uint32Array(rank === 0 ? total : 0);
  const outputs: (Tensor | null)[] = new Array<Tensor | null>(microBatches).fill(null);
  const schedules = new Map<number, PipelineOperation[]>();
  const base = new Rng(p.seed);
  let step = 0;
  const lossTally = new Float64Array(2);
  // Sends are chained, not awaited one by one, so a stage computes its next pass while the
  // previous result is still being copied out; the chain is awaited before the buffers are reused.
  let sending: Promise<void> = Promise.resolve();
  const send = (to: number, message: Message): void => {
    sending = sending.then(() => comm.send(to, message));
  };

  for (let epoch = 0; epoch < p.epochs; epoch++) {
    const order = base.fork(epoch).permutation(total); // runSgd's synchronous batch order
    lossTally.fill(0);
    for (let start = 0; start < total; start += p.batchSize) {
      const count = Math.min(p.batchSize, total - start);
      const sizes = microBatchSizes(count, microBatches);
      const firsts = sizes.map((_, m) => start + sizes.slice(0, m).reduce((a, b) => a + b, 0));
      let operations = schedules.get(sizes.length);
      if (operations === undefined) schedules.set(sizes.length, (operations = stageOperations(stages, sizes.length, rank)));
      gradient.fill(0);
      for (const { kind, microBatch: m } of operations) {
        const n = sizes[m]!;
        if (kind === 'forward') {
          let x: FloatArray;
          let seeds: Uint32Array | null = null;
          if (rank === 0) {
            x = inputs[m]!.subarray(0, n * cols);
            for (let i = 0; i < n; i++) {
              const row = order[firsts[m]! + i]!;
              x.set(rows!.subarray(row * cols, (row + 1) * cols), i * cols);
            }
            if (keys !== null) {
              seeds = new Uint32Array(n);
              for (let i = 0; i < n; i++) {
                const row = order[firsts[m]! + i]!;
                seeds[i] = Math.floor(hashUniform(p.seed + Math.imul(visits[row]!++, 0x9e3779b1), keys[row]!) * 0x100000000);
              }
            }
          } else {
            const message = await receive(comm, rank - 1, 'pipeline-activation');
            x = message.arrays![0]!;
            if (message.arrays!.length > 1) seeds = Uint32Array.from(message.arrays![1]!);
          }
          const output = replicas[m]!.forward({ shape: [n, ...plan.inputShape], data: x }, { training: true, rowSeeds: seeds });
          outputs[m] = output;
          if (rank < last) {
            const arrays: FloatArray[] = [output.data];
            if (seedsNeeded[rank + 1] && seeds !== null) arrays.push(Float64Array.from(seeds));
            send(rank + 1, { tag: 'pipeline-activation', arrays });
          }
        } else {
          let dy: Tensor;
          if (rank === last) {
            const labels = microCodes[m]!.subarray(0, n);
            for (let i = 0; i < n; i++) labels[i] = codes![order[firsts[m]! + i]!]!;
            const { loss, gradient: dLogits } = softmaxCrossEntropy(outputs[m]!, labels);
            lossTally[0]! += loss;
            lossTally[1]! += n;
            dy = dLogits;
          } else {
            const message = await receive(comm, rank + 1, 'pipeline-gradient');
            dy = { shape: [n, ...plan.outputShape], data: message.arrays![0]! };
          }
          primary.zeroGradients();
          const dx = replicas[m]!.backward(dy, rank > 0);
          for (let j = 0; j < gradient.length; j++) gradient[j]! += storeGradients[j]!;
          if (rank > 0) send(rank - 1, { tag: 'pipeline-gradient', arrays: [dx!.data] });
        }
      }
      await sending;
      step++;
      for (let j = 0; j < gradient.length; j++) gradient[j]! /= count;
      if (p.clipNorm > 0) await clipAcrossStages(comm, gradient, p.clipNorm);
      const lr = scheduledRate(p.lr, { name: p.schedule, gamma: p.gamma, stepEpochs: p.stepEpochs }, step, stepsPerEpoch, totalSteps);
      optimizer.step(master, gradient, lr);
      primary.loadParameters(master);
    }
    // The loss lives on the last stage; rank 0 is the one whose progress the runtime keeps.
    if (stages > 1 && rank === last) await comm.send(0, { tag: 'pipeline-loss', arrays: [lossTally] });
    if (stages > 1 && rank === 0) lossTally.set((await receive(comm, last, 'pipeline-loss')).arrays![0]!);
    const known = rank === 0 || rank === last;
    context.report(known ? { iteration: epoch + 1, total: p.epochs, loss: lossTally[0]! / lossTally[1]! } : { iteration: epoch + 1, total: p.epochs });
  }

  // Assemble the whole vector on every rank: each contributes its slice, zeros elsewhere (exact).
  const whole = new Float64Array(job.initial.length);
  whole.set(master, plan.offset);
  if (stages > 1) await comm.allReduce(whole, 'sum');
  return whole;
}

/** Clip the mean gradient to a global L2 norm when its pieces live on different stages. */
async function clipAcrossStages(comm: Communicator, gradient: Float64Array, maxNorm: number): Promise<void> {
  const squares = new Float64Array(1);
  for (let j = 0; j < gradient.length; j++) squares[0]! += gradient[j]! * gradient[j]!;
  if (comm.size > 1) await comm.allReduce(squares, 'sum');
  const norm = Math.sqrt(squares[0]!);
  if (norm > maxNorm && norm > 0) {
    const scale = maxNorm / norm;
    for (let j = 0; j < gradient.length; j++) gradient[j]! *= scale;
  }
}

async function receive(comm: Communicator, from: number, tag: string): Promise<Message> {
  const message = await comm.recv(from);
  if (message.tag !== tag || (message.arrays ?? []).length === 0) {
    throw new CommError('COMM', `pipeline: expected a '${tag}' message from rank ${from}, got '${message.tag}'; every rank must run the same pipeline (same model, options and data layout)`, { rank: from });
  }
  return message;
}

/** Rank 0: every rank's feature rows in global order; null elsewhere (those ranks send theirs). */
async function gatherRows(comm: Communicator, shard: Dataset, firstRow: number, total: number): Promise<FloatArray | null> {
  if (comm.size === 1) return shard.x;
  if (comm.rank !== 0) {
    await comm.send(0, { tag: 'pipeline-rows', header: { firstRow }, arrays: [shard.x] });
    return null;
  }
  const all = shard.x instanceof Float32Array ? new Float32Array(total * shard.cols) : new Float64Array(total * shard.cols);
  all.set(shard.x, firstRow * shard.cols);
  for (let r = 1; r < comm.size; r++) {
    const message = await receive(comm, r, 'pipeline-rows');
    all.set(message.arrays![0]!, Number(message.header!['firstRow']) * shard.cols);
  }
  return all;
}

/** Last rank: every row's class code in global order; null elsewhere. */
async function gatherCodes(comm: Communicator, codes: Int32Array, firstRow: number, total: number): Promise<Int32Array | null> {
  const last = comm.size - 1;
  if (comm.size === 1) return codes;
  if (comm.rank !== last) {
    await comm.send(last, { tag: 'pipeline-codes', header: { firstRow }, arrays: [Float32Array.from(codes)] });
    return null;
  }
  const all = new Int32Array(total);
  all.set(codes, firstRow);
  for (let r = 0; r < last; r++) {
    const message = await receive(comm, r, 'pipeline-codes');
    all.set(message.arrays![0]!, Number(message.header!['firstRow']));
  }
  return all;
}

/** Rank 0: every row's stable key (for dropout seeds) in global order; null elsewhere. */
async function gatherKeys(comm: Communicator, shard: Dataset, firstRow: number, total: number): Promise<Float64Array | null> {
  const own = new Float64Array(shard.rows);
  for (let i = 0; i < shard.rows; i++) own[i] = shard.rowKey(i);
  if (comm.rank !== 0) {
    await comm.send(0, { tag: 'pipeline-keys', header: { firstRow }, arrays: [own] });
    return null;
  }
  const all = new Float64Array(total);
  all.set(own, firstRow);
  for (let r = 1; r < comm.size; r++) {
    const message = await receive(comm, r, 'pipeline-keys');
    all.set(message.arrays![0]!, Number(message.header!['firstRow']));
  }
  return all;
}
