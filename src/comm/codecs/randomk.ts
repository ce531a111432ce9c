/**
 * `randomk:<ratio>`: send k = ⌈ratio·n⌉ values chosen uniformly at random, scaled by n/k so the
 * decoded vector is unbiased (E = the gradient; Stich et al. 2018). The indices are not sent: the
 * encoder draws a 32-bit seed from its stream and the decoder regenerates the same k indices from it,
 * so a message is 4 + 4k bytes. Unbiased, so no error feedback.
 *
 * Bound (per element): a chosen value becomes x·n/k, an unchosen one 0: |error| ≤ max|x|·n/k.
 */
import { Rng } from '../../core/rng.js';
import type { Codec } from './codec.js';
import { baseState, checkLength, maxAbs, parseRatio } from './codec.js';
import { ShardlearnError } from '../../core/errors.js';
import { countAt, densityAt } from './sparse.js';

export function randomkCodec(spec: string, args: readonly string[]): Codec {
  const ratio = parseRatio(spec, args[0]);
  return {
    spec,
    layout: 'sparse',
    unbiased: true,
    errorFeedback: false,
    createState: (length, options) => baseState(length, options),
    encodedBytes: (length, state) => 4 + 4 * countAt(length, densityAt(ratio, state)),
    encode(gradient, state) {
      checkLength(gradient.length, state);
      const n = gradient.length;
      const k = countAt(n, densityAt(ratio, state));
      const seed = state.rng.nextUint32();
      const indices = new Rng(seed).sample(n, k);
      const out = new Uint8Array(4 + 4 * k);
      new Uint32Array(out.buffer, 0, 1)[0] = seed;
      const values = new Float32Array(out.buffer, 4, k);
      const scale = n / k;
      for (let j = 0; j < k; j++) values[j] = gradient[indices[j]!]! * scale;
      return out;
    },
    decode(bytes, length) {
      const k = (bytes.byteLength - 4) / 4;
      if (!Number.isInteger(k) || k < 1 || k > length) {
        throw new ShardlearnError(
          'COMM',
          `codec '${spec}': ${bytes.byteLength} bytes are not a seed and 1..${length} float32 values; every rank must use the same --compression on the same model`,
        );
      }
      const copy = bytes.slice();
      const seed = new Uint32Array(copy.buffer, 0, 1)[0]!;
      const values = new Float32Array(copy.buffer, 4, k);
      const indices = new Rng(seed).sample(length, k);
      const out = new Float64Array(length);
      for (let j = 0; j < k; j++) out[indices[j]!] = values[j]!;
      return out;
    },
    errorBound: (input) => maxAbs(input) * (input.length / countAt(input.length, ratio)) * (1 + 2 ** -23),
  };
}
