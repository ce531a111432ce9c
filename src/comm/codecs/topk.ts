/**
 * `topk:<ratio>[:<momentum>]`: send the ⌈ratio·n⌉ values largest in magnitude as (index, value)
 * pairs, 8 bytes each, with error feedback (what is not sent now is added to the next gradient, so
 * every value is eventually sent). Deep Gradient Compression (Lin et al. 2018) adds:
 * - momentum correction, when `<momentum>` is given: the codec accumulates the velocity
 *   u ← m·u + g and sends top-k of the accumulated velocity; sent coordinates of u are then zeroed
 *   (momentum factor masking). Use it with a plain-SGD optimizer: the momentum lives here.
 * - warm-up (`--compression-warmup W`): the density falls exponentially over the first W epochs.
 *
 * Bound (fresh state): every dropped value is at most the k-th largest magnitude; sent values carry
 * only the float32 rounding.
 */
import { ConfigError } from '../../core/errors.js';
import type { Codec } from './codec.js';
import { checkLength, feedbackState, maxAbs, parseRatio } from './codec.js';
import { kthLargest, largestIndices } from './select.js';
import { countAt, densityAt, readPairs, writePairs } from './sparse.js';

export function topkCodec(spec: string, args: readonly string[]): Codec {
  const ratio = parseRatio(spec, args[0]);
  const momentum = args[1] === undefined ? 0 : Number(args[1]);
  if (!(momentum >= 0 && momentum < 1) || args.length > 2) {
    throw new ConfigError(`compression '${spec}': expected 'topk:<ratio>' or 'topk:<ratio>:<momentum in [0, 1)>', e.g. 'topk:0.01:0.9'`, {
      field: 'compression',
    });
  }
  const decode = (bytes: Uint8Array, length: number): Float64Array => readPairs(spec, bytes, length);
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
    encodedBytes: (length, state) => 8 * countAt(length, densityAt(ratio, state)),
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
      const bytes = writePairs(indices, residual);
      const floats = new Float32Array(bytes.buffer, 4 * indices.length, indices.length);
      for (let j = 0; j < indices.length; j++) {
        const i = indices[j]!;
        residual[i] = residual[i]! - floats[j]!; // the float32 rounding stays owed
        if (velocity !== null) velocity[i] = 0;
      }
      return bytes;
    },
    decode,
    errorBound(input) {
      const k = countAt(input.length, ratio);
      const dropped = k >= input.length ? 0 : kthLargest(Float64Array.from(input, Math.abs), k);
      return dropped + maxAbs(input) * 2 ** -24;
    },
  };
}
