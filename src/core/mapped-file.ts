/**
 * Files mapped into memory as ArrayBuffers (mmap, MAP_SHARED): Node has no mmap, so this goes
 * through the small native addon native/map-file.c, which `npm run build` compiles into
 * dist/native/map-file.node with the machine's C compiler and Node's headers
 * (scripts/build-native.js). Where it was not built or does not load, or SHARDLEARN_MAP_FILES=0 (to
 * measure or test the other way), `canMapFiles()` is false and the callers read and write their
 * files instead.
 *
 * Users: the lane board's posts (comm/zmq/board-memory.ts), which also sleeps and wakes on its
 * words across processes (`waitWord`, `wakeWord`: Linux futexes on the shared pages, what
 * Atomics.wait and Atomics.notify do between threads), and a processes rank's shard file
 * (runtime/shard-file.ts). The mapping stays valid after its descriptor is closed and its file
 * unlinked; it goes when the ArrayBuffer is collected. The file must not shrink under a mapping (an
 * access past its end faults with SIGBUS): map only files of this job's 0700 folder, sized first.
 *
 * @example
 * if (canMapFiles()) {
 *   const bytes = new Uint8Array(mapFile(fd, size, true)); // shared with every other mapping of the file
 * }
 */
import { createRequire } from 'node:module';

interface MapFileAddon {
  map(fd: number, bytes: number, writable: boolean): ArrayBuffer;
  wait(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): boolean;
  wake(buffer: ArrayBuffer, byteOffset: number): number;
}

let addon: MapFileAddon | null | undefined;

function loaded(): MapFileAddon | null {
  if (addon === undefined) {
    try {
      // dist/src/core/ → dist/native/
      addon = process.platform === 'linux' ? (createRequire(import.meta.url)('../../native/map-file.node') as MapFileAddon) : null;
    } catch {
      addon = null;
    }
  }
  return addon;
}

/** The addon, or an error saying this build has none (callers check `canMapFiles()` first). */
function required(): MapFileAddon {
  const map = loaded();
  if (map === null) throw new Error('files cannot be mapped in this build (dist/native/map-file.node was not built)');
  return map;
}

/** Whether files are mapped here: the addon loads and SHARDLEARN_MAP_FILES is not 0. */
export function canMapFiles(): boolean {
  return process.env['SHARDLEARN_MAP_FILES'] !== '0' && loaded() !== null;
}

/**
 * Bytes [0, `bytes`) of the open file `fd`, mapped shared (and writable when `writable`), as an
 * ArrayBuffer. Throws when mapping is unavailable (check `canMapFiles()` first) or fails (the error's
 * message is the system's).
 */
export function mapFile(fd: number, bytes: number, writable: boolean): ArrayBuffer {
  return required().map(fd, bytes, writable);
}

/**
 * Block this thread until the int32 at `byteOffset` of `mapped` (a buffer from `mapFile`) is no
 * longer `expected`, a `wakeWord` on it (from any process mapping the same file) arrives, or
 * `timeoutMs` passes; true unless it timed out. Spurious returns are possible: recheck the word.
 */
export function waitWord(mapped: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): boolean {
  return required().wait(mapped, byteOffset, expected | 0, timeoutMs);
}

/** Wake every thread, of any process, blocked in `waitWord` on the int32 at `byteOffset` of `mapped`; how many woke. */
export function wakeWord(mapped: ArrayBuffer, byteOffset: number): number {
  return required().wake(mapped, byteOffset);
}
