/**
 * A compact fixed-length encoding of sparse (index, value) pairs, for `topk16`: the vector is cut
 * into blocks of 65,536 values, so an index is its block's count (uint32, once a block) plus a
 * 16-bit offset within the block, and a value is IEEE half precision. 4 bytes a pair instead of the
 * 8 of `topk`'s (uint32, float32) pairs, plus 4 bytes a block — a length that depends on n and k
 * only, so `encodedBytes` stays exact (a varint of index gaps would be 1–2 bytes at these densities
 * but of data-dependent length).
 *
 * Layout: [⌈n/65536⌉ uint32 counts][k uint16 offsets][k fp16 values]; the indices ascend.
 */
import { ShardlearnError } from '../../core/errors.js';
import { fromHalfBits, toHalfBits } from './bits.js';

const BLOCK = 65536;

export function blockCount(length: number): number {
  return Math.ceil(length / BLOCK);
}

export function blockPairBytes(length: number, k: number): number {
  return 4 * blockCount(length) + 4 * k;
}

/** Encode the pairs (indices ascending) of `values`; returns the bytes and the values as the receiver will decode them. */
export function writeBlockPairs(indices: Uint32Array, values: Float64Array): { bytes: Uint8Array; sent: Float64Array } {
  const k = indices.length;
  const blocks = blockCount(values.length);
  const out = new Uint8Array(blockPairBytes(values.length, k));
  const counts = new Uint32Array(out.buffer, 0, blocks);
  const offsets = new Uint16Array(out.buffer, 4 * blocks, k);
  const halves = new Uint16Array(out.buffer, 4 * blocks + 2 * k, k);
  const sent = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const index = indices[j]!;
    counts[Math.floor(index / BLOCK)]!++;
    offsets[j] = index % BLOCK;
    halves[j] = toHalfBits(values[index]!);
    sent[j] = fromHalfBits(halves[j]!);
  }
  return { bytes: out, sent };
}

/** The dense vector the block pairs stand for; checks the counts and offsets. */
export function readBlockPairs(spec: string, bytes: Uint8Array, length: number): Float64Array {
  const blocks = blockCount(length);
  const k = (bytes.byteLength - 4 * blocks) / 4;
  const refuse = (why: string): ShardlearnError =>
    new ShardlearnError(
      'COMM',
      `codec '${spec}': ${bytes.byteLength} bytes for a vector of ${length} values: ${why}; every rank must use the same --compression on the same model`,
    );
  if (!Number.isInteger(k) || k < 0 || k > length) throw refuse(`expected ${4 * blocks} + 4·k bytes with k ≤ ${length}`);
  const copy = bytes.slice();
  const counts = new Uint32Array(copy.buffer, 0, blocks);
  const offsets = new Uint16Array(copy.buffer, 4 * blocks, k);
  const halves = new Uint16Array(copy.buffer, 4 * blocks + 2 * k, k);
  const out = new Float64Array(length);
  let j = 0;
  for (let block = 0; block < blocks; block++) {
    const end = j + counts[block]!;
    if (end > k) throw refuse(`block ${block}'s count runs past the ${k} pairs`);
    for (; j < end; j++) {
      const index = block * BLOCK + offsets[j]!;
      if (index >= length) throw refuse(`pair ${j} names index ${index}, outside the vector`);
      out[index] = fromHalfBits(halves[j]!);
    }
  }
  if (j !== k) throw refuse(`the block counts sum to ${j}, not the ${k} pairs sent`);
  return out;
}
