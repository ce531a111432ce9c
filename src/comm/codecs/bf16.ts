/**
 * `bf16`: each value as a bfloat16 (2 bytes: float32's sign and 8-bit exponent, 7 mantissa bits).
 * The float32 range, so nothing saturates in practice; round to nearest even, so the error is at most
 * 2⁻⁸ of the value (plus the float64 → float32 step, 2⁻²⁴). With error feedback (on), the rounding
 * is carried to the next step: over many steps the sent sum tracks the gradients' sum.
 */
import { fromBfloat16Bits, toBfloat16Bits } from './bits.js';
import type { Codec } from './codec.js';
import { baseState, checkBytes, encodeWithFeedback, maxAbs } from './codec.js';

export function bf16Codec(): Codec {
  const decode = (bytes: Uint8Array, length: number): Float64Array => {
    checkBytes('bf16', bytes, 2 * length, length);
    const words = new Uint16Array(bytes.slice().buffer);
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) out[i] = fromBfloat16Bits(words[i]!);
    return out;
  };
  const compress = (p: Float64Array): Uint8Array => {
    const words = new Uint16Array(p.length);
    for (let i = 0; i < p.length; i++) words[i] = toBfloat16Bits(p[i]!);
    return new Uint8Array(words.buffer);
  };
  return {
    spec: 'bf16',
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
    errorBound: (input) => maxAbs(input) * (2 ** -8 + 2 ** -24) + 2 ** -149,
  };
}
