// The backward passes of winograd.ts's F(2×2, 5×5) convolution: the exact gradients of its forward
// pass (equal to the convolution's up to float32 rounding). With Z_t = Σ_c U[c] ⊙ V_t[c] and
// Y_t = Aᵀ Z_t A, ∂L/∂Z_t = N_t = A ∂Y_t Aᵀ:
//   ∂L/∂U[c][f] = Σ_t N_t[f] ⊙ V_t[c]   → ∂W = Gᵀ (∂L/∂U) G          (36 gemms over the tiles)
//   ∂L/∂V_t[c] = Σ_f U[c][f] ⊙ N_t[f]   → ∂d_t = B (∂L/∂V_t) Bᵀ, added into ∂x under tile t
// so ∂W and ∂x cost 36·C·F multiply-adds per tile each, as the forward pass, instead of 100·C·F.

import { MR32, NR32, madd32, storeTile32 } from './kernel32';
import { TILES, inputTransform, plane } from './winograd';

/** Bytes of `work` for winogradFilterGradient32 and winogradInputGradient32. */
export function winogradBackwardWorkBytes(channels: i32, filters: i32): i32 {
  return 36 * <i32>(plane(TILES * channels) + plane(TILES * filters) + plane(channels * filters)) + 36 * 16 * 2;
}

// The 4×8 micro-kernel with B's steps `bStepBytes` apart (a row-major matrix read in place)
// instead of packed 32 bytes apart: C[0:4, 0:8] (+)= op(A) sliver · B panel over kc steps.
// @ts-ignore: decorator
@inline function kernelStrided(kc: i32, a: usize, laneBytes: usize, stepBytes: usize, b: usize, bStepBytes: usize, c: usize, ldcBytes: usize, keep: bool): void {
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
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
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
    b += bStepBytes;
  }
  storeTile32(c, ldcBytes, keep, c00, c01, c10, c11, c20, c21, c30, c31);
}

// A applied to 2 vectors at src, src + stride; the 6 results to dst, dst + dstStride, … (A = (Aᵀ)ᵀ).
// @ts-ignore: decorator
@inline function outputAdjoint(src: usize, stride: usize, dst: usize, dstStride: usize): void {
  const e0 = v128.load(src);
  const e1 = v128.load(src + stride);
  const twice = f32x4.add(e1, e1);
  v128.store(dst, e0);
  v128.store(dst + dstStride, f32x4.add(e0, e1));
  v128.store(dst + 2 * dstStride, f32x4.sub(e0, e1));
  v128.store(dst + 3 * dstStride, f32x4.add(e0, twice));
  v128.store(dst + 4 * dstStride, f32x4.sub(e0, twice));
  v128.store(dst + 5 * dstStride, e1);
}

// B applied to 6 vectors (B = (Bᵀ)ᵀ: out_i = Σ_k Bᵀ[k][i]·in_k); the 6 results to dst, ….
// @ts-ignore: decorator
@inline function inputAdjoint(src: usize, stride: usize, dst: usize, dstStride: usize): void {
  const d0 = v128.load(src);
  const d1 = v128.load(src + stride);
  const d2 = v128.load(src + 2 * stride);
  const d3 = v128.load(src + 3 * stride);
  const d4 = v128.load(src + 4 * stride);
  const d5 = v128.load(src + 5 * stride);
  const four = f32x4.splat(4);
  const five = f32x4.splat(5);
  const two = f32x4.splat(2);
  v128.store(dst, f32x4.mul(four, d0));
  // 4d1 − 4d2 − 2d3 + 2d4 + 4d5
  v128.store(dst + dstStride, f32x4.add(f32x4.mul(four, f32x4.add(f32x4.sub(d1, d2), d5)), f32x4.mul(two, f32x4.sub(d4, d3))));
  // −5d0 + 4d1 + 4d2 − d3 − d4
  v128.store(dst + 2 * dstStride, f32x4.sub(f32x4.sub(f32x4.mul(four, f32x4.add(d1, d2)), f32x4.mul(five, d0)), f32x4.add(d3, d4)));
  // −d1 + d2 + 2d3 − 2d4 − 5d5
  v128.store(dst + 3 * dstStride, f32x4.sub(f32x4.add(f32x4.sub(d2, d1), f32x4.mul(two, f32x4.sub(d3, d4))), f32x4.mul(five, d5)));
  // d0 − d1 − d2 + d3 + d4
  v128.store(dst + 4 * dstStride, f32x4.add(f32x4.sub(d0, f32x4.add(d1, d2)), f32x4.add(d3, d4)));
  v128.store(dst + 5 * dstStride, d5);
}

