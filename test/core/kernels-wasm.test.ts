// Property tests: every WASM kernel against the TS reference (the oracle) on random shapes — tiny,
// odd, across the micro-kernel (4×4, 4×8) and cache-block (MC 128, KC 256/512) edges — with
// offsets, padded leading dimensions, transposes, float32/float64 and mixed operands, and arrays
// both outside WASM memory (copied) and inside it (zero copy). The size cutoffs are set to 0 so
// every call really runs the WASM code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels } from '../../src/core/kernels-wasm.js';
import { tsKernels } from '../../src/core/kernels-ts.js';
import { Rng } from '../../src/core/rng.js';
import type { FloatArray } from '../../src/core/storage.js';

const wasm = createWasmKernels({ minMultiplyAdds: 0, minVectorLength: 0, chunkBytes: 3000 });
type DType = 'float32' | 'float64';

/** A random array, on the JS heap or (resident) inside the WASM memory. */
function randomArray(rng: Rng, dtype: DType, length: number, resident: boolean): FloatArray {
  let array: FloatArray;
  if (resident) {
    const bytes = dtype === 'float32' ? 4 : 8;
    const at = wasm.heap.allocate(length * bytes);
    const buffer = wasm.heap.buffer();
    array = dtype === 'float32' ? new Float32Array(buffer, at, length) : new Float64Array(buffer, at, length);
  } else {
    array = dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
  }
  for (let i = 0; i < length; i++) array[i] = rng.normal();
  assert.equal(wasm.heap.contains(array), resident);
  return array;
}

function copyOf(array: FloatArray): FloatArray {
  return array instanceof Float32Array ? Float32Array.from(array) : Float64Array.from(array);
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)]!;
const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 33];

test('gemm matches the reference on random shapes, strides, transposes, dtypes and placements', () => {
  const rng = new Rng(11);
  const shapes: [number, number, number][] = [
    [130, 9, 260],
    [5, 2050, 3],
    [129, 17, 513],
    [64, 64, 64],
  ];
  for (let trial = 0; trial < 300; trial++) shapes.push([pick(rng, sizes), pick(rng, sizes), pick(rng, sizes)]);
  for (const [m, n, k] of shapes) {
    const transA = rng.uniform() < 0.5;
    const transB = rng.uniform() < 0.5;
    const allFloat32 = rng.uniform() < 0.4;
    const dtype = (): DType => (allFloat32 || rng.uniform() < 0.3 ? 'float32' : 'float64');
    const lda = (transA ? m : k) + rng.int(3);
    const ldb = (transB ? k : n) + rng.int(3);
    const ldc = n + rng.int(3);
    const [aOffset, bOffset, cOffset] = [rng.int(4), rng.int(4), rng.int(4)];
    const a = randomArray(rng, dtype(), aOffset + (transA ? k : m) * lda, rng.uniform() < 0.3);
    const b = randomArray(rng, dtype(), bOffset + (transB ? n : k) * ldb, rng.uniform() < 0.3);
    const c = randomArray(rng, dtype(), cOffset + m * ldc, rng.uniform() < 0.3);
    const alpha = pick(rng, [1, -0.5, 2.25, 0]);
    const beta = pick(rng, [0, 1, 0.5]);
    const expected = copyOf(c);
    tsKernels.gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, expected, cOffset, ldc);
    wasm.gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    // Error bound: relative to Σ|a||b| (float32 accumulates in float32, in both backends for C).
    const relative = c instanceof Float32Array ? 1e-5 : 1e-13;
    for (let i = 0; i < c.length; i++) {
      const row = Math.floor((i - cOffset) / ldc);
      const col = (i - cOffset) % ldc;
      if (i < cOffset || col >= n) {
        assert.equal(c[i], expected[i], `element ${i} outside C was touched`);
        continue;
      }
      let bound = Math.abs(beta * expected[i]!) + 1;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[aOffset + p * lda + row]! : a[aOffset + row * lda + p]!;
        const bv = transB ? b[bOffset + col * ldb + p]! : b[bOffset + p * ldb + col]!;
        bound += Math.abs(alpha * av * bv);
      }
      const where = `${m}×${n}×${k} tA=${transA} tB=${transB} [${row},${col}]`;
      assert.ok(Math.abs(c[i]! - expected[i]!) <= relative * k * bound + relative, `${where}: ${c[i]} vs ${expected[i]}`);
    }
  }
});

