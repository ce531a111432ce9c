/**
 * Model parallelism for the neural classifiers: a pipeline (GPipe or 1F1B), optionally replicated.
 * The layers are cut into S consecutive stages (neural/pipeline/partition.ts: balanced by forward FLOPs).
 * With R replicas (fit option `pipeline: { replicas: R }`, S = workers / R) rank k·S + s runs stage s of
 * replica k; plain pipelines are R = 1. Every global mini-batch — the same batches, in the same
 * order, as sequential `runSgd` — is cut into R consecutive parts, one per replica, and each part
 * into micro-batches; activations flow stage s → s + 1 and gradients s + 1 → s by `comm.send`/`recv`
 * in the order of neural/pipeline/schedule.ts. Each stage sums its parameter gradients over its
 * micro-batches, then over its replicas (`groupAllReduce` among the stage's replicas), divides by the batch
 * size and steps its own optimizer on its own slice of the parameters. Those sums are the batch's
 * gradient sum, so the model equals sequential training up to floating-point summation order.
 *
 * Memory: a stage keeps one network per micro-batch whose forward ran and backward did not (a
 * layer keeps only its last forward's state), taken from a pool and returned after the backward.
 * GPipe fills M of them; 1F1B at most S − s. `runPipeline` reports the peak it reached.
 *
 * Dropout: the masks are a function of (seed, epoch, the row's stable key, layer, unit) — row seeds
 * are computed on stage 0 and travel with the activations, and each stage's dropout layers are
 * placed at their offset in the whole network (Dropout.placeAt) — so they are the masks sequential
 * and data-parallel training draw, and the pipeline trains the same model with dropout too.
 *
 * @example
 * if (context.options?.pipeline !== undefined) {
 *   params = await trainPipeline({ shard, context, codes, …, settings: resolvePipeline(context.options?.pipeline, context.comm.size) });
 * }
 */
import type { Communicator, Message } from '../../../comm/communicator.js';
import { CommError, ConfigError } from '../../../core/errors.js';
import { Rng, hashUniform } from '../../../core/rng.js';
import type { FloatArray } from '../../../core/storage.js';
import type { Dataset } from '../../../data/dataset.js';
import { Dropout } from '../../../nn/dropout.js';
import type { LayerSpec } from '../../../nn/layer.js';
import { softmaxCrossEntropy } from '../../../nn/losses.js';
import { Network } from '../../../nn/network.js';
import type { Optimizer } from '../../../nn/optimizers.js';
import { Adam, SgdOptimizer, scheduledRate } from '../../../nn/optimizers.js';
import type { Tensor } from '../../../nn/tensor.js';
import { dtypeArray } from '../../../nn/tensor.js';
import type { TrainContext } from '../../context.js';
import type { NeuralParams } from '../options.js';
import { groupAllReduce } from '../../../comm/collectives/group-allreduce.js';
import { gatherAt } from './data.js';
import { layerCosts, partitionStages } from './partition.js';
import type { PipelineOperation } from './schedule.js';
import type { PipelineSettings } from './settings.js';
import { microBatchSizes, stageOperations } from './schedule.js';
import { globalLayout } from '../../spmd.js';

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
  /** The fit's pipeline options (`context.options?.pipeline`), resolved. */
  settings: PipelineSettings;
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
export function planStages(
  layers: readonly LayerSpec[],
  inputShape: readonly number[],
  params: NeuralParams,
  stages: number,
): { ranges: { start: number; end: number }[]; plans: StagePlan[] } {
  const ranges = partitionStages(layerCosts(layers, inputShape, params.precision), stages);
  const plans: StagePlan[] = [];
  let shape = inputShape;
  let offset = 0;
  for (const { start, end } of ranges) {
    const specs = layers.slice(start, end);
    const network = new Network(specs, shape, params.precision);
    plans.push({
      inputShape: shape,
      outputShape: network.outputShape,
      offset,
      count: network.size,
      hasDropout: specs.some((spec) => spec.type === 'dropout'),
    });
    shape = network.outputShape;
    offset += network.size;
  }
  return { ranges, plans };
}

