/**
 * The frames of the collective lane (zmq/lane.ts) and the reader that parses them as they arrive.
 *
 * Frame (little-endian): u32 magic 'SLL1', u8 dtype (0 none, 1 f32, 2 f64), u8 kind, u8 slot, 1 byte
 * 0, u32 payload bytes, u32 hash of the collective's name, f64 collective sequence; then the payload.
 * Kinds: 0 the payload follows on the socket; 1 a notice — the payload is in the sender's segment
 * file `slot` (zmq/lane-files.ts), nothing follows; 2 an acknowledgement that this rank's file `slot`
 * was read (no dtype, no payload). A header is checked before its payload is allocated: a bad magic,
 * dtype or kind, a payload above `maxMessageBytes` or not a whole number of values, a bad sequence,
 * a notice or acknowledgement of the wrong slot, is refused, and the lane loses that peer.
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
/** The payload of a frame that has none (one array for all: a fresh empty one per frame is an ArrayBuffer each). */
const NO_BYTES = new Uint8Array(0);
/** Frame kinds (byte 5 of the header). */
export const INLINE = 0;
export const IN_FILE = 1;
export const ACK = 2;

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

/**
 * The header of a frame carrying `array` (or nothing) in `collective`; `file`: the payload is in the
 * sender's segment file of that slot (kind IN_FILE), not after the header.
 */
export function encodeHeader(array: FloatArray | null, collective: { seq: number; name: number }, file?: { slot: number }): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  return encodeHeaderInto(header, array, collective, file);
}

/** `encodeHeader` into the first HEADER_BYTES of `header` (every header byte is written); returns `header`. */
export function encodeHeaderInto(
  header: Buffer,
  array: FloatArray | null,
  collective: { seq: number; name: number },
  file?: { slot: number },
): Buffer {
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt8(array === null ? 0 : array instanceof Float32Array ? 1 : 2, 4);
  header.writeUInt8(file === undefined ? INLINE : IN_FILE, 5);
  header.writeUInt8(file === undefined ? 0 : file.slot, 6);
  header.writeUInt8(0, 7);
  header.writeUInt32LE(array === null ? 0 : array.byteLength, 8);
  header.writeUInt32LE(collective.name, 12);
  header.writeDoubleLE(collective.seq, 16);
  return header;
}

/** The acknowledgement that this rank read the sender's segment file `slot`. */
export function encodeAck(slot: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt8(ACK, 5);
  header.writeUInt8(slot, 6);
  return header;
}

/**
 * The page-cache channel as a reader sees it (zmq/lane.ts): each returns null, or why the frame is
 * refused (the lane then loses the peer).
 */
export interface ReaderFiles {
  /** Read the peer's segment file `slot` into `into` (and acknowledge it). */
  read(slot: number, into: Uint8Array): string | null;
  /** The peer read this rank's segment file `slot`. */
  acknowledged(slot: number): string | null;
}

/** Reads one peer's frames on the connection this rank opened, each payload straight into its typed array. */
export class Reader {
  private state: 'admission' | 'header' | 'payload' = 'admission';
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private readonly admission = Buffer.alloc(1);
  private filled = 0;
  private payload: Uint8Array = NO_BYTES;
  private array: FloatArray | null = null;
  private seq = 0;
  private name = 0;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly onAdmitted: () => void,
    private readonly onFrame: (frame: LaneFrame) => void,
    private readonly onMalformed: (reason: string) => void,
    /** The memory a payload of `length` values is read into (`seq`, `name`: its collective, from its header). */
    private readonly take: (dtype: 1 | 2, length: number, seq: number, name: number) => FloatArray,
    private readonly files: ReaderFiles | null = null,
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
    const kind = h.readUInt8(5);
    const slot = h.readUInt8(6);
    const bytes = h.readUInt32LE(8);
    this.name = h.readUInt32LE(12);
    this.seq = h.readDoubleLE(16);
    const size = dtype === 1 ? 4 : dtype === 2 ? 8 : 0;
    const problem =
      magic !== MAGIC
        ? 'a frame without the lane magic'
        : dtype > 2
          ? `a frame of unknown dtype ${dtype}`
          : kind > ACK
            ? `a frame of unknown kind ${kind}`
            : kind !== INLINE && this.files === null
              ? 'a segment-file frame, but this lane has no page-cache channel'
              : kind === ACK && (dtype !== 0 || bytes !== 0)
                ? 'an acknowledgement with a payload'
                : kind === IN_FILE && (dtype === 0 || bytes === 0)
                  ? 'a segment-file notice without a payload'
                  : bytes > this.maxMessageBytes
                    ? `a frame of ${bytes} bytes, over the maximum message size of ${this.maxMessageBytes}`
                    : (size === 0 && bytes !== 0) || (size > 0 && bytes % size !== 0)
                      ? `a frame of ${bytes} bytes, not a whole number of values`
                      : !Number.isSafeInteger(this.seq) || this.seq < 0
                        ? 'a frame with a bad collective sequence'
                        : null;
    if (problem !== null) return this.onMalformed(problem);
    if (kind === ACK) {
      const refused = this.files!.acknowledged(slot);
      if (refused !== null) this.onMalformed(refused);
      return;
    }
    if (kind === IN_FILE) {
      this.array = this.take(dtype as 1 | 2, bytes / size, this.seq, this.name);
      this.payload = new Uint8Array(this.array.buffer, this.array.byteOffset, bytes);
      const refused = this.files!.read(slot, this.payload);
      if (refused !== null) return this.onMalformed(refused);
      this.finish();
      return;
    }
    if (size === 0) {
      this.array = null;
      this.payload = NO_BYTES;
      this.finish();
      return;
    }
    this.array = this.take(dtype as 1 | 2, bytes / size, this.seq, this.name);
    this.payload = new Uint8Array(this.array.buffer, this.array.byteOffset, bytes);
    this.state = 'payload';
    if (bytes === 0) this.finish();
  }

  private finish(): void {
    const frame: LaneFrame = { seq: this.seq, name: this.name, array: this.array, bytes: HEADER_BYTES + this.payload.byteLength };
    this.state = 'header';
    this.filled = 0;
    this.array = null;
    this.payload = NO_BYTES;
    this.onFrame(frame);
  }
}
