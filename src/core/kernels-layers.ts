/**
 * Kernels of the neural engine's layers (src/nn), part of every backend's `Kernels`: workspace
 * arrays the backend reads without a copy, im2col/col2im of a channels-last convolution, max
 * pooling, bias rows and column sums, ReLU. This file holds their contract and the TypeScript
 * reference (`tsLayerKernels`), which the WASM backend is tested against (bitwise: both compute in
 * float32 storage order, see assembly/conv.ts).
 *
 * Every kernel overwrites its output completely unless it says "adds".
 *
 * @example
 * const k = kernels();
 * const cols = k.workspace('float32', rows * field); // in WASM memory when the backend is wasm
 * k.im2col(geometry, batch, x, cols);
 */
import type { DType, FloatArray } from './storage.js';

/** A channels-last convolution's shapes (per image; the batch is an argument). */
export interface ConvGeometry {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly kernelSize: number;
  readonly stride: number;
  /** Zero padding on every side, in pixels. */
  readonly padding: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/** A channels-last max pool's shapes (per image). */
export interface PoolGeometry {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly size: number;
  readonly stride: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/** Values in a batch of channels-last images of the geometry's input size (a layer's x or dx). */
export function imagesLength(g: ConvGeometry | PoolGeometry, batch: number): number {
  return batch * g.height * g.width * g.channels;
}

/** Positions a batch's convolution outputs: the rows of the im2col matrix and of y. */
export function outputPositions(g: ConvGeometry, batch: number): number {
  return batch * g.outHeight * g.outWidth;
}

/** Values in one receptive field, k·k·channels: a row of the im2col matrix. */
export function fieldLength(g: ConvGeometry): number {
  return g.kernelSize * g.kernelSize * g.channels;
}

/** Values in the im2col matrix of a batch: one row per output position, k·k·channels columns. */
export function columnsLength(g: ConvGeometry, batch: number): number {
  return outputPositions(g, batch) * fieldLength(g);
}

export interface LayerKernels {
  /**
   * A zeroed array of `length` that this backend's kernels read and write without copying (WASM:
   * inside its memory, released after the array is garbage-collected). Keep the array itself while
   * using it: a `subarray` alone does not keep the block alive.
   */
  workspace(dtype: DType, length: number): FloatArray;
  /** `workspace` for int32 (max-pool's argmax). */
  workspaceInt32(length: number): Int32Array;
  /** cols[(n, oy, ox), (ky, kx, c)] = x[n, oy·s − p + ky, ox·s − p + kx, c], 0 outside the image. */
  im2col(g: ConvGeometry, batch: number, x: FloatArray, cols: FloatArray): void;
  /** The adjoint of im2col: dx = Σ of every cols entry that read each input element. */
  col2im(g: ConvGeometry, batch: number, dcols: FloatArray, dx: FloatArray): void;
  /** y = window maxima; argmax = index in x of the first maximum in scan order (ky, kx). */
  maxPool(g: PoolGeometry, batch: number, x: FloatArray, y: FloatArray, argmax: Int32Array): void;
  /** dx (all dx.length entries) = 0, then dx[argmax[i]] += dy[i] for i < count. */
  maxPoolBackward(count: number, dy: FloatArray, argmax: Int32Array, dx: FloatArray): void;
  /** y[r·n + j] = v[vOffset + j] for r < rows, j < n (a bias, before a gemm with beta 1). */
  broadcastRows(rows: number, n: number, v: FloatArray, vOffset: number, y: FloatArray): void;
  /** Adds: into[intoOffset + j] += Σ_r x[r·n + j], rows in order (a bias gradient). */
  sumRows(rows: number, n: number, x: FloatArray, into: FloatArray, intoOffset: number): void;
  /** y[i] = x[i] > 0 ? x[i] : 0 for i < n. */
  relu(n: number, x: FloatArray, y: FloatArray): void;
  /** dx[i] = y[i] > 0 ? dy[i] : 0 for i < n. */
  reluBackward(n: number, y: FloatArray, dy: FloatArray, dx: FloatArray): void;
}

function workspace(dtype: DType, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

function im2col(g: ConvGeometry, batch: number, x: FloatArray, cols: FloatArray): void {
  const { height, width, channels: c, kernelSize: k, stride, padding, outHeight, outWidth } = g;
  const rowLength = k * c;
  const field = k * rowLength;
  let row = 0;
  for (let n = 0; n < batch; n++) {
    const image = n * height * width * c;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, row++) {
        const base = row * field;
        const x0 = ox * stride - padding;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride - padding + ky;
          const at = base + ky * rowLength;
          if (iy < 0 || iy >= height) {
            cols.fill(0, at, at + rowLength);
            continue;
          }
          if (x0 >= 0 && x0 + k <= width) {
            // One contiguous run; a plain loop, not subarray+set (a view per run was 9% of a CNN
            // step in a profile, allocation).
            const from = image + (iy * width + x0) * c;
            for (let i = 0; i < rowLength; i++) cols[at + i] = x[from + i]!;
            continue;
          }
          for (let kx = 0; kx < k; kx++) {
            const ix = x0 + kx;
            const to = at + kx * c;
            if (ix < 0 || ix >= width) cols.fill(0, to, to + c);
            else for (let ch = 0; ch < c; ch++) cols[to + ch] = x[image + (iy * width + ix) * c + ch]!;
          }
        }
      }
    }
  }
}

