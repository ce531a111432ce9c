/**
 * The frames of the collective lane (zmq/lane.ts) and the reader that parses them as they arrive.
 *
 * Frame (little-endian): u32 magic 'SLL1', u8 dtype (0 none, 1 f32, 2 f64), 3 bytes 0, u32 payload
 * bytes, u32 hash of the collective's name, f64 collective sequence; then the payload. A header is
 * checked before its payload is allocated: a bad magic or dtype, a payload above `maxMessageBytes` or
 * not a whole number of values, or a bad sequence is refused, and the lane loses that peer.
 *
 * @example
 * const reader = new Reader(maxMessageBytes, onAdmitted, onFrame, onMalformed, take);
 * connect({ path, onread: { buffer: () => reader.buffer(), callback: (n) => (reader.read(n), true) } });
 */
import type { FloatArray } from '../../core/storage.js';

const MAGIC = 0x314c4c53; // 'SLL1'
export const HEADER_BYTES = 24;
/** The byte an acceptor answers an admitted hello with. */
export const ADMITTED = 0x01;

/** A 32-bit FNV-1a hash of a collective's name, carried in each frame to catch ranks in different collectives. */
export function nameHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export interface LaneFrame {
  seq: number;
  name: number;
  array: FloatArray | null;
  /** Bytes on the wire, header included. */
  bytes: number;
}

/** The header of a frame carrying `array` (or nothing) in `collective`. */
export function encodeHeader(array: FloatArray | null, collective: { seq: number; name: number }): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt8(array === null ? 0 : array instanceof Float32Array ? 1 : 2, 4);
  header.writeUInt32LE(array === null ? 0 : array.byteLength, 8);
  header.writeUInt32LE(collective.name, 12);
  header.writeDoubleLE(collective.seq, 16);
  return header;
}

/** Reads one peer's frames on the connection this rank opened, each payload straight into its typed array. */
export class Reader {
  private state: 'admission' | 'header' | 'payload' = 'admission';
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private readonly admission = Buffer.alloc(1);
  private filled = 0;
  private payload: Uint8Array = new Uint8Array(0);
  private array: FloatArray | null = null;
  private seq = 0;
  private name = 0;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly onAdmitted: () => void,
    private readonly onFrame: (frame: LaneFrame) => void,
    private readonly onMalformed: (reason: string) => void,
    private readonly take: (dtype: 1 | 2, length: number) => FloatArray,
  ) {}

  /** The memory the next read fills. */
  buffer(): Uint8Array {
    if (this.state === 'admission') return this.admission;
    if (this.state === 'header') return this.header.subarray(this.filled);
    return this.payload.subarray(this.filled);
  }

  /** `bytes` arrived in the memory `buffer()` gave. */
  read(bytes: number): void {
    this.filled += bytes;
    if (this.state === 'admission') {
      this.filled = 0;
      if (this.admission[0] !== ADMITTED) return this.onMalformed('its lane answered the hello with an unknown byte');
      this.state = 'header';
      this.onAdmitted();
      return;
    }
    if (this.state === 'header') {
      if (this.filled < HEADER_BYTES) return;
      this.filled = 0;
      this.startPayload();
      return;
    }
    if (this.filled < this.payload.byteLength) return;
    this.finish();
  }

  private startPayload(): void {
    const h = this.header;
    const magic = h.readUInt32LE(0);
    const dtype = h.readUInt8(4);
    const bytes = h.readUInt32LE(8);
    this.name = h.readUInt32LE(12);
    this.seq = h.readDoubleLE(16);
    const size = dtype === 1 ? 4 : dtype === 2 ? 8 : 0;
    const problem =
      magic !== MAGIC
        ? 'a frame without the lane magic'
        : dtype > 2
          ? `a frame of unknown dtype ${dtype}`
          : bytes > this.maxMessageBytes
            ? `a frame of ${bytes} bytes, over the maximum message size of ${this.maxMessageBytes}`
            : (size === 0 && bytes !== 0) || (size > 0 && bytes % size !== 0)
              ? `a frame of ${bytes} bytes, not a whole number of values`
              : !Number.isSafeInteger(this.seq) || this.seq < 0
                ? 'a frame with a bad collective sequence'
                : null;
    if (problem !== null) return this.onMalformed(problem);
    if (size === 0) {
      this.array = null;
      this.payload = new Uint8Array(0);
      this.finish();
      return;
    }
    this.array = this.take(dtype as 1 | 2, bytes / size);
    this.payload = new Uint8Array(this.array.buffer);
    this.state = 'payload';
    if (bytes === 0) this.finish();
  }

  private finish(): void {
    const frame: LaneFrame = { seq: this.seq, name: this.name, array: this.array, bytes: HEADER_BYTES + this.payload.byteLength };
    this.state = 'header';
    this.filled = 0;
    this.array = null;
    this.payload = new Uint8Array(0);
    this.onFrame(frame);
  }
}
