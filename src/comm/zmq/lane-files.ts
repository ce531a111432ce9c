/**
 * The lane's page-cache channel for large segments (zmq/lane.ts): the sender writes a segment into a
 * file of the job's 0700 folder on tmpfs (one copy into the page cache, `fs.writeSync`) and sends
 * only a notice on the lane's socket; the receiver reads it straight into the array it hands the
 * collective (one copy out, `fs.readSync`) and answers with an acknowledgement.
 *
 * Why: a Unix socket's kernel buffer holds ~200 KiB and Node cannot enlarge it, so a multi-MiB
 * segment over the socket costs dozens of wake-ups of both processes, and on the shared 2-core machine
 * each is dear (the lane moved 0.6–1.0 GB/s at 1–32 MiB, gloo 1.0–1.2 GB/s; its profile: a third of
 * each rank idle between socket round trips). A file has no such bound: measured here (Node 20,
 * /dev/shm) a 1–8 MiB `writeSync` or `readSync` moves 9–11 GB/s, 4 GB/s at 32 MiB — one wake-up per
 * segment instead of dozens.
 *
 * Slots: each rank writes to each peer through SLOTS files of its own (double-buffered: the next
 * segment goes into the other file while the peer reads this one). It reuses a slot only once the peer
 * acknowledged reading it, so unread data is never overwritten; the peer reads the slots in turn and
 * refuses a notice naming any other slot (a replayed or reordered notice).
 *
 * Trust: the same boundary as the lane's socket. The files sit in the job's 0700 folder; the writer
 * creates each with O_EXCL | O_NOFOLLOW and mode 0600 (a file already there is removed first — only
 * this user can have made it in a 0700 folder — so a stale one from a crashed run is never read);
 * names carry the generation and a short id derived from the job secret (`helloProof`), so another
 * job or generation sharing the folder has other names. The reader opens a slot only after the
 * writer's hello was admitted on the lane, with O_NOFOLLOW, and refuses one that is not a regular
 * file of this user with mode 0600. A notice is checked like a frame header (size cap, whole values)
 * before anything is allocated, and a file shorter than announced is a malformed frame. The writer
 * unlinks its files when the lane closes; the launcher's folder removal takes any a crash leaves.
 *
 * Only on tmpfs (statfs of the folder): on a disk-backed folder the kernel would write the segments
 * back to disk.
 *
 * @example
 * const files = LaneFiles.create({ dir, id, generation, rank, size });   // null when not on tmpfs
 * await files.freeSlot(peer, timeoutMs); const slot = files.send(peer, bytes);  // then a notice of `slot`
 * files.receive(peer, slot, into);     // on a notice; then an acknowledgement, and the sender's files.acknowledged(peer, slot)
 * files.close();
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CommError } from '../../core/errors.js';

/** Files per direction and peer: one being read while the next is written. */
export const SLOTS = 2;
/** statfs's f_type of tmpfs (linux/magic.h TMPFS_MAGIC). */
const TMPFS_MAGIC = 0x01021994;
/** The only mode a segment file may have. */
const FILE_MODE = 0o600;

export interface LaneFilesOptions {
  /** The job's 0700 folder (checked by the transport before it binds). */
  dir: string;
  /** A short name prefix derived from the job secret (see zmq/lane.ts). */
  id: string;
  generation: number;
  rank: number;
  size: number;
}

/** The name prefix of a job's segment files: only its ranks know it (a hash of the hello proof, itself derived from the job secret). */
export function segmentId(proof: string): string {
  return createHash('sha256').update(proof).digest('hex').slice(0, 12);
}

/** The file `from` writes its segments for `to` into, in slot `slot`. */
export function segmentPath(options: Pick<LaneFilesOptions, 'dir' | 'id' | 'generation'>, from: number, to: number, slot: number): string {
  return join(options.dir, `seg-${options.id}-g${options.generation}-${from}-${to}-${slot}`);
}

