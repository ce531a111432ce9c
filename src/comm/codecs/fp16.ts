/**
 * `fp16`: each value as an IEEE half (2 bytes; Horovod's only built-in compressor). Round to nearest,
 * so the error of a value in the normal half range is at most 2⁻¹¹ of it; values below 2⁻¹⁴ fall to
 * the subnormals' fixed spacing 2⁻²⁴, values above 65504 saturate. Horovod's maintainers note fp16
 * rarely pays on CPUs (the conversion costs what the halved bytes save); it is here to measure that.
 */
import { fromHalfBits, toHalfBits } from './bits.js';
import type { Codec } from './codec.js';
import { baseState, checkBytes, checkLength, maxAbs } from './codec.js';

const LARGEST_HALF = 65504;

export function fp16Codec(): Codec {
  return {
    spec: 'fp16',
    layout: 'dense',
    unbiased: false,
    errorFeedback: false,
    createState: (length, options) => baseState(length, options),
    encodedBytes: (length) => 2 * length,
    encode(gradient, state) {
      checkLength(gradient.length, state);
      const halves = new Uint16Array(gradient.length);
      for (let i = 0; i < gradient.length; i++) halves[i] = toHalfBits(gradient[i]!);
      return new Uint8Array(halves.buffer);
    },
    decode(bytes, length) {
      checkBytes('fp16', bytes, 2 * length, length);
      const halves = new Uint16Array(bytes.slice().buffer);
      const out = new Float64Array(length);
      for (let i = 0; i < length; i++) out[i] = fromHalfBits(halves[i]!);
      return out;
    },
    errorBound(input) {
      const m = maxAbs(input);
      // Relative half-ulp of the largest value (+ its float32 step), the subnormal half-spacing, and any saturation.
      return Math.min(m, LARGEST_HALF) * (2 ** -11 + 2 ** -24) + 2 ** -25 + Math.max(0, m - LARGEST_HALF);
    },
  };
}
