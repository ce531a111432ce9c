/**
 * Losses, each with its gradient, SUMMED over the batch rows (the SGD loop divides by the global
 * batch size, so ranks holding different numbers of a batch's rows add up correctly).
 *
 * - softmax cross-entropy on logits [batch, classes] with integer targets: Σ −log softmax(z)[y],
 *   ∂z = softmax(z) − onehot(y). Computed in float64 with the max subtracted (no overflow).
 * - mean squared error on outputs [batch, k] with targets [batch, k]: Σ_rows (1/k)·Σ_j (ŷ − t)²,
 *   ∂ŷ = (2/k)·(ŷ − t).
 * - Huber (smooth L1, δ = 1 by default; PyTorch's HuberLoss) on outputs [batch, k] with targets
 *   [batch, k]: Σ_rows (1/k)·Σ_j h(ŷ − t), h(d) = d²/2 for |d| ≤ δ, else δ·(|d| − δ/2);
 *   ∂ŷ = (1/k)·h'(d), h'(d) = d clipped to [−δ, δ]. Quadratic near 0, linear beyond δ, so one
 *   large error (a DQN target far off early in training) cannot blow up the gradient.
 *
 * @example
 * const { loss, gradient } = softmaxCrossEntropy(logits, codes);
 */
import type { FloatArray } from '../core/storage.js';
import type { Tensor } from './tensor.js';
import { dtypeArray } from './tensor.js';

export interface LossResult {
  /** Summed over rows. */
  loss: number;
  /** ∂(summed loss)/∂output, same shape and dtype as the output. */
  gradient: Tensor;
}

/** Row-wise softmax of `logits` (rows × classes) into `out` (may be a Float64Array of the same length). */
export function softmaxRows(logits: FloatArray, rows: number, classes: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const at = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[at + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[at + c]! - max);
      out[at + c] = e;
      sum += e;
    }
    for (let c = 0; c < classes; c++) out[at + c] = out[at + c]! / sum;
  }
}

export function softmaxCrossEntropy(logits: Tensor, targets: ArrayLike<number>): LossResult {
  const rows = logits.shape[0]!;
  const classes = logits.data.length / rows;
  const z = logits.data;
  const dz = dtypeArray(z instanceof Float32Array ? 'float32' : 'float64', z.length);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const at = r * classes;
    const target = targets[r]!;
    if (!(Number.isInteger(target) && target >= 0 && target < classes)) {
      throw new RangeError(`softmaxCrossEntropy: target of row ${r} must be a class index in 0..${classes - 1}, got ${target}`);
    }
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, z[at + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(z[at + c]! - max);
    const logSum = Math.log(sum) + max;
    loss += logSum - z[at + target]!;
    for (let c = 0; c < classes; c++) dz[at + c] = Math.exp(z[at + c]! - logSum) - (c === target ? 1 : 0);
  }
  return { loss, gradient: { shape: logits.shape, data: dz } };
}

export function meanSquaredError(output: Tensor, targets: ArrayLike<number>): LossResult {
  const rows = output.shape[0]!;
  const width = output.data.length / rows;
  if (targets.length !== output.data.length) {
    throw new RangeError(`meanSquaredError: expected ${output.data.length} targets (${rows} rows × ${width}), got ${targets.length}`);
  }
  const y = output.data;
  const dy = dtypeArray(y instanceof Float32Array ? 'float32' : 'float64', y.length);
  let loss = 0;
  for (let i = 0; i < y.length; i++) {
    const diff = y[i]! - targets[i]!;
    loss += (diff * diff) / width;
    dy[i] = (2 * diff) / width;
  }
  return { loss, gradient: { shape: output.shape, data: dy } };
}

/** Huber's h(d): d²/2 for |d| ≤ δ, else δ·(|d| − δ/2). */
export function huber(d: number, delta = 1): number {
  const a = Math.abs(d);
  return a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
}

/** h'(d): d clipped to [−δ, δ]. */
export function huberDerivative(d: number, delta = 1): number {
  return d > delta ? delta : d < -delta ? -delta : d;
}

export function huberLoss(output: Tensor, targets: ArrayLike<number>, delta = 1): LossResult {
  const rows = output.shape[0]!;
  const width = output.data.length / rows;
  if (targets.length !== output.data.length) {
    throw new RangeError(`huberLoss: expected ${output.data.length} targets (${rows} rows × ${width}), got ${targets.length}`);
  }
  if (!(delta > 0)) throw new RangeError(`huberLoss: delta must be positive, got ${delta}`);
  const y = output.data;
  const dy = dtypeArray(y instanceof Float32Array ? 'float32' : 'float64', y.length);
  let loss = 0;
  for (let i = 0; i < y.length; i++) {
    const diff = y[i]! - targets[i]!;
    loss += huber(diff, delta) / width;
    dy[i] = huberDerivative(diff, delta) / width;
  }
  return { loss, gradient: { shape: output.shape, data: dy } };
}
