// The forward pass of a 5×5, stride-1, unpadded channels-last convolution by Winograd's minimal
// filtering F(2×2, 5×5) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR
// 2016): y += Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for every 2×2 output tile, d its 6×6 input tile.
//
// Why: the default CNN's conv2 (12×12×32 → 8×8×64) is 3.3 M multiply-adds per image as a gemm, and
// that gemm already runs at the WASM-SIMD micro-kernel's peak (docs/notes/cnn-speed.md). Here each
// tile's 36 transformed points are a gemm over channels — 36·C·F multiply-adds per tile instead of
// 100·C·F, 2.8× fewer — plus transforms linear in C and F.
//
// The matrices are Toom-Cook's at the points 0, 1, −1, 2, −2, ∞ (Aᵀ the evaluation of the 2-tap
// output polynomial, G of the 5-tap filter, Bᵀ the inverse Vandermonde transposed), Bᵀ's rows
// scaled to integers and G's by the inverse scales:
//   Bᵀ = [4 0 −5 0 1 0; 0 4 4 −1 −1 0; 0 −4 4 1 −1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//   G  = [1/4 0 0 0 0; 1/6 1/6 1/6 1/6 1/6; 1/6 −1/6 1/6 −1/6 1/6;
//         1/24 1/12 1/6 1/3 2/3; 1/24 −1/12 1/6 −1/3 2/3; 0 0 0 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1]
// Float32 rounding differs from the direct sum (the transforms add values up to ~25× the inputs
// before the products): the result is tested against the definition within a relative 1e-5 of the
// magnitudes, not bitwise (test/core/kernels-winograd.test.ts). The backward passes, the exact
// gradients of this forward pass, are in winograd-backward.ts.

import { MR32, NR32, kernel32InPlace } from './kernel32';

/** Output tiles transformed per block: its transformed inputs and products (36 × 64 × (C + F) floats) stay in L2. */
export const TILES: i32 = 64;

// Bytes from one of the 36 points' planes to the next: `floats` plus a cache line. Unpadded, the
// planes (8 or 16 KiB for conv2) are multiples of 4 KiB apart, so a tile's 36 values fall into one
// L1 set and evict each other; padded they take 36 sets.
// @ts-ignore: decorator
@inline export function plane(floats: i32): usize {
  return (<usize>floats << 2) + 64;
}

/**
 * Whether the Winograd kernels take this shape (the caller runs the direct path otherwise): channels
 * a multiple of 8 (∂x's gemm has channels for columns; and below 8 the transforms cost more than
 * the products save: 4 channels, 8 filters, 0.061 vs 0.049 ms), filters of 8, even output sides.
 */
export function winograd32(kernelSize: i32, stride: i32, padding: i32, channels: i32, filters: i32, outHeight: i32, outWidth: i32): bool {
  return kernelSize == 5 && stride == 1 && padding == 0 && channels % 8 == 0 && filters % NR32 == 0 && outHeight % 2 == 0 && outWidth % 2 == 0;
}

/** Bytes of `u` (the transformed filters) and of `work` for winogradForward32. */
export function winogradFilterBytes(channels: i32, filters: i32): i32 {
  return 36 * <i32>plane(channels * filters);
}
export function winogradWorkBytes(channels: i32, filters: i32): i32 {
  return 36 * <i32>(plane(TILES * channels) + plane(TILES * filters)) + 36 * 16 * 2;
}

// Bᵀ applied to 6 vectors at src, src + stride, …; the 6 results to dst, dst + dstStride, ….
// @ts-ignore: decorator
@inline export function inputTransform(src: usize, stride: usize, dst: usize, dstStride: usize): void {
  const d0 = v128.load(src);
  const d1 = v128.load(src + stride);
  const d2 = v128.load(src + 2 * stride);
  const d3 = v128.load(src + 3 * stride);
  const d4 = v128.load(src + 4 * stride);
  const d5 = v128.load(src + 5 * stride);
  const four = f32x4.splat(4);
  const five = f32x4.splat(5);
  const two = f32x4.splat(2);
  v128.store(dst, f32x4.add(f32x4.sub(f32x4.mul(four, d0), f32x4.mul(five, d2)), d4));
  const a = f32x4.mul(four, f32x4.add(d1, d2)); // 4d1 + 4d2
  const b = f32x4.add(d3, d4);
  v128.store(dst + dstStride, f32x4.sub(a, b));
  const c = f32x4.mul(four, f32x4.sub(d2, d1)); // −4d1 + 4d2
  const e = f32x4.sub(d3, d4);
  v128.store(dst + 2 * dstStride, f32x4.add(c, e));
  const f = f32x4.mul(two, f32x4.sub(d3, d1)); // −2d1 + 2d3
  const h = f32x4.sub(d4, d2);
  v128.store(dst + 3 * dstStride, f32x4.add(f, h));
  v128.store(dst + 4 * dstStride, f32x4.sub(h, f));
  v128.store(dst + 5 * dstStride, f32x4.add(f32x4.sub(f32x4.mul(four, d1), f32x4.mul(five, d3)), d5));
}

