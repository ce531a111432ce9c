// The kernels PCA's serial and centring steps run through: subtractRow (rows centred by a mean) and
// symmetricEigen (the d×d eigenproblem every rank solves after the all-reduce). The WASM versions
// are held to the TS reference bit for bit — symmetricEigen is ml-matrix's algorithm ported
// operation for operation — and the reference to an independent check (A·v = λ·v, orthonormal V).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels } from '../../src/core/kernels-wasm.js';
import { tsKernels } from '../../src/core/kernels-ts.js';
import { Rng } from '../../src/core/rng.js';
import type { FloatArray } from '../../src/core/storage.js';

const wasm = createWasmKernels({ minMultiplyAdds: 0, minVectorLength: 0 });

function normals(rng: Rng, length: number, float32 = false): FloatArray {
  const out = float32 ? new Float32Array(length) : new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.normal() * 100 + 1e4 * rng.uniform();
  return out;
}

/** A symmetric n×n matrix: XᵀX of random rows (positive semidefinite; rank-deficient when rows < n), or a random symmetric one. */
function symmetric(rng: Rng, n: number, kind: 'gram' | 'indefinite' | 'repeated'): Float64Array {
  const a = new Float64Array(n * n);
  if (kind === 'repeated') {
    // Eigenvalues 2, 2, …, 2, 5: a tie the sort must keep in order.
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (i === j ? 2 : 0) + 3 / n;
    return a;
  }
  const rows = kind === 'gram' ? Math.max(1, n - 2 + rng.int(5)) : 0;
  for (let r = 0; r < rows; r++) {
    const x = Array.from({ length: n }, () => rng.normal());
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j]! += x[i]! * x[j]!;
  }
  if (kind === 'indefinite') {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const v = rng.normal();
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    }
  }
  return a;
}

test('subtractRow in WASM gives the reference values, float32 and float64 rows, in place or not', () => {
  const rng = new Rng(41);
  for (let trial = 0; trial < 60; trial++) {
    const rows = [1, 3, 17, 100][rng.int(4)]!;
    const d = [1, 2, 3, 7, 50, 101][rng.int(6)]!;
    const float32 = rng.uniform() < 0.5;
    const xOffset = rng.int(3) * d;
    const x = normals(rng, xOffset + rows * d, float32);
    const mean = normals(rng, d) as Float64Array;
    const placedX = wasm.resident(x);
    const outOffset = rng.int(3);
    const placedOut = wasm.resident(new Float64Array(outOffset + rows * d).fill(7));
    const inWasm = trial % 3 !== 2; // else the reference runs behind the WASM backend
    const expected = new Float64Array(outOffset + rows * d).fill(7);
    tsKernels.subtractRow(rows, d, x, xOffset, mean, expected, outOffset);
    const out = inWasm ? placedOut.array : new Float64Array(outOffset + rows * d).fill(7);
    wasm.subtractRow(rows, d, inWasm ? placedX.array : x, xOffset, mean, out, outOffset);
    assert.deepEqual(Array.from(out), Array.from(expected), `trial ${trial}: ${rows}×${d} ${float32 ? 'float32' : 'float64'}`);
    for (let c = 0; c < d; c++) assert.equal(expected[outOffset + c], x[xOffset + c]! - mean[c]!);
    placedX.release();
    placedOut.release();
  }
});

test('symmetricEigen in WASM gives the bits of the ml-matrix reference', () => {
  const rng = new Rng(42);
  const kinds = ['gram', 'indefinite', 'repeated'] as const;
  for (let trial = 0; trial < 30; trial++) {
    const n = [1, 2, 3, 5, 10, 20, 37, 100][trial % 8]!;
    const a = symmetric(rng, n, kinds[trial % 3]!);
    const copy = Float64Array.from(a);
    const values = [new Float64Array(n), new Float64Array(n)];
    const vectors = [new Float64Array(n * n), new Float64Array(n * n)];
    tsKernels.symmetricEigen(n, a, values[0]!, vectors[0]!);
    wasm.symmetricEigen(n, a, values[1]!, vectors[1]!);
    assert.deepEqual(a, copy, 'the input is read only');
    assert.deepEqual(values[1], values[0], `trial ${trial} (n = ${n}): eigenvalues`);
    assert.deepEqual(vectors[1], vectors[0], `trial ${trial} (n = ${n}): eigenvectors`);
  }
});

test('symmetricEigen returns ascending eigenpairs with A·v = λ·v and orthonormal vectors', () => {
  const rng = new Rng(43);
  for (const n of [1, 4, 30]) {
    const a = symmetric(rng, n, 'indefinite');
    const values = new Float64Array(n);
    const vectors = new Float64Array(n * n);
    wasm.symmetricEigen(n, a, values, vectors);
    let scale = 0;
    for (const v of a) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i + 1 < n; i++) assert.ok(values[i]! <= values[i + 1]!, `ascending at ${i}`);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < n; r++) {
        let av = 0;
        for (let c = 0; c < n; c++) av += a[r * n + c]! * vectors[i * n + c]!;
        assert.ok(Math.abs(av - values[i]! * vectors[i * n + r]!) <= 1e-12 * n * scale, `n ${n}: (A·v − λ·v)[${r}] for λ${i}`);
      }
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let c = 0; c < n; c++) dot += vectors[i * n + c]! * vectors[j * n + c]!;
        assert.ok(Math.abs(dot - (i === j ? 1 : 0)) <= 1e-12 * n, `n ${n}: v${i}·v${j} = ${dot}`);
      }
    }
  }
});
