/** What the two sparse codecs share: the density schedule of DGC's warm-up, and (index, value) bytes. */
import type { CodecState } from './codec.js';
import { ShardlearnError } from '../../core/errors.js';

/**
 * The fraction of values sent at `state.epoch`: during the W warm-up epochs the density falls
 * exponentially from ratio^(1/(S+1)) to the target in S = max(1, round(W)) equal stages (Lin et
 * al. 2018, DGC: 25%, 6.25%, 1.56%, 0.4%, then 0.1% for ratio 0.001 and W = 4: a stage an epoch),
 * then stays at `ratio`. W may be a fraction of an epoch (0.1: one stage at √ratio over the first
 * tenth of the first epoch), when `state.epoch` counts fractional epochs (the strategies set it
 * step by step).
 */
export function densityAt(ratio: number, state: CodecState | undefined): number {
  if (state === undefined || state.epoch >= state.warmupEpochs) return ratio;
  const stages = Math.max(1, Math.round(state.warmupEpochs));
  const stage = Math.min(stages - 1, Math.floor((state.epoch * stages) / state.warmupEpochs));
  return ratio ** ((stage + 1) / (stages + 1));
}

/** Values sent of `length` at `density`: at least one, at most all. */
export function countAt(length: number, density: number): number {
  return Math.min(length, Math.max(1, Math.round(density * length)));
}

/** [k uint32 indices][k float32 values]. */
export function writePairs(indices: Uint32Array, values: Float64Array): Uint8Array {
  const k = indices.length;
  const out = new Uint8Array(8 * k);
  new Uint32Array(out.buffer, 0, k).set(indices);
  const floats = new Float32Array(out.buffer, 4 * k, k);
  for (let j = 0; j < k; j++) floats[j] = values[indices[j]!]!;
  return out;
}

/** The dense vector of (index, value) bytes; checks every index. */
export function readPairs(spec: string, bytes: Uint8Array, length: number): Float64Array {
  const k = bytes.byteLength / 8;
  if (!Number.isInteger(k) || k > length) {
    throw new ShardlearnError(
      'COMM',
      `codec '${spec}': ${bytes.byteLength} bytes are not whole (index, value) pairs for at most ${length} values; every rank must use the same --compression on the same model`,
    );
  }
  const copy = bytes.slice();
  const indices = new Uint32Array(copy.buffer, 0, k);
  const values = new Float32Array(copy.buffer, 4 * k, k);
  const out = new Float64Array(length);
  for (let j = 0; j < k; j++) {
    const index = indices[j]!;
    if (index >= length)
      throw new ShardlearnError('COMM', `codec '${spec}': pair ${j} names index ${index}, outside a vector of ${length} values`);
    out[index] = values[j]!;
  }
  return out;
}