/** What one rank's pipeline run produced. */
export interface PipelineResult {
  /** The whole network's trained parameters (identical on every rank). */
  params: Float64Array;
  /** Most micro-batches whose activations this rank's stage held at once (GPipe: M; 1F1B: ≤ S − stage). */
  peakStoredMicroBatches: number;
}

/** Train `job`'s network as a pipeline over `job.context.comm`; returns the whole parameter vector (on every rank). */
export async function trainPipeline(job: PipelineJob): Promise<Float64Array> {
  return (await runPipeline(job)).params;
}

/** `trainPipeline` with this rank's activation-memory figure. */
export async function runPipeline(job: PipelineJob): Promise<PipelineResult> {
  const { shard, context, params: p } = job;
  const comm = context.comm;
  const settings = job.settings;
  const replicas = settings.replicas;
  if (comm.size % replicas !== 0) {
    throw new ConfigError(
      `pipeline.replicas = ${replicas} needs a worker count that is a multiple of ${replicas}, got ${comm.size} workers`,
      { field: 'workers' },
    );
  }
  const stages = comm.size / replicas;
  const stage = comm.rank % stages;
  const replica = Math.floor(comm.rank / stages);
  const replicaGroup = Array.from({ length: replicas }, (_, k) => k * stages + stage);
  const last = stages - 1;
  const { ranges, plans } = planStages(job.layers, job.inputShape, p, stages);
  const plan = plans[stage]!;
  const range = ranges[stage]!;
  // Dropout on stage s needs row seeds; stage 0 computes them and every stage before s passes them on.
  const seedsNeeded = plans.map((_, s) => plans.slice(s).some((later) => later.hasDropout));

  // The pool of stage networks, all bound to the first one's parameters and gradients.
  const specs = job.layers.slice(range.start, range.end);
  const pool = new SlotPool(() => {
    const network = new Network(specs, plan.inputShape, p.precision);
    for (const layer of network.layers) if (layer instanceof Dropout) layer.placeAt(plan.offset);
    return network;
  });
  const primary = pool.network(0);
  const master = job.initial.slice(plan.offset, plan.offset + plan.count);
  primary.loadParameters(master);

  const { offset: firstRow, total } = await globalLayout(comm, shard.rows);
  const cols = shard.cols;
  const firstStages = Array.from({ length: replicas }, (_, k) => k * stages);
  const lastStages = firstStages.map((rank) => rank + last);
  const rows = await gatherAt(comm, firstStages, shard.x, cols, firstRow, total, 'pipeline-rows');
  const codes32 = await gatherAt(comm, lastStages, Float32Array.from(job.codes), 1, firstRow, total, 'pipeline-codes');
  const codes = codes32 === null ? null : Int32Array.from(codes32); // class codes are exact in float32 below 2²⁴
  const keys = seedsNeeded[0]
    ? await gatherAt(
        comm,
        firstStages,
        Float64Array.from({ length: shard.rows }, (_, i) => shard.rowKey(i)),
        1,
        firstRow,
        total,
        'pipeline-keys',
      )
    : null;

  const stepsPerEpoch = Math.ceil(total / p.batchSize);
  const totalSteps = stepsPerEpoch * p.epochs;
  const optimizer: Optimizer =
    p.optimizer === 'adam'
      ? new Adam(plan.count, { weightDecay: p.weightDecay })
      : new SgdOptimizer(plan.count, { momentum: p.momentum, weightDecay: p.weightDecay });
  const gradient = new Float64Array(plan.count);
  const storeGradients = primary.store.gradients;
  const microRows = Math.ceil(p.batchSize / (replicas * settings.microBatches)); // largest micro-batch
  const inputs: FloatArray[] = []; // stage 0: one input buffer per pool slot
  const labels = new Int32Array(microRows);
  const slotOf = new Int32Array(settings.microBatches);
  const outputs: (Tensor | null)[] = new Array<Tensor | null>(settings.microBatches).fill(null);
  const schedules = new Map<number, PipelineOperation[]>();
  const base = new Rng(p.seed);
  let step = 0;
  const lossTally = new Float64Array(2);
  // Sends are chained, not awaited one by one, so a stage computes its next pass while the
  // previous result is still being copied out; a slot is reused only once its sends are out.
  let sending: Promise<void> = Promise.resolve();
  const send = (to: number, message: Message): void => {
    sending = sending.then(() => comm.send(to, message));
  };

  for (let epoch = 0; epoch < p.epochs; epoch++) {
    const order = base.fork(epoch).permutation(total); // runSgd's synchronous batch order
    lossTally.fill(0);
    for (let start = 0; start < total; start += p.batchSize) {
      const count = Math.min(p.batchSize, total - start);
      // This replica's consecutive part of the batch, then its micro-batches.
      const parts = microBatchSizes(count, replicas);
      const partStart = start + parts.slice(0, replica).reduce((a, b) => a + b, 0);
      const sizes = microBatchSizes(parts[replica] ?? 0, settings.microBatches);
      const firsts = sizes.map((_, m) => partStart + sizes.slice(0, m).reduce((a, b) => a + b, 0));
      let operations = schedules.get(sizes.length);
      if (operations === undefined && sizes.length > 0)
        schedules.set(sizes.length, (operations = stageOperations(stages, sizes.length, stage, settings.schedule)));
      gradient.fill(0);
      for (const { kind, microBatch: m } of operations ?? []) {
        const n = sizes[m]!;
        if (kind === 'forward') {
          const slot = pool.take();
          await pool.ready(slot);
          slotOf[m] = slot;
          let x: FloatArray;
          let seeds: Uint32Array | null = null;
          if (stage === 0) {
            x = (inputs[slot] ??= dtypeArray(p.precision, microRows * cols)).subarray(0, n * cols);
            for (let i = 0; i < n; i++) {
              const row = order[firsts[m]! + i]!;
              x.set(rows!.subarray(row * cols, (row + 1) * cols), i * cols);
            }
            if (keys !== null) {
              // The seed sequential training uses for the row's visit number `epoch` (every row is visited once an epoch).
              seeds = new Uint32Array(n);
              for (let i = 0; i < n; i++)
                seeds[i] = Math.floor(hashUniform(p.seed + Math.imul(epoch, 0x9e3779b1), keys[order[firsts[m]! + i]!]!) * 0x100000000);
            }
          } else {
            const message = await receive(comm, comm.rank - 1, 'pipeline-activation');
            x = message.arrays![0]!;
            if (message.arrays!.length > 1) seeds = Uint32Array.from(message.arrays![1]!);
          }
          const output = pool.network(slot).forward({ shape: [n, ...plan.inputShape], data: x }, { training: true, rowSeeds: seeds });
          outputs[m] = output;
          if (stage < last) {
            const arrays: FloatArray[] = [output.data];
            if (seedsNeeded[stage + 1] && seeds !== null) arrays.push(Float64Array.from(seeds));
            send(comm.rank + 1, { tag: 'pipeline-activation', arrays });
          }
        } else {
          let dy: Tensor;
          if (stage === last) {
            for (let i = 0; i < n; i++) labels[i] = codes![order[firsts[m]! + i]!]!;
            const { loss, gradient: dLogits } = softmaxCrossEntropy(outputs[m]!, labels.subarray(0, n));
            lossTally[0]! += loss;
            lossTally[1]! += n;
            dy = dLogits;
          } else {
            const message = await receive(comm, comm.rank + 1, 'pipeline-gradient');
            dy = { shape: [n, ...plan.outputShape], data: message.arrays![0]! };
          }
          primary.zeroGradients();
          const dx = pool.network(slotOf[m]!).backward(dy, stage > 0);
          for (let j = 0; j < gradient.length; j++) gradient[j]! += storeGradients[j]!;
          if (stage > 0) send(comm.rank - 1, { tag: 'pipeline-gradient', arrays: [dx!.data] });
          outputs[m] = null;
          pool.release(slotOf[m]!, sending);
        }
      }
      await sending;
      step++;
      // The stage's replicas (ranks ≡ rank mod S) sum their gradients; disjoint groups run at once.
      if (replicas > 1) await groupAllReduce(comm, replicaGroup, gradient);
      for (let j = 0; j < gradient.length; j++) gradient[j]! /= count;
      if (p.clipNorm > 0) await clipAcrossStages(comm, gradient, p.clipNorm, replica === 0);
      const lr = scheduledRate(p.lr, { name: p.schedule, gamma: p.gamma, stepEpochs: p.stepEpochs }, step, stepsPerEpoch, totalSteps);
      optimizer.step(master, gradient, lr);
      primary.loadParameters(master);
    }
    await reportEpoch(context, lossTally, lastStages, epoch, p.epochs);
  }

  // Assemble the whole vector on every rank: replica 0 contributes its stages' slices, zeros elsewhere (exact).
  const whole = new Float64Array(job.initial.length);
  if (replica === 0) whole.set(master, plan.offset);
  if (comm.size > 1) await comm.allReduce(whole, 'sum');
  return { params: whole, peakStoredMicroBatches: pool.peak };
}

