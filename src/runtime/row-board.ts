/**
 * Row passes shared out dynamically among the threads of one process (TrainContext.sumRows). With
 * static shards a 2-thread fit runs at the pace of its slower core: on this kind of VM one vCPU
 * serves the disk's interrupts and runs a compute loop 5–13 % slower than the other, and a core
 * that the host takes away for a few ms makes its rank late at every all-reduce (OLS 1M×50 on two
 * threads: one rank waited 20–50 ms of a 130–180 ms fit for the other).
 *
 * Here each rank's shard is cut into chunks (32 per rank, MIN_CHUNK_ROWS rows or more on average,
 * large ones first: chunkStart), each shard with a claim counter of its own. A rank claims the chunks
 * of its own shard first, then those left in the others' (the next rank's first), so the faster rank
 * takes more of them, and only at the end of a pass, where the chunks are small. On equal cores each
 * rank keeps to its own rows from pass to pass, as with static shards: a model's per-row state
 * (k-means' labels and bounds, SharedRows.zeros) then stays in the caches of the core that writes it.
 * With one counter for all chunks the ranks took turns over the rows, and threads×2 k-means on
 * quiet cores reached 1.73–1.77× sequential against 1.87× with static shards.
 *
 * The result does not depend on who took which chunk: each chunk's terms go into its own slot of a
 * shared table, and after one barrier every rank adds the slots up in chunk order. The same fit
 * gives the same bits every time (not the bits of a static split, nor of sequential: the partial
 * sums are grouped by chunk). The table and the counters are double-buffered by call parity: a rank
 * still reading pass k's slots is never overwritten by pass k + 1 (whose chunks start after a barrier
 * that rank has not reached), and rank 0 clears pass k + 1's counters at the start of pass k, when
 * every rank is past pass k − 1's claims and none can be at pass k + 1's. One barrier per pass.
 */
import type { Communicator } from '../comm/communicator.js';
import type { RowAccumulator, RowSummer, SharedRows } from '../models/context.js';

/** Bytes of the shared board (the counters and the slot table): reserved per threads job, committed as touched. */
export const ROW_BOARD_BYTES = 16 * 1024 * 1024;
/** Int32 words from one claim counter to the next: each on a cache line of its own. */
const COUNTER_STRIDE = 16;
/** Chunks per rank: the ranks finish a pass within about one chunk (1/32 of a share) of each other. */
const CHUNKS_PER_RANK = 32;
/** Fewest rows per claim on average (each is an atomic add and a slot to clear and read back). */
const MIN_CHUNK_ROWS = 1024;

/** Int32 words of a board's counters for `size` ranks: one per rank and call parity. */
const counterWords = (size: number): number => 2 * size * COUNTER_STRIDE;

/**
 * Zero a board's claim counters for a job of `size` ranks (job-arenas.ts, when a job takes the board).
 * @example
 * resetRowBoard(arenas.rowBoard, size);
 */
export function resetRowBoard(board: SharedArrayBuffer, size: number): void {
  new Int32Array(board, 0, counterWords(size)).fill(0);
}

/**
 * The threads paradigm's `sumRows`: dynamic over `shared.data` when there are two ranks or more, at
 * least two chunks per rank and the pass fits the board twice; else undefined (the plain local pass).
 * @example
 * const sumRows = rowBoardSummer(shared, board, comm); // one per rank and job, all on one board
 */
export function rowBoardSummer(shared: SharedRows, board: SharedArrayBuffer, comm: Communicator): RowSummer {
  const { size, rank } = comm;
  const counters = new Int32Array(board, 0, counterWords(size));
  const table = new Float64Array(board, counterWords(size) * 4, (board.byteLength - counterWords(size) * 4) >> 3);
  const half = table.length >> 1;
  const rows = shared.data.rows;
  const starts = shared.shardStarts ?? Array.from({ length: size + 1 }, (_, r) => Math.floor((r * rows) / size));
  const fewest = Math.min(...Array.from({ length: size }, (_, r) => starts[r + 1]! - starts[r]!));
  let passes = 0;
  const pass = async (width: number, accumulate: RowAccumulator, perRank: number): Promise<Float64Array> => {
    const parity = passes++ & 1;
    const region = parity * half;
    // Every rank is past the previous pass's claims (its barrier), and none can reach the next pass's
    // before this one's barrier: its counters, last used two passes ago, are free to clear.
    if (rank === 0) for (let r = 0; r < size; r++) Atomics.store(counters, ((1 - parity) * size + r) * COUNTER_STRIDE, 0);
    for (let step = 0; step < size; step++) {
      const owner = (rank + step) % size; // this rank's own shard first, then the others'
      const counter = (parity * size + owner) * COUNTER_STRIDE;
      const first = starts[owner]!;
      const length = starts[owner + 1]! - first;
      for (let chunk = Atomics.add(counters, counter, 1); chunk < perRank; chunk = Atomics.add(counters, counter, 1)) {
        const at = region + (owner * perRank + chunk) * width;
        const slot = table.subarray(at, at + width);
        slot.fill(0);
        const start = first + chunkStart(chunk, perRank, length);
        const end = first + chunkStart(chunk + 1, perRank, length);
        if (end > start) accumulate(shared.data, start, end - start, slot);
      }
    }
    await comm.barrier();
    return sumSlots(table, region, size * perRank, width);
  };
  return (width, accumulate) => {
    const perRank = Math.min(CHUNKS_PER_RANK, Math.floor(fewest / MIN_CHUNK_ROWS), Math.floor(half / Math.max(1, width) / size));
    return size === 1 || perRank < 2 ? undefined : pass(width, accumulate, perRank);
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
