/**
 * Point-to-point messages over shared memory: one single-producer single-consumer byte ring per
 * ordered pair of ranks, with two monotonically increasing 32-bit byte counters (written, read) in
 * the control words. A message is a frame
 *
 *   [u32 JSON bytes][u32 payload bytes][JSON {tag, header, arrays: [[dtype, length], …]}][array bytes…]
 *
 * streamed through the ring: a writer copies as much as fits and waits (asynchronously) for the
 * reader to free space, so a message may be larger than the ring. After writing, the sender bumps
 * the receiver's doorbell word, which is the one word a receiver sleeps on whoever the sender is
 * (that is what makes `recv()` from any rank possible without polling).
 */
import { CommError } from '../../core/errors.js';
import type { FloatArray } from '../../core/storage.js';
import type { Message } from '../communicator.js';
import { payloadBytes } from '../communicator.js';
import type { ControlLayout } from './world.js';
import type { Waiter } from './wait.js';

const PREFIX_BYTES = 8;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The frame head (prefix + JSON) of a message; the arrays follow as raw bytes. */
export function encodeHead(message: Message): Uint8Array {
  const arrays = (message.arrays ?? []).map((array) => [array instanceof Float32Array ? 'float32' : 'float64', array.length]);
  const json = encoder.encode(JSON.stringify({ tag: message.tag, header: message.header, arrays }));
  const head = new Uint8Array(PREFIX_BYTES + json.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, payloadBytes(message), true);
  head.set(json, PREFIX_BYTES);
  return head;
}

export function bytesOf(array: FloatArray): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** The ring from `from` to `to`, seen from either end. */
export class Mailbox {
  private readonly ring: Uint8Array;
  private readonly mask: number;
  private readonly writtenIndex: number;
  private readonly readIndex: number;
  private readonly doorbellIndex: number;

  constructor(
    private readonly control: Int32Array,
    layout: ControlLayout,
    buffer: SharedArrayBuffer,
    ringBytes: number,
    readonly from: number,
    readonly to: number,
    size: number,
  ) {
    this.ring = new Uint8Array(buffer, (from * size + to) * ringBytes, ringBytes);
    this.mask = ringBytes - 1;
    this.writtenIndex = layout.written(from, to);
    this.readIndex = layout.read(from, to);
    this.doorbellIndex = layout.doorbell(to);
  }

  /** Bytes written and not yet read. */
  available(): number {
    return (Atomics.load(this.control, this.writtenIndex) - Atomics.load(this.control, this.readIndex)) | 0;
  }

  /** Sender side: copy `bytes` in, waiting for the reader to make room as often as needed. */
  async write(bytes: Uint8Array, waiter: Waiter): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const written = Atomics.load(this.control, this.writtenIndex);
      const read = Atomics.load(this.control, this.readIndex);
      const free = this.ring.length - ((written - read) | 0);
      if (free === 0) {
        await waiter.waitAsync(this.readIndex, read, `send to rank ${this.to} (its mailbox is full)`, () => [this.to]);
        continue;
      }
      const count = Math.min(free, bytes.length - done);
      this.copyIn(bytes.subarray(done, done + count), (written >>> 0) & this.mask);
      Atomics.store(this.control, this.writtenIndex, (written + count) | 0);
      Atomics.add(this.control, this.doorbellIndex, 1);
      Atomics.notify(this.control, this.doorbellIndex);
      done += count;
    }
  }

  /** Receiver side: fill `target`, waiting for the sender as often as needed. */
  async read(target: Uint8Array, waiter: Waiter): Promise<void> {
    let done = 0;
    while (done < target.length) {
      const bell = Atomics.load(this.control, this.doorbellIndex);
      const written = Atomics.load(this.control, this.writtenIndex);
      const read = Atomics.load(this.control, this.readIndex);
      const available = (written - read) | 0;
      if (available === 0) {
        await waiter.waitAsync(this.doorbellIndex, bell, `recv from rank ${this.from}`, () => [this.from]);
        continue;
      }
      const count = Math.min(available, target.length - done);
      this.copyOut(target.subarray(done, done + count), (read >>> 0) & this.mask);
      Atomics.store(this.control, this.readIndex, (read + count) | 0);
      Atomics.notify(this.control, this.readIndex);
      done += count;
    }
  }

  /** Receiver side: one whole message. Returns it and the bytes it occupied. */
  async readMessage(waiter: Waiter): Promise<{ message: Message; bytes: number }> {
    const prefix = new Uint8Array(PREFIX_BYTES);
    await this.read(prefix, waiter);
    const view = new DataView(prefix.buffer);
    const jsonBytes = view.getUint32(0, true);
    const payloadBytes = view.getUint32(4, true);
    const json = new Uint8Array(jsonBytes);
    await this.read(json, waiter);
    const parsed = JSON.parse(decoder.decode(json)) as { tag: string; header?: Record<string, unknown>; arrays: [string, number][] };
    const arrays: FloatArray[] = [];
    for (const [dtype, length] of parsed.arrays) {
      const array = dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
      await this.read(bytesOf(array), waiter);
      arrays.push(array);
    }
    const message: Message = { tag: parsed.tag };
    if (parsed.header !== undefined) message.header = parsed.header;
    if (parsed.arrays.length > 0) message.arrays = arrays;
    let received = 0;
    for (const array of arrays) received += array.byteLength;
    if (received !== payloadBytes) {
      throw new CommError(
        'COMM',
        `message from rank ${this.from} is corrupt: header says ${payloadBytes} payload bytes, arrays hold ${received}`,
      );
    }
    return { message, bytes: PREFIX_BYTES + jsonBytes + payloadBytes };
  }

  private copyIn(bytes: Uint8Array, position: number): void {
    const first = Math.min(bytes.length, this.ring.length - position);
    this.ring.set(bytes.subarray(0, first), position);
    if (first < bytes.length) this.ring.set(bytes.subarray(first), 0);
  }

  private copyOut(target: Uint8Array, position: number): void {
    const first = Math.min(target.length, this.ring.length - position);
    target.set(this.ring.subarray(position, position + first));
    if (first < target.length) target.set(this.ring.subarray(0, target.length - first), first);
  }
}
