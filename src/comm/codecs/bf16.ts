/**
 * `bf16`: each value as a bfloat16 (2 bytes: float32's sign and 8-bit exponent, 7 mantissa bits).
 * The float32 range, so nothing saturates in practice; round to nearest even, so the error is at most
 * 2⁻⁸ of the value (plus the float64 → float32 step, 2⁻²⁴). With error feedback (on), the rounding
 * is carried to the next step: over many steps the sent sum tracks the gradients' sum.
 */
import { fromBfloat16Bits, toBfloat16Bits } from './bits.js';
import type { Codec } from './codec.js';
import { maxAbs } from './codec.js';
import { twoByteCodec } from './two-byte.js';

export function bf16Codec(): Codec {
  return twoByteCodec({
    spec: 'bf16',
    toBits: toBfloat16Bits,
    fromBits: fromBfloat16Bits,
    errorBound: (input) => maxAbs(input) * (2 ** -8 + 2 ** -24) + 2 ** -149,
  });
}
