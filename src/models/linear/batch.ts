/**
 * Loss and gradient sums of a linear model over rows, for any per-row loss of the scores: the
 * scores S = X·Wᵀ + b of a block of rows come from one gemv (one output) or gemm (several), the
 * model's loss (`RowLoss.residual`) turns each row's scores into ∂loss/∂score in place, and the gradient is
 * Rᵀ·X (one more gemv/gemm) plus Σ R for the intercepts. Parameters are `[W (outputs×features), b]`.
 *
 * Mini-batch rows are scattered through the shard, so `sumRows` first gathers them into a
 * contiguous block, and full-batch and mini-batch gradients share one code path. Measured
 * (1,000,000×50 float64, one pass, CPU time on a loaded 2-core machine): with one output, gathering
 * plus two gemv per batch of 64 costs the same as per-row dot + axpy (0.87–0.93 s vs 0.71–0.95 s);
 * with 5 softmax outputs (a full pass, wall time, two runs) the gemm path took 0.55–1.03 s against
 * 1.09–1.68 s for 5 dot + 5 axpy per row; and a WASM gemm backend gets whole blocks, not 50-element calls.
 *
 * @example
 * const batch = new LinearBatch(d, 1);
 * class Squared implements RowLoss {
 *   constructor(private readonly y: Float64Array) {}
 *   residual(scores: Float64Array, at: number, row: number): number { const e = scores[at]! - this.y[row]!; scores[at] = e; return 0.5 * e * e; }
 * }
 * const lossSum = batch.sumRange(data.x, 0, data.rows, params, gradient, new Squared(y)); // gradient += Σ∇
 */
import { kernels } from '../../core/kernels.js';
import type { FloatArray } from '../../core/storage.js';

/**
 * A model's per-row loss. `residual` replaces `scores[at…at+outputs)` (row `row`'s scores,
 * intercepts included) by the derivative of that row's loss with respect to them, and returns the
 * row's loss. `row` indexes the shard.
 *
 * A method of a class, not a closure: every fit builds its loss anew, and a closure made per fit
 * is a new call target for the batch loop below, whose optimised code V8 then threw away on a
 * process's second fit ('wrong call target', --trace-deopt; logistic SGD on 16k rows took 0.034,
 * 0.021, 0.014 s on its first three fits). A class's instances share one `residual` function.
 */
export interface RowLoss {
  residual(scores: Float64Array, at: number, row: number): number;
}

/** Rows per block: 512 rows of scores and features stay in L2 between the two products. */
const BLOCK_ROWS = 512;

export class LinearBatch {
  private readonly scores: Float64Array;
  private readonly gathered: Float64Array;
  private readonly gatheredRows: Uint32Array;
  /** `x` as the caller passed it and where the kernels read it (see `place`). */
  private placedFrom: FloatArray | null = null;
  private placed: { readonly array: FloatArray; release(): void } | null = null;

  constructor(
    readonly features: number,
    readonly outputs: number,
  ) {
    this.scores = new Float64Array(BLOCK_ROWS * outputs);
    this.gathered = new Float64Array(BLOCK_ROWS * features);
    this.gatheredRows = new Uint32Array(BLOCK_ROWS);
  }

  /**
   * The data where the kernels read it without a copy: the first call with a given `x` places it
   * (one copy into WASM memory, none when it is there already), later calls reuse it. An L-BFGS
   * fit reads X a hundred times and SGD reads scattered rows, which the WASM kernels can only
   * reach in their memory (else gemv ran on the TS reference: 35 % of a 1M×50 L-BFGS fit).
   * The copy lives until `release()`.
   */
  private place(x: FloatArray): FloatArray {
    if (this.placedFrom === x) return this.placed!.array;
    this.placed?.release();
    this.placed = kernels().resident(x);
    this.placedFrom = x;
    return this.placed.array;
  }

  /** Free the kernel-memory copy of the data; the batch may be used again after (it places anew). */
  release(): void {
    this.placed?.release();
    this.placed = null;
    this.placedFrom = null;
  }

