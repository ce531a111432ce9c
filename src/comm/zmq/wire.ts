/**
 * The wire format of the ZeroMQ transport: one ZeroMQ multipart message per shardlearn message.
 *
 *   frame 0      UTF-8 JSON envelope, at most 64 KiB: { v, k, ... } — protocol version, kind,
 *                small metadata only (tag, user header, collective sequence, dtypes of the arrays)
 *   frames 1..n  the typed arrays' raw bytes (little-endian, as the host stores them), one per frame
 *   then m more  opaque byte frames (a codec's encoded update, comm/codecs), whose exact lengths the
 *                envelope announces in `b`: a frame cut short or grown on the way is refused
 *
 * Data only: JSON.parse of the envelope and typed-array views of the frames; no eval, no class
 * revival, no prototype keys. Every field is checked on decode, and a message that does not decode
 * throws a `WireError` with the reason — the transport logs it and drops that message's peer.
 *
 * @example
 * const frames = encodeMessage({ v: PROTOCOL_VERSION, k: 'user', tag: 'push' }, [gradient]);
 * const { envelope, arrays } = decodeMessage(frames);
 */
import type { FloatArray } from '../../core/storage.js';

/** Bumped on any incompatible change; peers with another version are refused at hello. */
export const PROTOCOL_VERSION = 1;
/** Largest envelope (frame 0) accepted: metadata, not data. */
export const MAX_ENVELOPE_BYTES = 64 * 1024;
/** Most array frames in one message (byte frames count too). */
export const MAX_ARRAYS = 64;
/** Largest byte frame accepted (1 GiB): a length beyond it is a corrupted or hostile envelope. */
export const MAX_BYTE_FRAME = 2 ** 30;

export type WireDType = 'f64' | 'f32';

/**
 * What kind of message: rendezvous and membership (hello/welcome/refuse/bye), user point-to-point,
 * collective traffic, and the renewal of a kept world for its next job (zmq/renewal.ts).
 */
export type WireKind = 'hello' | 'welcome' | 'refuse' | 'bye' | 'user' | 'coll' | 'renew';
const KINDS: readonly WireKind[] = ['hello', 'welcome', 'refuse', 'bye', 'user', 'coll', 'renew'];

export interface Envelope {
  v: number;
  k: WireKind;
  /** user: the message tag; coll: the collective's name. */
  tag?: string;
  /** user: the message's small JSON header. hello/welcome/refuse: their fields. */
  h?: Record<string, unknown>;
  /** coll: the collective's sequence number on the sender (SPMD: equal on every rank). */
  c?: number;
  /** dtypes of frames 1..n. */
  d?: WireDType[];
  /** Lengths of the byte frames that follow the arrays' frames. */
  b?: number[];
}

/** A message that does not decode; `reason` says what is wrong with it. */
export class WireError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'WireError';
  }
}

const dtypeOf = (array: FloatArray): WireDType => (array instanceof Float32Array ? 'f32' : 'f64');

/**
 * The frames of one message: the envelope, the arrays, then the byte frames. Arrays and byte frames
 * are sent as views (copy first if you will mutate them before the send completes).
 */
