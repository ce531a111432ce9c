// Property tests of the layer kernels (kernels-layers.ts, assembly/conv.ts): the TS reference
// against naive loops from the definitions (im2col) and its own adjoint (col2im), and the WASM
// backend against the reference — bitwise, since both compute in float32 storage order — on
// random tiny and odd shapes (channels not a multiple of 4, stride > kernel, padding), with
// operands both inside WASM memory (workspaces) and outside it (copied per call).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvGeometry, PoolGeometry } from '../../src/core/kernels-layers.js';
import { tsLayerKernels } from '../../src/core/kernels-layers.js';
import { createWasmKernels } from '../../src/core/kernels-wasm.js';
import { Rng } from '../../src/core/rng.js';
import type { FloatArray } from '../../src/core/storage.js';

const wasm = createWasmKernels();
const ts = tsLayerKernels;

function random(rng: Rng, length: number, resident: boolean): Float32Array {
  const array = resident ? (wasm.workspace('float32', length) as Float32Array) : new Float32Array(length);
  for (let i = 0; i < length; i++) array[i] = rng.normal();
  assert.equal(wasm.heap.contains(array), resident);
  return array;
}

function output(length: number, resident: boolean, fill = Number.NaN): Float32Array {
  const array = resident ? (wasm.workspace('float32', length) as Float32Array) : new Float32Array(length);
  return array.fill(fill); // stale contents: every kernel must overwrite its whole output
}

function convGeometry(rng: Rng): ConvGeometry {
  const kernelSize = 1 + rng.int(4);
  const stride = 1 + rng.int(3);
  const padding = rng.int(3);
  const height = Math.max(1, kernelSize - 2 * padding) + rng.int(6);
  const width = Math.max(1, kernelSize - 2 * padding) + rng.int(6);
  const outHeight = Math.floor((height + 2 * padding - kernelSize) / stride) + 1;
  const outWidth = Math.floor((width + 2 * padding - kernelSize) / stride) + 1;
  return { height, width, channels: 1 + rng.int(9), kernelSize, stride, padding, outHeight, outWidth };
}

const sizes = (g: ConvGeometry, batch: number): { x: number; cols: number } => ({
  x: batch * g.height * g.width * g.channels,
  cols: batch * g.outHeight * g.outWidth * g.kernelSize * g.kernelSize * g.channels,
});

test('reference im2col matches the definition, and col2im is its adjoint', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 60; trial++) {
    const g = convGeometry(rng);
    const batch = 1 + rng.int(3);
    const { x: xLength, cols: colsLength } = sizes(g, batch);
    const x = random(rng, xLength, false);
    const cols = output(colsLength, false);
    ts.im2col(g, batch, x, cols);
    const k = g.kernelSize;
    let at = 0;
    for (let n = 0; n < batch; n++)
      for (let oy = 0; oy < g.outHeight; oy++)
        for (let ox = 0; ox < g.outWidth; ox++) {
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++)
              for (let c = 0; c < g.channels; c++, at++) {
                const iy = oy * g.stride - g.padding + ky;
                const ix = ox * g.stride - g.padding + kx;
                const inside = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width;
                assert.equal(cols[at], inside ? x[((n * g.height + iy) * g.width + ix) * g.channels + c] : 0);
              }
        }
    // ⟨im2col(x), d⟩ = ⟨x, col2im(d)⟩ for every d: col2im is the transpose of im2col.
    const d = random(rng, colsLength, false);
    const back = output(xLength, false);
    ts.col2im(g, batch, d, back);
    let left = 0;
    let right = 0;
    for (let i = 0; i < colsLength; i++) left += cols[i]! * d[i]!;
    for (let i = 0; i < xLength; i++) right += x[i]! * back[i]!;
    assert.ok(Math.abs(left - right) <= 1e-4 * (1 + Math.abs(left)), `trial ${trial}: ${left} vs ${right}`);
  }
});

test('wasm im2col and col2im equal the reference bitwise, in and out of WASM memory', () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 80; trial++) {
    const g = convGeometry(rng);
    const batch = 1 + rng.int(3);
    const resident = rng.int(2) === 1;
    const { x: xLength, cols: colsLength } = sizes(g, batch);
    const x = random(rng, xLength, resident);
    const expected = output(colsLength, false);
    ts.im2col(g, batch, x, expected);
    const cols = output(colsLength, resident);
    wasm.im2col(g, batch, x, cols);
    assert.deepEqual(cols, expected, `im2col trial ${trial} ${JSON.stringify(g)}`);
    const d = random(rng, colsLength, resident);
    const dxExpected = output(xLength, false);
    ts.col2im(g, batch, d, dxExpected);
    const dx = output(xLength, !resident);
    wasm.col2im(g, batch, d, dx);
    assert.deepEqual(dx, dxExpected, `col2im trial ${trial}`);
  }
});