/**
 * Networks for in-flight micro-batches. `take` hands out a free slot (making a network the first
 * time), `release` returns it with the promise of the sends that still read its buffers, and
 * `ready` waits for those before the slot's buffers are overwritten. `peak` is the most slots ever
 * in use at once: the stage's stored activations, in micro-batches.
 */
class SlotPool {
  /** Slot 0's network exists from the start: its store holds the stage's parameters and gradients. */
  private readonly networks: Network[];
  private readonly pendingSends: Promise<void>[] = [Promise.resolve()];
  private readonly free: number[] = [0];
  private inUse = 0;
  peak = 0;

  constructor(private readonly make: () => Network) {
    this.networks = [make()];
  }

  take(): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.networks.length;
      const network = this.make();
      // Every slot trains the same parameters: bind to the first network's store.
      if (slot > 0) for (const layer of network.layers) layer.bind(this.networks[0]!.store);
      this.networks.push(network);
      this.pendingSends.push(Promise.resolve());
    }
    this.inUse++;
    this.peak = Math.max(this.peak, this.inUse);
    return slot;
  }

  ready(slot: number): Promise<void> {
    return this.pendingSends[slot]!;
  }

  network(slot: number): Network {
    return this.networks[slot]!;
  }

  release(slot: number, sends: Promise<void>): void {
    this.pendingSends[slot] = sends;
    this.free.push(slot);
    this.inUse--;
  }
}

