/**
 * Moments about the mean in one pass over the rows (exact OLS, PCA's covariance): the pass sums the
 * moments of the rows shifted by s, and Σ(x − s), and the mean is taken out afterwards:
 * (X−μ)ᵀ(X−μ) = (X−s)ᵀ(X−s) − n·m·mᵀ with m = μ − s.
 *
 * Forming XᵀX − n·μμᵀ (s = 0) loses log10(‖μ‖²/σ²) digits to cancellation: all of them for data far
 * from the origin. With s the mean of b rows of the data, at most log10(n / b): those b rows alone
 * contribute b·m_j² to (X−μ)ᵀ(X−μ)_jj (their mean is s), so the subtracted n·m_j² is at most
 * n / b times the result, whatever the data. Two passes (the means first, then the centred rows)
 * read X twice; the first, memory-bound, was a tenth of an OLS 1M×50 fit and scaled ~1.3× on two threads.
 */
import { kernels } from '../core/kernels.js';
import type { Dataset } from '../data/dataset.js';
import type { RowPassContext } from './row-sums.js';
import { addInto } from './row-sums.js';

/** Rows per rank whose mean is the shift. */
export const SHIFT_ROWS = 1024;

/**
 * The shift: the mean of the first SHIFT_ROWS rows of every rank's shard, and the label's mean after
 * the d features when `withLabels`; zeros when there are no rows. Elsewhere one all-reduce of d + 2
 * numbers; where a rank can read every rank's rows (threads: `context.shared` with its shards'
 * bounds), each rank adds up every rank's part itself, in rank order as the all-reduce adds them (the
 * same bits), with no communication: that all-reduce was a barrier at the start of the fit that left
 * the first rank asleep until the last arrived (1–5 ms of a ~110 ms threads×2 least-squares fit).
 */
export async function shiftOf(shard: Dataset, context: RowPassContext, withLabels: boolean): Promise<Float64Array> {
  const { comm, shared } = context;
  const starts = shared?.shardStarts;
  let sums: Float64Array;
  if (comm.size > 1 && shared !== undefined && starts !== undefined) {
    sums = firstRowSums(shared.data, starts[0]!, starts[1]!, withLabels);
    for (let r = 1; r < comm.size; r++) addInto(sums, firstRowSums(shared.data, starts[r]!, starts[r + 1]!, withLabels), sums.length);
  } else {
    sums = firstRowSums(shard, 0, shard.rows, withLabels);
    if (comm.size > 1) await comm.allReduce(sums, 'sum');
  }
  const d = shard.cols;
  const taken = sums[d + 1]!;
  const shift = new Float64Array(withLabels ? d + 1 : d);
  if (taken > 0) for (let j = 0; j < shift.length; j++) shift[j] = sums[j]! / taken;
  return shift;
}

/** [Σ x, Σ y (when `withLabels`), count] over the first SHIFT_ROWS of rows [start, end) of `data`. */
function firstRowSums(data: Dataset, start: number, end: number, withLabels: boolean): Float64Array {
  const d = data.cols;
  const rows = Math.min(SHIFT_ROWS, end - start);
  const sums = new Float64Array(d + 2);
  // The column sums as one transposed gemv (WASM when X is in its memory), not a JavaScript loop
  // that each fit would run in the baseline tiers (~1 ms for 1,024×50).
  if (rows > 0) kernels().gemv(true, rows, d, 1, data.x, start * d, d, new Float64Array(rows).fill(1), 0, 0, sums, 0);
  if (withLabels) sums[d] = sumOf(data.labels(), start, rows);
  sums[d + 1] = rows;
  return sums;
}

/** Σ values[start … start + count). */
function sumOf(values: Float64Array, start: number, count: number): number {
  let sum = 0;
  for (let i = start; i < start + count; i++) sum += values[i]!;
  return sum;
}

/**
 * gram (d×d, row-major, about the shift) −= n·m·mᵀ: about the mean. Each term is computed once and
 * mirrored, so a symmetric gram stays exactly symmetric (the Cholesky and eigen solvers check).
 */
export function centreGram(gram: Float64Array, d: number, n: number, m: Float64Array): void {
  for (let i = 0; i < d; i++) {
    const scaled = n * m[i]!;
    for (let j = 0; j <= i; j++) {
      const centred = gram[i * d + j]! - scaled * m[j]!;
      gram[i * d + j] = centred;
      gram[j * d + i] = centred;
    }
  }
}
