/**
 * Small dense linear algebra on d×d matrices (d = number of features): Cholesky solves,
 * symmetric eigendecomposition, SVD and QR. These are O(d³) on tiny matrices next to the O(n·d²)
 * passes over the data, so a maintained library (ml-matrix) does them rather than hand-written code —
 * but for the symmetric eigendecomposition, whose WASM port of ml-matrix's code (same bits) the
 * kernels run: it is the serial step of a parallel PCA fit (see symmetricEigen).
 * Inputs and outputs are row-major Float64Arrays so callers never see the library's types.
 */
import { CholeskyDecomposition, Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { ShardlearnError } from './errors.js';
import { kernels } from './kernels.js';

function toMatrix(values: Float64Array, rows: number, cols: number): Matrix {
  if (values.length !== rows * cols) throw new RangeError(`expected ${rows}×${cols} = ${rows * cols} values, got ${values.length}`);
  const matrix = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) matrix.set(i, j, values[i * cols + j]!);
  return matrix;
}

function fromMatrix(matrix: Matrix): Float64Array {
  const out = new Float64Array(matrix.rows * matrix.columns);
  for (let i = 0; i < matrix.rows; i++) for (let j = 0; j < matrix.columns; j++) out[i * matrix.columns + j] = matrix.get(i, j);
  return out;
}

/**
 * Solve A·X = B for symmetric positive-definite A (n×n) and B (n×m), by Cholesky.
 * Throws a NUMERIC error naming what to do when A is not positive definite (e.g. collinear features).
 */
export function choleskySolve(a: Float64Array, n: number, b: Float64Array, m = 1): Float64Array {
  const decomposition = new CholeskyDecomposition(toMatrix(a, n, n));
  if (!decomposition.isPositiveDefinite()) {
    throw new ShardlearnError(
      'NUMERIC',
      'the normal-equation matrix XᵀX is not positive definite (collinear or constant features?); add ridge regularisation (l2 > 0) or remove the redundant features',
    );
  }
  return fromMatrix(decomposition.solve(toMatrix(b, n, m)));
}

export interface SymmetricEigen {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /** Eigenvectors as rows, in the order of `values` (row i belongs to values[i]). */
  vectors: Float64Array;
}

/**
 * Eigendecomposition of a symmetric n×n matrix, eigenvalues descending, vectors as rows. Through the
 * active kernel backend (Kernels.symmetricEigen: ml-matrix's algorithm, ported to WASM to the bit),
 * because PCA solves it on every rank after the all-reduce, a serial step of every parallel fit.
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new RangeError(`expected ${n}×${n} = ${n * n} values, got ${a.length}`);
  if (n === 0) throw new RangeError('symmetricEigen: the matrix must be non-empty');
  const raw = new Float64Array(n);
  const rawVectors = new Float64Array(n * n);
  kernels().symmetricEigen(n, a, raw, rawVectors);
  // Descending; ties keep the ascending order (Array.prototype.sort is stable).
  const order = Array.from(raw, (_, i) => i).sort((i, j) => raw[j]! - raw[i]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((source, target) => {
    values[target] = raw[source]!;
    vectors.set(rawVectors.subarray(source * n, source * n + n), target * n);
  });
  return { values, vectors };
}

export interface ThinSvd {
  u: Float64Array; // rows×r
  s: Float64Array; // r, descending
  v: Float64Array; // cols×r
  rank: number;
}

/** Thin SVD of a rows×cols matrix. */
export function svd(a: Float64Array, rows: number, cols: number): ThinSvd {
  const decomposition = new SingularValueDecomposition(toMatrix(a, rows, cols), { autoTranspose: true });
  return {
    u: fromMatrix(decomposition.leftSingularVectors),
    s: Float64Array.from(decomposition.diagonal),
    v: fromMatrix(decomposition.rightSingularVectors),
    rank: decomposition.diagonal.length,
  };
}

/** Orthonormal basis Q (rows×cols) of the columns of a rows×cols matrix (rows ≥ cols). */
export function orthonormalize(a: Float64Array, rows: number, cols: number): Float64Array {
  const q = new QrDecomposition(toMatrix(a, rows, cols)).orthogonalMatrix;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = q.get(i, j);
  return out;
}
