/**
 * `terngrad`: TernGrad (Wen et al. 2017). With s = max|gᵢ| (a float32, rounded up), each value
 * becomes s·sign(gᵢ)·bᵢ, bᵢ ~ Bernoulli(|gᵢ|/s): three levels, unbiased. 2 bits a value plus the
 * scale: 4 + ⌈n/4⌉ bytes. (The paper's per-layer scalar sharing and gradient clipping are left to the
 * caller: here the vector is one layer.)
 *
 * Bound: |error| ≤ s.
 */
import { float32AtLeast, packFields, readFloat32, unpackFields, writeFloat32, fieldBytes } from './bits.js';
import type { Codec } from './codec.js';
import { baseState, checkBytes, checkLength, maxAbs } from './codec.js';

const bytesFor = (length: number): number => 4 + fieldBytes(length, 2);

export function terngradCodec(): Codec {
  const spec = 'terngrad';
  return {
    spec,
    layout: 'dense',
    unbiased: true,
    errorFeedback: false,
    createState: (length, options) => baseState(length, options),
    encodedBytes: bytesFor,
    encode(gradient, state) {
      checkLength(gradient.length, state);
      const scale = float32AtLeast(maxAbs(gradient));
      const out = new Uint8Array(bytesFor(gradient.length));
      writeFloat32(out, 0, scale);
      const rng = state.rng;
      // 0: zero, 1: +s, 2: −s
      packFields(out, 4, gradient.length, 2, (i) => {
        const x = gradient[i]!;
        if (scale === 0 || !(rng.uniform() < Math.abs(x) / scale)) return 0;
        return x < 0 ? 2 : 1;
      });
      return out;
    },
    decode(bytes, length) {
      checkBytes(spec, bytes, bytesFor(length), length);
      const scale = readFloat32(bytes, 0);
      const out = new Float64Array(length);
      unpackFields(bytes, 4, length, 2, (i, field) => {
        out[i] = field === 1 ? scale : field === 2 ? -scale : 0;
      });
      return out;
    },
    errorBound: (input) => float32AtLeast(maxAbs(input)),
  };
}
