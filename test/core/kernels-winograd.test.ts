// Winograd's F(2×2, 5×5) forward convolution (assembly/winograd.ts) against the definition of a
// convolution in float64, within a relative 1e-5 of each output's Σ|x·w| (float32 rounding through
// the transforms), on the default CNN's conv2 and shapes that exercise partial tile blocks (tiles
// not a multiple of the block of 64, nor of the gemm's sliver of 4), non-square images, operands
// outside WASM memory and y added to (the contract's "y +="). Then the layer: a float32 Conv2d whose
// forward pass is Winograd's has the gradient its direct backward pass computes (central finite
// differences, exact up to rounding for a function linear in the weights), and the shapes Winograd
// does not take still run (the direct path).
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

/** y = Σ x·w over each field in float64, and Σ|x·w| (the scale of float32 rounding). */
function definition(g: ConvGeometry, filters: number, batch: number, x: Float32Array, w: Float32Array): { y: Float64Array; scale: Float64Array } {
  const field = 25 * g.channels;
  const rows = outputPositions(g, batch);
  const y = new Float64Array(rows * filters);
  const scale = new Float64Array(rows * filters);
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
                const product = x[((n * g.height + oy + ky) * g.width + ox + kx) * g.channels + c]! * w[f * field + (ky * 5 + kx) * g.channels + c]!;
                sum += product;
                abs += Math.abs(product);
              }
          y[row * filters + f] = sum;
          scale[row * filters + f] = abs;
        }
  return { y, scale };
}

const cases = [
  { g: geometry(12, 12, 32), filters: 64, batch: 5 }, // the default CNN's conv2: 80 tiles, a block of 64 and one of 16
  { g: geometry(10, 14, 8), filters: 16, batch: 3 }, // 3 × 5 tiles per image: 45 tiles, the last sliver partial
  { g: geometry(6, 6, 16), filters: 8, batch: 1 }, // one tile
];

test('Winograd F(2×2, 5×5) adds the convolution into y, within float32 rounding of the definition', () => {
  const rng = new Rng(21);
  for (const { g, filters, batch } of cases) {
    for (const resident of [true, false]) {
      const make = (length: number): Float32Array => (resident ? (winograd.workspace('float32', length) as Float32Array) : new Float32Array(length));
      const x = make(imagesLength(g, batch));
      const w = make(3 + filters * 25 * g.channels);
      const y = make(outputPositions(g, batch) * filters);
      for (let i = 0; i < x.length; i++) x[i] = rng.normal();
      for (let i = 0; i < w.length; i++) w[i] = rng.normal();
      for (let i = 0; i < y.length; i++) y[i] = rng.normal();
      const before = Float64Array.from(y);
      const scratch = winograd.workspace('float32', winograd.convolutionScratchLength(g, filters, batch, 'float32'));
      winograd.convolve(g, filters, batch, x, w, 3, y, scratch);
      const { y: expected, scale } = definition(g, filters, batch, x, w.subarray(3));
      const name = `${g.height}×${g.width}×${g.channels}, ${filters} filters, batch ${batch}, resident=${resident}`;
      let worst = 0;
      for (let i = 0; i < y.length; i++) {
        const error = Math.abs(y[i]! - (before[i]! + expected[i]!));
        if (error > 1e-5 * (scale[i]! + Math.abs(before[i]!)) + 1e-6) assert.fail(`${name}: output ${i} is ${y[i]}, definition ${before[i]! + expected[i]!}`);
        worst = Math.max(worst, error / (scale[i]! + 1));
      }
      // Not the direct path by accident: the direct gemm's float32 sum rounds differently.
      const other = Float32Array.from(before);
      direct.convolve(g, filters, batch, x, w, 3, other, direct.workspace('float32', direct.convolutionScratchLength(g, filters, batch, 'float32')));
      assert.ok(other.some((value, i) => value !== y[i]), `${name}: Winograd's path was taken (its rounding differs from the direct sum's)`);
      assert.ok(worst > 0 && worst < 1e-5, `${name}: worst relative error ${worst}`);
    }
  }
});

test('a float32 conv2d layer with the Winograd forward pass has the gradients of its direct backward pass', () => {
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
    net.backward({ shape: probe.shape, data: Float32Array.from(r) });
    const analytic = Float64Array.from(net.store.gradients);
    // L is linear in each weight, so central differences are exact but for float32 rounding of L
    // (|L| ~ 30, ε ~ 6e-8): a step of 0.05 leaves an error ~1e-4 against gradients of size ~10.
    const step = 0.05;
    const values = net.store.values;
    let worst = 0;
    for (let i = 0; i < values.length; i += 7) {
      const saved = values[i]!;
      values[i] = saved + step;
      const plus = loss();
      values[i] = saved - step;
      const minus = loss();
      values[i] = saved;
      const numeric = (plus - minus) / (2 * step);
      worst = Math.max(worst, Math.abs(analytic[i]! - numeric) / Math.max(Math.abs(analytic[i]!), Math.abs(numeric), 1));
    }
    assert.ok(worst < 2e-3, `worst relative error ${worst}`);
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
      kernels.convolve(g, filters, batch, x, w, 0, y, kernels.workspace('float32', kernels.convolutionScratchLength(g, filters, batch, 'float32')));
      return y;
    });
    assert.deepEqual(results[0], results[1], `${JSON.stringify(g)}: the direct path, bitwise`);
  }
});
