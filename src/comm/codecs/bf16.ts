/**
 * `bf16`: each value as a bfloat16 (2 bytes: float32's sign and 8-bit exponent, 7 mantissa bits).
 * The float32 range, so nothing saturates in practice; round to nearest even, so the error is at most
 * 2⁻⁸ of the value (plus the float64 → float32 step, 2⁻²⁴).
 */
import { fromBfloat16Bits, toBfloat16Bits } from './bits.js';
import type { Codec } from './codec.js';
import { baseState, checkBytes, checkLength, maxAbs } from './codec.js';

export function bf16Codec(): Codec {
  return {
    spec: 'bf16',
    layout: 'dense',
    unbiased: false,
    errorFeedback: false,
    createState: (length, options) => baseState(length, options),
    encodedBytes: (length) => 2 * length,
    encode(gradient, state) {
      checkLength(gradient.length, state);
      const words = new Uint16Array(gradient.length);
      for (let i = 0; i < gradient.length; i++) words[i] = toBfloat16Bits(gradient[i]!);
      return new Uint8Array(words.buffer);
    },
    decode(bytes, length) {
      checkBytes('bf16', bytes, 2 * length, length);
      const words = new Uint16Array(bytes.slice().buffer);
      const out = new Float64Array(length);
      for (let i = 0; i < length; i++) out[i] = fromBfloat16Bits(words[i]!);
      return out;
    },
    errorBound: (input) => maxAbs(input) * (2 ** -8 + 2 ** -24) + 2 ** -149,
  };
}
