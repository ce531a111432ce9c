/**
 * The logistic loss and its gradient, summed over rows: binary (one score column, sigmoid) or
 * multinomial (K columns, softmax). Pure and synchronous; the trainer all-reduces what it returns.
 *
 * Each loss sits beside its derivative: for scores z and the true class, `residual` writes
 * ∂loss/∂z (p − onehot) over the scores in place and returns the loss, so the weight gradient is
 * Rᵀ·X and the intercept gradient is Σ R — one gemm (or gemv) each over a block of rows.
 *
 * @example
 * const loss = new LogisticLoss(d, 1);
 * gradient.fill(0);
 * const sum = loss.sumRange(data.x, 0, data.rows, codes, params, gradient); // Σ log-loss, Σ ∇
 */
import { kernels } from '../core/kernels.js';
import type { FloatArray } from '../core/storage.js';

/** Rows scored per gemm: 512×K scores plus 512×d rows stay in L2 between the two products. */
const BLOCK_ROWS = 512;

/** log(1 + eᵗ) without overflow. */
export function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

/** 1 / (1 + e⁻ᶻ) without overflow. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Binary: scores[at] := σ(z) − y, returns −log p(y | z) with y = `positive` ? 1 : 0. */
function binaryResidual(scores: Float64Array, at: number, positive: boolean): number {
  const z = scores[at]!;
  scores[at] = sigmoid(z) - (positive ? 1 : 0);
  return softplus(positive ? -z : z);
}

/** Softmax: scores[at..at+K) := softmax(z) − onehot(code), returns −log softmax(z)[code]. */
function softmaxResidual(scores: Float64Array, at: number, classes: number, code: number): number {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, scores[at + c]!);
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    const e = Math.exp(scores[at + c]! - max);
    scores[at + c] = e;
    sum += e;
  }
  const trueScore = scores[at + code]!;
  for (let c = 0; c < classes; c++) scores[at + c]! /= sum;
  scores[at + code]! -= 1;
  return Math.log(sum) - Math.log(trueScore);
}

/** Class probabilities (rows × K, row-major) from scores of one (binary) or K columns. */
export function probabilitiesFromScores(scores: Float64Array, rows: number, outputs: number): Float64Array {
  const classes = outputs === 1 ? 2 : outputs;
  const out = new Float64Array(rows * classes);
  for (let i = 0; i < rows; i++) {
    if (outputs === 1) {
      const p = sigmoid(scores[i]!);
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
      continue;
    }
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, scores[i * classes + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += out[i * classes + c] = Math.exp(scores[i * classes + c]! - max);
    for (let c = 0; c < classes; c++) out[i * classes + c]! /= sum;
  }
  return out;
}

/**
 * Sums of the logistic loss and its gradient for a model with `outputs` score columns (1: binary,
 * K ≥ 3: softmax) over `features` inputs. Parameters are laid out `[W (outputs×features), b]`.
 * `codes[i]` is row i's class index (0..K−1; binary: 1 is the positive class). Scratch buffers are
 * allocated once here, never per row or per call.
 */
export class LogisticLoss {
  private readonly scores: Float64Array;
  private readonly rowScores: Float64Array;

  constructor(readonly features: number, readonly outputs: number) {
    this.scores = new Float64Array(BLOCK_ROWS * outputs);
    this.rowScores = new Float64Array(outputs);
  }

  /** Rows [start, end) of row-major `x`: adds Σ∇ to `gradient`, returns Σ loss. */
  sumRange(x: FloatArray, start: number, end: number, codes: Int32Array, params: Float64Array, gradient: Float64Array): number {
    const d = this.features;
    const m = this.outputs;
    const k = kernels();
    const scores = this.scores;
    const bias = m * d;
    let loss = 0;
    for (let first = start; first < end; first += BLOCK_ROWS) {
      const count = Math.min(BLOCK_ROWS, end - first);
      if (m === 1) k.gemv(false, count, d, 1, x, first * d, d, params, 0, 0, scores, 0);
      else k.gemm(false, true, count, m, d, 1, x, first * d, d, params, 0, d, 0, scores, 0, m);
      for (let i = 0; i < count; i++) {
        const at = i * m;
        const code = codes[first + i]!;
        for (let c = 0; c < m; c++) scores[at + c]! += params[bias + c]!;
        loss += m === 1 ? binaryResidual(scores, at, code === 1) : softmaxResidual(scores, at, m, code);
        for (let c = 0; c < m; c++) gradient[bias + c]! += scores[at + c]!;
      }
      if (m === 1) k.gemv(true, count, d, 1, x, first * d, d, scores, 0, 1, gradient, 0);
      else k.gemm(true, false, m, d, count, 1, scores, 0, m, x, first * d, d, 1, gradient, 0, d);
    }
    return loss;
  }

  /** The listed rows (a mini-batch): adds Σ∇ to `gradient`, returns Σ loss. */
  sumRows(x: FloatArray, rows: Uint32Array, count: number, codes: Int32Array, params: Float64Array, gradient: Float64Array): number {
    const d = this.features;
    const m = this.outputs;
    const k = kernels();
    const scores = this.rowScores;
    const bias = m * d;
    let loss = 0;
    for (let r = 0; r < count; r++) {
      const row = rows[r]!;
      for (let c = 0; c < m; c++) scores[c] = k.dot(d, x, row * d, params, c * d) + params[bias + c]!;
      const code = codes[row]!;
      loss += m === 1 ? binaryResidual(scores, 0, code === 1) : softmaxResidual(scores, 0, m, code);
      for (let c = 0; c < m; c++) {
        k.axpy(d, scores[c]!, x, row * d, gradient, c * d);
        gradient[bias + c]! += scores[c]!;
      }
    }
    return loss;
  }
}

/** Adds l2·W to `gradient` (intercepts unpenalised) and returns (l2/2)·‖W‖². */
export function addL2(params: Float64Array, gradient: Float64Array, weightCount: number, l2: number): number {
  if (l2 === 0) return 0;
  let norm = 0;
  for (let j = 0; j < weightCount; j++) {
    const w = params[j]!;
    norm += w * w;
    gradient[j]! += l2 * w;
  }
  return 0.5 * l2 * norm;
}
