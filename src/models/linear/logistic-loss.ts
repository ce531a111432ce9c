/**
 * The logistic loss and its gradient, summed over rows: binary (one score column, sigmoid) or
 * multinomial (K columns, softmax). Pure and synchronous; the trainer all-reduces what it returns.
 *
 * Each loss sits beside its derivative: for scores z and the true class, the residual functions
 * write ∂loss/∂z (p − onehot) over the scores in place and return the loss; `LinearBatch` turns
 * that into Σ loss and Σ∇ with blocked gemv/gemm.
 *
 * @example
 * const loss = new LogisticLoss(d, 1);
 * gradient.fill(0);
 * const sum = loss.sumRange(data.x, 0, data.rows, codes, params, gradient); // Σ log-loss, Σ ∇
 */
import type { FloatArray } from '../../core/storage.js';
import { LinearBatch } from './batch.js';
import type { RowLoss } from './batch.js';

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

/**
 * Binary: scores[at] := σ(z) − y, returns −log p(y | z) with y = `positive` ? 1 : 0. The values of
 * `sigmoid(z)` and `softplus(±z)` to the bit, from the one exponential they share, e^(−|z|): it runs
 * on every row of every L-BFGS evaluation, and a second exp was ~10 % of a 1M-row fit (--cpu-prof).
 */
function binaryResidual(scores: Float64Array, at: number, positive: boolean): number {
  const z = scores[at]!;
  const e = Math.exp(-Math.abs(z));
  scores[at] = (z >= 0 ? 1 / (1 + e) : e / (1 + e)) - (positive ? 1 : 0);
  const t = positive ? -z : z;
  return t > 0 ? t + Math.log1p(e) : Math.log1p(e);
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
 * K ≥ 3: softmax) over `features` inputs, through `LinearBatch` (blocked gemv/gemm). Parameters
 * are laid out `[W (outputs×features), b]`; `codes[i]` is row i's class index (0..K−1; binary: 1
 * is the positive class). Scratch is allocated once here, never per row or per call.
 */
export class LogisticLoss implements RowLoss {
  private readonly batch: LinearBatch;
  private codes: Int32Array = new Int32Array(0);
  /** `sumRangeBinary`: the rows' labels and the positive class's value, read instead of codes. */
  private labels: Float64Array = new Float64Array(0);
  private positive = 1;
  private byLabel = false;

  constructor(
    readonly features: number,
    readonly outputs: number,
  ) {
    this.batch = new LinearBatch(features, outputs);
  }

  /** RowLoss: the log-loss of row `row`'s scores, replaced by p − onehot. */
  residual(scores: Float64Array, at: number, row: number): number {
    if (this.outputs !== 1) return softmaxResidual(scores, at, this.outputs, this.codes[row]!);
    return binaryResidual(scores, at, this.byLabel ? this.labels[row] === this.positive : this.codes[row] === 1);
  }

  /** Rows [start, end) of row-major `x`: adds Σ∇ to `gradient`, returns Σ loss. */
  sumRange(x: FloatArray, start: number, end: number, codes: Int32Array, params: Float64Array, gradient: Float64Array): number {
    this.codes = codes;
    this.byLabel = false;
    return this.batch.sumRange(x, start, end, params, gradient, this);
  }

  /**
   * Binary only: `sumRange` with the rows' positive class told by their label (`labels[row] ===
   * positive`, classes[1]) rather than by codes, the same sums to the bit. A threads rank's L-BFGS
   * passes read every rank's rows, and encoding all labels into a fresh 4 MB array per fit and rank
   * was ~24 ms of a 0.63 s fit (--cpu-prof, 1M rows).
   */
  sumRangeBinary(
    x: FloatArray,
    start: number,
    end: number,
    labels: Float64Array,
    positive: number,
    params: Float64Array,
    gradient: Float64Array,
  ): number {
    this.labels = labels;
    this.positive = positive;
    this.byLabel = true;
    return this.batch.sumRange(x, start, end, params, gradient, this);
  }

  /** The listed rows (a mini-batch): adds Σ∇ to `gradient`, returns Σ loss. */
  sumRows(x: FloatArray, rows: Uint32Array, count: number, codes: Int32Array, params: Float64Array, gradient: Float64Array): number {
    this.codes = codes;
    this.byLabel = false;
    return this.batch.sumRows(x, rows, count, params, gradient, this);
  }

  /** Free the kernel-memory copy of the data the sums placed there (LinearBatch.release). */
  release(): void {
    this.batch.release();
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
