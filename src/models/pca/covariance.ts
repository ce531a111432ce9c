/**
 * The statistics PCA needs, in summation form: the column mean, the total variance and the
 * covariance — or its product with a thin matrix — each a local pass over this rank's rows plus one
 * all-reduce. Rows are shifted or centred block by block into a small scratch buffer before the
 * kernels see them: forming XᵀX − n·μμᵀ instead loses about log10(‖μ‖²/σ²) digits to cancellation
 * (data with mean 1e4 and spread 1 would keep ~8). The covariance takes one pass (moments about a
 * shift near the mean, centred afterwards: shifted-moments.ts); products with it without forming it
 * take the mean's pass first, then one per product.
 */
import { DataError } from '../../core/errors.js';
import { kernels } from '../../core/kernels.js';
import type { Dataset } from '../../data/dataset.js';
import type { RowPassContext } from '../row-sums.js';
import { sumOverRows } from '../row-sums.js';
import { centreGram, shiftOf } from '../shifted-moments.js';

/** Rows centred per kernel call: 512 rows × 100 float64 features = 400 KB of scratch. */
const CENTRED_BLOCK_ROWS = 512;

export interface ColumnMoments {
  /** Rows over all ranks. */
  samples: number;
  mean: Float64Array;
}

/** n and the column mean over all ranks: one row pass of [Σx | n]. */
export async function columnMean(context: RowPassContext, shard: Dataset): Promise<ColumnMoments> {
  const d = shard.cols;
  // Σ rows as 1ᵀX, block by block: the transposed gemv adds row after row, as a loop over the rows
  // would (the same sums, bit for bit), in WASM when X lives in its memory (7.7 % of a PCA fit in JS).
  const kern = kernels();
  const ones = new Float64Array(CENTRED_BLOCK_ROWS).fill(1);
  const totals = await sumOverRows(context, shard, d + 1, (data, first, count, out) => {
    for (let start = first; start < first + count; start += CENTRED_BLOCK_ROWS) {
      kern.gemv(true, Math.min(CENTRED_BLOCK_ROWS, first + count - start), d, 1, data.x, start * d, d, ones, 0, 1, out, 0);
    }
    out[d]! += count;
  });
  const samples = totals[d]!;
  checkSamples(samples, shard);
  const mean = totals.subarray(0, d).map((value) => value / samples);
  return { samples, mean };
}

/**
 * Calls `visit(block, rows)` with rows `first` … `first + count − 1` of `data` minus `centre` (the mean or a shift),
 * `rows` at a time (block is rows × d). The block lives where the kernels read it in place
 * (Kernels.resident), and the kernels centre it (subtractRow): centring in a JavaScript loop into a
 * heap block that syrk then copied into WASM memory was a third of a PCA fit's covariance pass
 * (--cpu-prof, 200,000×100).
 */
function forEachCentredBlock(
  data: Dataset,
  first: number,
  count: number,
  centre: Float64Array,
  block: Float64Array,
  visit: (block: Float64Array, rows: number) => void,
): void {
  const d = data.cols;
  const kern = kernels();
  for (let start = first; start < first + count; start += CENTRED_BLOCK_ROWS) {
    const rows = Math.min(CENTRED_BLOCK_ROWS, first + count - start);
    kern.subtractRow(rows, d, data.x, start * d, centre, block, 0);
    visit(block, rows);
  }
}

/**
 * A row pass over rows minus `centre`: `visit` adds each centred block's terms into the chunk's sums (width
 * numbers, in kernel memory like the block: sumOverRows), so the kernels copy nothing per block.
 */
async function centredPass(
  context: RowPassContext,
  shard: Dataset,
  centre: Float64Array,
  width: number,
  visit: (block: Float64Array, rows: number, sums: Float64Array) => void,
): Promise<Float64Array> {
  const placedBlock = kernels().zeros('float64', CENTRED_BLOCK_ROWS * shard.cols);
  try {
    const block = placedBlock.array;
    return await sumOverRows(context, shard, width, (data, first, count, out) =>
      forEachCentredBlock(data, first, count, centre, block, (centred, rows) => visit(centred, rows, out)),
    );
  } finally {
    placedBlock.release();
  }
}

