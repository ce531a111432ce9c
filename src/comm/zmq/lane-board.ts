/**
 * The lane's board for small all-reduces between the ranks of one host (zmq/lane.ts): each rank
 * posts its whole buffer into a file of its own in the job's 0700 folder on tmpfs and reads every
 * peer's post from theirs, polling, then reduces the posts in rank order — ((b0 + b1) + b2) + …,
 * bitwise what the lane's exchange and direct all-reduce give. The files are reached through shared
 * mappings where this build has its mmap addon, else by pwrite and pread (zmq/board-memory.ts). No
 * socket, no event-loop turn: a post is visible to the peers' next poll.
 *
 * Why: an SGD step's all-reduce (a few hundred bytes) over the lane's socket cost 40 µs per
 * collective on this 2-core machine (processes×2, logistic regression, 200k rows: 15,634
 * collectives, 0.62–0.68 s of a 0.88 s fit), most of it the two event loops' turns around each
 * read. Through the files (two pwrites per post, one pread per poll, ~2 µs each) it cost 11.5 µs
 * back to back (bench/step-allreduce.ts, 21 float64 values); through mappings 2.1 µs, as threads'
 * shared memory (1.6 µs) in the same run.
 *
 * Waiting: a rank polls without a pause for SPIN_MS (the peers of a step arrive within microseconds
 * of each other); then it sleeps between polls, giving the core to whatever else is runnable — a
 * spinning rank on a 2-core machine otherwise pushes V8's and ZeroMQ's background threads onto the
 * core of the rank it waits for (zmq/board-memory.ts: with mappings a futex sleep the peer's post
 * ends, as Atomics.wait/notify between threads; with files a 10 µs nap); after SLEEPS_MS it polls
 * once a millisecond between event-loop turns, so the process keeps answering (heartbeats,
 * peer loss). Every wait ends: the peer's loss (the ZeroMQ transport's or the lane's, `problem`) or
 * `timeoutMs` fails it with a CommError naming the peer; a wait of `warnMs` logs a straggler line.
 * And since an all-reduce on the board may complete without an event-loop turn, where one over a
 * socket always took one, a rank lets its event loop run at least every TURN_EVERY_MS between
 * all-reduces: a training loop that never yields (a synchronous step) would otherwise never hear the
 * launcher's IPC (elastic growth's newcomers, found by test/runtime/elastic-growth-processes),
 * ZeroMQ's messages or its own timers.
 *
 * Slots: two per rank. The post of the board's m-th all-reduce (from 0) goes into slot m % 2, stamped
 * m + 1 (modulo 2³² − 1, never 0) in its header and its trailer. Reusing a slot needs no acknowledgement: a rank writes post m + 2
 * only after reading every peer's post m + 1, which each peer wrote only after reading every post m.
 * The payload and trailer are written first and the header last, and a reader takes a post only when
 * header and trailer both carry the stamp it waits for, so a post is never read half-written.
 *
 * Trust: the same boundary as the lane's socket and segment files (zmq/lane-files.ts): files in the
 * job's 0700 folder, created O_EXCL | O_NOFOLLOW with mode 0600, named with the generation and a
 * short id derived from the job secret; a peer's file is opened O_NOFOLLOW and refused unless it is
 * a regular file of this user with mode 0600. A post is checked before it is used: the collective's
 * sequence number and name hash (the ranks must call the same collectives in order), dtype and
 * length must be this rank's, and every value passes the collective's check as it is reduced.
 *
 * Used for all-reduces of at most BOARD_MAX_BYTES per rank; larger ones stay on the lane's sockets,
 * where the reduce-scatter halves what each rank reads. Each whole collective takes one path, which
 * both ranks choose alike from the buffer's size.
 *
 * @example
 * const board = LaneBoard.create({ dir, id, generation, rank, size, timeoutMs, problem, log }); // null off tmpfs
 * if (board?.fits(buffer)) await board.allReduce(buffer, 'sum', { seq: 7, name: nameHash('allReduce(sum)') }, check, refused);
 * board.close();
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { CommError } from '../../core/errors.js';
import type { FloatArray } from '../../core/storage.js';
import type { ReduceOp } from '../communicator.js';
import type { ValueCheck } from '../collectives/reduce.js';
import { TRUSTED, copyChecked, reduceChecked } from '../collectives/reduce.js';
import type { BoardMemoryKind, PeerBoard } from './board-memory.js';
import { BoardMemory } from './board-memory.js';
import { onTmpfs } from './lane-files.js';
import { stragglerLine } from './straggler.js';

/** Largest buffer (bytes per rank) an all-reduce takes through the board. */
export const BOARD_MAX_BYTES = 64 * 1024;
/**
 * How long a rank polls without a pause. While the world fits the host's cores, 0.5 ms: a step's
 * peers arrive within microseconds, or a preempted peer a few hundred later (logistic-regression SGD,
 * processes×2, 200k rows, warm: 0.17–0.18 s a fit with 0.5 ms, 0.17–0.27 s with 0.1 ms). With more
 * ranks than cores, 20 µs: a spinning rank then holds a core a peer needs, and the futex sleep after
 * the spin ends at the peer's post (processes×3 on 2 cores, 100k rows: 0.60–0.64 s a fit with 20 µs,
 * 1.28–1.54 s with 0.1 ms). Fixed, not adaptive: a spin halved after each wait it did not end trapped
 * two ranks in turns of sleeping, each arriving while the other slept and paying its wake-up (an idle
 * virtual CPU here is slow to wake): 100–170 µs per 256 B–4 KiB all-reduce in bench:allreduce against
 * 5–14 µs with the fixed spin, even with a full spin retried every 32 waits. The cost of a fixed spin:
 * when the host squeezes two ranks onto one core, each all-reduce can take the whole spin (one pass
 * of 4 KiB all-reduces in one run: 640 µs per call, against 5 µs in the passes around it).
 */
