// Winograd's F(2×2, 5×5) convolution (assembly/winograd.ts) against the definition of a convolution
// in float64 — y, ∂W and ∂x, each within a relative 1e-5 of its entry's Σ of absolute products
// (float32 rounding through the transforms) — on the default CNN's conv2 and shapes that exercise
// partial tile blocks (tiles not a multiple of the block of 64, nor of the gemm's sliver of 4),
// non-square images, operands outside WASM memory, and y and ∂W added to (the contract's "+=").
// Then the layer: a float32 Conv2d on Winograd's kernels has the gradients of its own forward pass
// (central finite differences, exact up to rounding for a function linear in weights and inputs),
// and the shapes Winograd does not take still run the direct path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvGeometry } from '../../src/core/kernels-layers.js';
import { imagesLength, outputPositions } from '../../src/core/kernels-layers.js';
import { createWasmKernels } from '../../src/core/kernels-wasm.js';
import { activateKernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import '../../src/core/index.js';
import { Network } from '../../src/nn/network.js';

const winograd = createWasmKernels();
const direct = createWasmKernels({ winograd: false });

function geometry(height: number, width: number, channels: number): ConvGeometry {
  return { height, width, channels, kernelSize: 5, stride: 1, padding: 0, outHeight: height - 4, outWidth: width - 4 };
}

interface Definition {
  y: Float64Array;
  dw: Float64Array;
  dx: Float64Array;
  /** Σ of the absolute products that make up each entry: the scale of its float32 rounding. */
  yScale: Float64Array;
  dwScale: Float64Array;
  dxScale: Float64Array;
}

/** y = Σ x·w over each field, ∂W = Σ dy·x and ∂x = Σ dy·w, in float64. */
function definition(g: ConvGeometry, filters: number, batch: number, x: Float32Array, w: Float32Array, dy: Float32Array): Definition {
  const field = 25 * g.channels;
  const rows = outputPositions(g, batch);
  const y = new Float64Array(rows * filters);
  const scale = new Float64Array(rows * filters);
  const dw = new Float64Array(filters * field);
  const dwScale = new Float64Array(filters * field);
  const dx = new Float64Array(imagesLength(g, batch));
  const dxScale = new Float64Array(imagesLength(g, batch));
  let row = 0;
  for (let n = 0; n < batch; n++)
    for (let oy = 0; oy < g.outHeight; oy++)
      for (let ox = 0; ox < g.outWidth; ox++, row++)
        for (let f = 0; f < filters; f++) {
          let sum = 0;
          let abs = 0;
          for (let ky = 0; ky < 5; ky++)
            for (let kx = 0; kx < 5; kx++)
              for (let c = 0; c < g.channels; c++) {
                const at = ((n * g.height + oy + ky) * g.width + ox + kx) * g.channels + c;
                const p = f * field + (ky * 5 + kx) * g.channels + c;
                const product = x[at]! * w[p]!;
                sum += product;
                abs += Math.abs(product);
                const gradient = dy[row * filters + f]!;
                dw[p]! += gradient * x[at]!;
                dwScale[p]! += Math.abs(gradient * x[at]!);
                dx[at]! += gradient * w[p]!;
                dxScale[at]! += Math.abs(gradient * w[p]!);
              }
          y[row * filters + f] = sum;
          scale[row * filters + f] = abs;
        }
  return { y, dw, dx, yScale: scale, dwScale, dxScale };
}

/**
 * Every entry within 1e-5 of its scale — its own Σ|products| plus their mean over the array (the
 * transforms mix a tile's entries, so a small entry carries its neighbours' rounding) — plus what
 * it started from; returns the worst error relative to that scale.
 */
function within(actual: Float32Array, start: ArrayLike<number> | null, expected: Float64Array, scale: Float64Array, what: string): number {
  const mean = scale.reduce((sum, value) => sum + value, 0) / scale.length;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const base = start === null ? 0 : start[i]!;
    const error = Math.abs(actual[i]! - (base + expected[i]!));
    const bound = scale[i]! + mean + Math.abs(base);
    if (error > 1e-5 * bound) assert.fail(`${what}: entry ${i} is ${actual[i]}, definition ${base + expected[i]!}`);
    worst = Math.max(worst, error / bound);
  }
  return worst;
}

const cases = [
  { g: geometry(12, 12, 32), filters: 64, batch: 5 }, // the default CNN's conv2: 80 tiles, a block of 64 and one of 16
  { g: geometry(10, 14, 8), filters: 16, batch: 3 }, // 3 × 5 tiles per image: 45 tiles, the last sliver partial
  { g: geometry(6, 6, 16), filters: 8, batch: 1 }, // one tile
];

