/**
 * Per-row state shared by the threads of one job (SharedRows.zeros). When the ranks of a threads
 * fit take their row passes' chunks from the row board (row-board.ts), any rank may process any row,
 * so state a model keeps per row from one pass to the next (k-means' labels, distances and Hamerly
 * bounds) must be one array every rank writes, not one per rank. It lives in the WASM kernel memory
 * the ranks share with the launcher (the data is there too), so the kernels run over it in place.
 *
 * Rank 0 allocates each array and broadcasts its address; the others view the same bytes. Nobody in
 * the job frees it: a rank cannot know when the others are done with a row, and a rank that fails
 * may leave a peer still writing. Rank 0 records each block in the job's registry (a small shared
 * array among the job's arenas), and the launcher gives them all back when the job is over, once
 * every worker has posted its result or been terminated (`releaseRowArrays`).
 */
import type { Communicator } from '../comm/communicator.js';
import type { ResidentTypes } from '../core/kernels.js';
import { kernelMemoryView, kernelMemoryZeros, releaseKernelMemory } from '../core/kernels-wasm.js';
import type { SharedWasmHeap } from '../core/wasm-heap.js';
import type { SharedRows } from '../models/context.js';

/** Blocks one job may hold (a model asks for a few: k-means one); past it `zeros` answers undefined. */
const MAX_BLOCKS = 16;

/** A job's registry: [count, then (byte offset, byte length) per block]. */
export function newRowArrayRegistry(): Float64Array {
  return new Float64Array(new SharedArrayBuffer((1 + 2 * MAX_BLOCKS) * Float64Array.BYTES_PER_ELEMENT));
}

/**
 * The threads paradigm's `SharedRows.zeros` for one rank: every rank of the job calls it in the same
 * order; rank 0 allocates and registers, one broadcast hands the address to the others.
 * @example
 * const zeros = sharedZeros(comm, registry); // with the job's arenas.rowArrays
 * const labels = await zeros('int32', whole.rows); // the same bytes on every rank
 */
export function sharedZeros(comm: Communicator, registry: Float64Array): NonNullable<SharedRows['zeros']> {
  return async <K extends keyof ResidentTypes>(type: K, length: number): Promise<ResidentTypes[K] | undefined> => {
    const address = Float64Array.of(-1);
    let own: ResidentTypes[K] | null = null;
    if (comm.rank === 0) {
      const count = registry[0]!;
      own = count < MAX_BLOCKS ? kernelMemoryZeros(type, length) : null;
      if (own !== null) {
        registry[1 + 2 * count] = own.byteOffset;
        registry[2 + 2 * count] = own.byteLength;
        registry[0] = count + 1;
        address[0] = own.byteOffset;
      }
    }
    if (comm.size > 1) await comm.broadcast(address, 0);
    const at = address[0]!;
    if (at < 0) return undefined; // no room: every rank hears the same
    const array = own ?? kernelMemoryView(type, at, length);
    // Every rank of a job with a registry runs over the launcher's kernel memory (threads.ts): a rank
    // that cannot see rank 0's block is a bug, and carrying on would split the ranks' paths.
    if (array === null)
      throw new Error(`rank ${comm.rank} cannot see rank 0's shared ${type} array at byte ${at}: not the job's kernel memory`);
    return array;
  };
}

/**
 * Give back every block the job registered, through the launcher's kernels over `memory`, and empty
 * the registry. Only once no worker of the job runs: each posted its result or was terminated.
 * @example
 * releaseRowArrays(arenas.rowArrays, workerKernels); // in the launcher's finally
 */
export function releaseRowArrays(registry: Float64Array, memory: SharedWasmHeap): void {
  const count = registry[0]!;
  registry[0] = 0;
  try {
    for (let block = 0; block < count; block++) releaseKernelMemory(memory, registry[1 + 2 * block]!, registry[2 + 2 * block]!);
  } catch (error) {
    // Only a worker terminated inside the allocator leaves its lock held (a failed job, whose own
    // error is what the caller hears): the blocks stay taken, and the memory's other users will say so.
    process.emitWarning(
      `shardlearn: a threads job's shared per-row arrays were not freed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