const SPIN_MS = 0.5;
const SPIN_MS_OVERSUBSCRIBED = 0.02;
/** After the spin, how long it polls between sleeps (the core is free meanwhile) before polling once a millisecond between event-loop turns. */
const SLEEPS_MS = 5;
/** The longest a rank runs all-reduces on the board without one event-loop turn. */
const TURN_EVERY_MS = 5;
/** Header: u32 stamp, u32 collective name hash, f64 collective sequence, u8 dtype (1 f32, 2 f64), u32 length (values). */
const HEADER_BYTES = 32;
/** Trailer: u32 stamp. */
const TRAILER_BYTES = 8;
const SLOT_BYTES = HEADER_BYTES + BOARD_MAX_BYTES + TRAILER_BYTES;
const SLOTS = 2;

export interface LaneBoardOptions {
  /** The job's 0700 folder (checked by the transport before it binds). */
  dir: string;
  /** A short name prefix derived from the job secret (zmq/lane-files.ts segmentId). */
  id: string;
  generation: number;
  rank: number;
  size: number;
  timeoutMs: number;
  /** Why `peer` will post nothing more (it left or was lost, or the world was aborted); null while it may. */
  problem: (peer: number) => Error | null;
  /** A wait on one peer this long logs a straggler line (0 or ≥ timeoutMs: never). */
  warnMs: number;
  log: (line: string) => void;
  hostOf: (rank: number) => string;
  /** How posts reach the files (zmq/board-memory.ts); default 'mapped' (files where it cannot map). */
  memory?: BoardMemoryKind;
}

/** Which collective a post belongs to: its sequence number and its name's hash (zmq/lane-frame.ts). */
export interface BoardCollective {
  seq: number;
  name: number;
}

/** The file rank `rank` posts into. */
export function boardPath(options: Pick<LaneBoardOptions, 'dir' | 'id' | 'generation'>, rank: number): string {
  return join(options.dir, `board-${options.id}-g${options.generation}-${rank}`);
}

export class LaneBoard {
  /** All-reduces taken through the board so far (the next goes into slot count % 2). */
  private count = 0;
  /** This rank's post as written: header, payload, trailer. */
  private readonly post = new Uint8Array(SLOT_BYTES);
  private readonly postView = new DataView(this.post.buffer);
  /** Where a peer's post is read. */
  private readonly read = new Uint8Array(SLOT_BYTES);
  private readonly readView = new DataView(this.read.buffer);
  /** The running reduction, by dtype (grown as needed). */
  private sum32 = new Float32Array(0);
  private sum64 = new Float64Array(0);
  private readonly peers: (PeerBoard | null)[];
  /** When this rank's event loop last had a turn between all-reduces. */
  private lastTurn = performance.now();
  private closed = false;

  /** SPIN_MS, or SPIN_MS_OVERSUBSCRIBED with more ranks than this host has cores. */
  private readonly spinMs: number;

