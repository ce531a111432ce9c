/**
 * The `threads` paradigm's communicator: ranks are worker threads of one process sharing a
 * `SharedWorld` (see shm/world.ts). No postMessage on the hot path — data moves by
 * copying into shared memory and ranks synchronise with Atomics.
 *
 * All-reduce, per chunk of at most one slot:
 *   1. every rank copies its chunk into its own slot;                        barrier
 *   2. rank r reduces segment r of the chunk (a reduce-scatter): slot0 ∘ slot1 ∘ … in ascending rank
 *      order, written into slot 0's segment — so each element is (((b0 + b1) + b2) + …) whichever
 *      rank computes it, and a fixed world size is bitwise reproducible;       barrier
 *   3. every rank copies slot 0 back into its buffer (the all-gather).
 * Consecutive collectives alternate between the two scratch halves, so the next collective's first
 * barrier already guarantees nobody still reads what it overwrites: two barriers per chunk, not three.
 *
 * A small buffer (at most `ONE_BARRIER_MAX_LENGTH` values, one chunk) skips the reduce-scatter: after
 * the first barrier every rank sums all slots itself, slot0 ∘ slot1 ∘ … in the same ascending order,
 * so the bits are those of the chunked path and the collective costs one barrier. That is SGD's case:
 * one all-reduce of a ~51-value gradient per 64-row step, where each barrier costs as much as the
 * step's arithmetic.
 *
 * @example
 * const comm = new SharedMemoryCommunicator(workerData.world, workerData.rank, { timeoutMs: 60_000 });
 * await comm.allReduce(gradient, 'sum');
 */
import { CommError } from '../../core/errors.js';
import type { FloatArray } from '../../core/storage.js';
import type { Communicator, CommStats, Message, ReduceOp } from '../communicator.js';
import { DEFAULT_TIMEOUT_MS, emptyStats, reduceInto } from '../communicator.js';
import { Mailbox, bytesOf, encodeHead } from './mailbox.js';
import { Waiter } from './wait.js';
import type { ControlLayout, SharedWorld } from './world.js';
import { BARRIER_COUNT, BARRIER_GENERATION, START_COUNT, controlLayout } from './world.js';

export interface SharedMemoryOptions {
  /** Longest wait for a peer before a `CommError('TIMEOUT')` naming it. Default 120 s. */
  timeoutMs?: number;
}

type Views<T> = [T[], T[]]; // [half][rank]

/**
 * Longest buffer all-reduced with one barrier, every rank reducing all of it (see the module comment).
 * Each rank then adds (size − 1)·n values instead of (size − 1)·n/size: for n = 1,024 and 2 ranks
 * ~0.5 µs more arithmetic against one barrier (a few µs spinning, tens of µs when a rank sleeps).
 */
export const ONE_BARRIER_MAX_LENGTH = 1024;

export class SharedMemoryCommunicator implements Communicator {
  readonly rank: number;
  readonly size: number;
  readonly stats: CommStats = emptyStats();
  private readonly control: Int32Array;
  private readonly layout: ControlLayout;
  private readonly waiter: Waiter;
  private readonly slots64: Views<Float64Array>;
  private readonly slots32: Views<Float32Array>;
  private readonly halves64: [Float64Array, Float64Array];
  private readonly halves32: [Float32Array, Float32Array];
  private readonly outboxes: (Mailbox | null)[];
  private readonly inboxes: (Mailbox | null)[];
  private readonly sendQueues: Promise<unknown>[];
  private recvQueue: Promise<unknown> = Promise.resolve();
  private sequence = 0;
  private barriersEntered = 0;
  private nextSender = 0;
  private broken: CommError | null = null;
  private closed = false;

  constructor(world: SharedWorld, rank: number, options: SharedMemoryOptions = {}) {
    if (!Number.isInteger(rank) || rank < 0 || rank >= world.size) {
      throw new CommError('COMM', `rank ${rank} does not exist in a world of size ${world.size}; expected 0..${world.size - 1}`);
    }
    this.rank = rank;
    this.size = world.size;
    this.control = new Int32Array(world.control);
    this.layout = controlLayout(world.size);
    this.waiter = new Waiter(this.control, rank, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, this.layout.waiting(rank));
    const slot = world.slotBytes;
    const halfBytes = world.size * slot;
    const slotViews = <T>(make: (offset: number, length: number) => T, bytes: number): Views<T> =>
      [0, 1].map((half) => Array.from({ length: world.size }, (_, r) => make(half * halfBytes + r * slot, slot / bytes))) as Views<T>;
    this.slots64 = slotViews((offset, length) => new Float64Array(world.scratch, offset, length), 8);
    this.slots32 = slotViews((offset, length) => new Float32Array(world.scratch, offset, length), 4);
    this.halves64 = [new Float64Array(world.scratch, 0, halfBytes / 8), new Float64Array(world.scratch, halfBytes, halfBytes / 8)];
    this.halves32 = [new Float32Array(world.scratch, 0, halfBytes / 4), new Float32Array(world.scratch, halfBytes, halfBytes / 4)];
    const mailbox = (from: number, to: number): Mailbox | null =>
      from === to ? null : new Mailbox(this.control, this.layout, world.mailboxes, world.mailboxBytes, from, to, world.size);
    this.outboxes = Array.from({ length: world.size }, (_, to) => mailbox(rank, to));
    this.inboxes = Array.from({ length: world.size }, (_, from) => mailbox(from, rank));
    this.sendQueues = Array.from({ length: world.size }, () => Promise.resolve());
  }

