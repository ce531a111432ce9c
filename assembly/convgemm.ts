// Convolution gemms with an implicit im2col (float32): a channels-last convolution's forward pass
// y += cols·Wᵀ and its filter gradient ∂W += ∂yᵀ·cols, where `cols` — one row per output position,
// one column per (ky, kx, c) of the receptive field — is never written. Its entries are read from
// the input images where they are.
//
// Why: for the default CNN's second convolution (batch 64) cols is 4,096 × 800 floats = 13 MB.
// Writing it (im2col) and streaming it back through both gemms cost about 3 ms of a 37 ms step,
// while the images it is made of are 1.2 MB and stay in L2 (docs/notes/cnn-speed.md, Session 3).
//
// Addressing. Without padding (the caller pads into a copy first), row r of cols is the field of
// one output position: `kernelSize` runs of kernelSize·channels contiguous floats (one per kernel
// row ky), `lineBytes` apart (one image row). A table holds each row's byte offset in the images,
// so column p of row r is at x + table[r] + (p / runLength)·lineBytes + (p % runLength)·4.
//
// The loop nests, block sizes, packing layouts and micro-kernel are those of gemm32 for the same
// shapes (the direct path for the forward pass, panelBlock32 for ∂W), and every product is added
// in the same order: the results are bitwise equal to im2col32 followed by gemm32 (tested). The
// input gradient, which adds its tiles into the images instead of reading them, is in
// convgemm-input.ts.

import { DIRECT_A_MAX_N, KC, MC, NC, OVERLAP_MIN_KC, packA32, packB32 } from './gemm32';
import { MR32, NR32, edgeTile32, kernel32, kernel32InPlace, madd32, storeTile32 } from './kernel32';

/**
 * Whether the forward and ∂W kernels below take this shape; otherwise the caller runs im2col +
 * gemm32. The forward pass mirrors gemm32's direct path (n = filters ≤ 128); ∂W (m = filters ≤
 * MC) its direct path when field ≤ 128, else its panel path, whose panels of 8 columns must not
 * straddle two runs.
 */
export function implicitConvolution32(filters: i32, field: i32, runLength: i32): bool {
  return filters <= DIRECT_A_MAX_N && filters <= MC && (field <= DIRECT_A_MAX_N || runLength % NR32 == 0);
}

/** table[r] = byte offset in the (unpadded, or already padded) images of output position r's field. */
export function convolutionTable32(batch: i32, height: i32, width: i32, channels: i32, stride: i32, outHeight: i32, outWidth: i32, table: usize): void {
  let r: usize = 0;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        store<i32>(table + (r << 2), (((n * height + oy * stride) * width + ox * stride) * channels) << 2);
        r++;
      }
    }
  }
}

/** images padded by `padding` zeros on every side: [batch, height + 2p, width + 2p, channels]. */
export function padImages32(x: usize, batch: i32, height: i32, width: i32, channels: i32, padding: i32, padded: usize): void {
  const paddedWidth = width + 2 * padding;
  const paddedHeight = height + 2 * padding;
  const rowBytes = <usize>(width * channels) << 2;
  memory.fill(padded, 0, <usize>(batch * paddedHeight * paddedWidth * channels) << 2);
  for (let n = 0; n < batch; n++) {
    for (let iy = 0; iy < height; iy++) {
      const from = x + (<usize>(((n * height + iy) * width) * channels) << 2);
      const to = padded + (<usize>(((n * paddedHeight + iy + padding) * paddedWidth + padding) * channels) << 2);
      memory.copy(to, from, rowBytes);
    }
  }
}

// Byte offset of column p of a cols row from the row's table entry.
// @ts-ignore: decorator
@inline export function columnBytes(p: i32, runLength: i32, lineBytes: i32): usize {
  return <usize>((p / runLength) * lineBytes) + (<usize>(p % runLength) << 2);
}

