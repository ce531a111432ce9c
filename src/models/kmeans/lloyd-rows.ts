/**
 * The rows a k-means fit assigns in each iteration, and what it keeps per row from one iteration to
 * the next: the label, the squared distance, ‖row‖² and, for Hamerly's algorithm, the lower bound.
 *
 * - Rows of its own: each rank assigns its shard, and one all-reduce sums the statistics.
 * - Rows shared out (threads, where the ranks share their rows and the kernels' memory:
 *   SharedRows.zeros): the per-row state is one array over every rank's rows, and each pass goes
 *   through `sumOverRows`, so the ranks claim chunks from the row board and a rank on a slower core
 *   takes fewer. With each rank held to its own half, a threads×2 fit ran at the pace of the slower
 *   vCPU: in warm Hamerly fits on 1M×20 the faster rank waited 8–19 ms of 418–451 ms.
 *
 * Both give the same labels, and statistics grouped as their row pass groups them (sumOverRows).
 */
import { kernels } from '../../core/kernels.js';
import type { Dataset } from '../../data/dataset.js';
import type { SharedRows, TrainContext } from '../context.js';
import { sumOverRows } from '../row-sums.js';

/** One assignment pass and the per-row state it keeps. */
export interface LloydRows {
  /** This rank's rows' labels after the last pass (relocateEmptyClusters reads them). */
  readonly labels: Int32Array;
  /** This rank's rows' squared distances to their centres after the last pass. */
  readonly distances: Float64Array;
  /** Hamerly's per-centre terms, which the caller updates between passes (hamerly.ts); null for Lloyd's. */
  readonly bounds: { readonly shifts: Float64Array; readonly halfSeparation: Float64Array } | null;
  /**
   * Assign every rank's rows to their nearest centres and set `stats` to
   * [sums (k·d) | counts (k) | inertia | changed labels] over all of them, the same on every rank.
   */
  assign(centers: Float64Array, centerNorms: Float64Array, stats: Float64Array): Promise<void>;
  /** Give back what this rank allocated (shared arrays are the runtime's to free). */
  release(): void;
}

/**
 * The rows of a k-means fit: shared out where the context allows it (two ranks or more on shared
 * rows and kernel memory), else this rank's own.
 * @example
 * const rows = await lloydRows(shard, context, k, true);
 * try { await rows.assign(centers, norms, stats); } finally { rows.release(); }
 */
export async function lloydRows(shard: Dataset, context: TrainContext, k: number, hamerly: boolean): Promise<LloydRows> {
  const { shared, comm } = context;
  if (comm.size > 1 && shared?.zeros !== undefined && context.sumRows !== undefined) {
    const rows = await sharedLloydRows(shard, context, shared, k, hamerly);
    if (rows !== undefined) return rows;
  }
  return ownLloydRows(shard, context, k, hamerly);
}

/** Each rank its own shard, in this rank's kernel memory, and one all-reduce per pass. */
function ownLloydRows(shard: Dataset, context: TrainContext, k: number, hamerly: boolean): LloydRows {
  const { comm } = context;
  const n = shard.rows;
  const d = shard.cols;
  const kern = kernels();
  // Read every iteration: placed once where the kernels read them without a copy (the WASM backend
  // otherwise copies X in chunks per call: 13 % of a sequential 1M×20 fit, measured with --cpu-prof).
  const x = kern.resident(shard.x);
  const labels = kern.zeros('int32', n);
  labels.array.fill(-1); // no label yet: the first pass compares every row with every centre
  const distances = kern.zeros('float64', n);
  const xNorms = kern.zeros('float64', n);
  xNorms.array.fill(NaN); // ‖row‖², computed in the first pass
  const lower = hamerly ? kern.zeros('float64', n) : null;
  const bounds = lower === null ? null : { lower: lower.array, shifts: new Float64Array(k), halfSeparation: new Float64Array(k) };
  return {
    labels: labels.array,
    distances: distances.array,
    bounds,
    async assign(centers, centerNorms, stats) {
      stats.fill(0);
      kern.lloydStep(n, d, x.array, 0, k, centers, centerNorms, labels.array, distances.array, stats, xNorms.array, bounds);
      if (comm.size > 1) await comm.allReduce(stats, 'sum');
    },
    release() {
      x.release();
      labels.release();
      distances.release();
      xNorms.release();
      lower?.release();
    },
  };
}

/**
 * Every rank's rows, their state in one block of the shared kernel memory (distances, ‖row‖², the
 * lower bounds, then the labels), each pass shared out by `sumOverRows`; undefined on every rank
 * when that memory has no room.
 */
async function sharedLloydRows(
  shard: Dataset,
  context: TrainContext,
  shared: SharedRows,
  k: number,
  hamerly: boolean,
): Promise<LloydRows | undefined> {
  const all = shared.data.rows;
  const d = shard.cols;
  const columns = hamerly ? 3 : 2;
  const block = await shared.zeros!('float64', columns * all + Math.ceil(all / 2));
  if (block === undefined) return undefined;
  const distances = block.subarray(0, all);
  const xNorms = block.subarray(all, 2 * all);
  const lower = hamerly ? block.subarray(2 * all, 3 * all) : null;
  const labels = new Int32Array(block.buffer, block.byteOffset + columns * all * Float64Array.BYTES_PER_ELEMENT, all);
  const bounds = hamerly ? { shifts: new Float64Array(k), halfSeparation: new Float64Array(k) } : null;
  const kern = kernels();
  let first = true;
  return {
    labels: labels.subarray(shared.first, shared.first + shard.rows),
    distances: distances.subarray(shared.first, shared.first + shard.rows),
    bounds,
    async assign(centers, centerNorms, stats) {
      const fresh = first;
      const sums = await sumOverRows(context, shard, stats.length, (data, start, count, out) => {
        // The board passes rows of the shared data; the plain pass (a board too small) this rank's shard.
        const row = data === shard ? shared.first + start : start;
        const end = row + count;
        if (fresh) {
          labels.fill(-1, row, end); // whoever takes a row first starts its state
          xNorms.fill(NaN, row, end);
        }
        kern.lloydStep(
          count,
          d,
          data.x,
          start * d,
          k,
          centers,
          centerNorms,
          labels.subarray(row, end),
          distances.subarray(row, end),
          out,
          xNorms.subarray(row, end),
          lower === null || bounds === null ? null : { lower: lower.subarray(row, end), ...bounds },
        );
      });
      first = false;
      stats.set(sums);
    },
    release: () => undefined,
  };
}
