/**
 * Where the lane board's posts live (zmq/lane-board.ts): each rank's file in the job's 0700 folder
 * on tmpfs, reached either through shared mappings of the files (`mapped`: a post is a memcpy and
 * one atomic store, a poll one atomic load) or through the files themselves (`files`: a post is
 * two pwrites, a poll one pread). Both keep the board's protocol: the payload and trailer of a post
 * land before its header, whose first word is the post's stamp, and a reader takes a post only once
 * that stamp is the one it waits for, copying it into memory of its own before it checks anything.
 *
 * Mapping needs the native addon of core/mapped-file.ts (Node has no mmap); without it the board uses
 * the files. Measured on this 2-core machine, 2 processes, one all-reduce of 21 float64 values back
 * to back (bench/step-allreduce.ts): files 11.5 µs, mapped 2.1 µs (threads' shared memory: 1.6 µs).
 *
 * A peer's file is mapped read-only: a stray write through its mapping faults instead of corrupting
 * the peer's post. A peer that shrinks its file under a mapping makes the reader fault (SIGBUS): a
 * peer holding the job's secret can already stop the job; it cannot make the reader accept a post.
 *
 * @example
 * const memory = BoardMemory.create(path, bytes, 'mapped'); // this rank's file, zero-filled
 * memory.publish(post, length, at, stamp);                    // bytes 4.. of the post, then its stamp
 * const peer = memory.openPeer(peerPath);                     // string: why it is refused
 * peer.take(into, length, at, stamp);                          // false while the post stamped `stamp` is not there
 */
