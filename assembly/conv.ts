// Float32 layer kernels for the neural engine (src/nn): im2col/col2im of a channels-last
// convolution, max pooling, bias rows and column sums, ReLU. All are memory-bound loops; in WASM
// they run on f32x4 lanes and without JavaScript's bounds checks, over arrays the layers keep in
// this module's memory (src/core/kernels-wasm-layers.ts). Each has a TypeScript reference in
// src/core/kernels-layers.ts and property tests against it (test/core/kernels-layers.test.ts).
// Arithmetic is float32 in the reference's order, so results are bitwise equal to it.

// Copy n floats from `from` to `to` (no overlap): 4 lanes at a time, then the tail.
// @ts-ignore: decorator
@inline function copy32(to: usize, from: usize, n: i32): void {
  let i = 0;
  for (; i + 3 < n; i += 4) v128.store(to + (<usize>i << 2), v128.load(from + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(to + (<usize>i << 2), load<f32>(from + (<usize>i << 2)));
}

// to[i] += from[i] over n floats.
// @ts-ignore: decorator
@inline function add32(to: usize, from: usize, n: i32): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(to + o, f32x4.add(v128.load(to + o), v128.load(from + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(to + o, load<f32>(to + o) + load<f32>(from + o));
  }
}

// @ts-ignore: decorator
@inline function zero32(to: usize, n: i32): void {
  memory.fill(to, 0, <usize>n << 2);
}

/**
 * cols[(n, oy, ox), (ky, kx, c)] = x[n, oy·s − p + ky, ox·s − p + kx, c], 0 outside the image.
 * x is [batch, height, width, channels]; cols is [batch·outH·outW, k·k·channels].
 */
export function im2col32(
  x: usize, batch: i32, height: i32, width: i32, channels: i32, k: i32, stride: i32, padding: i32,
  outHeight: i32, outWidth: i32, cols: usize,
): void {
  const rowLength = k * channels;
  const field = k * rowLength;
  let row = 0;
  for (let n = 0; n < batch; n++) {
    const image = x + (<usize>(n * height * width * channels) << 2);
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, row++) {
        const base = cols + (<usize>row * <usize>field << 2);
        const x0 = ox * stride - padding;
        const inside = x0 >= 0 && x0 + k <= width;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride - padding + ky;
          const at = base + (<usize>(ky * rowLength) << 2);
          if (iy < 0 || iy >= height) {
            zero32(at, rowLength);
          } else if (inside) {
            copy32(at, image + (<usize>((iy * width + x0) * channels) << 2), rowLength);
          } else {
            for (let kx = 0; kx < k; kx++) {
              const ix = x0 + kx;
              const to = at + (<usize>(kx * channels) << 2);
              if (ix < 0 || ix >= width) zero32(to, channels);
              else copy32(to, image + (<usize>((iy * width + ix) * channels) << 2), channels);
            }
          }
        }
      }
    }
  }
}

/** The adjoint of im2col32: dx = 0, then dx[n, iy, ix, c] += every cols entry that read it. */
export function col2im32(
  dcols: usize, batch: i32, height: i32, width: i32, channels: i32, k: i32, stride: i32, padding: i32,
  outHeight: i32, outWidth: i32, dx: usize,
): void {
  zero32(dx, batch * height * width * channels);
  const rowLength = k * channels;
  const field = k * rowLength;
  let row = 0;
  for (let n = 0; n < batch; n++) {
    const image = dx + (<usize>(n * height * width * channels) << 2);
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, row++) {
        const base = dcols + (<usize>row * <usize>field << 2);
        const x0 = ox * stride - padding;
        const inside = x0 >= 0 && x0 + k <= width;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride - padding + ky;
          if (iy < 0 || iy >= height) continue;
          const from = base + (<usize>(ky * rowLength) << 2);
          if (inside) {
            add32(image + (<usize>((iy * width + x0) * channels) << 2), from, rowLength);
            continue;
          }
          for (let kx = 0; kx < k; kx++) {
            const ix = x0 + kx;
            if (ix < 0 || ix >= width) continue;
            add32(image + (<usize>((iy * width + ix) * channels) << 2), from + (<usize>(kx * channels) << 2), channels);
          }
        }
      }
    }
  }
}

