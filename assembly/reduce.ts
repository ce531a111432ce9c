// Kernels of the wire collectives (src/comm/collectives/wasm-reduce.ts): the sum all-reduce's
// `target += source` with the check of the values from the wire in the same pass, and the check
// alone (for a copy). A value is refused when its exponent bits are all ones (±∞ or NaN); the
// kernels return 1 when any value of `source` is, and the caller then finds which one. Float32 sums
// are IEEE single additions, bitwise equal to the TypeScript reference's rounding of a float64 sum.

// @ts-ignore: decorator
@inline const EXPONENT32: u32 = 0x7f800000;
// @ts-ignore: decorator
@inline const EXPONENT64: u64 = 0x7ff0000000000000;

/** t[i] += s[i] for n float32 values; 1 when a value of s is not finite. */
export function sumFinite32(n: i32, t: usize, s: usize): i32 {
  const exponent = i32x4.splat(EXPONENT32);
  let flag = i32x4.splat(0);
  let i = 0;
  for (; i + 7 < n; i += 8) {
    const o = <usize>i << 2;
    const a = v128.load(s + o);
    const b = v128.load(s + o, 16);
    flag = v128.or(flag, v128.or(i32x4.eq(v128.and(a, exponent), exponent), i32x4.eq(v128.and(b, exponent), exponent)));
    v128.store(t + o, f32x4.add(v128.load(t + o), a));
    v128.store(t + o, f32x4.add(v128.load(t + o, 16), b), 16);
  }
  let bad = v128.any_true(flag);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(s + o);
    if ((reinterpret<u32>(v) & EXPONENT32) == EXPONENT32) bad = true;
    store<f32>(t + o, load<f32>(t + o) + v);
  }
  return bad ? 1 : 0;
}

/** t[i] += s[i] for n float64 values; 1 when a value of s is not finite. */
export function sumFinite64(n: i32, t: usize, s: usize): i32 {
  const exponent = i64x2.splat(EXPONENT64);
  let flag = i64x2.splat(0);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o = <usize>i << 3;
    const a = v128.load(s + o);
    const b = v128.load(s + o, 16);
    flag = v128.or(flag, v128.or(i64x2.eq(v128.and(a, exponent), exponent), i64x2.eq(v128.and(b, exponent), exponent)));
    v128.store(t + o, f64x2.add(v128.load(t + o), a));
    v128.store(t + o, f64x2.add(v128.load(t + o, 16), b), 16);
  }
  let bad = v128.any_true(flag);
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const v = load<f64>(s + o);
    if ((reinterpret<u64>(v) & EXPONENT64) == EXPONENT64) bad = true;
    store<f64>(t + o, load<f64>(t + o) + v);
  }
  return bad ? 1 : 0;
}

/** 1 when any of n float32 values at s is not finite. */
export function nonFinite32(n: i32, s: usize): i32 {
  const exponent = i32x4.splat(EXPONENT32);
  let flag = i32x4.splat(0);
  let i = 0;
  for (; i + 7 < n; i += 8) {
    const o = <usize>i << 2;
    flag = v128.or(
      flag,
      v128.or(i32x4.eq(v128.and(v128.load(s + o), exponent), exponent), i32x4.eq(v128.and(v128.load(s + o, 16), exponent), exponent)),
    );
  }
  let bad = v128.any_true(flag);
  for (; i < n; i++) if ((load<u32>(s + (<usize>i << 2)) & EXPONENT32) == EXPONENT32) bad = true;
  return bad ? 1 : 0;
}

/** 1 when any of n float64 values at s is not finite. */
export function nonFinite64(n: i32, s: usize): i32 {
  const exponent = i64x2.splat(EXPONENT64);
  let flag = i64x2.splat(0);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o = <usize>i << 3;
    flag = v128.or(
      flag,
      v128.or(i64x2.eq(v128.and(v128.load(s + o), exponent), exponent), i64x2.eq(v128.and(v128.load(s + o, 16), exponent), exponent)),
    );
  }
  let bad = v128.any_true(flag);
  for (; i < n; i++) if ((load<u64>(s + (<usize>i << 3)) & EXPONENT64) == EXPONENT64) bad = true;
  return bad ? 1 : 0;
}
