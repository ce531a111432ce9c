/**
 * All-gather of byte strings, written once on the Communicator's point-to-point `send`/`recv`
 * (the transports have no all-gather of their own): every rank sends its bytes to every other rank
 * and receives theirs, and every rank ends with the same list, indexed by rank. The compressed
 * all-reduce uses it: the sum of top-k or quantised gradients is not itself compressed, so the
 * ranks exchange the encodings and each decodes and sums them in rank order — every rank then holds
 * the same bits.
 *
 * Bytes per rank: (N − 1)·(m + header) out and as many in. Direct sends (not a ring) because
 * N is 2–8 here and each message is small; a ring (or recursive doubling) would matter when N·m is
 * large on a switched network.
 *
 * The carrier: messages carry float arrays only, and the ZeroMQ transport refuses non-finite values
 * on arrival (a diverged model must not poison its peers), so arbitrary bytes cannot ride as raw
 * float32 words — some bit patterns are NaN. Instead each float32 word carries 31 bits of the byte
 * string with its top exponent bit clear, which makes every word a finite float: 3% more bytes than
 * the encoding, counted by the transport like any other.
 *
 * @example
 * const all = await allGatherBytes(comm, encoded); // all[r] is rank r's encoded bytes
 */
import type { Communicator } from '../communicator.js';
import { CommError } from '../../core/errors.js';

const TAG = 'allgather-bytes';
const PAYLOAD_BITS = 31;

/**
 * The float32 words carrying `bytes`, 31 bits a word, least significant bit first (bit 30, the
 * exponent's top bit, always 0). Integer operations only (about 4 ms for 400 kB here).
 */
export function wordsOf(bytes: Uint8Array): Float32Array {
  const words = new Float32Array(Math.ceil((bytes.byteLength * 8) / PAYLOAD_BITS));
  const bits = new Uint32Array(words.buffer);
  let acc = 0; // the `held` low bits pending; bits 31 and up are garbage until masked
  let held = 0;
  let at = 0;
  for (let i = 0; i < bytes.byteLength; i++) {
    const byte = bytes[i]!;
    acc |= byte << held;
    held += 8;
    if (held >= PAYLOAD_BITS) {
      bits[at++] = packWord(acc & 0x7fffffff);
      held -= PAYLOAD_BITS;
      acc = byte >>> (8 - held); // the byte's bits that did not fit
    }
  }
  if (held > 0) bits[at] = packWord(acc & ((1 << held) - 1));
  return words;
}

/** The `byteLength` bytes carried by `words` (the inverse of wordsOf). */
export function bytesOf(words: Float32Array, byteLength: number): Uint8Array {
  const bits = new Uint32Array(words.buffer, words.byteOffset, words.length);
  const out = new Uint8Array(byteLength);
  let acc = 0;
  let held = 0;
  let at = 0;
  for (let i = 0; i < byteLength; i++) {
    if (held >= 8) {
      out[i] = acc & 0xff;
      acc >>>= 8;
      held -= 8;
    } else {
      const payload = unpackWord(bits[at++]!);
      out[i] = (acc | (payload << held)) & 0xff;
      acc = payload >>> (8 - held);
      held += PAYLOAD_BITS - 8;
    }
  }
  return out;
}

/** 31 payload bits → a word with bit 30 clear: the payload's bit 30 moves to the sign (bit 31). */
function packWord(payload: number): number {
  return ((payload & 0x3fffffff) | ((payload & 0x40000000) << 1)) >>> 0;
}

function unpackWord(word: number): number {
  return (word & 0x3fffffff) | ((word >>> 1) & 0x40000000);
}

/**
 * Largest message the all-gather sends, in bytes of words: the ZeroMQ sockets refuse frames over
 * SHARDLEARN_MAX_MESSAGE_BYTES (64 MiB by default), and the fp16 encoding of a 40M-parameter model
 * is 80 MB, so a long encoding goes as several messages (the collectives segment at 4 MiB too).
 */
export const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;

/**
 * Every rank's `mine`, indexed by rank; every rank must call it at the same point of its program.
 * Each rank's words go to each peer in messages of at most `segmentBytes`; the first says how many
 * bytes and messages follow, and per-pair FIFO order keeps them together.
 */
export async function allGatherBytes(comm: Communicator, mine: Uint8Array, segmentBytes = DEFAULT_SEGMENT_BYTES): Promise<Uint8Array[]> {
  const { rank, size } = comm;
  const all: Uint8Array[] = new Array<Uint8Array>(size);
  all[rank] = mine;
  if (size === 1) return all;
  const words = wordsOf(mine);
  const segmentWords = Math.max(1, Math.floor(segmentBytes / 4));
  const segments = Math.max(1, Math.ceil(words.length / segmentWords));
  const messages = Array.from({ length: segments }, (_, s) => ({
    tag: TAG,
    header: s === 0 ? { bytes: mine.byteLength, segments } : { segment: s },
    arrays: [words.subarray(s * segmentWords, (s + 1) * segmentWords)],
  }));
  // Staggered (rank+1, rank+2, …) so the ranks do not all send to rank 0 first.
  const sends: Promise<void>[] = [];
  for (let k = 1; k < size; k++) {
    const to = (rank + k) % size;
    const sending = (async () => {
      for (const message of messages) await comm.send(to, message);
    })();
    // Observed now: it is awaited only after the receives, and a send failing meanwhile (a peer
    // killed mid-collective) must not be an unhandled rejection that ends the process (link.ts `sendTo`).
    sending.catch(() => undefined);
    sends.push(sending);
  }
  try {
    for (let from = 0; from < size; from++) if (from !== rank) all[from] = await receiveFrom(comm, from);
  } finally {
    await Promise.all(sends);
  }
  return all;
}

async function receiveFrom(comm: Communicator, from: number): Promise<Uint8Array> {
  const bad = (got: string): CommError =>
    new CommError(
      'COMM',
      `allGatherBytes: expected an '${TAG}' message from rank ${from}, got ${got}; every rank must call the same collectives in the same order`,
      { rank: from },
    );
  const first = await comm.recv(from);
  const byteLength = first.header?.['bytes'];
  const segments = first.header?.['segments'];
  if (first.tag !== TAG || typeof byteLength !== 'number' || typeof segments !== 'number' || !(first.arrays?.[0] instanceof Float32Array))
    throw bad(`'${first.tag}'`);
  const words = new Float32Array(Math.ceil((byteLength * 8) / PAYLOAD_BITS));
  let at = 0;
  for (let s = 0; s < segments; s++) {
    const message = s === 0 ? first : await comm.recv(from);
    const piece = message.arrays?.[0];
    if (
      message.tag !== TAG ||
      !(piece instanceof Float32Array) ||
      at + piece.length > words.length ||
      (s > 0 && message.header?.['segment'] !== s)
    )
      throw bad(`'${message.tag}' as segment ${s} of ${segments}`);
    words.set(piece, at);
    at += piece.length;
  }
  if (at !== words.length) throw bad(`${at} words where ${words.length} carry ${byteLength} bytes`);
  return bytesOf(words, byteLength);
}
