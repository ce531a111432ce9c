/**
 * The body fp16 and bf16 share: every value as a 16-bit float bit pattern (2 bytes), rounded to
 * nearest, with error feedback carrying the rounding to the next step. Only the bit conversions and
 * the error bound differ (fp16.ts, bf16.ts).
 */
import type { Codec } from './codec.js';
import { checkBytes, encodeWithFeedback, feedbackState } from './codec.js';

export interface TwoByteFormat {
  spec: string;
  toBits(value: number): number;
  fromBits(bits: number): number;
  /** The largest |decode(encode(x)) − x| over `input`, without error feedback. */
  errorBound(input: Float64Array): number;
}

export function twoByteCodec(format: TwoByteFormat): Codec {
  const decode = (bytes: Uint8Array, length: number): Float64Array => {
    checkBytes(format.spec, bytes, 2 * length, length);
    const words = new Uint16Array(bytes.slice().buffer);
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) out[i] = format.fromBits(words[i]!);
    return out;
  };
  const compress = (p: Float64Array): Uint8Array => {
    const words = new Uint16Array(p.length);
    for (let i = 0; i < p.length; i++) words[i] = format.toBits(p[i]!);
    return new Uint8Array(words.buffer);
  };
  return {
    spec: format.spec,
    layout: 'dense',
    unbiased: false,
    errorFeedback: true,
    createState: feedbackState,
    encodedBytes: (length) => 2 * length,
    encode: (gradient, state) => encodeWithFeedback(gradient, state, compress, decode),
    decode,
    errorBound: format.errorBound,
  };
}