test('Winograd F(2×2, 5×5) adds y and ∂W and writes ∂x within float32 rounding of the definition', () => {
  const rng = new Rng(21);
  for (const { g, filters, batch } of cases) {
    for (const resident of [true, false]) {
      const make = (length: number): Float32Array =>
        resident ? (winograd.workspace('float32', length) as Float32Array) : new Float32Array(length);
      const x = make(imagesLength(g, batch));
      const w = make(3 + filters * 25 * g.channels);
      const y = make(outputPositions(g, batch) * filters);
      const dy = make(outputPositions(g, batch) * filters);
      const dw = make(2 + filters * 25 * g.channels);
      const dx = make(imagesLength(g, batch)).fill(Number.NaN);
      for (const array of [x, w, y, dy, dw]) for (let i = 0; i < array.length; i++) array[i] = rng.normal();
      const before = Float64Array.from(y);
      const dwBefore = Float64Array.from(dw.subarray(2));
      const scratch = winograd.workspace('float32', winograd.convolutionScratchLength(g, filters, batch, 'float32'));
      winograd.convolve(g, filters, batch, x, w, 3, y, scratch);
      winograd.convolveFilterGradient(g, filters, batch, x, scratch, dy, dw, 2);
      winograd.convolveInputGradient(g, filters, batch, dy, w, 3, dx, scratch);
      const expected = definition(g, filters, batch, x, w.subarray(3), dy);
      const name = `${g.height}×${g.width}×${g.channels}, ${filters} filters, batch ${batch}, resident=${resident}`;
      const worst = [
        within(y, before, expected.y, expected.yScale, `${name} y`),
        within(dw.subarray(2), dwBefore, expected.dw, expected.dwScale, `${name} dw`),
        within(dx, null, expected.dx, expected.dxScale, `${name} dx`),
      ];
      // Not the direct paths by accident: the direct gemms' float32 sums round differently.
      const other = { y: Float32Array.from(before), dw: new Float32Array(dw.length), dx: new Float32Array(dx.length) };
      const otherScratch = direct.workspace('float32', direct.convolutionScratchLength(g, filters, batch, 'float32'));
      direct.convolve(g, filters, batch, x, w, 3, other.y, otherScratch);
      other.dw.set(dwBefore, 2);
      direct.convolveFilterGradient(g, filters, batch, x, otherScratch, dy, other.dw, 2);
      direct.convolveInputGradient(g, filters, batch, dy, w, 3, other.dx, otherScratch);
      assert.ok(
        other.y.some((value, i) => value !== y[i]),
        `${name}: Winograd's forward pass was taken (its rounding differs from the direct sum's)`,
      );
      assert.ok(
        other.dw.some((value, i) => i >= 2 && value !== dw[i]),
        `${name}: Winograd's ∂W was taken`,
      );
      assert.ok(
        other.dx.some((value, i) => value !== dx[i]),
        `${name}: Winograd's ∂x was taken`,
      );
      for (const error of worst) assert.ok(error > 0 && error < 1e-5, `${name}: worst relative errors ${worst.join(', ')}`);
    }
  }
});

test('a float32 conv2d layer on the Winograd kernels has the gradients of its own forward pass (finite differences)', () => {
  const previous = activateKernels(winograd);
  try {
    const rng = new Rng(22);
    const inputShape = [8, 10, 8];
    const net = new Network([{ type: 'conv2d', filters: 8, kernelSize: 5, stride: 1, padding: 0 }], inputShape, 'float32');
    net.store.initialize(rng);
    const batch = 2;
    const x = Float32Array.from({ length: batch * 8 * 10 * 8 }, () => rng.normal());
    const input = { shape: [batch, ...inputShape], data: x };
    const context = { training: true, rowSeeds: new Uint32Array(batch) };
    const probe = net.forward(input, context);
    const r = Float64Array.from({ length: probe.data.length }, () => rng.normal());
    const loss = (): number => {
      const y = net.forward(input, context).data;
      let sum = 0;
      for (let i = 0; i < y.length; i++) sum += r[i]! * y[i]!;
      return sum;
    };
    loss();
    net.zeroGradients();
    const dx = net.backward({ shape: probe.shape, data: Float32Array.from(r) }, true)!.data;
    const analytic = Float64Array.from(net.store.gradients);
    const analyticInput = Float64Array.from(dx);
    // L is linear in each weight, so central differences are exact but for float32 rounding of L
    // (|L| ~ 30, ε ~ 6e-8): a step of 0.05 leaves an error ~1e-4 against gradients of size ~10.
    const step = 0.05;
    const worst = (values: Float32Array, gradient: Float64Array, stride: number): number => {
      let error = 0;
      for (let i = 0; i < values.length; i += stride) {
        const saved = values[i]!;
        values[i] = saved + step;
        const plus = loss();
        values[i] = saved - step;
        const minus = loss();
        values[i] = saved;
        const numeric = (plus - minus) / (2 * step);
        error = Math.max(error, Math.abs(gradient[i]! - numeric) / Math.max(Math.abs(gradient[i]!), Math.abs(numeric), 1));
      }
      return error;
    };
    const parameterError = worst(net.store.values as Float32Array, analytic, 7);
    const inputError = worst(x, analyticInput, 5);
    assert.ok(parameterError < 2e-3, `parameters: worst relative error ${parameterError}`);
    assert.ok(inputError < 2e-3, `inputs: worst relative error ${inputError}`);
  } finally {
    activateKernels(previous);
  }
});

test('shapes Winograd does not take run the direct path: fewer than 8 channels, odd output sides, stride 2, padding', () => {
  const rng = new Rng(23);
  const shapes: ConvGeometry[] = [
    geometry(12, 12, 4),
    geometry(11, 12, 8),
    { height: 13, width: 13, channels: 8, kernelSize: 5, stride: 2, padding: 0, outHeight: 5, outWidth: 5 },
    { height: 8, width: 8, channels: 8, kernelSize: 5, stride: 1, padding: 2, outHeight: 8, outWidth: 8 },
  ];
  for (const g of shapes) {
    const filters = 8;
    const batch = 2;
    const x = Float32Array.from({ length: imagesLength(g, batch) }, () => rng.normal());
    const w = Float32Array.from({ length: filters * 25 * g.channels }, () => rng.normal());
    const results = [winograd, direct].map((kernels) => {
      const y = new Float32Array(outputPositions(g, batch) * filters);
      kernels.convolve(
        g,
        filters,
        batch,
        x,
        w,
        0,
        y,
        kernels.workspace('float32', kernels.convolutionScratchLength(g, filters, batch, 'float32')),
      );
      return y;
    });
    assert.deepEqual(results[0], results[1], `${JSON.stringify(g)}: the direct path, bitwise`);
  }
});