/** Whether `dir` is on tmpfs (segments written there stay in memory). */
export function onTmpfs(dir: string): boolean {
  try {
    return statfsSync(dir).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/** A send waiting for a peer to acknowledge a segment file, so a slot is free. */
interface SlotWaiter {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class LaneFiles {
  /** Segment files sent to each peer, and acknowledged by it (the slot of the next is sent % SLOTS). */
  private readonly sent: number[];
  private readonly acknowledgedCount: number[];
  /** Segment files read from each peer (the slot of its next notice is this % SLOTS). */
  private readonly readCount: number[];
  private readonly waiters: SlotWaiter[][];
  /** Descriptors this rank writes to peer p's slots: out[p][slot]. */
  private readonly out: (number | null)[][];
  /** Descriptors of peer p's slots for this rank, opened at the first notice: in[p][slot]. */
  private readonly in: (number | null)[][];
  private closed = false;

  private constructor(private readonly options: LaneFilesOptions) {
    this.out = Array.from({ length: options.size }, () => new Array<number | null>(SLOTS).fill(null));
    this.in = Array.from({ length: options.size }, () => new Array<number | null>(SLOTS).fill(null));
    this.sent = new Array<number>(options.size).fill(0);
    this.acknowledgedCount = new Array<number>(options.size).fill(0);
    this.readCount = new Array<number>(options.size).fill(0);
    this.waiters = Array.from({ length: options.size }, () => []);
  }

  /** Whether every slot for `to` holds a segment it has not acknowledged yet. */
  full(to: number): boolean {
    return this.sent[to]! - this.acknowledgedCount[to]! >= SLOTS;
  }

  /** Write `bytes` into the next slot for `to` (the caller made sure it is not `full`); returns the slot. */
  send(to: number, bytes: Uint8Array): number {
    const slot = this.sent[to]! % SLOTS;
    this.write(to, slot, bytes);
    this.sent[to]!++;
    return slot;
  }

  /** `from`'s notice of its slot `slot`: read it into `into` if that slot is next in turn. Null, or why it is refused. */
  receive(from: number, slot: number, into: Uint8Array): string | null {
    const expected = this.readCount[from]! % SLOTS;
    if (slot !== expected) return `a notice of segment file slot ${slot} where slot ${expected} was next (replayed or reordered)`;
    const refused = this.read(from, slot, into);
    if (refused === null) this.readCount[from]!++;
    return refused;
  }

  /** `peer` acknowledged reading this rank's slot `slot`: free it. Null, or why it is refused. */
  acknowledged(peer: number, slot: number): string | null {
    const acknowledged = this.acknowledgedCount[peer]!;
    if (acknowledged >= this.sent[peer]! || slot !== acknowledged % SLOTS) {
      return `an acknowledgement of segment file slot ${slot}, which was not the next awaiting one`;
    }
    this.acknowledgedCount[peer] = acknowledged + 1;
    const waiter = this.waiters[peer]!.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    return null;
  }

  /** Resolves when a slot for `to` is free; TIMEOUT naming `to` after `timeoutMs`; `failWaiters` rejects it. */
  freeSlot(to: number, timeoutMs: number): Promise<void> {
    if (!this.full(to)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: SlotWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters[to] = this.waiters[to]!.filter((w) => w !== waiter);
          reject(
            new CommError(
              'TIMEOUT',
              `sending to rank ${to}: it read none of this rank's pending segment files within ${timeoutMs} ms; it is stuck or much slower`,
              { rank: to },
            ),
          );
        }, timeoutMs),
      };
      this.waiters[to]!.push(waiter);
    });
  }

  /** Fail the sends waiting for a free slot of `peer` (of every peer when null). */
  failWaiters(peer: number | null, error: (peer: number) => Error): void {
    for (let p = 0; p < this.options.size; p++) {
      if (peer !== null && p !== peer) continue;
      for (const waiter of this.waiters[p]!.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(error(p));
      }
    }
  }

  /**
   * Create this rank's outgoing slot files (before the lane's join, so they exist once every rank
   * is admitted). Null when the folder is not on tmpfs.
   */
  static create(options: LaneFilesOptions): LaneFiles | null {
    if (!onTmpfs(options.dir)) return null;
    const files = new LaneFiles(options);
    try {
      for (let peer = 0; peer < options.size; peer++) {
        if (peer === options.rank) continue;
        for (let slot = 0; slot < SLOTS; slot++) files.out[peer]![slot] = createExclusive(segmentPath(options, options.rank, peer, slot));
      }
    } catch (error) {
      files.close();
      throw error;
    }
    return files;
  }

  private write(to: number, slot: number, bytes: Uint8Array): void {
    const fd = this.out[to]?.[slot];
    if (fd === null || fd === undefined) throw new Error(`no segment file for rank ${to}, slot ${slot}`);
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done, done);
  }

  /** Read `into.byteLength` bytes of `from`'s slot `slot` into `into`. Null, or why the file cannot be used (missing, not this user's, too short). */
  private read(from: number, slot: number, into: Uint8Array): string | null {
    let fd = this.in[from]?.[slot];
    if (fd === null || fd === undefined) {
      const opened = openChecked(segmentPath(this.options, from, this.options.rank, slot));
      if (typeof opened === 'string') return opened;
      fd = opened;
      this.in[from]![slot] = fd;
    }
    let done = 0;
    while (done < into.byteLength) {
      const got = readSync(fd, into, done, into.byteLength - done, done);
      if (got === 0) return `its segment file (slot ${slot}) holds ${done} bytes, ${into.byteLength} were announced`;
      done += got;
    }
    return null;
  }

  /** Close every descriptor and remove this rank's own files. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let peer = 0; peer < this.options.size; peer++) {
      for (let slot = 0; slot < SLOTS; slot++) {
        const out = this.out[peer]![slot];
        if (out !== null && out !== undefined) {
          closeSync(out);
          try {
            unlinkSync(segmentPath(this.options, this.options.rank, peer, slot));
          } catch {
            // already gone (the launcher removed the folder)
          }
        }
        const inbound = this.in[peer]![slot];
        if (inbound !== null && inbound !== undefined) closeSync(inbound);
      }
    }
  }
}

/** Create `path` afresh, O_EXCL: a leftover of this user's (a crashed run of this job) is removed first. */
export function createExclusive(path: string): number {
  const flags = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  try {
    return openSync(path, flags, FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkSync(path);
    return openSync(path, flags, FILE_MODE);
  }
}

/** Open a peer's segment file (or, with `what`, another file of the lane's) for reading, or say why it is refused. */
export function openChecked(path: string, what = 'segment file'): number | string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    return `its ${what} cannot be opened (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  const stats = fstatSync(fd);
  const problem = !stats.isFile()
    ? `its ${what} is not a regular file`
    : process.getuid !== undefined && stats.uid !== process.getuid()
      ? `its ${what} is owned by uid ${stats.uid}, not by this user`
      : (stats.mode & 0o777) !== FILE_MODE
        ? `its ${what} has mode ${(stats.mode & 0o777).toString(8)}, expected 600`
        : null;
  if (problem === null) return fd;
  closeSync(fd);
  return problem;
}
