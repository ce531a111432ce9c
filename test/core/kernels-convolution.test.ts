// The convolution kernels (kernels-convolution.ts, assembly/convgemm.ts): the reference against a
// naive float64 convolution from the definition, and the WASM backend's implicit-im2col kernels
// against its own explicit path (im2col32 + gemm32 + col2im32) — y and ∂W bitwise, since they are
// built to add the same products in the same order; ∂x, whose overlapping fields add up in another
// order than col2im's, within float32 rounding — on shapes with padding, strides, partial slivers (rows
// mod 4), edge tiles (filters mod 8), several depth blocks (KC = 512) and column blocks (NC =
// 2,048), with operands inside and outside WASM memory. Winograd's forward pass (which conv2's
// shape would take) is off here: it is not built to be bitwise (kernels-winograd.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvolutionKernels } from '../../src/core/kernels-convolution.js';
import { explicitConvolution } from '../../src/core/kernels-convolution.js';
import type { ConvGeometry } from '../../src/core/kernels-layers.js';
import { columnsLength, imagesLength, outputPositions } from '../../src/core/kernels-layers.js';
import { createWasmKernels } from '../../src/core/kernels-wasm.js';
import { tsKernels } from '../../src/core/kernels-ts.js';
import { Rng } from '../../src/core/rng.js';
import type { FloatArray } from '../../src/core/storage.js';

const wasm = createWasmKernels({ winograd: false });
const wasmExplicit = explicitConvolution(wasm);

function geometry(height: number, width: number, channels: number, kernelSize: number, stride: number, padding: number): ConvGeometry {
  const outHeight = Math.floor((height + 2 * padding - kernelSize) / stride) + 1;
  const outWidth = Math.floor((width + 2 * padding - kernelSize) / stride) + 1;
  return { height, width, channels, kernelSize, stride, padding, outHeight, outWidth };
}

function random(rng: Rng, length: number, resident: boolean): Float32Array {
  const array = resident ? (wasm.workspace('float32', length) as Float32Array) : new Float32Array(length);
  for (let i = 0; i < length; i++) array[i] = rng.normal();
  return array;
}

interface Case {
  g: ConvGeometry;
  filters: number;
  batch: number;
}

/** y += cols(x)·Wᵀ and dw += dyᵀ·cols(x) through `kernels`, from the same inputs each time. */
function run(
  kernels: ConvolutionKernels,
  c: Case,
  inputs: { x: FloatArray; w: FloatArray; y: FloatArray; dy: FloatArray; dw: FloatArray },
  resident: boolean,
): { y: Float32Array; dw: Float32Array; dx: Float32Array; colsWritten: boolean } {
  const { g, filters, batch } = c;
  const y = resident ? (wasm.workspace('float32', inputs.y.length) as Float32Array) : new Float32Array(inputs.y.length);
  y.set(inputs.y);
  const dw = Float32Array.from(inputs.dw);
  const length = kernels.convolutionScratchLength(g, filters, batch, 'float32');
  const scratch = (resident ? wasm.workspace('float32', length) : new Float32Array(length)).fill(Number.NaN);
  kernels.convolve(g, filters, batch, inputs.x, inputs.w, 3, y, scratch);
  // im2col writes the whole scratch; the implicit kernels at most a padded copy of x at its start.
  const colsWritten = length === columnsLength(g, batch) && !Number.isNaN(scratch[length - 1]!);
  kernels.convolveFilterGradient(g, filters, batch, inputs.x, scratch, inputs.dy, dw, 2);
  const dxLength = imagesLength(g, batch);
  const dx = (resident ? (wasm.workspace('float32', dxLength) as Float32Array) : new Float32Array(dxLength)).fill(Number.NaN);
  kernels.convolveInputGradient(g, filters, batch, inputs.dy, inputs.w, 3, dx, scratch);
  return { y, dw, dx, colsWritten };
}