/**
 * n, the column mean and the sample covariance (d × d, divided by n − 1) over all ranks, in one row
 * pass: Σ (x−s)ᵀ(x−s) by syrk and Σ(x−s) by a transposed gemv on each shifted block, then centred
 * (shifted-moments.ts).
 */
export async function meanAndCovariance(
  context: RowPassContext,
  shard: Dataset,
): Promise<{ moments: ColumnMoments; covariance: Float64Array }> {
  const d = shard.cols;
  const kern = kernels();
  const shift = await shiftOf(shard, context, false);
  const placedOnes = kern.zeros('float64', CENTRED_BLOCK_ROWS);
  let sums: Float64Array;
  try {
    const ones = placedOnes.array.fill(1);
    // [G (d×d) | Σ(x − s) (d) | n]
    sums = await centredPass(context, shard, shift, d * d + d + 1, (block, rows, out) => addShiftedBlock(block, rows, d, ones, out));
  } finally {
    placedOnes.release();
  }
  const samples = sums[d * d + d]!;
  checkSamples(samples, shard);
  const m = sums.slice(d * d, d * d + d).map((sum) => sum / samples);
  const gram = sums.slice(0, d * d);
  centreGram(gram, d, samples, m);
  kern.scal(d * d, 1 / (samples - 1), gram, 0);
  return { moments: { samples, mean: shift.map((value, j) => value + m[j]!) }, covariance: gram };
}

/** A shifted block's terms: (X−s)ᵀ(X−s) into out[0…d²), Σ(x−s) into out[d²…d²+d), its rows into out[d² + d]. */
function addShiftedBlock(block: Float64Array, rows: number, d: number, ones: Float64Array, out: Float64Array): void {
  const kern = kernels();
  kern.syrk(rows, d, block, 0, d, out, 0);
  kern.gemv(true, rows, d, 1, block, 0, d, ones, 0, 1, out, d * d);
  out[d * d + d]! += rows;
}

function checkSamples(samples: number, shard: Dataset): void {
  if (samples < 2) {
    throw new DataError('DATA_MISSING', { file: shard.source }, `PCA needs at least 2 rows to estimate a covariance, found ${samples}`);
  }
}

/**
 * Z = C·Q for the covariance C, without forming C: Σ over ranks and blocks of Rᵀ(R·Q) with R the
 * centred rows, then / (n − 1). Q is d × l; Z is d × l. Plus, when `withTrace`, trace(C) (the total
 * variance) from the same pass. Two gemms per block, one all-reduce of d·l (+1) numbers.
 */
export async function covarianceTimes(
  context: RowPassContext,
  shard: Dataset,
  moments: ColumnMoments,
  q: Float64Array,
  l: number,
  withTrace: boolean,
): Promise<{ product: Float64Array; trace: number }> {
  const d = shard.cols;
  const kern = kernels();
  const projected = new Float64Array(CENTRED_BLOCK_ROWS * l);
  // Z | Σ‖x − μ‖²
  const result = await centredPass(context, shard, moments.mean, d * l + 1, (block, rows, sums) => {
    kern.gemm(false, false, rows, l, d, 1, block, 0, d, q, 0, l, 0, projected, 0, l);
    kern.gemm(true, false, d, l, rows, 1, block, 0, d, projected, 0, l, 1, sums, 0, l);
    if (withTrace) sums[d * l]! += kern.dot(rows * d, block, 0, block, 0);
  });
  const scale = 1 / (moments.samples - 1);
  kern.scal(d * l + 1, scale, result, 0);
  return { product: result.subarray(0, d * l), trace: result[d * l]! };
}
