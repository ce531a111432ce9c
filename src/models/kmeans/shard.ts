/**
 * Shard-level building blocks shared by k-means training and its initialisations: fetching rows by
 * global index from whichever rank owns them, and keeping each local row's squared distance to its
 * nearest chosen centre. Everything here is SPMD: every rank calls the same function in the same
 * order, and each collective is an all-reduce whose result is identical on every rank.
 */
import type { Communicator } from '../../comm/communicator.js';
import { kernels } from '../../core/kernels.js';
import type { Dataset } from '../../data/dataset.js';
import type { GlobalLayout } from '../spmd.js';

/**
 * Rows processed per kernel call: 2,048 rows of 20 float64 features are 320 KB, so a block stays in
 * L2 between the distance pass and the accumulation pass that reads it again.
 */
export const BLOCK_ROWS = 2048;

/** What every distributed step needs: this rank's shard, the communicator and the global row layout. */
export interface ShardView {
  readonly comm: Communicator;
  readonly shard: Dataset;
  readonly layout: GlobalLayout;
}

/**
 * The rows with the given global indices (row-major, `indices.length × cols`), identical on every
 * rank: each owner writes its rows, the others write zeros, and one sum all-reduce delivers them
 * (x + 0 is exact, so the copy is bitwise).
 */
export async function fetchRows(view: ShardView, indices: ArrayLike<number>): Promise<Float64Array> {
  const { shard, layout } = view;
  const d = shard.cols;
  const out = new Float64Array(indices.length * d);
  for (let j = 0; j < indices.length; j++) {
    const local = indices[j]! - layout.offset;
    if (local >= 0 && local < shard.rows) {
      for (let c = 0; c < d; c++) out[j * d + c] = shard.x[local * d + c]!;
    }
  }
  if (view.comm.size > 1) await view.comm.allReduce(out, 'sum');
  return out;
}

/** ‖centre j‖² for each of `count` row-major centres. */
export function rowNorms(centers: Float64Array, count: number, d: number, out = new Float64Array(count)): Float64Array {
  const k = kernels();
  for (let j = 0; j < count; j++) out[j] = k.dot(d, centers, j * d, centers, j * d);
  return out;
}

/** Reusable per-block buffers for the nearest-centre kernel. */
export class BlockScratch {
  readonly labels = new Int32Array(BLOCK_ROWS);
  readonly distances = new Float64Array(BLOCK_ROWS);
}

/**
 * minDistances[i] ← min(minDistances[i], squared distance from local row i to the nearest of
 * `count` centres). Rows are processed in blocks through the `nearestCenter` kernel.
 */
export function lowerMinDistances(
  shard: Dataset,
  centers: Float64Array,
  count: number,
  minDistances: Float64Array,
  scratch: BlockScratch,
): void {
  const k = kernels();
  const d = shard.cols;
  const norms = rowNorms(centers, count, d);
  for (let start = 0; start < shard.rows; start += BLOCK_ROWS) {
    const m = Math.min(BLOCK_ROWS, shard.rows - start);
    k.nearestCenter(m, d, shard.x, start * d, count, centers, norms, scratch.labels, scratch.distances);
    for (let i = 0; i < m; i++) {
      const distance = scratch.distances[i]!;
      if (distance < minDistances[start + i]!) minDistances[start + i] = distance;
    }
  }
}

/** Σ of a Float64Array (the local part of a global potential). */
export function sum(values: Float64Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  return total;
}

/**
 * Which rank holds the point at cumulative weight `target` of a distribution whose per-rank totals
 * are `totals` (ascending rank order), and the residual weight inside that rank.
 */
export function locateRank(totals: Float64Array, target: number): { rank: number; residual: number } {
  let residual = target;
  let last = 0;
  for (let r = 0; r < totals.length; r++) {
    const weight = totals[r]!;
    if (weight <= 0) continue;
    last = r;
    if (residual < weight) return { rank: r, residual };
    residual -= weight;
  }
  // Rounding pushed the target past the end: the last rank with weight holds it.
  return { rank: last, residual: totals[last]! };
}

/**
 * Local row indices at cumulative weights `targets` (sorted ascending) of `weights`, in one pass:
 * the first row whose running sum exceeds the target (numpy's searchsorted on a cumulative sum, as
 * scikit-learn's k-means++ does). A target past the end (rounding) takes the last positive row.
 */
export function searchCumulative(weights: Float64Array, targets: readonly number[]): number[] {
  const found: number[] = [];
  let running = 0;
  let lastPositive = 0;
  let t = 0;
  for (let i = 0; i < weights.length && t < targets.length; i++) {
    const weight = weights[i]!;
    if (weight <= 0) continue;
    lastPositive = i;
    running += weight;
    while (t < targets.length && targets[t]! < running) {
      found.push(i);
      t++;
    }
  }
  while (found.length < targets.length) found.push(lastPositive);
  return found;
}
