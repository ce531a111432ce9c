// The input gradient of a channels-last convolution with an implicit col2im (float32):
// dx = col2im(dy · W) without writing ∂cols. Each 4×8 tile of dy · W is added straight into the
// image rows col2im would add it to, found through convgemm.ts's field-offset table. Separate from
// convgemm.ts because it writes the images where the forward pass and ∂W read them: its tiles
// must lie within one kernel row (k·channels a multiple of 8), and overlapping fields add up in
// another order than col2im's (float32 rounding, tested within tolerance, not bitwise).

import { KC, MC, NC, packA32, packB32 } from './gemm32';
import { MR32, NR32, kernel32, madd32 } from './kernel32';
import { columnBytes } from './convgemm';

/** Whether convolutionInputGradient32 takes this shape: its tiles of 8 columns lie in one run. */
export function implicitInputGradient32(runLength: i32): bool {
  return runLength % NR32 == 0;
}

// kernel32 whose 4×8 tile is added to four rows anywhere in memory (r0..r3: 8 floats each),
// not stored to a matrix: a scatter-add of ∂cols into ∂x (col2im) without ∂cols.
// @ts-ignore: decorator
@inline function kernel32Scatter(kc: i32, pa: usize, pb: usize, r0: usize, r1: usize, r2: usize, r3: usize): void {
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
  v128.store(r0, f32x4.add(v128.load(r0), c00));
  v128.store(r0, f32x4.add(v128.load(r0, 16), c01), 16);
  v128.store(r1, f32x4.add(v128.load(r1), c10));
  v128.store(r1, f32x4.add(v128.load(r1, 16), c11), 16);
  v128.store(r2, f32x4.add(v128.load(r2), c20));
  v128.store(r2, f32x4.add(v128.load(r2, 16), c21), 16);
  v128.store(r3, f32x4.add(v128.load(r3), c30));
  v128.store(r3, f32x4.add(v128.load(r3, 16), c31), 16);
}

/**
 * dx = col2im(dy · W): the input gradient, scatter-added straight into the images dx (zeroed
 * first; the layout of x, or of its padded copy) — the explicit path writes ∂cols (13 MB for the
 * default CNN's conv2) and col2im reads it back. dy [rows × filters], W = w[filters × field].
 * gemm32's packed path for (0, 0, rows, field, filters, 1, dy, filters, w, field): the same
 * products per entry of ∂cols, but overlapping fields add up in another order than col2im's.
 */
export function convolutionInputGradient32(dx: usize, imagesBytes: i32, table: usize, rows: i32, filters: i32, field: i32, runLength: i32, lineBytes: i32, dy: usize, w: usize, work: usize): void {
  const packedA = work;
  const packedB = work + (<usize>(MC * KC) << 2);
  const tile = packedB + (<usize>(KC * NC) << 2);
  memory.fill(dx, 0, <usize>imagesBytes);
  for (let jc = 0; jc < field; jc += NC) {
    const nc = min<i32>(NC, field - jc);
    for (let pc = 0; pc < filters; pc += KC) {
      const kc = min<i32>(KC, filters - pc);
      packB32(kc, nc, w + (<usize>(pc * field + jc) << 2), field, 1, 1, packedB);
      for (let ic = 0; ic < rows; ic += MC) {
        const mc = min<i32>(MC, rows - ic);
        packA32(mc, kc, dy + (<usize>(ic * filters + pc) << 2), filters, 1, packedA);
        for (let jr = 0; jr < nc; jr += NR32) {
          const pb = packedB + (<usize>(jr * kc) << 2);
          const column = dx + columnBytes(jc + jr, runLength, lineBytes);
          for (let ir = 0; ir < mc; ir += MR32) {
            const mr = min<i32>(MR32, mc - ir);
            const pa = packedA + (<usize>(ir * kc) << 2);
            const rowTable = table + (<usize>(ic + ir) << 2);
            if (mr == MR32) {
              kernel32Scatter(kc, pa, pb,
                column + <usize>load<i32>(rowTable), column + <usize>load<i32>(rowTable, 4),
                column + <usize>load<i32>(rowTable, 8), column + <usize>load<i32>(rowTable, 12));
              continue;
            }
            kernel32(kc, pa, pb, tile, <usize>NR32 << 2, false);
            for (let r = 0; r < mr; r++) {
              const to = column + <usize>load<i32>(rowTable + (<usize>r << 2));
              const from = tile + (<usize>(r * NR32) << 2);
              v128.store(to, f32x4.add(v128.load(to), v128.load(from)));
              v128.store(to, f32x4.add(v128.load(to, 16), v128.load(from, 16)), 16);
            }
          }
        }
      }
    }
  }
}

/** x = the interior of padded images (the inverse of padImages32's copy): crops a padded ∂x. */
export function cropImages32(padded: usize, batch: i32, height: i32, width: i32, channels: i32, padding: i32, x: usize): void {
  const paddedWidth = width + 2 * padding;
  const paddedHeight = height + 2 * padding;
  const rowBytes = <usize>(width * channels) << 2;
  for (let n = 0; n < batch; n++) {
    for (let iy = 0; iy < height; iy++) {
      const to = x + (<usize>(((n * height + iy) * width) * channels) << 2);
      const from = padded + (<usize>(((n * paddedHeight + iy + padding) * paddedWidth + padding) * channels) << 2);
      memory.copy(to, from, rowBytes);
    }
  }
}
