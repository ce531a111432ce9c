/**
 * Getting the data to the pipeline stages that need it. Stage 0 of every replica needs the feature
 * rows (and, when dropout is on, the rows' stable keys for the mask seeds); the last stage of every
 * replica needs the class codes. Each rank was handed one contiguous shard, so before training every
 * rank sends its part to each receiver, once. The copies are counted in CommStats like all traffic.
 *
 * One receiver at a time: in each phase one rank receives and every other rank sends to it, so no
 * two ranks ever wait on each other's sends (a shared-memory send waits for ring space while the
 * reader drains; two ranks sending to each other at once could both wait forever).
 *
 * @example
 * const rows = await gatherAt(comm, [0, 2], shard.x, shard.cols, firstRow, total, 'pipeline-rows');
 * // rank 0 and rank 2: all rows in global order; every other rank: null
 */
import type { Communicator } from '../../../comm/communicator.js';
import { CommError } from '../../../core/errors.js';
import type { FloatArray } from '../../../core/storage.js';

/**
 * Assemble `own` (this rank's rows `firstRow…`, `width` values each) from every rank into one array
 * in global row order on each of `receivers`; other ranks get null. `like` decides the element type.
 */
export async function gatherAt<T extends FloatArray>(
  comm: Communicator,
  receivers: readonly number[],
  own: T,
  width: number,
  firstRow: number,
  total: number,
  tag: string,
): Promise<T | null> {
  if (comm.size === 1) return own;
  let assembled: T | null = null;
  for (const receiver of receivers) {
    if (comm.rank !== receiver) {
      await comm.send(receiver, { tag, header: { firstRow }, arrays: [own] });
      continue;
    }
    const all = (own instanceof Float32Array ? new Float32Array(total * width) : new Float64Array(total * width)) as T;
    all.set(own, firstRow * width);
    for (let r = 0; r < comm.size; r++) {
      if (r === receiver) continue;
      const message = await comm.recv(r);
      const part = message.arrays?.[0];
      const at = Number(message.header?.['firstRow']);
      if (message.tag !== tag || part === undefined || !Number.isInteger(at) || at + part.length / width > total) {
        throw new CommError(
          'COMM',
          `pipeline: expected a '${tag}' message with a row offset from rank ${r}, got '${message.tag}'; every rank must run the same pipeline (same model, options and data layout)`,
          { rank: r },
        );
      }
      all.set(part, at * width);
    }
    assembled = all;
  }
  return assembled;
}
