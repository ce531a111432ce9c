/**
 * The statistics PCA needs, in summation form: the column mean, the total variance and the
 * covariance — or its product with a thin matrix — each a local pass over this rank's rows plus one
 * all-reduce. Rows are centred block by block into a small scratch buffer before the kernels see
 * them: forming XᵀX − n·μμᵀ instead loses about log10(‖μ‖²/σ²) digits to cancellation (data with
 * mean 1e4 and spread 1 would keep ~8), while the extra pass for the mean costs O(n·d), small next
 * to the O(n·d²) Gram matrix.
 */
import type { Communicator } from '../../comm/communicator.js';
import { DataError } from '../../core/errors.js';
import { kernels } from '../../core/kernels.js';
import type { Dataset } from '../../data/dataset.js';

/** Rows centred per kernel call: 512 rows × 100 float64 features = 400 KB of scratch. */
const CENTRED_BLOCK_ROWS = 512;

export interface ColumnMoments {
  /** Rows over all ranks. */
  samples: number;
  mean: Float64Array;
}

/** n and the column mean over all ranks: one all-reduce of [Σx | n]. */
export async function columnMean(comm: Communicator, shard: Dataset): Promise<ColumnMoments> {
  const d = shard.cols;
  const totals = new Float64Array(d + 1);
  // Σ rows as 1ᵀX, block by block: the transposed gemv adds row after row, as a loop over the rows
  // would (the same sums, bit for bit), in WASM when X lives in its memory (7.7 % of a PCA fit in JS).
  const kern = kernels();
  const ones = new Float64Array(Math.min(CENTRED_BLOCK_ROWS, shard.rows)).fill(1);
  for (let start = 0; start < shard.rows; start += CENTRED_BLOCK_ROWS) {
    const count = Math.min(CENTRED_BLOCK_ROWS, shard.rows - start);
    kern.gemv(true, count, d, 1, shard.x, start * d, d, ones, 0, 1, totals, 0);
  }
  totals[d] = shard.rows;
  if (comm.size > 1) await comm.allReduce(totals, 'sum');
  const samples = totals[d]!;
  if (samples < 2) {
    throw new DataError('DATA_MISSING', { file: shard.source }, `PCA needs at least 2 rows to estimate a covariance, found ${samples}`);
  }
  const mean = totals.subarray(0, d).map((value) => value / samples);
  return { samples, mean };
}

/**
 * Calls `visit(block, rows)` with this rank's rows centred by `mean`, `rows` at a time (block is rows × d).
 * The block lives where the kernels read it in place (Kernels.resident), and the kernels centre it
 * (subtractRow): centring in a JavaScript loop into a heap block that syrk then copied into WASM
 * memory was a third of a PCA fit's covariance pass (--cpu-prof, 200,000×100).
 */
export function forEachCentredBlock(shard: Dataset, mean: Float64Array, visit: (block: Float64Array, rows: number) => void): void {
  const d = shard.cols;
  const kern = kernels();
  const placed = kern.resident(new Float64Array(Math.min(CENTRED_BLOCK_ROWS, shard.rows) * d));
  try {
    const block = placed.array;
    for (let start = 0; start < shard.rows; start += CENTRED_BLOCK_ROWS) {
      const rows = Math.min(CENTRED_BLOCK_ROWS, shard.rows - start);
      kern.subtractRow(rows, d, shard.x, start * d, mean, block, 0);
      visit(block, rows);
    }
  } finally {
    placed.release();
  }
}

/** The sample covariance (d × d, divided by n − 1) over all ranks: Σ (x−μ)ᵀ(x−μ) by syrk, one all-reduce. */
export async function covariance(comm: Communicator, shard: Dataset, moments: ColumnMoments): Promise<Float64Array> {
  const d = shard.cols;
  const kern = kernels();
  const gram = new Float64Array(d * d);
  forEachCentredBlock(shard, moments.mean, (block, rows) => kern.syrk(rows, d, block, 0, d, gram, 0));
  if (comm.size > 1) await comm.allReduce(gram, 'sum');
  kern.scal(d * d, 1 / (moments.samples - 1), gram, 0);
  return gram;
}

/**
 * Z = C·Q for the covariance C, without forming C: Σ over ranks and blocks of Rᵀ(R·Q) with R the
 * centred rows, then / (n − 1). Q is d × l; Z is d × l. Plus, when `withTrace`, trace(C) (the total
 * variance) from the same pass. Two gemms per block, one all-reduce of d·l (+1) numbers.
 */
export async function covarianceTimes(
  comm: Communicator,
  shard: Dataset,
  moments: ColumnMoments,
  q: Float64Array,
  l: number,
  withTrace: boolean,
): Promise<{ product: Float64Array; trace: number }> {
  const d = shard.cols;
  const kern = kernels();
  const result = new Float64Array(d * l + 1); // Z | Σ‖x − μ‖²
  const projected = new Float64Array(CENTRED_BLOCK_ROWS * l);
  let squares = 0;
  forEachCentredBlock(shard, moments.mean, (block, rows) => {
    kern.gemm(false, false, rows, l, d, 1, block, 0, d, q, 0, l, 0, projected, 0, l);
    kern.gemm(true, false, d, l, rows, 1, block, 0, d, projected, 0, l, 1, result, 0, l);
    if (withTrace) squares += kern.dot(rows * d, block, 0, block, 0);
  });
  result[d * l] = squares;
  if (comm.size > 1) await comm.allReduce(result, 'sum');
  const scale = 1 / (moments.samples - 1);
  kern.scal(d * l + 1, scale, result, 0);
  return { product: result.subarray(0, d * l), trace: result[d * l]! };
}
