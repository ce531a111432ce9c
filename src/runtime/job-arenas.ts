/**
 * The large shared-memory blocks of a threads job — the parameter arena Hogwild trains in, the
 * row-pass board (row-board.ts), the registry of its shared per-row arrays (row-arrays.ts) and the shared world the ranks communicate in — kept between jobs
 * instead of allocated per fit. Allocating them
 * anew cost 1–90 ms per fit once the process had run for a while (foundation bench, OLS 1M×50:
 * `new SharedArrayBuffer` of 64 and 16 MiB took 1–16 and up to 53 ms, traced with timestamps in the
 * launcher, against fits of 140–330 ms), and that is all start-up time before any worker gets its job.
 * The world's 5 MiB (2 ranks: 4 MiB of all-reduce scratch, 1 MiB of rings) was still new per fit:
 * on this VM a first touch costs ~14 µs per 4 KiB page (64 MiB in 235 ms, against 3.5 ms to write
 * it again), and a warm OLS 1M×50 threads×2 fit faulted in 1.6–10 MB (`process.resourceUsage()`).
 * A job takes a set (a fresh one when every kept set is in use, e.g. concurrent fits; a kept world
 * of another size is replaced) and gives it back when it succeeded; a failed job's set is dropped,
 * in case a worker it terminated wrote late.
 */
import type { SharedWorld } from '../comm/shm/world.js';
import { createSharedWorld, resetSharedWorld } from '../comm/shm/world.js';
import { ROW_BOARD_BYTES, resetRowBoard } from './row-board.js';
import { newRowArrayRegistry } from './row-arrays.js';

/**
 * Float64 values in the shared parameter arena Hogwild trains in: 8 Mi parameters (64 MiB). It is
 * reserved, not committed — Linux maps untouched pages lazily (a 256 MiB SharedArrayBuffer raised
 * this process's RSS by under 1 MB here), so runs that do not use it pay nothing.
 */
const PARAM_ARENA_LENGTH = 8 * 1024 * 1024;
/** Sets kept for later jobs: one per fit running at once, for the few concurrent fits a process runs (AutoML trials). */
const KEEP = 4;

export interface JobArenas {
  /** Hogwild's shared parameter vector (rank 0 writes the starting point: no need to clear it). */
  readonly params: Float64Array;
  /** The row-pass board: its claim counters are zero when a job takes it. */
  readonly rowBoard: SharedArrayBuffer;
  /** The ranks' shared-memory world, its control words zero when a job takes it. */
  readonly world: SharedWorld;
  /** The blocks of kernel memory the job's ranks share per row (row-arrays.ts): empty when a job takes it. */
  readonly rowArrays: Float64Array;
}

const kept: JobArenas[] = [];

/** A set for a job of `size` ranks: a kept one (preferably with a world of that size), reset, or a new one. */
export function acquireArenas(size: number): JobArenas {
  const at = kept.findIndex((arenas) => arenas.world.size === size);
  const reused = at >= 0 ? kept.splice(at, 1)[0] : kept.pop();
  const arenas =
    reused === undefined
      ? {
          params: new Float64Array(new SharedArrayBuffer(PARAM_ARENA_LENGTH * 8)),
          rowBoard: new SharedArrayBuffer(ROW_BOARD_BYTES),
          world: createSharedWorld(size),
          rowArrays: newRowArrayRegistry(),
        }
      : reused.world.size === size
        ? reused
        : { ...reused, world: createSharedWorld(size) };
  resetRowBoard(arenas.rowBoard, size);
  arenas.rowArrays[0] = 0;
  resetSharedWorld(arenas.world);
  return arenas;
}

/** Give a set back after a successful job (no worker touches it any more). */
export function releaseArenas(arenas: JobArenas): void {
  if (kept.length < KEEP && !kept.includes(arenas)) kept.push(arenas);
}