// Pack `rows` (≤ 4) rows of cols, columns [pc, pc + kc), as packA32 lays out a sliver (4 floats per
// step, zeros below the last row). Only partial slivers and edge tiles take it.
function gatherSliver32(x: usize, table: usize, rows: i32, pc: i32, kc: i32, runLength: i32, lineBytes: i32, dst: usize): void {
  for (let p = 0; p < kc; p++) {
    const column = columnBytes(pc + p, runLength, lineBytes);
    for (let r = 0; r < MR32; r++) {
      store<f32>(dst, r < rows ? load<f32>(x + <usize>load<i32>(table + (<usize>r << 2)) + column) : 0);
      dst += 4;
    }
  }
}

// kernel32InPlace over a sliver of cols read from the images: rows at a0..a3, a run of `left`
// steps, then runs of `runLength` steps, each `jumpBytes` after the end of the one before.
function kernel32Runs(kc: i32, a0: usize, a1: usize, a2: usize, a3: usize, left: i32, runLength: i32, jumpBytes: usize, pb: usize, c: usize, ldcBytes: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let p = 0;
  while (p < kc) {
    const end = min<i32>(kc, p + left);
    for (; p < end; p++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let s = v128.load32_splat(a0);
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
      a0 += 4;
      a1 += 4;
      a2 += 4;
      a3 += 4;
      pb += 32;
    }
    a0 += jumpBytes;
    a1 += jumpBytes;
    a2 += jumpBytes;
    a3 += jumpBytes;
    left = runLength;
  }
  storeTile32(c, ldcBytes, true, c00, c01, c10, c11, c20, c21, c30, c31);
}

/**
 * y[rows × filters] += cols · Wᵀ, W = w[filters × field] row-major, cols implicit over images x
 * (see the header). `work`: gemm32WorkBytes() bytes. As gemm32(0, 1, rows, filters, field, 1,
 * cols, field, w, field, 1, y, filters) on its direct path.
 */
export function convolutionForward32(x: usize, table: usize, rows: i32, filters: i32, field: i32, runLength: i32, lineBytes: i32, w: usize, y: usize, work: usize): void {
  const packedA = work;
  const packedB = work + (<usize>(MC * KC) << 2);
  const tile = packedB + (<usize>(KC * NC) << 2);
  const ldcBytes = <usize>filters << 2;
  const jumpBytes = <usize>(lineBytes - (runLength << 2));
  for (let pc = 0; pc < field; pc += KC) {
    const kc = min<i32>(KC, field - pc);
    packB32(kc, filters, w + (<usize>pc << 2), 1, field, 1, packedB);
    const start = columnBytes(pc, runLength, lineBytes);
    const left = runLength - pc % runLength;
    for (let ir = 0; ir < rows; ir += MR32) {
      const mr = min<i32>(MR32, rows - ir);
      const rowTable = table + (<usize>ir << 2);
      const cp = y + <usize>ir * ldcBytes;
      let gathered = false;
      for (let jr = 0; jr < filters; jr += NR32) {
        const nr = min<i32>(NR32, filters - jr);
        const pb = packedB + (<usize>(jr * kc) << 2);
        if (mr == MR32 && nr == NR32) {
          const a0 = x + <usize>load<i32>(rowTable) + start;
          const a1 = x + <usize>load<i32>(rowTable, 4) + start;
          const a2 = x + <usize>load<i32>(rowTable, 8) + start;
          const a3 = x + <usize>load<i32>(rowTable, 12) + start;
          kernel32Runs(kc, a0, a1, a2, a3, left, runLength, jumpBytes, pb, cp + (<usize>jr << 2), ldcBytes);
          continue;
        }
        if (!gathered) gatherSliver32(x, rowTable, mr, pc, kc, runLength, lineBytes, packedA);
        gathered = true;
        edgeTile32(kc, mr, nr, packedA, 0, 0, pb, cp + (<usize>jr << 2), ldcBytes, tile, true);
      }
    }
  }
}

