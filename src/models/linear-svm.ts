/**
 * Linear support vector machine trained by mini-batch Pegasos (Shalev-Shwartz, Singer, Srebro &
 * Cotter, "Pegasos: primal estimated sub-gradient solver for SVM", Math. Programming 2011):
 * SGD on (λ/2)·‖w‖² + mean hinge loss max(0, 1 − y·(w·x + b)), step 1/(λ·t), then projection onto
 * the ball ‖w‖ ≤ 1/√λ that holds the optimum. More than two classes train one-vs-rest, all
 * classes' vectors in one flat parameter vector, so one `runSgd` call (and one all-reduce per
 * step) trains them all.
 *
 * The intercept is regularised like a weight (a constant feature), as liblinear and so
 * scikit-learn's LinearSVC do: Pegasos's first steps are of size 1/λ, and an unregularised,
 * unprojected bias would take them unchecked.
 *
 * @example
 * const svm = await new LinearSVM({ l2: 1e-3, epochs: 10 }).fit(train);
 * svm.predict(test); svm.decisionFunction(test); svm.score(test); // accuracy
 */
import { ConfigError, DataError } from '../core/errors.js';
import { kernels } from '../core/kernels.js';
import type { FloatArray } from '../core/storage.js';
import type { Dataset } from '../data/dataset.js';
import type { TrainContext } from './context.js';
import { Estimator, resolveParams } from './estimator.js';
import { accuracy } from './metrics.js';
import { runSgd } from './sgd.js';
import { discoverClasses, encodeLabels, globalLayout } from './spmd.js';
import {
  checkFeatures, checkTwoClasses, linearScores, predictClasses, requireBoolean, requireInteger, requireNumber, splitParams,
} from './linear-shared.js';

export interface LinearSVMParams {
  /** λ, the L2 penalty on the mean-hinge-loss scale (scikit-learn's SGDClassifier alpha). */
  l2: number;
  epochs: number;
  batchSize: number;
  seed: number;
  fitIntercept: boolean;
  /** A constant learning rate; null (default) uses Pegasos's 1/(λ·t). */
  lr: number | null;
}

export interface LinearSVMState {
  classes: Float64Array;
  /** outputs × features, row-major; outputs is 1 for two classes (classes[1] is +1), else K (one-vs-rest). */
  weights: Float64Array;
  intercepts: Float64Array;
}

const NAME = 'linear-svm';
const DEFAULTS: LinearSVMParams = { l2: 1e-4, epochs: 5, batchSize: 64, seed: 0, fitIntercept: true, lr: null };

/**
 * Σ over the listed rows and every output c of max(0, 1 − y_c·(w_c·x + b_c)) with y_c = +1 for
 * rows of class c (binary: class index 1) and −1 otherwise; adds the subgradient to `gradient`.
 */
export function hingeLossSum(
  x: FloatArray, features: number, outputs: number, codes: Int32Array, params: Float64Array,
  rows: Uint32Array, count: number, gradient: Float64Array,
): number {
  const k = kernels();
  const d = features;
  const bias = outputs * d;
  let loss = 0;
  for (let r = 0; r < count; r++) {
    const row = rows[r]!;
    const code = codes[row]!;
    for (let c = 0; c < outputs; c++) {
      const sign = (outputs === 1 ? code === 1 : code === c) ? 1 : -1;
      const margin = sign * (k.dot(d, x, row * d, params, c * d) + params[bias + c]!);
      if (margin >= 1) continue;
      loss += 1 - margin;
      k.axpy(d, -sign, x, row * d, gradient, c * d);
      gradient[bias + c]! -= sign;
    }
  }
  return loss;
}

export class LinearSVM extends Estimator<LinearSVMParams, LinearSVMState> {
  readonly name = NAME;
  readonly kind = 'classifier' as const;

  constructor(params: Partial<LinearSVMParams> = {}) {
    const merged = resolveParams(NAME, DEFAULTS, params);
    requireNumber(NAME, 'l2', merged.l2, 0);
    requireInteger(NAME, 'epochs', merged.epochs, 1);
    requireInteger(NAME, 'batchSize', merged.batchSize, 1);
    requireInteger(NAME, 'seed', merged.seed, -0x80000000);
    requireBoolean(NAME, 'fitIntercept', merged.fitIntercept);
    if (merged.lr !== null) requireNumber(NAME, 'lr', merged.lr, 0, true);
    if (merged.lr === null && merged.l2 === 0) {
      throw new ConfigError(`${NAME}: Pegasos's step 1/(l2·t) needs l2 > 0; set l2 > 0 or give a constant lr`, { field: 'l2' });
    }
    super(merged);
  }

  async train(shard: Dataset, context: TrainContext): Promise<LinearSVMState> {
    const labels = shard.labels();
    const classes = await discoverClasses(context.comm, labels, shard.source);
    checkTwoClasses(NAME, classes, shard.source);
    const codes = encodeLabels(labels, classes);
    const outputs = classes.length === 2 ? 1 : classes.length;
    const d = shard.cols;
    const { total } = await globalLayout(context.comm, shard.rows);
    if (total === 0) throw new DataError('DATA_MISSING', { file: shard.source }, `${NAME}: no rows to train on`);
    const { l2, lr, fitIntercept } = this.params;
    const weightCount = outputs * d;
    const dim = weightCount + outputs;
    const regularised = fitIntercept ? dim : weightCount;
    const radiusSquared = l2 > 0 ? 1 / l2 : Infinity;
    const stepOffset = l2 > 0 ? 1 / (l2 * Math.pow(l2, -0.25)) : 0;
    const result = await runSgd(shard, context, {
      dim,
      accumulate: (params, rows, count, gradient) => hingeLossSum(shard.x, d, outputs, codes, params, rows, count, gradient),
      apply(params, meanGradient, step) {
        const rate = lr ?? 1 / (l2 * (step + stepOffset));
        const shrink = 1 - rate * l2;
        for (let j = 0; j < regularised; j++) params[j] = shrink * params[j]! - rate * meanGradient[j]!;
        // Pegasos's projection, per class (one-vs-rest problems are independent).
        for (let c = 0; c < outputs && radiusSquared < Infinity; c++) {
          let norm = 0;
          for (let j = c * d; j < (c + 1) * d; j++) norm += params[j]! * params[j]!;
          if (fitIntercept) norm += params[weightCount + c]! ** 2;
          if (norm <= radiusSquared) continue;
          const scale = Math.sqrt(radiusSquared / norm);
          for (let j = c * d; j < (c + 1) * d; j++) params[j]! *= scale;
          if (fitIntercept) params[weightCount + c]! *= scale;
        }
      },
    }, new Float64Array(dim), this.params);
    return { classes, ...splitParams(result.params, outputs, d) };
  }

  /** Signed distances to the separating hyperplanes: rows × outputs (one column for two classes). */
  decisionFunction(data: Dataset): Float64Array {
    const { weights, intercepts } = this.state;
    checkFeatures(NAME, data, weights.length / intercepts.length);
    return linearScores(data, weights, intercepts, intercepts.length);
  }

  predict(data: Dataset): Float64Array {
    return predictClasses(this.decisionFunction(data), data.rows, this.state.intercepts.length, this.state.classes);
  }

  /** Accuracy on `data`. */
  score(data: Dataset): number {
    return accuracy(data.labels(), this.predict(data));
  }
}