  private constructor(
    private readonly options: LaneBoardOptions,
    private readonly memory: BoardMemory,
  ) {
    this.peers = new Array<PeerBoard | null>(options.size).fill(null);
    this.spinMs = options.size <= availableParallelism() ? SPIN_MS : SPIN_MS_OVERSUBSCRIBED;
  }

  /** How this board reaches its files: through shared mappings or by pread/pwrite. */
  get memoryKind(): BoardMemoryKind {
    return this.memory.kind;
  }

  /**
   * Create this rank's board file (before the lane's join, so every rank's exists once all are
   * admitted). Null when the folder is not on tmpfs or the world has one rank.
   */
  static create(options: LaneBoardOptions): LaneBoard | null {
    if (options.size < 2 || !onTmpfs(options.dir)) return null;
    preciseNaps();
    return new LaneBoard(options, BoardMemory.create(boardPath(options, options.rank), SLOTS * SLOT_BYTES, options.memory ?? 'mapped'));
  }

  /** Whether an all-reduce of `buffer` goes through the board. */
  fits(buffer: FloatArray): boolean {
    return buffer.byteLength <= BOARD_MAX_BYTES;
  }

  /** In-place all-reduce of `buffer` with every rank (see the module comment); a refused value fails it with `refused`. */
  async allReduce(
    buffer: FloatArray,
    op: ReduceOp,
    collective: BoardCollective,
    check: ValueCheck,
    refused: (from: number, value: number, index: number) => Error,
  ): Promise<void> {
    if (performance.now() - this.lastTurn >= TURN_EVERY_MS) {
      // A loop whose collectives all complete here would never let its event loop run (IPC, ZeroMQ,
      // timers): one turn every TURN_EVERY_MS.
      await nextTurn();
      this.lastTurn = performance.now();
    }
    if (this.closed) throw new CommError('COMM', 'the communicator was closed');
    // Slots alternate with the count; the stamp (1 … 2³² − 1, never the 0 of a fresh file) names the post.
    const at = (this.count % SLOTS) * SLOT_BYTES;
    const stamp = (this.count % 0xffffffff) + 1;
    this.count++;
    // Every peer opened before the first post: a post wakes the peers it sees sleeping on it.
    if (this.count === 1) for (let peer = 0; peer < this.options.size; peer++) if (peer !== this.options.rank) this.peerBoard(peer);
    this.publish(buffer, stamp, at, collective);
    const { rank, size } = this.options;
    const sum = this.scratch(buffer);
    for (let from = 0; from < size; from++) {
      const values =
        from === rank ? buffer : (this.take(from, stamp, at, collective, buffer) ?? (await this.wait(from, stamp, at, collective, buffer)));
      const trusted = from === rank ? TRUSTED : check;
      const bad = from === 0 ? copyChecked(sum, values, trusted) : reduceChecked(sum, values, op, trusted);
      if (bad >= 0) throw refused(from, values[bad]!, bad);
    }
    buffer.set(sum);
  }

  /** Close the descriptors. The folder's removal takes the files. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.memory.close();
    for (const peer of this.peers) peer?.close();
  }

  private scratch(buffer: FloatArray): FloatArray {
    if (buffer instanceof Float32Array) {
      if (this.sum32.length < buffer.length) this.sum32 = new Float32Array(buffer.length);
      return this.sum32.subarray(0, buffer.length);
    }
    if (this.sum64.length < buffer.length) this.sum64 = new Float64Array(buffer.length);
    return this.sum64.subarray(0, buffer.length);
  }

  /** Write this rank's post of `buffer` into the slot at `at`: payload and trailer first, the header last. */
  private publish(buffer: FloatArray, stamp: number, at: number, collective: BoardCollective): void {
    const bytes = buffer.byteLength;
    this.post.set(new Uint8Array(buffer.buffer, buffer.byteOffset, bytes), HEADER_BYTES);
    const view = this.postView;
    view.setUint32(HEADER_BYTES + bytes, stamp, true);
    view.setUint32(0, stamp, true);
    view.setUint32(4, collective.name, true);
    view.setFloat64(8, collective.seq, true);
    view.setUint8(16, buffer instanceof Float32Array ? 1 : 2);
    view.setUint32(20, buffer.length, true);
    this.memory.publish(this.post, HEADER_BYTES + bytes + TRAILER_BYTES, at, stamp); // the stamp lands last
  }