// Pack one kc × 8 panel of cols (rows `table[0..kc)`, 8 columns from byte `column` of each row).
function gatherPanel32(x: usize, table: usize, kc: i32, column: usize, dst: usize): void {
  const xc = x + column;
  for (let p = 0; p < kc; p++) {
    const src = xc + <usize>load<i32>(table + (<usize>p << 2));
    v128.store(dst, v128.load(src));
    v128.store(dst, v128.load(src, 16), 16);
    dst += 32;
  }
}

// kernel32Pack with the next panel gathered from the images: `rows` steps, step q's 8 floats at
// xc + table[q], one step every `gap` multiply-add steps (see gemm32's kernel32Pack for why).
function kernel32Gather(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, xc: usize, table: usize, dst: usize, rows: i32): void {
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
    const src = xc + <usize>load<i32>(table);
    v128.store(dst, v128.load(src));
    v128.store(dst, v128.load(src, 16), 16);
    table += 4;
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
    const src = xc + <usize>load<i32>(table);
    v128.store(dst, v128.load(src));
    v128.store(dst, v128.load(src, 16), 16);
    table += 4;
  }
  storeTile32(c, ldcBytes, true, c00, c01, c10, c11, c20, c21, c30, c31);
}

// Rows table[0..kc) of cols, all `field` columns, copied contiguously to dst (an im2col of kc
// rows: ≤ 512 × 128 floats, which stays in L2 for packB32 to read back). A scalar gather straight
// into packB32's panel layout cost more than im2col + gemm on the first CNN layer (∂W 1.9 → 2.7 ms:
// a store per value, 4 panels apart); runs copied 4 lanes at a time, then packed, do not.
function gatherRows32(x: usize, table: usize, kc: i32, field: i32, runLength: i32, lineBytes: i32, dst: usize): void {
  const runs = field / runLength;
  const runBytes = <usize>runLength << 2;
  for (let p = 0; p < kc; p++) {
    let src = x + <usize>load<i32>(table + (<usize>p << 2));
    for (let run = 0; run < runs; run++) {
      if (runLength >= 4) {
        // 4 lanes at a time, the last 4 overlapping the ones before (no scalar tail).
        for (let i: usize = 0; i + 16 < runBytes; i += 16) v128.store(dst + i, v128.load(src + i));
        v128.store(dst + runBytes - 16, v128.load(src + runBytes - 16));
      } else {
        for (let i: usize = 0; i < runBytes; i += 4) store<f32>(dst + i, load<f32>(src + i));
      }
      src += <usize>lineBytes;
      dst += runBytes;
    }
  }
}

// ∂W for field ≤ 128, as gemm32's direct path: dyᵀ read in place, cols gathered block by block.
function filterGradientDirect32(x: usize, table: usize, rows: i32, filters: i32, field: i32, runLength: i32, lineBytes: i32, dy: usize, dw: usize, work: usize): void {
  const packedA = work;
  const packedB = work + (<usize>(MC * KC) << 2);
  const tile = packedB + (<usize>(KC * NC) << 2);
  // This path packs at most KC × 128 floats of B (256 KiB) into gemm32's 4 MiB for packed B: the
  // gathered rows go to its second half.
  const rowsBlock = packedB + (<usize>(KC * NC) << 1);
  const ldcBytes = <usize>field << 2;
  const stepBytes = <usize>filters << 2; // from one row of dy (a step of op(A) = dyᵀ) to the next
  const full = filters & ~(MR32 - 1);
  for (let pc = 0; pc < rows; pc += KC) {
    const kc = min<i32>(KC, rows - pc);
    gatherRows32(x, table + (<usize>pc << 2), kc, field, runLength, lineBytes, rowsBlock);
    packB32(kc, field, rowsBlock, field, 1, 1, packedB);
    const aBlock = dy + <usize>pc * stepBytes;
    if (full < filters) packA32(filters - full, kc, aBlock + (<usize>full << 2), 1, filters, packedA + (<usize>(full * kc) << 2));
    for (let ir = 0; ir < filters; ir += MR32) {
      const mr = min<i32>(MR32, filters - ir);
      const pa = mr == MR32 ? aBlock + (<usize>ir << 2) : packedA + (<usize>(ir * kc) << 2);
      const laneBytes: usize = mr == MR32 ? 4 : 0;
      for (let jr = 0; jr < field; jr += NR32) {
        const nr = min<i32>(NR32, field - jr);
        const pb = packedB + (<usize>(jr * kc) << 2);
        const cp = dw + <usize>ir * ldcBytes + (<usize>jr << 2);
        if (mr == MR32 && nr == NR32) kernel32InPlace(kc, pa, laneBytes, stepBytes, pb, cp, ldcBytes, true);
        else edgeTile32(kc, mr, nr, pa, laneBytes, stepBytes, pb, cp, ldcBytes, tile, true);
      }
    }
  }
}

