// Every kernel backend is checked against naive loops on random shapes, including tiny and odd sizes
// that do not fill a block. A new backend gets this suite by registering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelBackends, useKernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import '../../src/core/index.js';

function random(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-10): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tolerance * (1 + Math.abs(expected[i]!)),
      `index ${i}: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

for (const backend of kernelBackends()) {
  const k = useKernels(backend);
  test(`${backend}: dot, axpy, scal match naive loops`, () => {
    const rng = new Rng(1);
    for (const n of [0, 1, 3, 4, 7, 64, 1001]) {
      const x = random(rng, n + 2);
      const y = random(rng, n + 3);
      let expected = 0;
      for (let i = 0; i < n; i++) expected += x[i + 2]! * y[i + 1]!;
      assert.ok(Math.abs(k.dot(n, x, 2, y, 1) - expected) < 1e-10 * (1 + Math.abs(expected)));
      const y2 = y.slice();
      k.axpy(n, 0.5, x, 2, y2, 1);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(y2[i + 1]! - (y[i + 1]! + 0.5 * x[i + 2]!)) < 1e-12);
      k.scal(n, 3, y2, 1);
    }
  });

  test(`${backend}: gemm matches the triple loop for all transposes and odd shapes`, () => {
    const rng = new Rng(2);
    for (const [m, n, kk] of [
      [1, 1, 1],
      [3, 5, 7],
      [4, 4, 4],
      [17, 9, 300],
      [65, 513, 3],
      [5, 600, 257],
    ] as const) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const a = random(rng, m * kk);
          const b = random(rng, kk * n);
          const c = random(rng, m * n);
          const expected = c.map((v) => 0.5 * v);
          const lda = transA ? m : kk;
          const ldb = transB ? kk : n;
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let s = 0;
              for (let p = 0; p < kk; p++) s += (transA ? a[p * lda + i]! : a[i * lda + p]!) * (transB ? b[j * ldb + p]! : b[p * ldb + j]!);
              expected[i * n + j]! += 2 * s;
            }
          }
          k.gemm(transA, transB, m, n, kk, 2, a, 0, lda, b, 0, ldb, 0.5, c, 0, n);
          close(c, expected);
        }
      }
    }
  });

  test(`${backend}: gemv, syrk and nearestCenter match naive loops`, () => {
    const rng = new Rng(3);
    const m = 13;
    const n = 6;
    const a = random(rng, m * n);
    const x = random(rng, n);
    const y = new Float64Array(m);
    k.gemv(false, m, n, 1, a, 0, n, x, 0, 0, y, 0);
    close(
      y,
      Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => a[i * n + j]! * x[j]!).reduce((s, v) => s + v, 0)),
    );
    const xt = random(rng, m);
    const yt = new Float64Array(n).fill(1);
    k.gemv(true, m, n, 2, a, 0, n, xt, 0, 1, yt, 0);
    close(
      yt,
      Array.from({ length: n }, (_, j) => 1 + 2 * Array.from({ length: m }, (_, i) => a[i * n + j]! * xt[i]!).reduce((s, v) => s + v, 0)),
    );
    const gram = new Float64Array(n * n);
    k.syrk(m, n, a, 0, n, gram, 0);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let r = 0; r < m; r++) s += a[r * n + i]! * a[r * n + j]!;
        assert.ok(Math.abs(gram[i * n + j]! - s) < 1e-10);
      }
    const centers = random(rng, 3 * n);
    const norms = Float64Array.from({ length: 3 }, (_, c) => k.dot(n, centers, c * n, centers, c * n));
    const labels = new Int32Array(m);
    const distances = new Float64Array(m);
    k.nearestCenter(m, n, a, 0, 3, centers, norms, labels, distances);
    for (let i = 0; i < m; i++) {
      const d = [0, 1, 2].map((c) =>
        Array.from({ length: n }, (_, j) => (a[i * n + j]! - centers[c * n + j]!) ** 2).reduce((s, v) => s + v, 0),
      );
      const best = d.indexOf(Math.min(...d));
      assert.equal(labels[i], best);
      assert.ok(Math.abs(distances[i]! - d[best]!) < 1e-9);
    }
  });
}