  /** `from`'s post stamped `stamp`, as values of `like`'s dtype and length (a view of `read`), or null while it is not there. */
  private take(from: number, stamp: number, at: number, collective: BoardCollective, like: FloatArray): FloatArray | null {
    const peer = this.peerBoard(from);
    const view = this.readView;
    // The whole post in one copy: a header with this stamp was written after the payload and trailer.
    const bytes = like.byteLength;
    const total = HEADER_BYTES + bytes + TRAILER_BYTES;
    if (!peer.take(this.read, total, at, stamp) || view.getUint32(0, true) !== stamp) return null;
    const name = view.getUint32(4, true);
    const seq = view.getFloat64(8, true);
    if (name !== collective.name || seq !== collective.seq) {
      throw new CommError(
        'COMM',
        `rank ${from} is in another collective (#${seq}) while this rank is in allReduce (collective #${collective.seq}): every rank must call the same collectives in the same order`,
        { rank: from },
      );
    }
    const dtype = view.getUint8(16);
    const length = view.getUint32(20, true);
    const wanted = like instanceof Float32Array ? 1 : 2;
    if (dtype !== wanted || length !== like.length) {
      throw new CommError(
        'COMM',
        `allReduce (collective #${collective.seq}): rank ${from} posted ${length} values of dtype ${dtype} where ${like.length} of dtype ${wanted} were expected: the ranks' buffers differ`,
        { rank: from },
      );
    }
    if (view.getUint32(HEADER_BYTES + bytes, true) !== stamp) return null; // not possible when writes land in order; read again
    return like instanceof Float32Array
      ? new Float32Array(this.read.buffer, HEADER_BYTES, length)
      : new Float64Array(this.read.buffer, HEADER_BYTES, length);
  }

  /** Poll for `from`'s post: for spinMs, then between sleeps, then between event-loop turns, until its loss or the timeout. */
  private async wait(from: number, stamp: number, at: number, collective: BoardCollective, like: FloatArray): Promise<FloatArray> {
    const started = performance.now();
    let now = started;
    while (now - started < this.spinMs) {
      const values = this.take(from, stamp, at, collective, like);
      if (values !== null) return values;
      now = performance.now();
    }
    const { timeoutMs, warnMs } = this.options;
    let warned = warnMs <= 0 || warnMs >= timeoutMs;
    for (;;) {
      const problem = this.options.problem(from);
      if (problem !== null) throw problem;
      if (this.closed) throw new CommError('COMM', 'the communicator was closed while waiting');
      const waited = performance.now() - started;
      if (waited >= timeoutMs) {
        throw new CommError(
          'TIMEOUT',
          `allReduce (collective #${collective.seq}): rank ${from} (${this.options.hostOf(from)}) posted nothing within ${timeoutMs} ms; it is stuck or much slower`,
          { rank: from, host: this.options.hostOf(from) },
        );
      }
      if (!warned && waited >= warnMs) {
        warned = true;
        this.options.log(
          stragglerLine(
            { what: `allReduce (collective #${collective.seq})`, rank: from, host: this.options.hostOf(from), timeoutMs },
            waited,
          ),
        );
      }
      if (waited < SLEEPS_MS) this.peerBoard(from).sleep(at);
      else await pause();
      const values = this.take(from, stamp, at, collective, like);
      if (values !== null) return values;
    }
  }

  private peerBoard(from: number): PeerBoard {
    const known = this.peers[from];
    if (known !== null && known !== undefined) return known;
    const opened = this.memory.openPeer(boardPath(this.options, from));
    if (typeof opened === 'string') throw new CommError('COMM', `rank ${from}'s lane board cannot be used: ${opened}`, { rank: from });
    this.peers[from] = opened;
    return opened;
  }
}

/**
 * Set this thread's timer slack to 1 µs (Linux: /proc/self/timerslack_ns is the main thread's, and a
 * thread may set its own), so that a nap (files) or a sleep's timeout (mappings) lasts about as long
 * as asked: a 10 µs nap took 82 µs under Linux's default 50 µs slack, 33–39 µs with 1 µs. Best
 * effort, main thread only (a board lives on a rank's main thread).
 */
function preciseNaps(): void {
  if (process.platform !== 'linux' || !isMainThread) return;
  try {
    writeFileSync('/proc/self/timerslack_ns', '1000');
  } catch {
    // not permitted or no procfs: naps run long, nothing else changes
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}