  /** Rows [start, end) of row-major `x`: adds Σ∇ to `gradient`, returns Σ loss. */
  sumRange(data: FloatArray, start: number, end: number, params: Float64Array, gradient: Float64Array, rowLoss: RowLoss): number {
    const x = this.place(data);
    let loss = 0;
    for (let first = start; first < end; first += BLOCK_ROWS) {
      const count = Math.min(BLOCK_ROWS, end - first);
      loss += this.sumBlock(x, first * this.features, count, first, null, params, gradient, rowLoss);
    }
    return loss;
  }

  /** The listed rows `rows[0…count)`: adds Σ∇ to `gradient`, returns Σ loss. */
  sumRows(data: FloatArray, rows: Uint32Array, count: number, params: Float64Array, gradient: Float64Array, rowLoss: RowLoss): number {
    const x = this.place(data);
    if (this.outputs === 1) return this.sumRowsInPlace(x, rows, count, params, gradient, rowLoss);
    const d = this.features;
    const block = this.gathered;
    const ids = this.gatheredRows;
    let loss = 0;
    for (let first = 0; first < count; first += BLOCK_ROWS) {
      const size = Math.min(BLOCK_ROWS, count - first);
      for (let i = 0; i < size; i++) {
        const row = rows[first + i]!;
        ids[i] = row;
        const source = row * d;
        const target = i * d;
        for (let j = 0; j < d; j++) block[target + j] = x[source + j]!;
      }
      loss += this.sumBlock(block, 0, size, 0, ids, params, gradient, rowLoss);
    }
    return loss;
  }

  /** One output: the listed rows' scores and gradient read from X in place (gatherDot, gatherAxpy), no gathered copy. */
  private sumRowsInPlace(
    x: FloatArray,
    rows: Uint32Array,
    count: number,
    params: Float64Array,
    gradient: Float64Array,
    rowLoss: RowLoss,
  ): number {
    const d = this.features;
    const k = kernels();
    const scores = this.scores;
    const bias = params[d]!;
    let loss = 0;
    for (let first = 0; first < count; first += BLOCK_ROWS) {
      const size = Math.min(BLOCK_ROWS, count - first);
      const ids = first === 0 ? rows : rows.subarray(first, first + size);
      k.gatherDot(size, ids, d, x, params, 0, scores);
      for (let i = 0; i < size; i++) {
        scores[i]! += bias;
        loss += rowLoss.residual(scores, i, ids[i]!);
        gradient[d]! += scores[i]!;
      }
      k.gatherAxpy(size, ids, d, x, scores, gradient, 0);
    }
    return loss;
  }

  /**
   * `count` (≤ BLOCK_ROWS) consecutive rows of `x` from element `offset`. Their shard rows are
   * `ids[0…count)` (gathered rows) or, without `ids`, `firstRow`, `firstRow + 1`, … (a range: no
   * index array to write for every row of every L-BFGS evaluation).
   */
  private sumBlock(
    x: FloatArray,
    offset: number,
    count: number,
    firstRow: number,
    ids: Uint32Array | null,
    params: Float64Array,
    gradient: Float64Array,
    rowLoss: RowLoss,
  ): number {
    const d = this.features;
    const m = this.outputs;
    const k = kernels();
    const scores = this.scores;
    const bias = m * d;
    let loss = 0;
    if (m === 1) k.gemv(false, count, d, 1, x, offset, d, params, 0, 0, scores, 0);
    else k.gemm(false, true, count, m, d, 1, x, offset, d, params, 0, d, 0, scores, 0, m);
    for (let i = 0; i < count; i++) {
      const at = i * m;
      for (let c = 0; c < m; c++) scores[at + c]! += params[bias + c]!;
      loss += rowLoss.residual(scores, at, ids === null ? firstRow + i : ids[i]!);
      for (let c = 0; c < m; c++) gradient[bias + c]! += scores[at + c]!;
    }
    if (m === 1) k.gemv(true, count, d, 1, x, offset, d, scores, 0, 1, gradient, 0);
    else k.gemm(true, false, m, d, count, 1, scores, 0, m, x, offset, d, 1, gradient, 0, d);
    return loss;
  }
}
