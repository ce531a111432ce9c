/**
 * Where received messages wait for their reader: per channel (user point-to-point, collective, a
 * kept world's renewal: zmq/renewal.ts) and per sending rank, FIFO, with an arrival number so
 * `recv()` from any rank takes the oldest. A reader that comes first waits, with a timeout; a
 * transport that learns a peer is gone rejects the waits that depend on it.
 */
import type { FloatArray } from '../../core/storage.js';
import type { Envelope } from './wire.js';

export type Channel = 'user' | 'coll' | 'renew';

export interface Incoming {
  from: number;
  envelope: Envelope;
  arrays: FloatArray[];
  /** The message's byte frames (wire.ts), in order. */
  byteFrames: Uint8Array[];
  bytes: number;
}

export interface Waiter {
  channel: Channel;
  /** The sender waited for; undefined for any. */
  from: number | undefined;
  resolve: (message: Incoming) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class Mailbox {
  private readonly queues: Record<Channel, { seq: number; message: Incoming }[][]>;
  private waiters: Waiter[] = [];
  private arrivals = 0;

  constructor(size: number) {
    const perRank = (): { seq: number; message: Incoming }[][] => Array.from({ length: size }, () => []);
    this.queues = { user: perRank(), coll: perRank(), renew: perRank() };
  }

  /** Hand `message` to the first waiter that wants it, else queue it. */
  deliver(channel: Channel, message: Incoming): void {
    const index = this.waiters.findIndex((w) => w.channel === channel && (w.from === undefined || w.from === message.from));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      clearTimeout(waiter!.timer);
      waiter!.resolve(message);
      return;
    }
    this.queues[channel][message.from]!.push({ seq: this.arrivals++, message });
  }

  /** The oldest queued message on `channel` from `from` (any rank when undefined), or null. */
  takeQueued(channel: Channel, from: number | undefined): Incoming | null {
    const queues = this.queues[channel];
    let source = from;
    if (source === undefined) {
      let best = Infinity;
      queues.forEach((queue, r) => {
        if (queue.length > 0 && queue[0]!.seq < best) {
          best = queue[0]!.seq;
          source = r;
        }
      });
    }
    return source !== undefined && queues[source]!.length > 0 ? queues[source]!.shift()!.message : null;
  }

  /** Wait for the next message on `channel` from `from`; rejects with `onTimeout()` after `timeoutMs`. */
  wait(channel: Channel, from: number | undefined, timeoutMs: number, onTimeout: () => Error): Promise<Incoming> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        channel,
        from,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(onTimeout());
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Whether a message waits on `channel` from any rank, or a reader waits for one. */
  busy(channel: Channel): boolean {
    return this.waiters.some((w) => w.channel === channel) || this.queues[channel].some((queue) => queue.length > 0);
  }

  /** Reject every wait that `match` selects. */
  rejectWhere(match: (waiter: Waiter) => boolean, error: () => Error): void {
    const keep: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (match(waiter)) {
        clearTimeout(waiter.timer);
        waiter.reject(error());
      } else keep.push(waiter);
    }
    this.waiters = keep;
  }
}