// ∂W of a 5×5 convolution of one-channel images (the first layer of an image CNN), filters a
// multiple of 8: for each kernel row ky and 8 filters, 10 accumulators (5 taps × 8 filters) over a
// block of KC rows of dy, the 5 taps splatted from the image row where the field's row ky lies. The
// general direct path gathers the rows of cols and packs them first, and spends a whole 8-column
// panel on the 25th column (the default CNN's conv1: 2.9 ms per batch of 64). The same products in
// the same order as gemm32's (each block summed from 0, then added to dw): bitwise equal (tested).
function filterGradientSingleChannel5(x: usize, table: usize, rows: i32, filters: i32, lineBytes: i32, dy: usize, dw: usize): void {
  const stepBytes = <usize>filters << 2;
  const fieldBytes: usize = 25 << 2;
  for (let pc = 0; pc < rows; pc += KC) {
    const kc = min<i32>(KC, rows - pc);
    for (let ky = 0; ky < 5; ky++) {
      const rowBytes = <usize>(ky * lineBytes);
      for (let jr = 0; jr < filters; jr += NR32) {
        let c00 = f32x4.splat(0);
        let c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0);
        let c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0);
        let c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0);
        let c31 = f32x4.splat(0);
        let c40 = f32x4.splat(0);
        let c41 = f32x4.splat(0);
        let t = table + (<usize>pc << 2);
        let d = dy + <usize>pc * stepBytes + (<usize>jr << 2);
        for (let p = 0; p < kc; p++) {
          const a = x + <usize>load<i32>(t) + rowBytes;
          const b0 = v128.load(d);
          const b1 = v128.load(d, 16);
          let s = v128.load32_splat(a);
          c00 = madd32(s, b0, c00);
          c01 = madd32(s, b1, c01);
          s = v128.load32_splat(a, 4);
          c10 = madd32(s, b0, c10);
          c11 = madd32(s, b1, c11);
          s = v128.load32_splat(a, 8);
          c20 = madd32(s, b0, c20);
          c21 = madd32(s, b1, c21);
          s = v128.load32_splat(a, 12);
          c30 = madd32(s, b0, c30);
          c31 = madd32(s, b1, c31);
          s = v128.load32_splat(a, 16);
          c40 = madd32(s, b0, c40);
          c41 = madd32(s, b1, c41);
          t += 4;
          d += stepBytes;
        }
        // dw[jr + lane][ky·5 + kx] += the accumulators' lanes.
        const to = dw + <usize>jr * fieldBytes + (<usize>(ky * 5) << 2);
        addLanes(to, fieldBytes, c00, c01);
        addLanes(to + 4, fieldBytes, c10, c11);
        addLanes(to + 8, fieldBytes, c20, c21);
        addLanes(to + 12, fieldBytes, c30, c31);
        addLanes(to + 16, fieldBytes, c40, c41);
      }
    }
  }
}