test('wasm max-pool forward and backward equal the reference, ties to the first maximum', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 80; trial++) {
    const size = 1 + rng.int(3);
    const stride = 1 + rng.int(3);
    const height = size + rng.int(5);
    const width = size + rng.int(5);
    const channels = 1 + rng.int(10);
    const g: PoolGeometry = {
      height,
      width,
      channels,
      size,
      stride,
      outHeight: Math.floor((height - size) / stride) + 1,
      outWidth: Math.floor((width - size) / stride) + 1,
    };
    const batch = 1 + rng.int(3);
    const resident = rng.int(2) === 1;
    const x = random(rng, batch * height * width * channels, resident);
    // Ties on a third of the trials: a few distinct values, so windows often hold equal maxima.
    if (trial % 3 === 0) for (let i = 0; i < x.length; i++) x[i] = rng.int(3);
    const count = batch * g.outHeight * g.outWidth * channels;
    const y = output(count, resident);
    const argmax = resident ? wasm.workspaceInt32(count) : new Int32Array(count);
    argmax.fill(-1);
    wasm.maxPool(g, batch, x, y, argmax);
    const yExpected = output(count, false);
    const argmaxExpected = new Int32Array(count);
    ts.maxPool(g, batch, x, yExpected, argmaxExpected);
    assert.deepEqual(y, yExpected);
    assert.deepEqual(argmax, argmaxExpected);
    const dy = random(rng, count, !resident);
    const dx = output(x.length, resident);
    wasm.maxPoolBackward(count, dy, argmax, dx);
    const dxExpected = output(x.length, false);
    ts.maxPoolBackward(count, dy, argmaxExpected, dxExpected);
    assert.deepEqual(dx, dxExpected);
  }
});

test('wasm bias rows, column sums and ReLU equal the reference bitwise', () => {
  const rng = new Rng(9);
  for (let trial = 0; trial < 60; trial++) {
    const rows = 1 + rng.int(9);
    const n = 1 + rng.int(13);
    const offset = rng.int(5);
    const resident = rng.int(2) === 1;
    const v = random(rng, offset + n, !resident);
    const y = output(rows * n, resident);
    wasm.broadcastRows(rows, n, v, offset, y);
    const yExpected = output(rows * n, false);
    ts.broadcastRows(rows, n, v, offset, yExpected);
    assert.deepEqual(y, yExpected);

    const x = random(rng, rows * n, resident);
    const into = random(rng, offset + n, !resident);
    const intoExpected = Float32Array.from(into);
    wasm.sumRows(rows, n, x, into, offset);
    ts.sumRows(rows, n, x, intoExpected, offset);
    assert.deepEqual(into, intoExpected);

    // ReLU on values with exact zeros, −0 and NaN: both give +0 for each.
    const length = rows * n;
    const a = random(rng, length, resident);
    a[0] = -0;
    if (length > 1) a[1] = Number.NaN;
    if (length > 2) a[2] = 0;
    const r = output(length, !resident);
    wasm.relu(length, a, r);
    const rExpected = output(length, false);
    ts.relu(length, a, rExpected);
    assert.deepEqual(r, rExpected);
    assert.ok(Object.is(r[0], 0));
    const dy = random(rng, length, resident);
    const dx = output(length, resident);
    wasm.reluBackward(length, r, dy, dx);
    const dxExpected = output(length, false);
    ts.reluBackward(length, r, dy, dxExpected);
    assert.deepEqual(dx, dxExpected);
  }
});

test('float64 operands run on the reference; workspaces start zeroed and live in WASM memory', () => {
  const g: ConvGeometry = { height: 3, width: 3, channels: 2, kernelSize: 2, stride: 1, padding: 0, outHeight: 2, outWidth: 2 };
  const rng = new Rng(1);
  const x = Float64Array.from({ length: 18 }, () => rng.normal());
  const cols: FloatArray = new Float64Array(4 * 8);
  const expected = new Float64Array(4 * 8);
  wasm.im2col(g, 1, x, cols);
  ts.im2col(g, 1, x, expected);
  assert.deepEqual(cols, expected);
  for (const dtype of ['float32', 'float64'] as const) {
    const w = wasm.workspace(dtype, 37);
    assert.ok(wasm.heap.contains(w));
    assert.ok(w.every((value) => value === 0));
  }
});
