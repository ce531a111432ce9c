/**
 * What the neural classifiers (MLP, CNN, RNN) share: the SPMD trainer over `runSgd`, and
 * prediction. A model only says which network it wants for the data (`architecture`).
 *
 * Training: every rank builds the same network from the same seed, so the initial flat vector is
 * identical everywhere. `runSgd` hands `accumulate` the master weights (float64, the vector every
 * strategy combines); `accumulate` copies them into the network's own store (float32 by default —
 * a copy of `dim` values per step, small beside the forward and backward passes), runs the batch,
 * and adds the network's flat gradient into runSgd's. `apply` clips, schedules the rate and steps
 * the optimizer, whose state lives in this closure and evolves identically on every rank under a
 * synchronous strategy (every rank applies the same mean gradient).
 *
 * Per-row randomness (dropout) is seeded by the row's stable key and its visit count, never the
 * rank, so data-parallel training draws the same masks as sequential training.
 *
 * @example
 * class MyNet extends NeuralClassifier<MyParams> { architecture(cols, classes) { … } }
 */
import { ConfigError, DataError } from '../../core/errors.js';
import { kernels } from '../../core/kernels.js';
import { Rng, hashUniform } from '../../core/rng.js';
import type { Dataset } from '../../data/dataset.js';
import type { LayerSpec } from '../../nn/layer.js';
import { softmaxCrossEntropy, softmaxRows } from '../../nn/losses.js';
import { Network } from '../../nn/network.js';
import type { Optimizer } from '../../nn/optimizers.js';
import { Adam, SgdOptimizer, clipGlobalNorm, scheduledRate } from '../../nn/optimizers.js';
import { dtypeArray, sizeOf } from '../../nn/tensor.js';
import type { TrainContext } from '../context.js';
import { Estimator } from '../estimator.js';
import { checkFeatures, checkTwoClasses, predictClasses } from '../linear/shared.js';
import { accuracy } from '../metrics.js';
import type { NeuralParams } from './options.js';
import { resolvePipeline } from './pipeline/settings.js';
import { trainPipeline } from './pipeline/trainer.js';
import { runSgd, sgdData } from '../solvers/sgd.js';
import { discoverClasses, encodeLabels, globalLayout } from '../spmd.js';

export interface Architecture {
  /** Shape of one row, batch axis excluded (e.g. [28, 28, 1]); its size must equal the data's columns. */
  inputShape: number[];
  layers: LayerSpec[];
}

export interface NeuralState extends Architecture {
  /** The sorted class values; output unit c stands for classes[c]. */
  classes: Float64Array;
  /** Every weight of the network, flat, in the layers' declaration order. */
  params: Float64Array;
}

/** Rows per forward pass when predicting (bounds the im2col buffer of a CNN). */
const PREDICT_CHUNK = 256;

export abstract class NeuralClassifier<P extends NeuralParams> extends Estimator<P, NeuralState> {
  readonly kind = 'classifier' as const;
  private cached: { state: NeuralState; network: Network } | null = null;

  /** The neural classifiers train as a pipeline when the fit asks (FitOptions.pipeline). */
  override get pipelineParallel(): boolean {
    return true;
  }

  /** The network for data with `cols` feature columns and `classes` classes. */
  abstract architecture(cols: number, classes: number): Architecture;

