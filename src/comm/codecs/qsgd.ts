/**
 * `qsgd:<levels>`: QSGD (Alistarh et al. 2017). With s levels and the vector's 2-norm ‖g‖ (a
 * float32, rounded up), each value becomes sign·‖g‖·ℓ/s where ℓ ∈ {0..s} rounds |gᵢ|·s/‖g‖ up or down
 * at random, up with probability equal to the fraction: E[ℓ] = |gᵢ|·s/‖g‖, so decoding is unbiased.
 * A message is the norm and n fields of 1 sign bit + ⌈log₂(s+1)⌉ level bits: 4 + ⌈n(1+b)/8⌉ bytes.
 *
 * Bound: one level step, |error| ≤ ‖g‖/s.
 */
import { float32AtLeast, packFields, readFloat32, unpackFields, writeFloat32, fieldBytes } from './bits.js';
import type { Codec } from './codec.js';
import { baseState, checkBytes, checkLength, parseCount } from './codec.js';
import { ConfigError } from '../../core/errors.js';

export function qsgdCodec(spec: string, args: readonly string[]): Codec {
  const levels = parseCount(spec, args[0], 'number of levels', 'qsgd:16');
  if (levels > 32767)
    throw new ConfigError(`compression '${spec}': at most 32767 levels (15 bits a value), found ${levels}`, { field: 'compression' });
  const width = 1 + Math.ceil(Math.log2(levels + 1));
  const bytesFor = (length: number): number => 4 + fieldBytes(length, width);
  return {
    spec,
    layout: 'dense',
    unbiased: true,
    errorFeedback: false,
    createState: (length, options) => baseState(length, options),
    encodedBytes: bytesFor,
    encode(gradient, state) {
      checkLength(gradient.length, state);
      let sumSquares = 0;
      for (let i = 0; i < gradient.length; i++) sumSquares += gradient[i]! * gradient[i]!;
      const norm = float32AtLeast(Math.sqrt(sumSquares));
      const out = new Uint8Array(bytesFor(gradient.length));
      writeFloat32(out, 0, norm);
      const rng = state.rng;
      packFields(out, 4, gradient.length, width, (i) => {
        const x = gradient[i]!;
        if (norm === 0) return 0;
        const scaled = (Math.abs(x) / norm) * levels;
        let level = Math.floor(scaled);
        if (rng.uniform() < scaled - level) level++;
        return ((level > levels ? levels : level) << 1) | (x < 0 ? 1 : 0);
      });
      return out;
    },
    decode(bytes, length) {
      checkBytes(spec, bytes, bytesFor(length), length);
      const norm = readFloat32(bytes, 0);
      const out = new Float64Array(length);
      unpackFields(bytes, 4, length, width, (i, field) => {
        const value = (norm * (field >>> 1)) / levels;
        out[i] = field & 1 ? -value : value;
      });
      return out;
    },
    errorBound(input) {
      let sumSquares = 0;
      for (let i = 0; i < input.length; i++) sumSquares += input[i]! * input[i]!;
      return (float32AtLeast(Math.sqrt(sumSquares)) / levels) * (1 + 2 ** -40);
    },
  };
}
