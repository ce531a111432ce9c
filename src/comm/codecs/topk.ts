/**
 * `topk:<ratio>[:<momentum>]`: send the ⌈ratio·n⌉ values largest in magnitude as (index, value)
 * pairs, 8 bytes each, with error feedback (what is not sent now is added to the next gradient, so
 * every value is eventually sent). Deep Gradient Compression (Lin et al. 2018) adds:
 * - momentum correction, when `<momentum>` is given: the codec accumulates the velocity
 *   u ← m·u + g and sends top-k of the accumulated velocity; sent coordinates of u are then zeroed
 *   (momentum factor masking). Use it with a plain-SGD optimizer: the momentum lives here.
 * - warm-up (`--compression-warmup W`): the density falls exponentially over the first W epochs.
 *
 * `topk16:<ratio>[:<momentum>]` is the same selection sent in 4 bytes a pair (block-relative 16-bit
 * indices and half-precision values, block-pairs.ts); the half-precision rounding stays owed in the
 * residual like everything else not sent.
 *
 * Bound (fresh state): every dropped value is at most the k-th largest magnitude; sent values carry
 * only the float32 (topk16: half-precision) rounding.
 */
import { ConfigError } from '../../core/errors.js';
import type { Codec } from './codec.js';
import { checkLength, feedbackState, maxAbs, parseRatio } from './codec.js';
import { blockPairBytes, readBlockPairs, writeBlockPairs } from './block-pairs.js';
import { kthLargest, largestIndices } from './select.js';
import { countAt, densityAt, readPairs, writePairs } from './sparse.js';

/** How the selected pairs travel: bytes, and the values as the receiver decodes them. */
interface PairFormat {
  bytes(length: number, k: number): number;
  write(indices: Uint32Array, values: Float64Array): { bytes: Uint8Array; sent: ArrayLike<number> };
  read(spec: string, bytes: Uint8Array, length: number): Float64Array;
  /** Largest rounding of a sent value of magnitude ≤ `max`. */
  rounding(max: number): number;
}

const FLOAT32_PAIRS: PairFormat = {
  bytes: (_length, k) => 8 * k,
  write(indices, values) {
    const bytes = writePairs(indices, values);
    return { bytes, sent: new Float32Array(bytes.buffer, 4 * indices.length, indices.length) };
  },
  read: readPairs,
  rounding: (max) => max * 2 ** -24,
};

const HALF_BLOCK_PAIRS: PairFormat = {
  bytes: blockPairBytes,
  write: writeBlockPairs,
  read: readBlockPairs,
  // Half precision: relative 2⁻¹¹, absolute 2⁻²⁵ below the normal range, saturation above 65504.
  rounding: (max) => max * 2 ** -11 + 2 ** -25 + Math.max(0, max - 65504),
};

export function topkCodec(spec: string, args: readonly string[]): Codec {
  return sparseTopk(spec, args, FLOAT32_PAIRS);
}

export function topk16Codec(spec: string, args: readonly string[]): Codec {
  return sparseTopk(spec, args, HALF_BLOCK_PAIRS);
}

function sparseTopk(spec: string, args: readonly string[], format: PairFormat): Codec {
  const ratio = parseRatio(spec, args[0]);
  const momentum = args[1] === undefined ? 0 : Number(args[1]);
  const family = spec.split(':')[0]!;
  if (!(momentum >= 0 && momentum < 1) || args.length > 2) {
    throw new ConfigError(
      `compression '${spec}': expected '${family}:<ratio>' or '${family}:<ratio>:<momentum in [0, 1)>', e.g. '${family}:0.01:0.9'`,
      { field: 'compression' },
    );
  }
  const decode = (bytes: Uint8Array, length: number): Float64Array => format.read(spec, bytes, length);
  return {
    spec,
    layout: 'sparse',
    unbiased: false,
    errorFeedback: true,
    createState(length, options) {
      const state = feedbackState(length, options);
      if (momentum > 0) state.velocity = new Float64Array(length);
      return state;
    },
    encodedBytes: (length, state) => format.bytes(length, countAt(length, densityAt(ratio, state))),
    encode(gradient, state) {
      checkLength(gradient.length, state);
      const n = gradient.length;
      const residual = state.residual!;
      const velocity = state.velocity;
      // residual ← residual + (u ← m·u + g), or + g without momentum: what is owed, this step included.
      for (let i = 0; i < n; i++) {
        let add = gradient[i]!;
        if (velocity !== null) add = velocity[i] = momentum * velocity[i]! + add;
        residual[i] = residual[i]! + add;
      }
      const indices = largestIndices(residual, countAt(n, densityAt(ratio, state)));
      const { bytes, sent } = format.write(indices, residual);
      for (let j = 0; j < indices.length; j++) {
        const i = indices[j]!;
        residual[i] = residual[i]! - sent[j]!; // the rounding stays owed
        if (velocity !== null) velocity[i] = 0;
      }
      return bytes;
    },
    decode,
    errorBound(input) {
      const k = countAt(input.length, ratio);
      const dropped = k >= input.length ? 0 : kthLargest(Float64Array.from(input, Math.abs), k);
      return dropped + format.rounding(maxAbs(input));
    },
  };
}
