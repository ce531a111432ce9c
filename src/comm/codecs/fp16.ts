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
import { maxAbs } from './codec.js';
import { twoByteCodec } from './two-byte.js';

const LARGEST_HALF = 65504;

export function fp16Codec(): Codec {
  return twoByteCodec({
    spec: 'fp16',
    toBits: toHalfBits,
    fromBits: fromHalfBits,
    errorBound(input) {
      const m = maxAbs(input);
      // Relative half-ulp of the largest value (+ its float32 step), the subnormal half-spacing, and any saturation.
      return Math.min(m, LARGEST_HALF) * (2 ** -11 + 2 ** -24) + 2 ** -25 + Math.max(0, m - LARGEST_HALF);
    },
  });
}