// Gᵀ applied to 6 vectors (out_k = Σ_i G[i][k]·in_i); the 5 results to dst, dst + dstStride, ….
// @ts-ignore: decorator
@inline function filterAdjoint(src: usize, stride: usize, dst: usize, dstStride: usize): void {
  const i0 = v128.load(src);
  const i1 = v128.load(src + stride);
  const i2 = v128.load(src + 2 * stride);
  const i3 = v128.load(src + 3 * stride);
  const i4 = v128.load(src + 4 * stride);
  const i5 = v128.load(src + 5 * stride);
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  const s12 = f32x4.mul(sixth, f32x4.add(i1, i2)); // (i1 + i2)/6
  const d12 = f32x4.mul(sixth, f32x4.sub(i1, i2));
  const s34 = f32x4.mul(sixth, f32x4.add(i3, i4)); // (i3 + i4)/6
  const d34 = f32x4.mul(sixth, f32x4.sub(i3, i4));
  const quarter = f32x4.splat(0.25);
  const half = f32x4.splat(0.5);
  const two = f32x4.splat(2);
  const four = f32x4.splat(4);
  v128.store(dst, f32x4.add(f32x4.add(f32x4.mul(quarter, i0), s12), f32x4.mul(quarter, s34))); // i0/4 + s12/6 + s34/24
  v128.store(dst + dstStride, f32x4.add(d12, f32x4.mul(half, d34))); // d12/6 + d34/12
  v128.store(dst + 2 * dstStride, f32x4.add(s12, s34)); // s12/6 + s34/6
  v128.store(dst + 3 * dstStride, f32x4.add(d12, f32x4.mul(two, d34))); // d12/6 + d34/3
  v128.store(dst + 4 * dstStride, f32x4.add(f32x4.add(s12, f32x4.mul(four, s34)), i5)); // s12/6 + 2·s34/3 + i5
}

// V[ξ][t][c] for tiles first … first + count of x (see winogradForward32); `scratch`: 36 vectors.
function transformInputs(x: usize, height: i32, width: i32, channels: i32, first: i32, count: i32, v: usize, scratch: usize): void {
  const tilesX = (width - 4) >> 1;
  const tilesPerImage = ((height - 4) >> 1) * tilesX;
  const pixelBytes = <usize>channels << 2;
  const lineBytes = <usize>width * pixelBytes;
  const vPoint = plane(TILES * channels);
  for (let t = 0; t < count; t++) {
    const tile = first + t;
    const n = tile / tilesPerImage;
    const within = tile % tilesPerImage;
    const origin = x + (<usize>(n * height + 2 * (within / tilesX)) * lineBytes) + <usize>(2 * (within % tilesX)) * pixelBytes;
    for (let c: usize = 0; c < pixelBytes; c += 16) {
      for (let j = 0; j < 6; j++) inputTransform(origin + c + <usize>j * pixelBytes, lineBytes, scratch + <usize>j * 16, 6 * 16);
      for (let i = 0; i < 6; i++) inputTransform(scratch + <usize>(i * 6) * 16, 16, v + <usize>(i * 6) * vPoint + <usize>t * pixelBytes + c, vPoint);
    }
  }
}

// N[ξ][t][f] = (A ∂Y_t Aᵀ)[ξ] for tiles first … first + count of dy [batch, outH, outW, filters].
function transformOutputGradients(dy: usize, outHeight: i32, outWidth: i32, filters: i32, first: i32, count: i32, nBlock: usize, scratch: usize): void {
  const tilesX = outWidth >> 1;
  const tilesPerImage = (outHeight >> 1) * tilesX;
  const outPixel = <usize>filters << 2;
  const outLine = <usize>outWidth * outPixel;
  const nPoint = plane(TILES * filters);
  for (let t = 0; t < count; t++) {
    const tile = first + t;
    const n = tile / tilesPerImage;
    const within = tile % tilesPerImage;
    const origin = dy + (<usize>(n * outHeight + 2 * (within / tilesX)) * outLine) + <usize>(2 * (within % tilesX)) * outPixel;
    for (let f: usize = 0; f < outPixel; f += 16) {
      // R[a][j] = Σ_b ∂Y[a][b]·A[j][b] (row a of ∂Y at a time), then N[i][j] = Σ_a A[i][a]·R[a][j].
      for (let a = 0; a < 2; a++) outputAdjoint(origin + f + <usize>a * outLine, outPixel, scratch + <usize>(a * 6) * 16, 16);
      for (let j = 0; j < 6; j++) outputAdjoint(scratch + <usize>j * 16, 6 * 16, nBlock + <usize>j * nPoint + <usize>t * outPixel + f, 6 * nPoint);
    }
  }
}

