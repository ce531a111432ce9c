/**
 * Randomized PCA (Halko, Martinsson & Tropp, SIAM Review 2011, algorithms 4.3/4.4 and 5.3) in a
 * form that suits SPMD training.
 *
 * Halko's range finder works on the tall data matrix (Y = XΩ, then QR of Y), but Y's rows live on
 * different ranks and a distributed QR would need its own protocol. The right singular vectors of
 * the centred X are the eigenvectors of the covariance C = (X−μ)ᵀ(X−μ)/(n−1), so we run the same
 * subspace iteration on C instead ("normal equations" form): every product Z = C·Q is a sum over
 * shards of Rᵢᵀ(Rᵢ·Q) (Rᵢ the centred rows of shard i), i.e. one all-reduce of a d×l matrix, and
 * everything else (QR of a d×l matrix, an l×l eigenproblem) is tiny and computed identically on
 * every rank. Squaring the spectrum costs digits only in the smallest eigenvalues, which a
 * truncated PCA discards.
 *
 * The seeded Gaussian test matrix Ω (d×l, l = components + oversamples) is the same on every rank.
 * With q power iterations the Rayleigh–Ritz step sees span(C^(q+1)·Ω): q + 2 passes over the data,
 * the same subspace scikit-learn's randomized_svd reaches with n_iter = q.
 *
 * When d is small, forming C once (one syrk pass, n·d²/2 multiply-adds) is cheaper than q + 2
 * passes of two thin products (2·n·d·l each); then the same iteration runs on the formed C. The
 * result is the same algorithm, only rounding differs.
 */
import type { RowPassContext } from '../row-sums.js';
import { kernels } from '../../core/kernels.js';
import { orthonormalize, symmetricEigen } from '../../core/linalg.js';
import { Rng } from '../../core/rng.js';
import type { Dataset } from '../../data/dataset.js';
import type { ColumnMoments } from './covariance.js';
import { covarianceTimes } from './covariance.js';

export interface RandomizedOptions {
  components: number;
  oversamples: number;
  powerIterations: number;
  seed: number;
}

export interface LeadingEigen {
  /** The `components` largest eigenvalues of C, descending. */
  values: Float64Array;
  /** Their eigenvectors as rows (components × d), unit length, sign not yet fixed. */
  vectors: Float64Array;
  /** trace(C): the total variance. */
  totalVariance: number;
}

/** Columns of the test matrix: components + oversamples, at most d. */
function sketchWidth(d: number, options: RandomizedOptions): number {
  return Math.min(d, options.components + options.oversamples);
}

/**
 * Whether to form the covariance C once (one syrk pass, n·d²/2 multiply-adds) rather than run q + 2
 * passes of two thin products (2·n·d·l each).
 */
export function formsCovariance(d: number, options: RandomizedOptions): boolean {
  const passes = options.powerIterations + 2;
  return d * d < 4 * passes * d * sketchWidth(d, options); // n·d²/2 < passes·2·n·d·l
}

/**
 * The leading eigenpairs of the covariance by randomized subspace iteration: on the covariance
 * `formed` by the caller when given (formsCovariance), else by passes over the rows centred by
 * `moments.mean`.
 */
export async function randomizedEigen(
  context: RowPassContext,
  shard: Dataset,
  moments: ColumnMoments,
  options: RandomizedOptions,
  formed: Float64Array | undefined,
): Promise<LeadingEigen> {
  const d = shard.cols;
  const l = sketchWidth(d, options);
  const kern = kernels();
  const rng = new Rng(options.seed);
  const omega = new Float64Array(d * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();

  let totalVariance = 0;
  let apply: (q: Float64Array, first: boolean) => Promise<Float64Array>;
  if (formed !== undefined) {
    const c = formed;
    for (let i = 0; i < d; i++) totalVariance += c[i * d + i]!;
    apply = (q) => {
      const z = new Float64Array(d * l);
      kern.gemm(false, false, d, l, d, 1, c, 0, d, q, 0, l, 0, z, 0, l);
      return Promise.resolve(z);
    };
  } else {
    apply = async (q, first) => {
      const { product, trace } = await covarianceTimes(context, shard, moments, q, l, first);
      if (first) totalVariance = trace;
      return product;
    };
  }

  let z = await apply(omega, true);
  for (let t = 0; t < options.powerIterations; t++) z = await apply(orthonormalize(z, d, l), false);
  const q = orthonormalize(z, d, l);
  z = await apply(q, false);
  // Rayleigh–Ritz: the l×l matrix B = QᵀCQ, symmetrised against rounding, then its eigenvectors lifted by Q.
  const b = new Float64Array(l * l);
  kern.gemm(true, false, l, l, d, 1, q, 0, l, z, 0, l, 0, b, 0, l);
  for (let i = 0; i < l; i++) {
    for (let j = 0; j < i; j++) {
      const mean = 0.5 * (b[i * l + j]! + b[j * l + i]!);
      b[i * l + j] = mean;
      b[j * l + i] = mean;
    }
  }
  const small = symmetricEigen(b, l);
  const c = options.components;
  const vectors = new Float64Array(c * d);
  kern.gemm(false, true, c, d, l, 1, small.vectors, 0, l, q, 0, l, 0, vectors, 0, d);
  return { values: small.values.slice(0, c), vectors, totalVariance };
}