/** The loss lives on the last stages; rank 0 sums them and reports (the runtime keeps rank 0's events). */
async function reportEpoch(
  context: TrainContext,
  lossTally: Float64Array,
  lastStages: readonly number[],
  epoch: number,
  epochs: number,
): Promise<void> {
  const comm = context.comm;
  if (comm.rank !== 0 && lastStages.includes(comm.rank)) await comm.send(0, { tag: 'pipeline-loss', arrays: [lossTally] });
  if (comm.rank === 0) {
    const own = lastStages.includes(0) ? Float64Array.from(lossTally) : new Float64Array(2);
    for (const rank of lastStages) {
      if (rank === 0) continue;
      const tally = (await receive(comm, rank, 'pipeline-loss')).arrays![0]!;
      own[0]! += tally[0]!;
      own[1]! += tally[1]!;
    }
    lossTally.set(own);
  }
  const known = comm.rank === 0 || lastStages.includes(comm.rank);
  context.report(
    known ? { iteration: epoch + 1, total: epochs, loss: lossTally[0]! / lossTally[1]! } : { iteration: epoch + 1, total: epochs },
  );
}

/** Clip the mean gradient to a global L2 norm when its pieces live on different stages (one replica counts). */
async function clipAcrossStages(comm: Communicator, gradient: Float64Array, maxNorm: number, counts: boolean): Promise<void> {
  const squares = new Float64Array(1);
  if (counts) for (let j = 0; j < gradient.length; j++) squares[0]! += gradient[j]! * gradient[j]!;
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
    throw new CommError(
      'COMM',
      `pipeline: expected a '${tag}' message from rank ${from}, got '${message.tag}'; every rank must run the same pipeline (same model, options and data layout)`,
      { rank: from },
    );
  }
  return message;
}
