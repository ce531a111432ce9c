/**
 * Byte-level helpers the codecs share: fixed-width bit fields, float32 scalars, and float64 → half
 * precision conversions (Node 20 has no Float16Array). All little-endian, as the transports carry
 * typed arrays.
 */

/** Pack `count` fields of `width` bits (1..16) into `out` starting at byte `offset`; field i comes from `field(i)`. */
export function packFields(out: Uint8Array, offset: number, count: number, width: number, field: (i: number) => number): void {
  let acc = 0;
  let bits = 0;
  let at = offset;
  for (let i = 0; i < count; i++) {
    acc |= field(i) << bits;
    bits += width;
    while (bits >= 8) {
      out[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out[at] = acc & 0xff;
}

/** The inverse of packFields: calls `use(i, value)` for each of the `count` fields. */
export function unpackFields(
  bytes: Uint8Array,
  offset: number,
  count: number,
  width: number,
  use: (i: number, value: number) => void,
): void {
  const mask = (1 << width) - 1;
  let acc = 0;
  let bits = 0;
  let at = offset;
  for (let i = 0; i < count; i++) {
    while (bits < width) {
      acc |= bytes[at++]! << bits;
      bits += 8;
    }
    use(i, acc & mask);
    acc >>>= width;
    bits -= width;
  }
}

/** Bytes that `count` fields of `width` bits occupy. */
export function fieldBytes(count: number, width: number): number {
  return Math.ceil((count * width) / 8);
}

export function writeFloat32(out: Uint8Array, offset: number, value: number): void {
  new DataView(out.buffer, out.byteOffset, out.byteLength).setFloat32(offset, value, true);
}

export function readFloat32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat32(offset, true);
}

/** The smallest float32 ≥ x (x ≥ 0, finite): scales stored as float32 must not shrink below what they bound. */
export function float32AtLeast(x: number): number {
  const rounded = Math.fround(x);
  if (rounded >= x) return rounded;
  const word = new Float32Array([rounded]);
  const bits = new Uint32Array(word.buffer);
  bits[0] = bits[0]! + 1;
  return word[0]!;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * IEEE half precision of x, round to nearest even, saturating at ±65504 (the largest half) rather
 * than overflowing to infinity: a gradient element that large is clipped, never poisoned.
 */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return mantissa !== 0 ? sign | 0x7e00 : sign | 0x7bff; // NaN stays NaN; ±∞ saturates
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7bff;
  if (e <= 0) {
    if (e < -10) return sign; // below half of the smallest subnormal: ±0
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  if ((half & 0x7fff) >= 0x7c00) return sign | 0x7bff; // rounded up past the largest half
  return sign | half;
}

/** Every half's value, built on first use (512 KiB): decoding is a table lookup, not a power. */
let halfValues: Float64Array | null = null;

export function fromHalfBits(h: number): number {
  if (halfValues === null) {
    halfValues = new Float64Array(65536);
    for (let bits = 0; bits < 65536; bits++) halfValues[bits] = halfValue(bits);
  }
  return halfValues[h & 0xffff]!;
}

function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 of x: the top 16 bits of its float32, round to nearest even (Google Brain's bfloat16). */
export function toBfloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000) return bits >>> 16; // ±∞, NaN
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  const top = rounded >>> 16;
  if ((top & 0x7f80) === 0x7f80) return ((bits >>> 16) & 0x8000) | 0x7f7f; // saturate at the largest finite bfloat16
  return top;
}

export function fromBfloat16Bits(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}