export function encodeMessage(
  envelope: Omit<Envelope, 'd' | 'b'>,
  arrays: readonly FloatArray[] = [],
  bytes: readonly Uint8Array[] = [],
): Buffer[] {
  const full: Envelope = {
    ...envelope,
    ...(arrays.length === 0 ? {} : { d: arrays.map(dtypeOf) }),
    ...(bytes.length === 0 ? {} : { b: bytes.map((frame) => frame.byteLength) }),
  };
  const frames: Buffer[] = [Buffer.from(JSON.stringify(full), 'utf8')];
  for (const array of arrays) frames.push(Buffer.from(array.buffer, array.byteOffset, array.byteLength));
  for (const frame of bytes) frames.push(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  return frames;
}

/** Total bytes of `frames` (what the stats count as sent or received). */
export function wireBytes(frames: readonly Uint8Array[]): number {
  let bytes = 0;
  for (const frame of frames) bytes += frame.byteLength;
  return bytes;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** The typed array of a frame: a view when aligned, else a copy (ZeroMQ frames need not be 8-byte aligned). */
function arrayOf(frame: Uint8Array, dtype: WireDType, index: number): FloatArray {
  const size = dtype === 'f64' ? 8 : 4;
  if (frame.byteLength % size !== 0)
    throw new WireError(`array ${index} has ${frame.byteLength} bytes, not a whole number of ${dtype} values`);
  const Type = dtype === 'f64' ? Float64Array : Float32Array;
  if (frame.byteOffset % size === 0) return new Type(frame.buffer as ArrayBuffer, frame.byteOffset, frame.byteLength / size);
  const copy = new Uint8Array(frame.byteLength);
  copy.set(frame);
  return new Type(copy.buffer);
}

/**
 * Parse and check one message's frames: the arrays as typed arrays, the byte frames as they came.
 * Throws `WireError` with the reason when it is malformed.
 */
export function decodeMessage(frames: readonly Uint8Array[]): { envelope: Envelope; arrays: FloatArray[]; bytes: Uint8Array[] } {
  const first = frames[0];
  if (first === undefined) throw new WireError('empty message');
  if (first.byteLength > MAX_ENVELOPE_BYTES) throw new WireError(`envelope of ${first.byteLength} bytes exceeds ${MAX_ENVELOPE_BYTES}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(first.buffer, first.byteOffset, first.byteLength).toString('utf8'));
  } catch {
    throw new WireError('envelope is not JSON (not a shardlearn peer, or a corrupted frame)');
  }
  if (!isPlainObject(parsed)) throw new WireError('envelope is not a JSON object');
  const { v, k, tag, h, c, d, b } = parsed;
  if (v !== PROTOCOL_VERSION)
    throw new WireError(
      `protocol version ${JSON.stringify(v)}, expected ${PROTOCOL_VERSION} (run the same shardlearn version on every rank)`,
    );
  if (!KINDS.includes(k as WireKind)) throw new WireError(`unknown message kind ${JSON.stringify(k)}`);
  if (tag !== undefined && typeof tag !== 'string') throw new WireError('tag is not a string');
  if (h !== undefined && !isPlainObject(h)) throw new WireError('header is not a JSON object');
  if (c !== undefined && !Number.isSafeInteger(c)) throw new WireError('collective sequence is not an integer');
  const dtypes = d ?? [];
  if (!Array.isArray(dtypes) || dtypes.length > MAX_ARRAYS || dtypes.some((x) => x !== 'f64' && x !== 'f32'))
    throw new WireError('array dtypes are not a list of f64/f32');
  const lengths = b ?? [];
  if (
    !Array.isArray(lengths) ||
    dtypes.length + lengths.length > MAX_ARRAYS ||
    lengths.some((x) => !Number.isSafeInteger(x) || (x as number) < 0 || (x as number) > MAX_BYTE_FRAME)
  )
    throw new WireError(`byte frame lengths are not a list of whole numbers of bytes up to ${MAX_BYTE_FRAME}`);
  if (dtypes.length + lengths.length !== frames.length - 1)
    throw new WireError(
      `envelope announces ${dtypes.length} arrays and ${lengths.length} byte frames, message has ${frames.length - 1} frames after it`,
    );
  const arrays = (dtypes as WireDType[]).map((dtype, i) => arrayOf(frames[i + 1]!, dtype, i));
  const bytes = (lengths as number[]).map((length, i) => {
    const frame = frames[dtypes.length + 1 + i]!;
    if (frame.byteLength !== length)
      throw new WireError(
        `byte frame ${i} has ${frame.byteLength} bytes, the envelope announces ${length} (${frame.byteLength < length ? 'truncated' : 'oversized'})`,
      );
    return frame;
  });
  const envelope: Envelope = { v, k: k as WireKind };
  if (tag !== undefined) envelope.tag = tag;
  if (h !== undefined) envelope.h = h;
  if (c !== undefined) envelope.c = c as number;
  return { envelope, arrays, bytes };
}

/**
 * Index and value of the first value not allowed in `array`, or null. `allowInfinity` admits ±∞
 * (the identities of max and min, which the collectives may legitimately carry); NaN never passes.
 */
export function firstInvalid(array: FloatArray, allowInfinity: boolean): { index: number; value: number } | null {
  for (let i = 0; i < array.length; i++) {
    const value = array[i]!;
    // value - value is 0 for finite values and NaN for ±∞ and NaN: one comparison in the hot loop.
    if (value - value !== 0 && !(allowInfinity && (value === Infinity || value === -Infinity))) return { index: i, value };
  }
  return null;
}
