/**
 * Principal component analysis in summation form (Chu et al., NIPS 2006): the column mean and the
 * covariance are sums over shards, all-reduced; every rank then solves the same small eigenproblem.
 *
 * - solver 'full': the d×d covariance (centred blocks through the syrk kernel), then a symmetric
 *   eigendecomposition. Exact; O(n·d²) per pass.
 * - solver 'randomized': Halko et al.'s subspace iteration on the covariance (see pca/randomized.ts);
 *   for wide data, where the d×d matrix is too costly to form.
 *
 * Sign convention: each component's entry of largest magnitude is positive (the first such entry on
 * ties), so the result does not depend on the eigensolver, the solver or the world size
 * (the rule of scikit-learn's svd_flip with u_based_decision=False).
 *
 * PCA has no labels: `predict` returns each row's squared reconstruction error ‖x − x̂‖² (the
 * residual outside the kept subspace, an anomaly score), and `score` the fraction of the data's
 * variance the kept components explain, 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖² (x̄ the data's own mean).
 *
 * @example
 * const pca = await new PCA({ components: 2 }).fit(data);
 * const scores = pca.transform(data);              // rows × 2
 * const back = pca.inverseTransform(scores);       // rows × cols
 * pca.state.explainedVarianceRatio;                // per component
 */
import { ConfigError, DataError } from '../../core/errors.js';
import { kernels } from '../../core/kernels.js';
import { symmetricEigen } from '../../core/linalg.js';
import type { Dataset } from '../../data/dataset.js';
import type { TrainContext } from '../context.js';
import { Estimator } from '../estimator.js';
import type { OptionSchema } from '../option-schema.js';
import { resolveOptions } from '../option-schema.js';
import type { StateSchema } from '../state-schema.js';
import { columnMean, meanAndCovariance } from './covariance.js';
import type { LeadingEigen } from './randomized.js';
import { formsCovariance, randomizedEigen } from './randomized.js';

export type PcaSolver = 'full' | 'randomized';
export const PCA_SOLVERS: readonly PcaSolver[] = ['full', 'randomized'];

export interface PCAParams {
  /** Number of principal components kept. */
  components: number;
  solver: PcaSolver;
  /** randomized: extra directions sampled beyond `components` (Halko et al. suggest 5–10). */
  oversamples: number;
  /** randomized: subspace (power) iterations; more sharpen a slowly decaying spectrum. */
  powerIterations: number;
  /** Scale transformed scores to unit variance. */
  whiten: boolean;
  /** randomized: seed of the Gaussian test matrix. */
  seed: number;
}

export interface PCAState {
  /** Column means of the training data (cols). */
  mean: Float64Array;
  /** Principal axes as rows (components × cols), unit length, sorted by explained variance. */
  components: Float64Array;
  /** Variance along each component (eigenvalues of the covariance, divided by n − 1). */
  explainedVariance: Float64Array;
  /** explainedVariance / total variance. */
  explainedVarianceRatio: Float64Array;
  /** Singular values of the centred training matrix: √(explainedVariance · (n − 1)). */
  singularValues: Float64Array;
  /** Training rows over all ranks. */
  samples: number;
  cols: number;
}

const perComponent = { as: 'components', is: (_s: PCAState, p: PCAParams): number => p.components };

export const PCA_STATE: StateSchema<PCAState, PCAParams> = {
  cols: { type: 'int', min: 1 },
  samples: { type: 'int', min: 1 },
  mean: { type: 'floats', length: { as: 'cols', is: (s) => s.cols } },
  components: { type: 'floats', length: { as: 'components·cols', is: (s, p) => p.components * s.cols } },
  explainedVariance: { type: 'floats', length: perComponent },
  explainedVarianceRatio: { type: 'floats', length: perComponent },
  singularValues: { type: 'floats', length: perComponent },
};

export const PCA_OPTIONS: OptionSchema<PCAParams> = {
  components: { type: 'integer', min: 1, default: 2, doc: 'number of principal components kept' },
  solver: {
    type: 'choice',
    choices: PCA_SOLVERS,
    default: 'full',
    doc: "'full': all-reduced d×d covariance, exact; 'randomized': subspace iteration, for wide data",
  },
  oversamples: { type: 'integer', min: 0, default: 10, doc: 'randomized: extra directions sampled beyond components' },
  powerIterations: { type: 'integer', min: 0, default: 4, doc: 'randomized: subspace (power) iterations' },
  whiten: { type: 'boolean', default: false, doc: 'scale transformed scores to unit variance' },
  seed: { type: 'integer', min: 0, default: 0, doc: 'randomized: seed of the Gaussian test matrix' },
};

export class PCA extends Estimator<PCAParams, PCAState> {
  readonly name = 'pca';
  readonly kind = 'decomposition';

  constructor(params: Partial<PCAParams> = {}) {
    super(resolveOptions('pca', PCA_OPTIONS, params));
  }