function inputs(
  rng: Rng,
  c: Case,
  resident: boolean,
): { x: Float32Array; w: Float32Array; y: Float32Array; dy: Float32Array; dw: Float32Array } {
  const field = c.g.kernelSize * c.g.kernelSize * c.g.channels;
  const rows = outputPositions(c.g, c.batch);
  return {
    x: random(rng, imagesLength(c.g, c.batch), resident),
    w: random(rng, 3 + c.filters * field, resident), // a weight offset of 3, as inside a flat parameter vector
    y: random(rng, rows * c.filters, false),
    dy: random(rng, rows * c.filters, resident),
    dw: random(rng, 2 + c.filters * field, false),
  };
}

function bitwiseEqual(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${what}: entry ${i} is ${actual[i]}, explicit path ${expected[i]}`);
  }
}

/** The definition, in float64: y[(n,oy,ox), f] = Σ x[n, oy·s − p + ky, ox·s − p + kx, c]·W[f, ky, kx, c]. */
function naive(
  c: Case,
  x: FloatArray,
  w: FloatArray,
  wOffset: number,
  dy: FloatArray,
): { y: Float64Array; dw: Float64Array; dx: Float64Array } {
  const { g, filters, batch } = c;
  const k = g.kernelSize;
  const field = k * k * g.channels;
  const y = new Float64Array(outputPositions(g, batch) * filters);
  const dw = new Float64Array(filters * field);
  const dx = new Float64Array(imagesLength(g, batch));
  let row = 0;
  for (let n = 0; n < batch; n++)
    for (let oy = 0; oy < g.outHeight; oy++)
      for (let ox = 0; ox < g.outWidth; ox++, row++) {
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const iy = oy * g.stride - g.padding + ky;
            const ix = ox * g.stride - g.padding + kx;
            if (iy < 0 || iy >= g.height || ix < 0 || ix >= g.width) continue;
            for (let ch = 0; ch < g.channels; ch++) {
              const at = ((n * g.height + iy) * g.width + ix) * g.channels + ch;
              const value = x[at]!;
              const p = (ky * k + kx) * g.channels + ch;
              for (let f = 0; f < filters; f++) {
                y[row * filters + f]! += value * w[wOffset + f * field + p]!;
                dw[f * field + p]! += dy[row * filters + f]! * value;
                dx[at]! += dy[row * filters + f]! * w[wOffset + f * field + p]!;
              }
            }
          }
      }
  return { y, dw, dx };
}

function near(
  actual: ArrayLike<number>,
  actualOffset: number,
  base: ArrayLike<number>,
  baseOffset: number,
  expected: Float64Array,
  what: string,
): void {
  for (let i = 0; i < expected.length; i++) {
    const want = base[baseOffset + i]! + expected[i]!;
    const error = Math.abs(actual[actualOffset + i]! - want);
    if (error > 1e-4 * (1 + Math.abs(want))) assert.fail(`${what}: entry ${i} is ${actual[actualOffset + i]}, expected ${want}`);
  }
}

// Shapes the implicit kernels take: filters ≤ 128, and k·channels a multiple of 8 or field ≤ 128.
const implicitCases: Case[] = [
  { g: geometry(28, 28, 1, 5, 1, 0), filters: 32, batch: 2 }, // the default CNN's conv1: runs of 5, field 25 (∂W on the direct path, ∂x explicit)
  { g: geometry(7, 6, 3, 3, 2, 2), filters: 5, batch: 3 }, // field 27, padding, stride 2, partial slivers
  { g: geometry(12, 12, 32, 5, 1, 0), filters: 64, batch: 3 }, // the default CNN's conv2: depth blocks cut runs (512 = 3.2 runs)
  { g: geometry(12, 12, 32, 5, 1, 2), filters: 13, batch: 2 }, // padding, edge tiles (13 filters)
  { g: geometry(13, 11, 16, 3, 2, 1), filters: 7, batch: 5 }, // stride 2, partial slivers, fewer than 8 filters
  { g: geometry(9, 10, 16, 3, 1, 0), filters: 128, batch: 1 }, // the widest filter count taken
  { g: geometry(8, 8, 96, 5, 1, 1), filters: 6, batch: 16 }, // field 2,400 > NC = 2,048 columns; 576 rows > KC
  { g: geometry(30, 30, 16, 3, 1, 0), filters: 9, batch: 2 }, // 1,568 rows: several depth blocks of ∂W, with the overlapped gathering
];

test('the WASM implicit-im2col convolution is bitwise equal to its im2col + gemm path', () => {
  const rng = new Rng(11);
  for (const c of implicitCases) {
    for (const resident of [true, false]) {
      const data = inputs(rng, c, resident);
      const implicit = run(wasm, c, data, resident);
      const explicit = run(wasmExplicit, c, data, resident);
      const name = `${JSON.stringify(c)} resident=${resident}`;
      assert.equal(implicit.colsWritten, false, `${name}: the implicit path wrote no cols matrix`);
      assert.equal(explicit.colsWritten, true, `${name}: the explicit path did`);
      bitwiseEqual(implicit.y, explicit.y, `${name} y`);
      bitwiseEqual(implicit.dw, explicit.dw, `${name} dw`);
      near(implicit.dx, 0, new Float64Array(explicit.dx.length), 0, Float64Array.from(explicit.dx), `${name} dx`);
    }
  }
});

test('the reference and both WASM paths match the definition of a convolution (float64 naive loops)', () => {
  const rng = new Rng(12);
  const others: Case[] = [
    { g: geometry(9, 9, 3, 7, 1, 1), filters: 4, batch: 2 }, // field 147 > 128 in runs of 21: explicit path
    { g: geometry(6, 6, 8, 3, 1, 1), filters: 130, batch: 1 }, // filters > 128: explicit path
  ];
  for (const c of [...implicitCases.slice(0, 5), ...others]) {
    const data = inputs(rng, c, false);
    const expected = naive(c, data.x, data.w, 3, data.dy);
    for (const [name, kernels] of [
      ['ts', tsKernels],
      ['wasm', wasm],
    ] as const) {
      const result = run(kernels, c, data, false);
      near(result.y, 0, data.y, 0, expected.y, `${name} ${JSON.stringify(c)} y`);
      near(result.dw, 2, data.dw, 2, expected.dw, `${name} ${JSON.stringify(c)} dw`);
      near(result.dx, 0, new Float64Array(result.dx.length), 0, expected.dx, `${name} ${JSON.stringify(c)} dx`);
    }
    assert.equal(run(wasm, c, data, false).colsWritten, !implicitCases.includes(c), `${JSON.stringify(c)}: explicit path taken`);
  }
});

test('float64 convolutions in the WASM backend take the explicit path (im2col + its gemm)', () => {
  const rng = new Rng(13);
  const c = implicitCases[3]!;
  const field = c.g.kernelSize * c.g.kernelSize * c.g.channels;
  const rows = outputPositions(c.g, c.batch);
  const x = Float64Array.from(random(rng, imagesLength(c.g, c.batch), false));
  const w = Float64Array.from(random(rng, c.filters * field, false));
  const dy = Float64Array.from(random(rng, rows * c.filters, false));
  const results = [wasm, wasmExplicit].map((kernels) => {
    assert.equal(kernels.convolutionScratchLength(c.g, c.filters, c.batch, 'float64'), columnsLength(c.g, c.batch));
    const scratch = new Float64Array(columnsLength(c.g, c.batch));
    const y = new Float64Array(rows * c.filters);
    const dw = new Float64Array(c.filters * field);
    const dx = new Float64Array(x.length);
    kernels.convolve(c.g, c.filters, c.batch, x, w, 0, y, scratch);
    kernels.convolveFilterGradient(c.g, c.filters, c.batch, x, scratch, dy, dw, 0);
    kernels.convolveInputGradient(c.g, c.filters, c.batch, dy, w, 0, dx, scratch);
    return [...y, ...dw, ...dx];
  });
  assert.deepEqual(results[0], results[1]);
});