test('syrk matches the reference, including row chunks and float32 data', () => {
  const rng = new Rng(12);
  for (let trial = 0; trial < 60; trial++) {
    const m = pick(rng, [...sizes, 100, 257]);
    const n = pick(rng, sizes);
    const lda = n + rng.int(3);
    const aOffset = rng.int(3);
    const a = randomArray(rng, rng.uniform() < 0.5 ? 'float32' : 'float64', aOffset + m * lda, rng.uniform() < 0.3);
    const start = Float64Array.from({ length: n * n + 2 }, () => rng.normal());
    const expected = start.slice();
    const actual = start.slice();
    tsKernels.syrk(m, n, a, aOffset, lda, expected, 1);
    wasm.syrk(m, n, a, aOffset, lda, actual, 1);
    assert.equal(actual[0], start[0]);
    for (let i = 0; i < expected.length; i++) {
      assert.ok(
        Math.abs(actual[i]! - expected[i]!) <= 1e-12 * (m + Math.abs(expected[i]!)),
        `${m}×${n} [${i}]: ${actual[i]} vs ${expected[i]}`,
      );
    }
  }
});

test('syrk gives the same bits whether X is read in place or copied in row chunks', () => {
  const rng = new Rng(16);
  const [m, n] = [700, 9];
  const inside = randomArray(rng, 'float64', m * n, true);
  const outside = Float64Array.from(inside);
  const gramInside = new Float64Array(n * n);
  const gramOutside = new Float64Array(n * n);
  wasm.syrk(m, n, inside, 0, n, gramInside, 0);
  wasm.syrk(m, n, outside, 0, n, gramOutside, 0); // chunkBytes 3000 → chunks of 256 rows
  assert.deepEqual(gramOutside, gramInside);
});

test('nearestCenter picks a nearest centre and its distance, as the reference', () => {
  const rng = new Rng(13);
  for (let trial = 0; trial < 60; trial++) {
    const m = pick(rng, [...sizes, 300]);
    const d = pick(rng, sizes);
    const k = pick(rng, [1, 2, 3, 5, 8, 10]);
    const xOffset = rng.int(3);
    const dtype: DType = rng.uniform() < 0.5 ? 'float32' : 'float64';
    const x = randomArray(rng, dtype, xOffset + m * d, rng.uniform() < 0.3);
    const centers = randomArray(rng, 'float64', k * d, rng.uniform() < 0.3) as Float64Array;
    const norms = Float64Array.from({ length: k }, (_, j) => tsKernels.dot(d, centers, j * d, centers, j * d));
    const labels = new Int32Array(m);
    const distances = new Float64Array(m);
    const expectedLabels = new Int32Array(m);
    const expectedDistances = new Float64Array(m);
    tsKernels.nearestCenter(m, d, x, xOffset, k, centers, norms, expectedLabels, expectedDistances);
    wasm.nearestCenter(m, d, x, xOffset, k, centers, norms, labels, distances);
    for (let i = 0; i < m; i++) {
      const tolerance = 1e-12 * (1 + d * 10);
      assert.ok(Math.abs(distances[i]! - expectedDistances[i]!) <= tolerance, `row ${i}: ${distances[i]} vs ${expectedDistances[i]}`);
      // A different label is only acceptable for an exact-within-rounding tie.
      if (labels[i] !== expectedLabels[i]) {
        let direct = 0;
        for (let j = 0; j < d; j++) direct += (x[xOffset + i * d + j]! - centers[labels[i]! * d + j]!) ** 2;
        assert.ok(Math.abs(direct - expectedDistances[i]!) <= tolerance, `row ${i}: label ${labels[i]} vs ${expectedLabels[i]}`);
      }
    }
  }
});

test('gemv on a matrix in WASM memory matches the reference', () => {
  const rng = new Rng(14);
  for (let trial = 0; trial < 80; trial++) {
    const m = pick(rng, sizes);
    const n = pick(rng, sizes);
    const transA = rng.uniform() < 0.5;
    const lda = n + rng.int(3);
    const a = randomArray(rng, rng.uniform() < 0.5 ? 'float32' : 'float64', 2 + m * lda, true);
    const x = randomArray(rng, rng.uniform() < 0.5 ? 'float32' : 'float64', 1 + (transA ? m : n), rng.uniform() < 0.5);
    const y = randomArray(rng, rng.uniform() < 0.5 ? 'float32' : 'float64', 3 + (transA ? n : m), rng.uniform() < 0.5);
    const [alpha, beta] = [pick(rng, [1, -2, 0.5]), pick(rng, [0, 1, 0.25])];
    const expected = copyOf(y);
    tsKernels.gemv(transA, m, n, alpha, a, 2, lda, x, 1, beta, expected, 3);
    wasm.gemv(transA, m, n, alpha, a, 2, lda, x, 1, beta, y, 3);
    const relative = y instanceof Float32Array ? 1e-6 : 1e-12;
    for (let i = 0; i < y.length; i++) {
      assert.ok(Math.abs(y[i]! - expected[i]!) <= relative * (m + n) * (1 + Math.abs(expected[i]!)), `[${i}] ${y[i]} vs ${expected[i]}`);
    }
  }
});

