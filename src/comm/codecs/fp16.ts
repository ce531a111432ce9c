/**
 * `fp16`: each value as an IEEE half (2 bytes; Horovod's only built-in compressor). Round to nearest,
 * so the error of a value in the normal half range is at most 2⁻¹¹ of it; values below 2⁻¹⁴ fall to
 * the subnormals' fixed spacing 2⁻²⁴, values above 65504 saturate. With error feedback (on): a
 * gradient element below 2⁻²⁵ (6·10⁻⁸), which fp16 flushes to zero, is carried until the sum is
 * sent, instead of being lost every step (what loss scaling does for mixed precision). Horovod's maintainers note fp16
 * rarely pays on CPUs (the conversion costs what the halved bytes save); it is here to measure that.
 */
import { fromHalfBits, toHalfBits } from './bits.js';
import type { Codec } from './codec.js';
import { baseState, checkBytes, encodeWithFeedback, maxAbs } from './codec.js';

const LARGEST_HALF = 65504;

export function fp16Codec(): Codec {
  const decode = (bytes: Uint8Array, length: number): Float64Array => {
    checkBytes('fp16', bytes, 2 * length, length);
    const halves = new Uint16Array(bytes.slice().buffer);
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) out[i] = fromHalfBits(halves[i]!);
    return out;
  };
  const compress = (p: Float64Array): Uint8Array => {
    const halves = new Uint16Array(p.length);
    for (let i = 0; i < p.length; i++) halves[i] = toHalfBits(p[i]!);
    return new Uint8Array(halves.buffer);
  };
  return {
    spec: 'fp16',
    layout: 'dense',
    unbiased: false,
    errorFeedback: true,
    createState(length, options) {
      const state = baseState(length, options);
      state.residual = new Float64Array(length);
      return state;
    },
    encodedBytes: (length) => 2 * length,
    encode: (gradient, state) => encodeWithFeedback(gradient, state, compress, decode),
    decode,
    errorBound(input) {
      const m = maxAbs(input);
      // Relative half-ulp of the largest value (+ its float32 step), the subnormal half-spacing, and any saturation.
      return Math.min(m, LARGEST_HALF) * (2 ** -11 + 2 ** -24) + 2 ** -25 + Math.max(0, m - LARGEST_HALF);
    },
  };
}
