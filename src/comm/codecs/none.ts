/** `none`: the identity codec (Horovod's NoneCompressor): the float64 values as they are. Bound 0. */
import type { Codec } from './codec.js';
import { baseState, checkBytes, checkLength } from './codec.js';

export function noneCodec(): Codec {
  return {
    spec: 'none',
    layout: 'identity',
    unbiased: true,
    errorFeedback: false,
    createState: (length, options) => baseState(length, options),
    encodedBytes: (length) => 8 * length,
    encode(gradient, state) {
      checkLength(gradient.length, state);
      return new Uint8Array(Float64Array.from(gradient).buffer);
    },
    decode(bytes, length) {
      checkBytes('none', bytes, 8 * length, length);
      const out = new Float64Array(length);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    },
    errorBound: () => 0,
  };
}
