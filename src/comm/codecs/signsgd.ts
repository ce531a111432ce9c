/**
 * `signsgd`: scaled sign compression with error feedback (EF-SignSGD, Karimireddy et al. 2019):
 * p = g + residual is sent as (‖p‖₁/n)·sign(p) — one bit a value plus the float32 scale, 4 + ⌈n/8⌉
 * bytes — and residual ← p − sent. Plain signSGD (Bernstein et al. 2018) without the feedback can
 * fail to converge; with it, it converges like SGD (ibid.).
 *
 * Bound (fresh state): |pᵢ − scale·sign(pᵢ)| ≤ max(|pᵢ|, scale) ≤ max|p|.
 */
import { packFields, readFloat32, unpackFields, writeFloat32, fieldBytes } from './bits.js';
import type { Codec } from './codec.js';
import { checkBytes, encodeWithFeedback, feedbackState, maxAbs } from './codec.js';

const bytesFor = (length: number): number => 4 + fieldBytes(length, 1);

export function signsgdCodec(): Codec {
  const spec = 'signsgd';
  const decode = (bytes: Uint8Array, length: number): Float64Array => {
    checkBytes(spec, bytes, bytesFor(length), length);
    const scale = readFloat32(bytes, 0);
    const out = new Float64Array(length);
    unpackFields(bytes, 4, length, 1, (i, negative) => {
      out[i] = negative === 1 ? -scale : scale;
    });
    return out;
  };
  const compress = (p: Float64Array): Uint8Array => {
    let l1 = 0;
    for (let i = 0; i < p.length; i++) l1 += Math.abs(p[i]!);
    const out = new Uint8Array(bytesFor(p.length));
    writeFloat32(out, 0, p.length === 0 ? 0 : l1 / p.length);
    packFields(out, 4, p.length, 1, (i) => (p[i]! < 0 ? 1 : 0));
    return out;
  };
  return {
    spec,
    layout: 'dense',
    unbiased: false,
    errorFeedback: true,
    createState: feedbackState,
    encodedBytes: bytesFor,
    encode: (gradient, state) => encodeWithFeedback(gradient, state, compress, decode),
    decode,
    errorBound: (input) => maxAbs(input) * (1 + 2 ** -23),
  };
}