  async allReduce(buffer: FloatArray, op: ReduceOp = 'sum'): Promise<void> {
    const started = this.enter('allReduce');
    try {
      if (this.size > 1 && buffer.length <= Math.min(this.slots64[0][0]!.length, ONE_BARRIER_MAX_LENGTH)) {
        if (buffer instanceof Float32Array) this.allReduceOneBarrier(buffer, this.slots32, op);
        else this.allReduceOneBarrier(buffer, this.slots64, op);
      } else if (this.size > 1) {
        const slots = buffer instanceof Float32Array ? this.slots32 : this.slots64;
        const chunk = slots[0][0]!.length;
        const bytes = buffer.BYTES_PER_ELEMENT;
        for (let offset = 0; offset < buffer.length; offset += chunk) {
          const length = Math.min(chunk, buffer.length - offset);
          const half = slots[(this.sequence++ & 1) as 0 | 1];
          half[this.rank]!.set(buffer.subarray(offset, offset + length));
          this.barrierSync('allReduce');
          const start = Math.floor((this.rank * length) / this.size);
          const end = Math.floor(((this.rank + 1) * length) / this.size);
          const target = half[0]!;
          for (let r = 1; r < this.size; r++) reduceInto(target, half[r]!, op, start, end - start);
          this.barrierSync('allReduce');
          buffer.set(target.subarray(0, length), offset);
          this.stats.bytesSent += (length + (this.rank === 0 ? 0 : end - start)) * bytes;
          this.stats.bytesReceived += ((this.size - 1) * (end - start) + length - (end - start)) * bytes;
        }
      }
      this.stats.collectives++;
    } finally {
      this.leave(started);
    }
  }

  /** A buffer that fits one slot: write it, one barrier, then sum every rank's slot in rank order into it. */
  private allReduceOneBarrier<T extends FloatArray>(buffer: T, slots: Views<T>, op: ReduceOp): void {
    const length = buffer.length;
    const half = slots[(this.sequence++ & 1) as 0 | 1];
    half[this.rank]!.set(buffer);
    this.barrierSync('allReduce');
    buffer.set(half[0]!.subarray(0, length));
    for (let r = 1; r < this.size; r++) reduceInto(buffer, half[r]!, op, 0, length);
    const bytes = length * buffer.BYTES_PER_ELEMENT;
    this.stats.bytesSent += bytes;
    this.stats.bytesReceived += (this.size - 1) * bytes;
  }

  async broadcast(buffer: FloatArray, root: number): Promise<void> {
    if (!Number.isInteger(root) || root < 0 || root >= this.size) {
      throw new CommError('COMM', `broadcast root ${root} does not exist in a world of size ${this.size}; expected 0..${this.size - 1}`);
    }
    const started = this.enter('broadcast');
    try {
      if (this.size > 1) {
        const halves = buffer instanceof Float32Array ? this.halves32 : this.halves64;
        const chunk = halves[0].length;
        const bytes = buffer.BYTES_PER_ELEMENT;
        for (let offset = 0; offset < buffer.length; offset += chunk) {
          const length = Math.min(chunk, buffer.length - offset);
          const half = halves[(this.sequence++ & 1) as 0 | 1];
          if (this.rank === root) half.set(buffer.subarray(offset, offset + length));
          this.barrierSync(`broadcast from rank ${root}`);
          if (this.rank === root) this.stats.bytesSent += length * bytes;
          else {
            buffer.set(half.subarray(0, length), offset);
            this.stats.bytesReceived += length * bytes;
          }
        }
      }
      this.stats.collectives++;
    } finally {
      this.leave(started);
    }
  }

  async barrier(): Promise<void> {
    const started = this.enter('barrier');
    try {
      this.barrierSync('barrier');
    } finally {
      this.leave(started);
    }
  }

  /**
   * Cross the threads paradigm's start line (once per world, before training) and go on at once:
   * until every rank has crossed it, this rank's waits for its peers may last `timeoutMs` (start-up
   * may legitimately take longer than a collective) instead of the collectives' timeout, so start-up
   * skew never counts against it. The ranks used to wait here for each other, which put the first
   * one to sleep until the last had its job: of a warm 1M-row threads×2 least-squares fit (~110 ms)
   * the second worker received its job up to 4 ms after the first, and the first, asleep, took up
   * to ~4 ms more to wake. Going on, the first rank starts its row passes, and the row board gives
   * it the chunks the other has not yet claimed.
   */
  crossStartLine(timeoutMs: number): void {
    this.waiter.checkAbort('the start of training');
    this.waiter.allowStartUp(START_COUNT, this.size, timeoutMs);
    Atomics.add(this.control, START_COUNT, 1);
  }