/**
 * Max pooling, channels-last: y[n, oy, ox, c] = max over the size×size window, argmax[…] = the
 * element index in x of the first maximum in scan order (ky, then kx), as the reference keeps it.
 */
export function maxPool32(
  x: usize, batch: i32, height: i32, width: i32, channels: i32, size: i32, stride: i32,
  outHeight: i32, outWidth: i32, y: usize, argmax: usize,
): void {
  let out = 0;
  for (let n = 0; n < batch; n++) {
    const image = n * height * width * channels;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, out += channels) {
        const corner = image + ((oy * stride) * width + ox * stride) * channels;
        let c = 0;
        for (; c + 3 < channels; c += 4) {
          let best = v128.load(x + (<usize>(corner + c) << 2));
          let index = i32x4.add(i32x4.splat(corner + c), i32x4(0, 1, 2, 3));
          for (let ky = 0; ky < size; ky++) {
            for (let kx = 0; kx < size; kx++) {
              if (ky == 0 && kx == 0) continue;
              const at = corner + (ky * width + kx) * channels + c;
              const value = v128.load(x + (<usize>at << 2));
              const greater = f32x4.gt(value, best);
              best = v128.bitselect(value, best, greater);
              index = v128.bitselect(i32x4.add(i32x4.splat(at), i32x4(0, 1, 2, 3)), index, greater);
            }
          }
          v128.store(y + (<usize>(out + c) << 2), best);
          v128.store(argmax + (<usize>(out + c) << 2), index);
        }
        for (; c < channels; c++) {
          let best = load<f32>(x + (<usize>(corner + c) << 2));
          let index = corner + c;
          for (let ky = 0; ky < size; ky++) {
            for (let kx = 0; kx < size; kx++) {
              const at = corner + (ky * width + kx) * channels + c;
              const value = load<f32>(x + (<usize>at << 2));
              if (value > best) {
                best = value;
                index = at;
              }
            }
          }
          store<f32>(y + (<usize>(out + c) << 2), best);
          store<i32>(argmax + (<usize>(out + c) << 2), index);
        }
      }
    }
  }
}

/** dx = 0 over dxLength, then dx[argmax[i]] += dy[i] for i < count. */
export function maxPoolBackward32(dy: usize, argmax: usize, count: i32, dx: usize, dxLength: i32): void {
  zero32(dx, dxLength);
  for (let i = 0; i < count; i++) {
    const to = dx + (<usize>load<i32>(argmax + (<usize>i << 2)) << 2);
    store<f32>(to, load<f32>(to) + load<f32>(dy + (<usize>i << 2)));
  }
}

/** y[r, j] = v[j] for r < rows, j < n (a bias before a gemm with beta 1). */
export function broadcastRows32(rows: i32, n: i32, v: usize, y: usize): void {
  for (let r = 0; r < rows; r++) copy32(y + (<usize>r * <usize>n << 2), v, n);
}

/** into[j] += Σ_r x[r, j], rows summed in order (a bias gradient). */
export function sumRows32(rows: i32, n: i32, x: usize, into: usize): void {
  for (let r = 0; r < rows; r++) add32(into, x + (<usize>r * <usize>n << 2), n);
}

/** y = max(x, 0), written as the reference does: x > 0 ? x : 0 (so −0 and NaN give 0). */
export function relu32(n: i32, x: usize, y: usize): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o = <usize>i << 2;
    const value = v128.load(x + o);
    v128.store(y + o, v128.and(value, f32x4.gt(value, zero)));
  }
  for (; i < n; i++) {
    const value = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), value > 0 ? value : 0);
  }
}

/** dx = y > 0 ? dy : 0. */
export function reluBackward32(n: i32, y: usize, dy: usize, dx: usize): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}
