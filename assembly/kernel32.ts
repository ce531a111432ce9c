// The float32 4×8 micro-kernels of gemm32 and of the convolution kernels (convgemm.ts): C[0:4,
// 0:8] += a 4-row sliver of A times an 8-column panel of packed B, 8 f32x4 accumulators in
// registers. Variants differ only in where A comes from and what else runs between the steps
// (packed A; A read in place; packing the next panel of B meanwhile; an edge tile). They are not
// factored into one step function: AssemblyScript cannot return the 8 accumulators from one, and
// larger shared bodies made V8 spill them (gemm32.ts's header; docs/notes/cnn-speed.md).

export const MR32: i32 = 4;
export const NR32: i32 = 8;

// c + a·b per lane: fused (one rounding) in the relaxed-SIMD build on FMA hardware, else a
// product rounded to float32 then a sum. The branch is resolved at compile time.
// @ts-ignore: decorator
@inline export function madd32(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// C[0:4, 0:8] = (keep ? C : +0) + the accumulators. keep = false is the first block of depth when
// beta = 0: C is not zero-filled first and its old values are not read (a 13 MB fill and a cold
// read for conv2's ∂cols: 8.6 → 8.15 ms); adding +0 keeps the result bitwise equal to
// fill-then-add (−0 → +0).
// @ts-ignore: decorator
@inline export function storeTile32(c: usize, ldcBytes: usize, keep: bool, c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  const zero = f32x4.splat(0);
  v128.store(c, f32x4.add(keep ? v128.load(c) : zero, c00));
  v128.store(c, f32x4.add(keep ? v128.load(c, 16) : zero, c01), 16);
  c += ldcBytes;
  v128.store(c, f32x4.add(keep ? v128.load(c) : zero, c10));
  v128.store(c, f32x4.add(keep ? v128.load(c, 16) : zero, c11), 16);
  c += ldcBytes;
  v128.store(c, f32x4.add(keep ? v128.load(c) : zero, c20));
  v128.store(c, f32x4.add(keep ? v128.load(c, 16) : zero, c21), 16);
  c += ldcBytes;
  v128.store(c, f32x4.add(keep ? v128.load(c) : zero, c30));
  v128.store(c, f32x4.add(keep ? v128.load(c, 16) : zero, c31), 16);
}

// C[0:4, 0:8] += packedA sliver · packedB sliver over kc steps.
// @ts-ignore: decorator
@inline export function kernel32(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, keep: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd32(a, b0, c00);
    c01 = madd32(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd32(a, b0, c10);
    c11 = madd32(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd32(a, b0, c20);
    c21 = madd32(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd32(a, b0, c30);
    c31 = madd32(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  storeTile32(c, ldcBytes, keep, c00, c01, c10, c11, c20, c21, c30, c31);
}

// kernel32 that meanwhile packs `rows` steps of the next panel of op(B) = B (src: its first row,
// srcStepBytes apart; dst: packed), one every `gap` steps, so the strided, cache-missing reads of
// B overlap the multiply-adds. Tried and slower: one step per step in one sliver's kernel (ROB
// full of waiting loads: 9.0 ms for ∂W), a packing branch inside the step loop (V8's code: 12+ ms).
export function kernel32Pack(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, keep: bool, src: usize, srcStepBytes: usize, dst: usize, rows: i32, alpha: f32): void {
  const va = f32x4.splat(alpha);
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  const gap = max<i32>(1, kc / max<i32>(1, rows));
  const end = dst + (<usize>rows << 5);
  let p = 0;
  for (; dst < end && p + gap <= kc; dst += 32) {
    v128.store(dst, f32x4.mul(va, v128.load(src)));
    v128.store(dst, f32x4.mul(va, v128.load(src, 16)), 16);
    src += srcStepBytes;
    for (let q = 0; q < gap; q++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let a = v128.load32_splat(pa);
      c00 = madd32(a, b0, c00);
      c01 = madd32(a, b1, c01);
      a = v128.load32_splat(pa, 4);
      c10 = madd32(a, b0, c10);
      c11 = madd32(a, b1, c11);
      a = v128.load32_splat(pa, 8);
      c20 = madd32(a, b0, c20);
      c21 = madd32(a, b1, c21);
      a = v128.load32_splat(pa, 12);
      c30 = madd32(a, b0, c30);
      c31 = madd32(a, b1, c31);
      pa += 16;
      pb += 32;
    }
    p += gap;
  }
  for (; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd32(a, b0, c00);
    c01 = madd32(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd32(a, b0, c10);
    c11 = madd32(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd32(a, b0, c20);
    c21 = madd32(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd32(a, b0, c30);
    c31 = madd32(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  for (; dst < end; dst += 32) {
    v128.store(dst, f32x4.mul(va, v128.load(src)));
    v128.store(dst, f32x4.mul(va, v128.load(src, 16)), 16);
    src += srcStepBytes;
  }
  storeTile32(c, ldcBytes, keep, c00, c01, c10, c11, c20, c21, c30, c31);
}

// The same 4×8 step as kernel32, but the sliver of op(A) is read where it is instead of packed:
// row r's value of step p at a + r·laneBytes + p·stepBytes (op(A) = A: laneBytes = the row stride,
// stepBytes = 4; op(A) = Aᵀ: 4 and the row stride). Same products in the same order as kernel32,
// so bitwise equal. Used when n is small (gemm32 below), where packing A costs more than it saves.
// @ts-ignore: decorator
@inline export function kernel32InPlace(kc: i32, a: usize, laneBytes: usize, stepBytes: usize, pb: usize, c: usize, ldcBytes: usize, keep: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let a1 = a + laneBytes;
  let a2 = a1 + laneBytes;
  let a3 = a2 + laneBytes;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let s = v128.load32_splat(a);
    c00 = madd32(s, b0, c00);
    c01 = madd32(s, b1, c01);
    s = v128.load32_splat(a1);
    c10 = madd32(s, b0, c10);
    c11 = madd32(s, b1, c11);
    s = v128.load32_splat(a2);
    c20 = madd32(s, b0, c20);
    c21 = madd32(s, b1, c21);
    s = v128.load32_splat(a3);
    c30 = madd32(s, b0, c30);
    c31 = madd32(s, b1, c31);
    a += stepBytes;
    a1 += stepBytes;
    a2 += stepBytes;
    a3 += stepBytes;
    pb += 32;
  }
  storeTile32(c, ldcBytes, keep, c00, c01, c10, c11, c20, c21, c30, c31);
}

// An edge tile of C (mr < 4 or nr < 8) += A sliver · packed B sliver, through `tile`: only its
// mr×nr part is added to C. `laneBytes` > 0: the sliver is read in place (kernel32InPlace);
// 0: a packed sliver. Not inlined: a call per kc steps costs nothing, while inlining
// every kernel variant into gemm32 slowed its main loop by ~4% (V8's register allocation).
export function edgeTile32(kc: i32, mr: i32, nr: i32, pa: usize, laneBytes: usize, stepBytes: usize, pb: usize, cp: usize, ldcBytes: usize, tile: usize, keep: bool): void {
  memory.fill(tile, 0, <usize>(MR32 * NR32) << 2);
  if (laneBytes != 0) kernel32InPlace(kc, pa, laneBytes, stepBytes, pb, tile, <usize>NR32 << 2, true);
  else kernel32(kc, pa, pb, tile, <usize>NR32 << 2, true);
  for (let r = 0; r < mr; r++) {
    for (let q = 0; q < nr; q++) {
      const to = cp + <usize>r * ldcBytes + (<usize>q << 2);
      store<f32>(to, (keep ? load<f32>(to) : 0) + load<f32>(tile + (<usize>(r * NR32 + q) << 2)));
    }
  }
}
