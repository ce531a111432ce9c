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
import { canMapFiles, mapFile } from '../../core/mapped-file.js';
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
  close(): void;
}

export abstract class BoardMemory {
  protected constructor(
    readonly kind: BoardMemoryKind,
    protected readonly bytes: number,
  ) {}

  /**
   * Create this rank's board file at `path` (O_EXCL, mode 0600, `bytes` zeros: stamp 0, which no post
   * carries) and reach it the `kind` way; 'mapped' falls back to 'files' where mapping is unavailable.
   */
  static create(path: string, bytes: number, kind: BoardMemoryKind): BoardMemory {
    const fd = createExclusive(path);
    try {
      ftruncateSync(fd, bytes);
      if (kind === 'files' || !canMapFiles()) return new FileBoard(fd, bytes);
      const memory = new MappedBoard(new Uint8Array(mapFile(fd, bytes, true)), bytes);
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
      close: () => closeSync(fd),
    };
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Shared mappings of the files: a post is a memcpy and an atomic store, a poll an atomic load. */
class MappedBoard extends BoardMemory {
  private readonly words: Int32Array;

  constructor(
    private readonly own: Uint8Array,
    bytes: number,
  ) {
    super('mapped', bytes);
    this.words = new Int32Array(own.buffer, own.byteOffset, own.byteLength >> 2);
  }

  publish(post: Uint8Array, length: number, at: number, stamp: number): void {
    this.own.set(post.subarray(4, length), at + 4);
    // The stamp last, by an atomic store: every byte above is visible to a reader that loads it.
    Atomics.store(this.words, at >> 2, stamp | 0);
  }

  openPeer(path: string): PeerBoard | string {
    const fd = openChecked(path, 'board file');
    if (typeof fd === 'string') return fd;
    let view: Uint8Array;
    try {
      const size = fstatSync(fd).size;
      if (size !== this.bytes) return `its board file holds ${size} bytes, not ${this.bytes}`;
      view = new Uint8Array(mapFile(fd, this.bytes, false));
    } catch (error) {
      return `its board file cannot be mapped (${(error as Error).message})`;
    } finally {
      closeSync(fd);
    }
    const words = new Int32Array(view.buffer, 0, view.byteLength >> 2);
    return {
      take: (into, length, at, stamp) => {
        if (Atomics.load(words, at >> 2) >>> 0 !== stamp) return false;
        into.set(view.subarray(at, at + length)); // checked by the board from here: the peer may write on
        return true;
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
