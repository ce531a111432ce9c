/**
 * `powersgd:<rank>`: PowerSGD (Vogels et al. 2019), rank-r compression by one step of subspace
 * iteration, warm-started from the previous step's Q, with error feedback.
 *
 * Shape: the flat vector of n values is read row-major as a near-square matrix M of
 * rows = ⌈n/cols⌉ × cols = ⌈√n⌉ (zero-padded), so the caller needs no layer shapes; the factors are
 * then (rows + cols)·r values instead of n — 2r/√n of the bytes. Per-layer matrices would capture
 * each layer's structure better; the flat reshape is what a strategy that sees only flat vectors can do.
 *
 * One step (the paper's Algorithm 1; all-reduces in the distributed form, see AllReduceStrategy):
 *   p = g + residual;  P = M(p)·Q;  [all-reduce P];  P ← orthonormal(P);  Q = M(p)ᵀ·P;
 *   residual = p − P·Qᵀ;  [all-reduce Q];  decoded = P·Qᵀ;  the next step starts from this Q.
 * On a matrix of rank ≤ r, span(M·Q) is M's column space for a generic Q, so P·Pᵀ·M = M: exact.
 *
 * As a standalone codec a message is P (orthonormalised) and Q as float32: 4(rows + cols)·r bytes.
 * Bound (fresh state): the projection cannot grow the vector, |error| ≤ ‖g‖₂ (plus float32 rounding).
 */
import type { Codec, CodecState } from './codec.js';
import { checkBytes, checkLength, encodeWithFeedback, feedbackState, parseCount } from './codec.js';

export interface PowerShape {
  rows: number;
  cols: number;
  rank: number;
}

/** The matrix a vector of `length` values is read as, and the rank actually used (at most min(rows, cols)). */
export function powerShape(length: number, rank: number): PowerShape {
  const cols = Math.max(1, Math.ceil(Math.sqrt(length)));
  const rows = Math.max(1, Math.ceil(length / cols));
  return { rows, cols, rank: Math.min(rank, rows, cols) };
}

/** The warm start Q (cols × rank), drawn from the stream shared by all ranks on the first step. */
export function warmStart(state: CodecState, shape: PowerShape): Float64Array {
  if (state.q === null || state.q.length !== shape.cols * shape.rank) {
    const q = new Float64Array(shape.cols * shape.rank);
    for (let i = 0; i < q.length; i++) q[i] = state.sharedRng.normal();
    state.q = q;
  }
  return state.q;
}

/** P = M·Q: rows × rank, row-major. */
export function project(p: Float64Array, shape: PowerShape, q: Float64Array): Float64Array {
  const { rows, cols, rank } = shape;
  const out = new Float64Array(rows * rank);
  for (let i = 0; i < rows; i++) {
    const end = Math.min(cols, p.length - i * cols);
    for (let j = 0; j < end; j++) {
      const m = p[i * cols + j]!;
      if (m === 0) continue;
      for (let c = 0; c < rank; c++) out[i * rank + c]! += m * q[j * rank + c]!;
    }
  }
  return out;
}

/** Q = Mᵀ·P: cols × rank, row-major. */
export function backProject(p: Float64Array, shape: PowerShape, basis: Float64Array): Float64Array {
  const { rows, cols, rank } = shape;
  const out = new Float64Array(cols * rank);
  for (let i = 0; i < rows; i++) {
    const end = Math.min(cols, p.length - i * cols);
    for (let j = 0; j < end; j++) {
      const m = p[i * cols + j]!;
      if (m === 0) continue;
      for (let c = 0; c < rank; c++) out[j * rank + c]! += m * basis[i * rank + c]!;
    }
  }
  return out;
}

/**
 * Orthonormalise the columns of P (rows × rank) in place, modified Gram–Schmidt twice for float
 * stability. A column that falls to (numerically) zero — M of lower rank than r — is set to zero and
 * contributes nothing.
 */
export function orthonormalize(basis: Float64Array, rows: number, rank: number): void {
  for (let c = 0; c < rank; c++) {
    let original = 0;
    for (let i = 0; i < rows; i++) original += basis[i * rank + c]! ** 2;
    for (let pass = 0; pass < 2; pass++) {
      for (let d = 0; d < c; d++) {
        let dot = 0;
        for (let i = 0; i < rows; i++) dot += basis[i * rank + c]! * basis[i * rank + d]!;
        for (let i = 0; i < rows; i++) basis[i * rank + c]! -= dot * basis[i * rank + d]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += basis[i * rank + c]! ** 2;
    norm = Math.sqrt(norm);
    const degenerate = !(norm > 1e-10 * Math.sqrt(original)) || norm === 0;
    for (let i = 0; i < rows; i++) basis[i * rank + c] = degenerate ? 0 : basis[i * rank + c]! / norm;
  }
}

/** The first `length` values of P·Qᵀ, row-major. */
export function reconstruct(basis: ArrayLike<number>, q: ArrayLike<number>, shape: PowerShape, length: number): Float64Array {
  const { cols, rank } = shape;
  const out = new Float64Array(length);
  for (let index = 0; index < length; index++) {
    const i = Math.floor(index / cols);
    const j = index - i * cols;
    let sum = 0;
    for (let c = 0; c < rank; c++) sum += basis[i * rank + c]! * q[j * rank + c]!;
    out[index] = sum;
  }
  return out;
}

export function powersgdCodec(spec: string, args: readonly string[]): Codec {
  const requested = parseCount(spec, args[0], 'rank', 'powersgd:4');
  const bytesFor = (length: number): number => {
    const shape = powerShape(length, requested);
    return 4 * (shape.rows + shape.cols) * shape.rank;
  };
  const decode = (bytes: Uint8Array, length: number): Float64Array => {
    checkBytes(spec, bytes, bytesFor(length), length);
    const shape = powerShape(length, requested);
    const floats = new Float32Array(bytes.slice().buffer);
    return reconstruct(floats.subarray(0, shape.rows * shape.rank), floats.subarray(shape.rows * shape.rank), shape, length);
  };
  return {
    spec,
    layout: 'low-rank',
    rank: requested,
    unbiased: false,
    errorFeedback: true,
    createState: feedbackState,
    encodedBytes: bytesFor,
    encode(gradient, state) {
      checkLength(gradient.length, state);
      const shape = powerShape(gradient.length, requested);
      return encodeWithFeedback(
        gradient,
        state,
        (p) => {
          const basis = project(p, shape, warmStart(state, shape));
          orthonormalize(basis, shape.rows, shape.rank);
          const q = backProject(p, shape, basis);
          const floats = new Float32Array((shape.rows + shape.cols) * shape.rank);
          floats.set(basis);
          floats.set(q, basis.length);
          state.q = Float64Array.from(floats.subarray(basis.length));
          return new Uint8Array(floats.buffer);
        },
        decode,
      );
    },
    decode,
    errorBound(input) {
      let sumSquares = 0;
      for (let i = 0; i < input.length; i++) sumSquares += input[i]! ** 2;
      return Math.sqrt(sumSquares) * (1 + 1e-5);
    },
  };
}