  async train(shard: Dataset, context: TrainContext): Promise<NeuralState> {
    const p = this.params;
    const classes = await discoverClasses(context.comm, shard.labels(), shard.source, context.classes);
    checkTwoClasses(this.name, classes, shard.source);
    const { total } = await globalLayout(context.comm, shard.rows);
    if (total === 0) throw new DataError('DATA_MISSING', { file: shard.source }, `${this.name}: no rows to train on`);
    const { inputShape, layers } = this.architecture(shard.cols, classes.length);
    const network = new Network(layers, inputShape, p.precision);
    network.store.initialize(new Rng(p.seed).fork(0x1a1));
    const initial = Float64Array.from(network.store.values);
    if (context.options?.pipeline !== undefined) {
      if (context.options.checkpoint !== undefined)
        throw new ConfigError(
          `${this.name}: checkpoints are not yet written by the pipeline trainer: drop --pipeline or the checkpoint flags`,
          { field: 'checkpoint-dir' },
        );
      const codes = encodeLabels(shard.labels(), classes);
      const settings = resolvePipeline(context.options?.pipeline, context.comm.size);
      const params = await trainPipeline({ shard, context, codes, inputShape, layers, initial, params: p, settings });
      return { classes, inputShape, layers, params };
    }

    const stepsPerEpoch = Math.ceil((context.strategy.synchronous ? total : shard.rows) / p.batchSize);
    const totalSteps = stepsPerEpoch * p.epochs;
    const optimizer: Optimizer =
      p.optimizer === 'adam'
        ? new Adam(network.size, { weightDecay: p.weightDecay })
        : new SgdOptimizer(network.size, { momentum: p.momentum, weightDecay: p.weightDecay });
    const data = sgdData(shard, context);
    const codes = encodeLabels(data.labels(), classes);
    const cols = data.cols;
    // In the kernels' workspace (WASM memory), so the first layer reads the batch without a copy.
    const batchX = kernels().workspace(p.precision, p.batchSize * cols);
    const batchCodes = new Int32Array(p.batchSize);
    const rowSeeds = new Uint32Array(p.batchSize);
    const gradients = network.store.gradients;
    // Read once per fit, not per row: what `accumulate` reads per row stays in locals (a per-row
    // `data.rowKey(row)` and `p.seed` deoptimised this closure in every threads fit when models took
    // turns in the same workers, as compare runs them: --trace-deopt, "wrong map" at the row-seed line).
    const { rowKeys, rowKeyBase } = data;
    const seed = p.seed;

    const result = await runSgd(
      shard,
      context,
      {
        dim: network.size,
        gradientPrecision: p.precision,
        tensors: network.store.layout.slots.map((slot) => slot.length),
        accumulate(params, rows, count, gradient, epoch) {
          network.loadParameters(params);
          for (let i = 0; i < count; i++) {
            const row = rows[i]!;
            batchX.set(data.x.subarray(row * cols, (row + 1) * cols), i * cols);
            batchCodes[i] = codes[row]!;
            const key = rowKeys === null ? rowKeyBase + row : rowKeys[row]!; // data.rowKey(row)
            rowSeeds[i] = Math.floor(hashUniform(seed + Math.imul(epoch, 0x9e3779b1), key) * 0x100000000);
          }
          const x = { shape: [count, ...inputShape], data: batchX.subarray(0, count * cols) };
          const logits = network.forward(x, { training: true, rowSeeds: rowSeeds.subarray(0, count) });
          const { loss, gradient: dLogits } = softmaxCrossEntropy(logits, batchCodes.subarray(0, count));
          network.zeroGradients();
          network.backward(dLogits);
          // `gradient` arrives zeroed (SgdProblem.accumulate): a native float32 → float64 copy, not a JS loop of adds.
          gradient.set(gradients);
          return loss;
        },
        apply(params, meanGradient, step) {
          if (p.clipNorm > 0) clipGlobalNorm(meanGradient, p.clipNorm);
          const lr = scheduledRate(p.lr, { name: p.schedule, gamma: p.gamma, stepEpochs: p.stepEpochs }, step, stepsPerEpoch, totalSteps);
          optimizer.step(params, meanGradient, lr);
        },
        getState: () => optimizer.getState(),
        setState: (state) => optimizer.setState(state),
      },
      initial,
      p,
    );
    return { classes, inputShape, layers, params: result.params };
  }

  /** Class probabilities, rows × classes (row-major, columns in the order of `state.classes`). */
  predictProba(data: Dataset): Float64Array {
    const state = this.state;
    checkFeatures(this.name, data, sizeOf(state.inputShape));
    const network = this.network(state);
    const k = state.classes.length;
    const out = new Float64Array(data.rows * k);
    const cols = data.cols;
    const chunk = dtypeArray(network.dtype, Math.min(PREDICT_CHUNK, data.rows) * cols);
    for (let start = 0; start < data.rows; start += PREDICT_CHUNK) {
      const count = Math.min(PREDICT_CHUNK, data.rows - start);
      chunk.set(data.x.subarray(start * cols, (start + count) * cols));
      const logits = network.forward(
        { shape: [count, ...state.inputShape], data: chunk.subarray(0, count * cols) },
        { training: false, rowSeeds: null },
      );
      softmaxRows(logits.data, count, k, out.subarray(start * k, (start + count) * k));
    }
    return out;
  }

  predict(data: Dataset): Float64Array {
    return predictClasses(this.predictProba(data), data.rows, this.state.classes.length, this.state.classes);
  }

  /** Accuracy on `data`. */
  score(data: Dataset): number {
    return accuracy(data.labels(), this.predict(data));
  }

  /** The network of `state`, built once per state (a loaded or refitted model gets a new one). */
  private network(state: NeuralState): Network {
    if (this.cached?.state !== state) {
      const network = new Network(state.layers, state.inputShape, this.params.precision);
      network.loadParameters(state.params);
      this.cached = { state, network };
    }
    return this.cached.network;
  }
}