function col2im(g: ConvGeometry, batch: number, dcols: FloatArray, dx: FloatArray): void {
  const { height, width, channels: c, kernelSize: k, stride, padding, outHeight, outWidth } = g;
  const field = k * k * c;
  dx.fill(0, 0, batch * height * width * c);
  let row = 0;
  for (let n = 0; n < batch; n++) {
    const image = n * height * width * c;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, row++) {
        const base = row * field;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride - padding + ky;
          if (iy < 0 || iy >= height) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * stride - padding + kx;
            if (ix < 0 || ix >= width) continue;
            const from = base + (ky * k + kx) * c;
            const to = image + (iy * width + ix) * c;
            for (let ch = 0; ch < c; ch++) dx[to + ch]! += dcols[from + ch]!;
          }
        }
      }
    }
  }
}

function maxPool(g: PoolGeometry, batch: number, x: FloatArray, y: FloatArray, argmax: Int32Array): void {
  const { height, width, channels, size, stride, outHeight, outWidth } = g;
  // Channels innermost: each window position is one contiguous run of `channels` values.
  for (let n = 0; n < batch; n++) {
    const image = n * height * width * channels;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const out = ((n * outHeight + oy) * outWidth + ox) * channels;
        for (let ky = 0; ky < size; ky++) {
          for (let kx = 0; kx < size; kx++) {
            const at = image + ((oy * stride + ky) * width + ox * stride + kx) * channels;
            const first = ky === 0 && kx === 0;
            for (let c = 0; c < channels; c++) {
              const value = x[at + c]!;
              if (first || value > y[out + c]!) {
                y[out + c] = value;
                argmax[out + c] = at + c;
              }
            }
          }
        }
      }
    }
  }
}

function maxPoolBackward(count: number, dy: FloatArray, argmax: Int32Array, dx: FloatArray): void {
  dx.fill(0);
  for (let i = 0; i < count; i++) dx[argmax[i]!]! += dy[i]!;
}

function broadcastRows(rows: number, n: number, v: FloatArray, vOffset: number, y: FloatArray): void {
  // A plain loop, not a subarray per row: 36,864 rows per batch in the first MNIST layer, and
  // those views were most of the garbage collector's time in a profile.
  for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) y[r * n + j] = v[vOffset + j]!;
}

function sumRows(rows: number, n: number, x: FloatArray, into: FloatArray, intoOffset: number): void {
  for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) into[intoOffset + j]! += x[r * n + j]!;
}

function relu(n: number, x: FloatArray, y: FloatArray): void {
  for (let i = 0; i < n; i++) y[i] = x[i]! > 0 ? x[i]! : 0;
}

function reluBackward(n: number, y: FloatArray, dy: FloatArray, dx: FloatArray): void {
  for (let i = 0; i < n; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
}

/** The reference layer kernels (part of the `ts` backend). */
export const tsLayerKernels: LayerKernels = {
  workspace,
  workspaceInt32: (length) => new Int32Array(length),
  im2col,
  col2im,
  maxPool,
  maxPoolBackward,
  broadcastRows,
  sumRows,
  relu,
  reluBackward,
};