test('transposed gemv into float64 y is the reference to the bit: four rows at a time, rows with a zero weight skipped', () => {
  const rng = new Rng(16);
  for (let trial = 0; trial < 60; trial++) {
    const m = pick(rng, [...sizes, 64, 1023]);
    const n = pick(rng, sizes);
    const lda = n + rng.int(2);
    const a = randomArray(rng, rng.uniform() < 0.5 ? 'float32' : 'float64', m * lda, true);
    const x = randomArray(rng, 'float64', m, true);
    // Some zero weights, their rows infinite: skipped (as the reference's axpy skips them), never 0·∞ = NaN.
    for (let i = 0; i < m; i++) {
      if (rng.uniform() < 0.1) {
        x[i] = 0;
        a[i * lda] = Infinity;
      }
    }
    const y = randomArray(rng, 'float64', n, true);
    const expected = copyOf(y);
    const alpha = pick(rng, [1, -2, 0.5]);
    tsKernels.gemv(true, m, n, alpha, a, 0, lda, x, 0, 1, expected, 0);
    wasm.gemv(true, m, n, alpha, a, 0, lda, x, 0, 1, y, 0);
    assert.deepEqual(y, expected, `m=${m} n=${n} ${a.constructor.name}`);
  }
});

test('dot, axpy and scal on arrays in WASM memory match the reference (axpy and scal bitwise)', () => {
  const rng = new Rng(15);
  for (let trial = 0; trial < 80; trial++) {
    const n = pick(rng, [0, ...sizes, 100, 1001]);
    const dtype: DType = rng.uniform() < 0.5 ? 'float32' : 'float64';
    const x = randomArray(rng, dtype, n + 2, true);
    const y = randomArray(rng, rng.uniform() < 0.5 ? dtype : 'float64', n + 1, true);
    const expectedDot = tsKernels.dot(n, x, 2, y, 1);
    assert.ok(Math.abs(wasm.dot(n, x, 2, y, 1) - expectedDot) <= 1e-13 * n * (1 + Math.abs(expectedDot)));
    const y2 = randomArray(rng, dtype, n + 1, true);
    const expected = copyOf(y2);
    tsKernels.axpy(n, 0.75, x, 2, expected, 1);
    wasm.axpy(n, 0.75, x, 2, y2, 1);
    assert.deepEqual(y2, expected);
    tsKernels.scal(n, -1.5, expected, 1);
    wasm.scal(n, -1.5, y2, 1);
    assert.deepEqual(y2, expected);
  }
});

test('zeros: a zeroed array of each type in WASM memory, given back by release and zeroed again when reused; plain arrays from the reference', () => {
  for (const type of ['int32', 'float64', 'float32'] as const) {
    const first = wasm.zeros(type, 1000);
    assert.ok(wasm.heap.contains(first.array), `${type} in WASM memory`);
    assert.equal(first.array.constructor.name, { int32: 'Int32Array', float64: 'Float64Array', float32: 'Float32Array' }[type]);
    assert.equal(first.array.length, 1000);
    assert.ok(first.array.every((v) => v === 0));
    first.array.fill(7);
    const at = first.array.byteOffset;
    first.release();
    first.release(); // a second release does nothing
    const second = wasm.zeros(type, 1000);
    assert.equal(second.array.byteOffset, at, 'the released block is reused');
    assert.ok(
      second.array.every((v) => v === 0),
      "a reused block holds none of the last user's values",
    );
    second.release();
    const reference = tsKernels.zeros(type, 3);
    assert.deepEqual(Array.from(reference.array), [0, 0, 0]);
    assert.ok(!wasm.heap.contains(reference.array));
  }
  assert.equal(wasm.zeros('float64', 0).array.length, 0);
});