// to[l·strideBytes] += lane l of (lo, hi), l < 8.
// @ts-ignore: decorator
@inline function addLanes(to: usize, strideBytes: usize, lo: v128, hi: v128): void {
  store<f32>(to, load<f32>(to) + f32x4.extract_lane(lo, 0));
  store<f32>(to + strideBytes, load<f32>(to + strideBytes) + f32x4.extract_lane(lo, 1));
  store<f32>(to + 2 * strideBytes, load<f32>(to + 2 * strideBytes) + f32x4.extract_lane(lo, 2));
  store<f32>(to + 3 * strideBytes, load<f32>(to + 3 * strideBytes) + f32x4.extract_lane(lo, 3));
  store<f32>(to + 4 * strideBytes, load<f32>(to + 4 * strideBytes) + f32x4.extract_lane(hi, 0));
  store<f32>(to + 5 * strideBytes, load<f32>(to + 5 * strideBytes) + f32x4.extract_lane(hi, 1));
  store<f32>(to + 6 * strideBytes, load<f32>(to + 6 * strideBytes) + f32x4.extract_lane(hi, 2));
  store<f32>(to + 7 * strideBytes, load<f32>(to + 7 * strideBytes) + f32x4.extract_lane(hi, 3));
}

/**
 * dw[filters × field] += dyᵀ · cols, dy [rows × filters], cols implicit over images x. `work`:
 * gemm32WorkBytes() bytes. As gemm32(1, 0, filters, field, rows, 1, dy, filters, cols, field, 1,
 * dw, field): on its direct path for field ≤ 128, else on its panel path (panelBlock32), with cols'
 * panels gathered instead of packed.
 */
export function convolutionFilterGradient32(x: usize, table: usize, rows: i32, filters: i32, field: i32, runLength: i32, lineBytes: i32, dy: usize, dw: usize, work: usize): void {
  if (field == 25 && runLength == 5 && filters % NR32 == 0) {
    filterGradientSingleChannel5(x, table, rows, filters, lineBytes, dy, dw);
    return;
  }
  if (field <= DIRECT_A_MAX_N) {
    filterGradientDirect32(x, table, rows, filters, field, runLength, lineBytes, dy, dw, work);
    return;
  }
  const packedA = work;
  const packedB = work + (<usize>(MC * KC) << 2);
  const tile = packedB + (<usize>(KC * NC) << 2);
  const ldcBytes = <usize>field << 2;
  const slivers = filters >> 2; // full slivers share the gathering of the next panel
  for (let jc = 0; jc < field; jc += NC) {
    const nc = min<i32>(NC, field - jc);
    for (let pc = 0; pc < rows; pc += KC) {
      const kc = min<i32>(KC, rows - pc);
      const blockTable = table + (<usize>pc << 2);
      packA32(filters, kc, dy + (<usize>(pc * filters) << 2), 1, filters, packedA);
      const panelBytes = <usize>kc << 5;
      const share = slivers > 0 ? (kc + slivers - 1) / slivers : kc;
      let packed = false; // whether the panel at jr is already in its buffer
      for (let jr = 0; jr < nc; jr += NR32) {
        const pb = packedB + (((<usize>jr >> 3) & 1) * panelBytes);
        if (!packed) gatherPanel32(x, blockTable, kc, columnBytes(jc + jr, runLength, lineBytes), pb);
        const next = jr + NR32;
        const overlap = filters >= MR32 && kc >= OVERLAP_MIN_KC && next + NR32 <= nc;
        const nextPb = packedB + (((<usize>next >> 3) & 1) * panelBytes);
        const nextColumn = x + columnBytes(jc + next, runLength, lineBytes);
        for (let ir = 0; ir < filters; ir += MR32) {
          const mr = min<i32>(MR32, filters - ir);
          const pa = packedA + (<usize>(ir * kc) << 2);
          const cp = dw + <usize>ir * ldcBytes + (<usize>(jc + jr) << 2);
          if (overlap && mr == MR32) {
            const from = min<i32>(kc, (ir >> 2) * share);
            const steps = min<i32>(kc, from + share) - from;
            kernel32Gather(kc, pa, pb, cp, ldcBytes, nextColumn, blockTable + (<usize>from << 2), nextPb + (<usize>from << 5), steps);
          } else if (mr == MR32) kernel32(kc, pa, pb, cp, ldcBytes, true);
          else edgeTile32(kc, mr, NR32, pa, 0, 0, pb, cp, ldcBytes, tile, true);
        }
        packed = overlap;
      }
    }
  }
}