  async train(shard: Dataset, context: TrainContext): Promise<PCAState> {
    const { components } = this.params;
    const d = shard.cols;
    if (components > d) {
      throw new ConfigError(`pca: components = ${components} exceeds the ${d} columns of the data; choose components ≤ ${d}`, {
        field: 'components',
      });
    }
    const solver = this.params.solver;
    // The covariance and the mean in one pass when the solver forms it; else the mean's pass first.
    const formed = solver === 'full' || formsCovariance(d, this.params) ? await meanAndCovariance(context, shard) : undefined;
    const moments = formed?.moments ?? (await columnMean(context, shard));
    if (components > moments.samples) {
      throw new ConfigError(
        `pca: components = ${components} exceeds the ${moments.samples} rows of the data; choose components ≤ ${moments.samples}`,
        { field: 'components' },
      );
    }
    let leading: LeadingEigen;
    if (solver === 'full') {
      const c = formed!.covariance;
      const eigen = symmetricEigen(c, d);
      let totalVariance = 0;
      for (let i = 0; i < d; i++) totalVariance += c[i * d + i]!;
      leading = { values: eigen.values.slice(0, components), vectors: eigen.vectors.slice(0, components * d), totalVariance };
    } else {
      leading = await randomizedEigen(context, shard, moments, this.params, formed?.covariance);
    }
    context.report({ iteration: 1, total: 1 });
    fixSigns(leading.vectors, components, d);
    const explainedVariance = leading.values.map((value) => Math.max(0, value));
    return {
      mean: moments.mean,
      components: leading.vectors,
      explainedVariance,
      explainedVarianceRatio: explainedVariance.map((value) => (leading.totalVariance > 0 ? value / leading.totalVariance : 0)),
      singularValues: explainedVariance.map((value) => Math.sqrt(value * (moments.samples - 1))),
      samples: moments.samples,
      cols: d,
    };
  }

  /** Coordinates of each row on the components: rows × components ((x − mean)·Vᵀ, / √variance when whitened). */
  transform(data: Dataset): Float64Array {
    const state = this.checkedState(data);
    const c = this.params.components;
    const out = new Float64Array(data.rows * c);
    const kern = kernels();
    const d = data.cols;
    const centred = new Float64Array(d);
    for (let i = 0; i < data.rows; i++) {
      for (let j = 0; j < d; j++) centred[j] = data.x[i * d + j]! - state.mean[j]!;
      kern.gemv(false, c, d, 1, state.components, 0, d, centred, 0, 0, out, i * c);
    }
    if (this.params.whiten) {
      for (let i = 0; i < data.rows; i++) for (let j = 0; j < c; j++) out[i * c + j]! /= Math.sqrt(state.explainedVariance[j]!);
    }
    return out;
  }

  /** Rows back in feature space from their component coordinates (rows × components → rows × cols). */
  inverseTransform(scores: Float64Array): Float64Array {
    const state = this.state;
    const c = this.params.components;
    const d = state.cols;
    if (scores.length % c !== 0) {
      throw new DataError(
        'DATA_FORMAT',
        {},
        `inverseTransform expects rows × ${c} component scores, found ${scores.length} values (not a multiple of ${c})`,
      );
    }
    const rows = scores.length / c;
    const kern = kernels();
    const unwhitened = new Float64Array(c);
    const out = new Float64Array(rows * d);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < c; j++)
        unwhitened[j] = this.params.whiten ? scores[i * c + j]! * Math.sqrt(state.explainedVariance[j]!) : scores[i * c + j]!;
      out.set(state.mean, i * d);
      kern.gemv(true, c, d, 1, state.components, 0, d, unwhitened, 0, 1, out, i * d);
    }
    return out;
  }

  /** Squared reconstruction error ‖x − x̂‖² of each row (see the file comment: PCA has no labels). */
  predict(data: Dataset): Float64Array {
    const reconstructed = this.inverseTransform(this.transform(data));
    const d = data.cols;
    const errors = new Float64Array(data.rows);
    for (let i = 0; i < data.rows; i++) {
      let sum = 0;
      for (let j = 0; j < d; j++) {
        const residual = data.x[i * d + j]! - reconstructed[i * d + j]!;
        sum += residual * residual;
      }
      errors[i] = sum;
    }
    return errors;
  }

  /** Fraction of the data's variance explained: 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖² (1 when the data has none). */
  score(data: Dataset): number {
    const errors = this.predict(data);
    let residual = 0;
    for (let i = 0; i < errors.length; i++) residual += errors[i]!;
    const d = data.cols;
    const mean = new Float64Array(d);
    for (let i = 0; i < data.rows; i++) for (let j = 0; j < d; j++) mean[j]! += data.x[i * d + j]! / data.rows;
    let total = 0;
    for (let i = 0; i < data.rows; i++) {
      for (let j = 0; j < d; j++) {
        const deviation = data.x[i * d + j]! - mean[j]!;
        total += deviation * deviation;
      }
    }
    if (total === 0) return residual === 0 ? 1 : 0;
    return 1 - residual / total;
  }

  private checkedState(data: Dataset): PCAState {
    const state = this.state;
    if (data.cols !== state.cols) {
      throw new DataError(
        'DATA_FORMAT',
        { file: data.source },
        `this PCA model was trained on ${state.cols} columns, found ${data.cols}; use data with the training columns`,
      );
    }
    return state;
  }
}

/** Make each row's largest-magnitude entry positive (first one on ties). */
export function fixSigns(vectors: Float64Array, count: number, d: number): void {
  for (let i = 0; i < count; i++) {
    let largest = 0;
    for (let j = 1; j < d; j++) if (Math.abs(vectors[i * d + j]!) > Math.abs(vectors[i * d + largest]!)) largest = j;
    if (vectors[i * d + largest]! < 0) for (let j = 0; j < d; j++) vectors[i * d + j] = -vectors[i * d + j]!;
  }
}