import { closeSync, fstatSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import { canMapFiles, mapFile, waitWord, wakeWord } from '../../core/mapped-file.js';
import { createExclusive, openChecked } from './lane-files.js';

/** How the board reaches its files. */
export type BoardMemoryKind = 'mapped' | 'files';

/** A peer's board file, opened for reading its posts. */
export interface PeerBoard {
  /**
   * Copy the `length` bytes of the post at `at` into `into`, or return false when it is surely not
   * the post stamped `stamp` (its first u32) yet. The caller checks the copy's stamp all the same.
   */
  take(into: Uint8Array, length: number, at: number, stamp: number): boolean;
  /**
   * Give the core away until the post at `at` may have changed from what it is now: mapped, a futex
   * sleep of at most SLEEP_MS that the peer's next post ends (it wakes sleepers it sees flagged);
   * files, a nap of NAP_MS.
   */
  sleep(at: number): void;
  close(): void;
}

/** The longest one mapped sleep lasts (the board checks its peers' loss and its timeout between sleeps). */
const SLEEP_MS = 1;
/**
 * A files nap: 10 µs asked, 33–39 µs slept here with the rank's timer slack at 1 µs (lane-board.ts
 * sets it; Linux's default 50 µs slack made a 10 µs nap 82 µs and a 50 µs one 121 µs).
 */
const NAP_MS = 0.01;
/**
 * After a board's slots, its rank's sleep flag (u32: 1 while it sleeps on a peer's post), which every
 * poster reads after posting to decide whether to wake sleepers: the wake's system call is paid only
 * when someone sleeps. (Set, then the word rechecked, then the futex wait, which checks the word
 * again in the kernel: a post can never fall between a sleeper's check and its sleep.)
 */
const FLAG_BYTES = 8;

export abstract class BoardMemory {
  protected constructor(
    readonly kind: BoardMemoryKind,
    protected readonly bytes: number,
  ) {}

  /**
   * Create this rank's board file at `path` (O_EXCL, mode 0600, `bytes` zeros: stamp 0, which no post
   * carries, then the sleep flag) and reach it the `kind` way; 'mapped' falls back to 'files' where
   * mapping is unavailable.
   */
  static create(path: string, bytes: number, kind: BoardMemoryKind): BoardMemory {
    const fd = createExclusive(path);
    try {
      ftruncateSync(fd, bytes + FLAG_BYTES);
      if (kind === 'files' || !canMapFiles()) return new FileBoard(fd, bytes);
      const memory = new MappedBoard(mapFile(fd, bytes + FLAG_BYTES, true), bytes);
      closeSync(fd); // the mapping outlives the descriptor
      return memory;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /**
   * Write the `length` bytes of `post`, whose first u32 is `stamp`, at `at` of this rank's file:
   * bytes 4.. first, the stamp last, so no reader takes the post before the rest is in place.
   */
  abstract publish(post: Uint8Array, length: number, at: number, stamp: number): void;

  /** Open peer's board file at `path` (checked like every lane file: zmq/lane-files.ts openChecked), or why it is refused. */
  abstract openPeer(path: string): PeerBoard | string;

  abstract close(): void;
}

/** The files themselves: pwrite and pread on tmpfs's page cache (~2 µs a call here). */
class FileBoard extends BoardMemory {
  /** What a nap waits on (nothing ever wakes it: the nap is a sleep that gives the core away). */
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly fd: number,
    bytes: number,
  ) {
    super('files', bytes);
  }

  publish(post: Uint8Array, length: number, at: number): void {
    writeAll(this.fd, post, 4, length - 4, at + 4);
    writeAll(this.fd, post, 0, 4, at);
  }

  openPeer(path: string): PeerBoard | string {
    const fd = openChecked(path, 'board file');
    if (typeof fd === 'string') return fd;
    return {
      take: (into, length, at) => readSync(fd, into, 0, length, at) === length,
      sleep: () => void Atomics.wait(this.nap, 0, 0, NAP_MS),
      close: () => closeSync(fd),
    };
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Shared mappings of the files: a post is a memcpy and an atomic store (and a futex wake when a peer
 * sleeps on it), a poll an atomic load, a sleep a futex wait.
 */
class MappedBoard extends BoardMemory {
  private readonly own: Uint8Array;
  private readonly words: Int32Array;
  /** The sleep flag's index in a board's words (every board file has the same layout). */
  private readonly flag: number;
  /** The words of the peers opened so far, whose sleep flags are read after each post. */
  private readonly peerWords: Int32Array[] = [];

  constructor(
    private readonly mapped: ArrayBuffer,
    bytes: number,
  ) {
    super('mapped', bytes);
    this.own = new Uint8Array(mapped);
    this.words = new Int32Array(mapped);
    this.flag = bytes >> 2;
  }

  publish(post: Uint8Array, length: number, at: number, stamp: number): void {
    this.own.set(post.subarray(4, length), at + 4);
    // The stamp last, by an atomic store: every byte above is visible to a reader that loads it.
    Atomics.store(this.words, at >> 2, stamp | 0);
    for (const words of this.peerWords) {
      if (Atomics.load(words, this.flag) !== 0) {
        wakeWord(this.mapped, at);
        return;
      }
    }
  }

  openPeer(path: string): PeerBoard | string {
    const fd = openChecked(path, 'board file');
    if (typeof fd === 'string') return fd;
    const total = this.bytes + FLAG_BYTES;
    let mapped: ArrayBuffer;
    try {
      const size = fstatSync(fd).size;
      if (size !== total) return `its board file holds ${size} bytes, not ${total}`;
      mapped = mapFile(fd, total, false);
    } catch (error) {
      return `its board file cannot be mapped (${(error as Error).message})`;
    } finally {
      closeSync(fd);
    }
    const view = new Uint8Array(mapped);
    const words = new Int32Array(mapped);
    this.peerWords.push(words);
    return {
      take: (into, length, at, stamp) => {
        if (Atomics.load(words, at >> 2) >>> 0 !== stamp) return false;
        into.set(view.subarray(at, at + length)); // checked by the board from here: the peer may write on
        return true;
      },
      sleep: (at) => {
        const now = Atomics.load(words, at >> 2);
        Atomics.store(this.words, this.flag, 1);
        // Rechecked after the flag is up: a post before this point is seen here, one after it wakes us.
        if (Atomics.load(words, at >> 2) === now) waitWord(mapped, at, now, SLEEP_MS);
        Atomics.store(this.words, this.flag, 0);
      },
      close: () => undefined, // unmapped when collected
    };
  }

  close(): void {
    // The mapping goes when the ArrayBuffer is collected; the folder's removal takes the file.
  }
}

function writeAll(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, bytes, offset + done, length - done, position + done);
}