/**
 * dw[filters, 5, 5, channels] += ∂W of the Winograd forward pass: x its input, dy [batch, H − 4,
 * W − 4, filters] the gradient of its output. `work`: winogradBackwardWorkBytes.
 */
export function winogradFilterGradient32(x: usize, dy: usize, batch: i32, height: i32, width: i32, channels: i32, filters: i32, dw: usize, work: usize): void {
  const outHeight = height - 4;
  const outWidth = width - 4;
  const tiles = batch * (outHeight >> 1) * (outWidth >> 1);
  const v = work; // [36][TILES][channels]
  const vPoint = plane(TILES * channels);
  const nPoint = plane(TILES * filters);
  const duPoint = plane(channels * filters);
  const nBlock = v + 36 * vPoint; // [36][TILES][filters]
  const du = nBlock + 36 * nPoint; // [36][channels][filters]
  const scratch = du + 36 * duPoint;
  const pixelBytes = <usize>channels << 2;
  const outPixel = <usize>filters << 2;
  memory.fill(du, 0, 36 * duPoint);
  for (let first = 0; first < tiles; first += TILES) {
    const count = min<i32>(TILES, tiles - first);
    transformInputs(x, height, width, channels, first, count, v, scratch);
    transformOutputGradients(dy, outHeight, outWidth, filters, first, count, nBlock, scratch);
    // ∂U[ξ] += V[ξ]ᵀ · N[ξ]: channels × filters over the block's tiles (the steps).
    for (let xi = 0; xi < 36; xi++) {
      const vx = v + <usize>xi * vPoint;
      const nx = nBlock + <usize>xi * nPoint;
      const dux = du + <usize>xi * duPoint;
      for (let c = 0; c < channels; c += MR32) {
        for (let jr = 0; jr < filters; jr += NR32) {
          kernelStrided(count, vx + (<usize>c << 2), 4, pixelBytes, nx + (<usize>jr << 2), outPixel, dux + <usize>c * outPixel + (<usize>jr << 2), outPixel, true);
        }
      }
    }
  }
  // ∂W = Gᵀ ∂U G for every (filter, channel), 4 filters at a time (lanes), added into dw.
  const field = <usize>(25 * channels) << 2;
  const t = scratch; // [5][6] vectors, then the [5][5] result
  const result = scratch + 30 * 16;
  for (let c = 0; c < channels; c++) {
    for (let f = 0; f < filters; f += 4) {
      const at = du + <usize>c * outPixel + (<usize>f << 2);
      // T[k][j] = Σ_i G[i][k]·∂U[i][j] (a column j at a time), then ∂g[k][l] = Σ_j G[j][l]·T[k][j].
      for (let j = 0; j < 6; j++) filterAdjoint(at + <usize>j * duPoint, 6 * duPoint, t + <usize>j * 16, 6 * 16);
      for (let k = 0; k < 5; k++) filterAdjoint(t + <usize>(k * 6) * 16, 16, result + <usize>(k * 5) * 16, 16);
      const to = dw + <usize>f * field + (<usize>c << 2);
      for (let p = 0; p < 25; p++) {
        const value = v128.load(result + <usize>p * 16);
        const cell = to + <usize>p * pixelBytes;
        store<f32>(cell, load<f32>(cell) + f32x4.extract_lane(value, 0));
        store<f32>(cell + field, load<f32>(cell + field) + f32x4.extract_lane(value, 1));
        store<f32>(cell + 2 * field, load<f32>(cell + 2 * field) + f32x4.extract_lane(value, 2));
        store<f32>(cell + 3 * field, load<f32>(cell + 3 * field) + f32x4.extract_lane(value, 3));
      }
    }
  }
}

