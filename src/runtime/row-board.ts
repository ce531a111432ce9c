/**
 * Row passes shared out dynamically among the threads of one process (TrainContext.sumRows). With
 * static shards a 2-thread fit runs at the pace of its slower core: on this kind of VM one vCPU
 * serves the disk's interrupts and runs a compute loop 5–13 % slower than the other, and a core
 * that the host takes away for a few ms makes its rank late at every all-reduce (OLS 1M×50 on two
 * threads: one rank waited 20–50 ms of a 130–180 ms fit for the other). Here the rows of a pass are
 * cut into chunks (32 per rank, MIN_CHUNK_ROWS rows or more on average, large ones first: chunkStart)
 * that the ranks claim from a shared counter, so the faster rank takes more of them.
 *
 * The result does not depend on who took which chunk: each chunk's terms go into its own slot of a
 * shared table, and after one barrier every rank adds the slots up in chunk order. The same fit
 * gives the same bits every time (not the bits of a static split, nor of sequential: the partial
 * sums are grouped by chunk). The table is double-buffered by call parity, so a rank that is still
 * reading pass k's slots is never overwritten by pass k + 1 (whose chunks start after a barrier that
 * rank has not reached), and one barrier per pass suffices; the counter only grows: each rank's
 * claims end with one claim past the last chunk, so pass k + 1 starts from pass k's base + chunks + size.
 */
import type { Communicator } from '../comm/communicator.js';
import type { RowAccumulator, RowSummer, SharedRows } from '../models/context.js';

/** Bytes of the shared board (a counter and the slot table): reserved per threads job, committed as touched. */
export const ROW_BOARD_BYTES = 16 * 1024 * 1024;
/** Where the slot table starts (the counter has a cache line to itself). */
const TABLE_OFFSET = 64;
/** Chunks per rank: the ranks finish a pass within about one chunk (1/32 of a share) of each other. */
const CHUNKS_PER_RANK = 32;
/** Fewest rows per claim on average (each is an atomic add and a slot to clear and read back). */
const MIN_CHUNK_ROWS = 1024;

/**
 * The threads paradigm's `sumRows`: dynamic over `shared.data` when there are two ranks or more, at
 * least two chunks per rank and the pass fits the board twice; else undefined (the plain local pass).
 * @example
 * const sumRows = rowBoardSummer(shared, board, comm); // one per rank and job, all on one board
 */
export function rowBoardSummer(shared: SharedRows, board: SharedArrayBuffer, comm: Communicator): RowSummer {
  const counter = new Int32Array(board, 0, 1);
  const table = new Float64Array(board, TABLE_OFFSET, (board.byteLength - TABLE_OFFSET) >> 3);
  const half = table.length >> 1;
  const { size } = comm;
  let base = 0;
  let passes = 0;
  const pass = async (width: number, accumulate: RowAccumulator, chunks: number): Promise<Float64Array> => {
    const rows = shared.data.rows;
    const region = (passes++ & 1) * half;
    for (let chunk = Atomics.add(counter, 0, 1) - base; chunk < chunks; chunk = Atomics.add(counter, 0, 1) - base) {
      const slot = table.subarray(region + chunk * width, region + (chunk + 1) * width);
      slot.fill(0);
      const start = chunkStart(chunk, chunks, rows);
      const end = chunkStart(chunk + 1, chunks, rows);
      if (end > start) accumulate(shared.data, start, end - start, slot);
    }
    base += chunks + size;
    await comm.barrier();
    return sumSlots(table, region, chunks, width);
  };
  return (width, accumulate) => {
    const chunks = Math.min(size * CHUNKS_PER_RANK, Math.floor(shared.data.rows / MIN_CHUNK_ROWS), Math.floor(half / Math.max(1, width)));
    return size === 1 || chunks < 2 * size ? undefined : pass(width, accumulate, chunks);
  };
}

/**
 * The first row of chunk `chunk` of `chunks` over `rows` rows (chunkStart(chunks) = rows). The chunks
 * shrink linearly, from twice the mean size to 1/chunks of it: the ranks claim the large ones first
 * and the last claims are small, so neither waits at the barrier for most of a chunk of the other's.
 * With equal chunks the two ranks of an OLS 1M×50 pass (64 chunks of ~3 ms) finished 0–2.6 ms apart
 * (mean about half a chunk); the boundaries depend only on the chunk's index, so the sums still
 * group the same way whoever takes which chunk.
 */
export function chunkStart(chunk: number, chunks: number, rows: number): number {
  if (chunk >= chunks) return rows;
  const left = (chunks - chunk) / chunks;
  return Math.floor(rows * (1 - left * left));
}

/**
 * Σ of the pass's `chunks` slots (width numbers each, from `region`), added in chunk order. A module
 * function, not a loop in the per-job `pass` closure: that loop (64 chunks × a Gram matrix's 2,601
 * terms) was compiled on stack replacement again in every job, as OSR code is specialised to the
 * closure's context (--trace-opt: 8–15 ms per job and worker).
 */
function sumSlots(table: Float64Array, region: number, chunks: number, width: number): Float64Array {
  const out = new Float64Array(width);
  for (let chunk = 0; chunk < chunks; chunk++) {
    const offset = region + chunk * width;
    for (let j = 0; j < width; j++) out[j]! += table[offset + j]!;
  }
  return out;
}