// G applied to 5 vectors at src, src + stride, …; the 6 results to dst, dst + dstStride, ….
// @ts-ignore: decorator
@inline function filterTransform(src: usize, stride: usize, dst: usize, dstStride: usize): void {
  const g0 = v128.load(src);
  const g1 = v128.load(src + stride);
  const g2 = v128.load(src + 2 * stride);
  const g3 = v128.load(src + 3 * stride);
  const g4 = v128.load(src + 4 * stride);
  const even = f32x4.add(f32x4.add(g0, g2), g4);
  const odd = f32x4.add(g1, g3);
  const even2 = f32x4.add(f32x4.add(g0, f32x4.mul(f32x4.splat(4), g2)), f32x4.mul(f32x4.splat(16), g4));
  const odd2 = f32x4.add(f32x4.mul(f32x4.splat(2), g1), f32x4.mul(f32x4.splat(8), g3));
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  const twentyFourth = f32x4.splat(<f32>(1.0 / 24.0));
  v128.store(dst, f32x4.mul(f32x4.splat(0.25), g0));
  v128.store(dst + dstStride, f32x4.mul(sixth, f32x4.add(even, odd)));
  v128.store(dst + 2 * dstStride, f32x4.mul(sixth, f32x4.sub(even, odd)));
  v128.store(dst + 3 * dstStride, f32x4.mul(twentyFourth, f32x4.add(even2, odd2)));
  v128.store(dst + 4 * dstStride, f32x4.mul(twentyFourth, f32x4.sub(even2, odd2)));
  v128.store(dst + 5 * dstStride, g4);
}

/**
 * u = the filters w [filters, 5, 5, channels] transformed, G g Gᵀ for each (filter, channel), laid
 * out for the gemm: point ξ (36), panel of 8 filters, channel, filter in panel. `scratch`: 1,056 bytes (66 vectors).
 */
export function winogradFilters32(w: usize, channels: i32, filters: i32, u: usize, scratch: usize): void {
  const field = <usize>(25 * channels) << 2;
  const xBytes = <usize>channels << 2; // kx → kx + 1
  const yBytes: usize = 5 * xBytes; // ky → ky + 1
  const pointBytes = plane(channels * filters);
  const panelBytes = <usize>(channels * NR32) << 2;
  // scratch: t[i][kx] (6 × 5 vectors), then the 36 points (6 × 6 vectors)
  const points = scratch + 30 * 16;
  for (let f = 0; f < filters; f++) {
    const filter = w + <usize>f * field;
    const column = (<usize>(f / NR32) * panelBytes) + (<usize>(f % NR32) << 2);
    for (let c = 0; c < channels; c += 4) {
      const g = filter + (<usize>c << 2);
      // t = G g (over ky), column kx at a time; then (t Gᵀ) row i at a time (over kx).
      for (let kx = 0; kx < 5; kx++) filterTransform(g + <usize>kx * xBytes, yBytes, scratch + <usize>kx * 16, 5 * 16);
      for (let i = 0; i < 6; i++) filterTransform(scratch + <usize>(i * 5) * 16, 16, points + <usize>(i * 6) * 16, 16);
      // lane l (channel c + l) of point ξ → u[ξ][f / 8][c + l][f % 8]
      const at = u + column + (<usize>c * NR32 << 2);
      for (let xi = 0; xi < 36; xi++) {
        const v = v128.load(points + <usize>xi * 16);
        const to = at + <usize>xi * pointBytes;
        store<f32>(to, f32x4.extract_lane(v, 0));
        store<f32>(to + (NR32 << 2), f32x4.extract_lane(v, 1));
        store<f32>(to + (2 * NR32 << 2), f32x4.extract_lane(v, 2));
        store<f32>(to + (3 * NR32 << 2), f32x4.extract_lane(v, 3));
      }
    }
  }
}

/**
 * y[batch, H − 4, W − 4, filters] += the 5×5 convolution of x [batch, H, W, channels] with the
 * filters `u` holds (winogradFilters32), for shapes winograd32 takes. `work`: winogradWorkBytes.
 */