/**
 * dx [batch, H, W, channels] = ∂x of the Winograd forward pass (overwritten) for filters `u`
 * (winogradFilters32), dy [batch, H − 4, W − 4, filters] the gradient of its output. `work`:
 * winogradBackwardWorkBytes.
 */
export function winogradInputGradient32(dy: usize, batch: i32, height: i32, width: i32, channels: i32, filters: i32, u: usize, dx: usize, work: usize): void {
  const outHeight = height - 4;
  const outWidth = width - 4;
  const tiles = batch * (outHeight >> 1) * (outWidth >> 1);
  const tilesX = outWidth >> 1;
  const tilesPerImage = (outHeight >> 1) * tilesX;
  const dv = work; // [36][TILES][channels]
  const vPoint = plane(TILES * channels);
  const nPoint = plane(TILES * filters);
  const uPoint = plane(channels * filters);
  const nBlock = dv + 36 * vPoint; // [36][TILES][filters]
  const ut = nBlock + 36 * nPoint; // [36][filters][channels]: Uᵀ row-major
  const scratch = ut + 36 * uPoint;
  const panelBytes = <usize>(channels * NR32) << 2;
  const pixelBytes = <usize>channels << 2;
  const lineBytes = <usize>width * pixelBytes;
  const outPixel = <usize>filters << 2;
  // Uᵀ from u's panels: u[ξ][f / 8][c][f % 8] → ut[ξ][f][c].
  for (let xi = 0; xi < 36; xi++) {
    for (let f = 0; f < filters; f++) {
      const from = u + <usize>xi * uPoint + <usize>(f / NR32) * panelBytes + (<usize>(f % NR32) << 2);
      const to = ut + <usize>xi * uPoint + <usize>f * pixelBytes;
      for (let c = 0; c < channels; c++) store<f32>(to + (<usize>c << 2), load<f32>(from + (<usize>(c * NR32) << 2)));
    }
  }
  memory.fill(dx, 0, <usize>(batch * height * width) * pixelBytes);
  for (let first = 0; first < tiles; first += TILES) {
    const count = min<i32>(TILES, tiles - first);
    const rows = (count + MR32 - 1) & ~(MR32 - 1);
    transformOutputGradients(dy, outHeight, outWidth, filters, first, count, nBlock, scratch);
    // ∂V[ξ] = N[ξ] · U[ξ]ᵀ: tiles × channels over the filters (rows past `count` are not read back).
    for (let xi = 0; xi < 36; xi++) {
      const nx = nBlock + <usize>xi * nPoint;
      const utx = ut + <usize>xi * uPoint;
      const dvx = dv + <usize>xi * vPoint;
      for (let t = 0; t < rows; t += MR32) {
        for (let jr = 0; jr < channels; jr += NR32) {
          kernelStrided(filters, nx + <usize>t * outPixel, outPixel, 4, utx + (<usize>jr << 2), pixelBytes, dvx + <usize>t * pixelBytes + (<usize>jr << 2), pixelBytes, false);
        }
      }
    }
    // ∂d_t = B ∂V_t Bᵀ added into ∂x under each tile (tiles overlap by 4 pixels).
    for (let t = 0; t < count; t++) {
      const tile = first + t;
      const n = tile / tilesPerImage;
      const within = tile % tilesPerImage;
      const origin = dx + (<usize>(n * height + 2 * (within / tilesX)) * lineBytes) + <usize>(2 * (within % tilesX)) * pixelBytes;
      for (let c: usize = 0; c < pixelBytes; c += 16) {
        // Over the first index (a column j of ∂V at a time), then the second (a row at a time).
        for (let j = 0; j < 6; j++) inputAdjoint(dv + <usize>j * vPoint + <usize>t * pixelBytes + c, 6 * vPoint, scratch + <usize>j * 16, 6 * 16);
        for (let i = 0; i < 6; i++) {
          inputAdjoint(scratch + <usize>(i * 6) * 16, 16, scratch + 36 * 16, 16);
          const row = origin + <usize>i * lineBytes + c;
          for (let j = 0; j < 6; j++) {
            const cell = row + <usize>j * pixelBytes;
            v128.store(cell, f32x4.add(v128.load(cell), v128.load(scratch + <usize>(36 + j) * 16)));
          }
        }
      }
    }
  }
}