  send(to: number, message: Message): Promise<void> {
    let outbox: Mailbox;
    if ((message.bytes?.length ?? 0) > 0)
      return Promise.reject(
        new CommError('COMM', `send to rank ${to}: byte payloads (message.bytes) travel over the ZeroMQ transport only, not shared memory`),
      );
    try {
      outbox = this.peerBox(this.outboxes, to, 'send to');
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const queued = this.sendQueues[to]!.then(async () => {
      const started = this.enter(`send to rank ${to}`);
      try {
        const head = encodeHead(message);
        await outbox.write(head, this.waiter);
        let bytes = head.length;
        for (const array of message.arrays ?? []) {
          await outbox.write(bytesOf(array), this.waiter);
          bytes += array.byteLength;
        }
        this.stats.messagesSent++;
        this.stats.bytesSent += bytes;
      } finally {
        this.leave(started);
      }
    });
    // Sends to one peer are serialised so two in flight never interleave their bytes in the ring.
    this.sendQueues[to] = queued.catch(() => undefined);
    return queued;
  }

  recv(from?: number): Promise<Message & { from: number }> {
    try {
      if (from !== undefined) this.peerBox(this.inboxes, from, 'recv from');
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const queued = this.recvQueue.then(async () => {
      const started = this.enter(from === undefined ? 'recv' : `recv from rank ${from}`);
      try {
        const inbox = from === undefined ? await this.nextNonEmptyInbox() : this.inboxes[from]!;
        const { message, bytes } = await inbox.readMessage(this.waiter);
        this.stats.messagesReceived++;
        this.stats.bytesReceived += bytes;
        return { ...message, from: inbox.from };
      } finally {
        this.leave(started);
      }
    });
    this.recvQueue = queued.catch(() => undefined);
    return queued;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Tell the launcher's watchdog this rank is alive (called on every progress report too). */
  heartbeat(): void {
    Atomics.add(this.control, this.layout.heartbeat(this.rank), 1);
  }

  private async nextNonEmptyInbox(): Promise<Mailbox> {
    const doorbell = this.layout.doorbell(this.rank);
    for (;;) {
      const bell = Atomics.load(this.control, doorbell);
      // Round-robin from the last sender served, so one chatty rank cannot starve the others.
      for (let k = 1; k <= this.size; k++) {
        const inbox = this.inboxes[(this.nextSender + k) % this.size];
        if (inbox !== undefined && inbox !== null && inbox.available() > 0) {
          this.nextSender = inbox.from;
          return inbox;
        }
      }
      const others = [...Array(this.size).keys()].filter((r) => r !== this.rank);
      await this.waiter.waitAsync(doorbell, bell, 'recv from any rank', () => others);
    }
  }

  private peerBox(boxes: (Mailbox | null)[], peer: number, what: string): Mailbox {
    if (!Number.isInteger(peer) || peer < 0 || peer >= this.size) {
      throw new CommError('COMM', `${what} rank ${peer}: no such rank in a world of size ${this.size}; expected 0..${this.size - 1}`);
    }
    const box = boxes[peer];
    if (box === undefined || box === null) throw new CommError('COMM', `${what} rank ${peer}: a rank cannot message itself`);
    return box;
  }

  /** A sense-reversing barrier on two control words; on timeout, names the ranks that never arrived. */
  private barrierSync(what: string): void {
    if (this.size === 1) return;
    const entered = ++this.barriersEntered;
    Atomics.store(this.control, this.layout.arrivals(this.rank), entered);
    const generation = Atomics.load(this.control, BARRIER_GENERATION);
    if (Atomics.add(this.control, BARRIER_COUNT, 1) === this.size - 1) {
      Atomics.store(this.control, BARRIER_COUNT, 0);
      Atomics.add(this.control, BARRIER_GENERATION, 1);
      Atomics.notify(this.control, BARRIER_GENERATION);
      return;
    }
    try {
      this.waiter.waitSync(BARRIER_GENERATION, generation, what, () => this.laggards(entered));
    } catch (error) {
      // The barrier's counters now include this rank's arrival: the world cannot be trusted again.
      this.broken = error as CommError;
      throw error;
    }
  }

  private laggards(entered: number): number[] {
    const ranks: number[] = [];
    for (let r = 0; r < this.size; r++) if (((Atomics.load(this.control, this.layout.arrivals(r)) - entered) | 0) < 0) ranks.push(r);
    return ranks;
  }

  private enter(what: string): number {
    if (this.closed) throw new CommError('COMM', `rank ${this.rank}: ${what} on a closed communicator`);
    if (this.broken !== null)
      throw new CommError('COMM', `rank ${this.rank}: ${what} after an earlier failure: ${this.broken.message}`, { cause: this.broken });
    this.waiter.checkAbort(what);
    this.heartbeat();
    return performance.now();
  }

  private leave(started: number): void {
    this.stats.commMs += performance.now() - started;
    this.heartbeat();
  }
}
