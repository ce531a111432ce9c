/**
 * A row pass: Σ over every rank's rows of a per-row quantity (column sums, a Gram matrix, a loss
 * and its gradient), the same array on every rank. Where the runtime shares such passes out
 * dynamically (TrainContext.sumRows: the threads paradigm) it does; elsewhere the rank adds up its
 * own shard and one all-reduce sums the ranks.
 */
import type { Communicator } from '../comm/communicator.js';
import { kernels } from '../core/kernels.js';
import type { Dataset } from '../data/dataset.js';
import type { RowAccumulator, RowSummer, SharedRows } from './context.js';

/** What a row pass needs of the train context. */
export interface RowPassContext {
  readonly comm: Communicator;
  readonly sumRows?: RowSummer;
  /** Every rank's rows, where this rank can read them (TrainContext.shared). */
  readonly shared?: SharedRows;
}

/**
 * Σ of `accumulate` over all ranks' rows, `width` numbers. Each chunk's terms go into a zeroed block
 * of kernel memory (the WASM kernels add into it in place, no copy in and out per call), then into
 * the pass's sums.
 * @example
 * // column sums and the row count
 * const sums = await sumOverRows(context, shard, d + 1, (data, start, count, out) => { … });
 */
export async function sumOverRows(
  context: RowPassContext,
  shard: Dataset,
  width: number,
  accumulate: RowAccumulator,
): Promise<Float64Array> {
  const placed = kernels().zeros('float64', width);
  try {
    const sums = placed.array;
    const chunk: RowAccumulator = (data, first, count, out) => {
      sums.fill(0);
      accumulate(data, first, count, sums);
      addInto(out, sums, width);
    };
    const shared = context.sumRows?.(width, chunk);
    if (shared !== undefined) return await shared;
    const out = new Float64Array(width);
    if (shard.rows > 0) chunk(shard, 0, shard.rows, out);
    if (context.comm.size > 1) await context.comm.allReduce(out, 'sum');
    return out;
  } finally {
    placed.release();
  }
}

/**
 * out[0…width) += terms[0…width), in index order: the bits of the all-reduce's sum. A module function, not a loop in the per-pass closure above: a loop
 * in a closure made per fit is compiled on stack replacement again in every fit (OSR code is
 * specialised to the closure's context); a Gram matrix's 2,601 terms per chunk made this one hot.
 */
export function addInto(out: Float64Array, terms: Float64Array, width: number): void {
  for (let j = 0; j < width; j++) out[j]! += terms[j]!;
}