export function winogradForward32(x: usize, batch: i32, height: i32, width: i32, channels: i32, filters: i32, u: usize, y: usize, work: usize): void {
  const outHeight = height - 4;
  const outWidth = width - 4;
  const tilesY = outHeight >> 1;
  const tilesX = outWidth >> 1;
  const tilesPerImage = tilesY * tilesX;
  const tiles = batch * tilesPerImage;
  const v = work; // [36][TILES][channels]
  const vPoint = plane(TILES * channels);
  const mPoint = plane(TILES * filters);
  const uPoint = plane(channels * filters);
  const m = v + 36 * vPoint; // [36][TILES][filters]
  const scratch = m + 36 * mPoint; // 36 vectors, then 2 × 6
  const panelBytes = <usize>(channels * NR32) << 2;
  const pixelBytes = <usize>channels << 2;
  const lineBytes = <usize>width * pixelBytes;
  const outPixel = <usize>filters << 2;
  const outLine = <usize>outWidth * outPixel;
  for (let first = 0; first < tiles; first += TILES) {
    const count = min<i32>(TILES, tiles - first);
    const rows = (count + MR32 - 1) & ~(MR32 - 1); // the gemm's rows: tiles rounded up to a sliver
    // Inputs: V[ξ][t][c] = (Bᵀ d B)[ξ] for tile t, 4 channels at a time; rows past `count` are 0.
    for (let t = 0; t < rows; t++) {
      if (t >= count) {
        for (let xi = 0; xi < 36; xi++) memory.fill(v + <usize>xi * vPoint + <usize>t * pixelBytes, 0, pixelBytes);
        continue;
      }
      const tile = first + t;
      const n = tile / tilesPerImage;
      const within = tile % tilesPerImage;
      const origin = x + (<usize>(n * height + 2 * (within / tilesX)) * lineBytes) + <usize>(2 * (within % tilesX)) * pixelBytes;
      for (let c: usize = 0; c < pixelBytes; c += 16) {
        // Bᵀ d over rows (a column of d at a time), then over columns (a row of the result at a time).
        for (let j = 0; j < 6; j++) inputTransform(origin + c + <usize>j * pixelBytes, lineBytes, scratch + <usize>j * 16, 6 * 16);
        for (let i = 0; i < 6; i++) inputTransform(scratch + <usize>(i * 6) * 16, 16, v + <usize>(i * 6) * vPoint + <usize>t * pixelBytes + c, vPoint);
      }
    }
    // Products: M[ξ] = V[ξ] · U[ξ], [rows × channels] · [channels × filters], for the 36 points.
    for (let xi = 0; xi < 36; xi++) {
      const vx = v + <usize>xi * vPoint;
      const ux = u + <usize>xi * uPoint;
      const mx = m + <usize>xi * mPoint;
      for (let t = 0; t < rows; t += MR32) {
        for (let jr = 0; jr < filters; jr += NR32) {
          kernel32InPlace(channels, vx + <usize>t * pixelBytes, pixelBytes, 4, ux + <usize>(jr / NR32) * panelBytes, mx + <usize>t * outPixel + (<usize>jr << 2), outPixel, false);
        }
      }
    }
    // Outputs: y[2×2 tile] += Aᵀ M A, 4 filters at a time.
    const s = scratch; // s[a][j], a < 2, j < 6
    for (let t = 0; t < count; t++) {
      const tile = first + t;
      const n = tile / tilesPerImage;
      const within = tile % tilesPerImage;
      const out = y + (<usize>(n * outHeight + 2 * (within / tilesX)) * outLine) + <usize>(2 * (within % tilesX)) * outPixel;
      const mt = m + <usize>t * outPixel;
      for (let f: usize = 0; f < outPixel; f += 16) {
        for (let j = 0; j < 6; j++) {
          const col = mt + f + <usize>j * mPoint;
          const m0 = v128.load(col);
          const m1 = v128.load(col + 6 * mPoint);
          const m2 = v128.load(col + 12 * mPoint);
          const m3 = v128.load(col + 18 * mPoint);
          const m4 = v128.load(col + 24 * mPoint);
          const m5 = v128.load(col + 30 * mPoint);
          const p = f32x4.add(m1, m2);
          const q = f32x4.sub(m1, m2);
          const r = f32x4.add(m3, m4);
          const w = f32x4.sub(m3, m4);
          v128.store(s + <usize>j * 16, f32x4.add(f32x4.add(m0, p), r));
          v128.store(s + <usize>(6 + j) * 16, f32x4.add(f32x4.add(q, f32x4.mul(f32x4.splat(2), w)), m5));
        }
        for (let a = 0; a < 2; a++) {
          const row = s + <usize>(a * 6) * 16;
          const m0 = v128.load(row);
          const m1 = v128.load(row, 16);
          const m2 = v128.load(row, 32);
          const m3 = v128.load(row, 48);
          const m4 = v128.load(row, 64);
          const m5 = v128.load(row, 80);
          const p = f32x4.add(m1, m2);
          const q = f32x4.sub(m1, m2);
          const r = f32x4.add(m3, m4);
          const w = f32x4.sub(m3, m4);
          const to = out + <usize>a * outLine + f;
          v128.store(to, f32x4.add(v128.load(to), f32x4.add(f32x4.add(m0, p), r)));
          v128.store(to + outPixel, f32x4.add(v128.load(to + outPixel), f32x4.add(f32x4.add(q, f32x4.mul(f32x4.splat(2), w)), m5)));
        }
      }
    }
  }
}
