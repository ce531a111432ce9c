// The float32 gemm's path added for the CNN's shapes (assembly/gemm32.ts): when n ≤ 128, op(A) is
// read in place (op(A) = A or Aᵀ) instead of packed, and edge tiles go through a separate routine.
// Checked against the TS reference within the gemm error bound on odd shapes that cross the
// micro-kernel and cache-block edges (MR 4, NR 8, MC 128, KC 512, the n = 128/129 switch), with
// padded strides and offsets; and, because every path sums each element's products in the same
// order as the packed 4×8 kernel, bitwise: A in place vs the same product through packing, and an
// edge tile (n mod 8 columns) vs the same columns computed inside a wider, full panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels } from '../../src/core/kernels-wasm.js';
import type { WasmKernels, WasmSimd } from '../../src/core/kernels-wasm.js';
import { tsKernels } from '../../src/core/kernels-ts.js';
import { Rng } from '../../src/core/rng.js';

const builds: WasmKernels[] = (['plain', 'relaxed'] as WasmSimd[]).map((simd) => createWasmKernels({ simd, minMultiplyAdds: 0 }));

function randomArray(rng: Rng, length: number): Float32Array {
  const array = new Float32Array(length);
  for (let i = 0; i < length; i++) array[i] = rng.normal();
  return array;
}

interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  a: Float32Array;
  lda: number;
  b: Float32Array;
  ldb: number;
  c: Float32Array;
  ldc: number;
  /** Offsets of the operands in their arrays. */
  aAt: number;
  bAt: number;
  cAt: number;
}

/** A case with stored strides `pad` larger than needed and operands starting at an offset. */
function makeCase(rng: Rng, transA: boolean, transB: boolean, m: number, n: number, k: number, pad: number): Case {
  const [aRows, aCols] = transA ? [k, m] : [m, k];
  const [bRows, bCols] = transB ? [n, k] : [k, n];
  const lda = aCols + pad;
  const ldb = bCols + pad;
  const ldc = n + pad;
  const aAt = 3;
  const bAt = 5;
  const cAt = 7;
  return {
    transA,
    transB,
    m,
    n,
    k,
    alpha: [1, -0.5, 2.25][rng.int(3)]!,
    beta: [0, 1, 0.5][rng.int(3)]!,
    a: randomArray(rng, aAt + aRows * lda),
    lda,
    b: randomArray(rng, bAt + bRows * ldb),
    ldb,
    c: randomArray(rng, cAt + m * ldc),
    ldc,
    aAt,
    bAt,
    cAt,
  };
}

function run(backend: { gemm: WasmKernels['gemm'] }, x: Case): Float32Array {
  const c = x.c.slice();
  backend.gemm(x.transA, x.transB, x.m, x.n, x.k, x.alpha, x.a, x.aAt, x.lda, x.b, x.bAt, x.ldb, x.beta, c, x.cAt, x.ldc);
  return c;
}

const opA = (x: Case, i: number, q: number): number => x.a[x.aAt + (x.transA ? q * x.lda + i : i * x.lda + q)]!;
const opB = (x: Case, q: number, j: number): number => x.b[x.bAt + (x.transB ? j * x.ldb + q : q * x.ldb + j)]!;

/** Standard gemm bound per element; the padding between rows of C must be left untouched. */
function assertMatchesReference(x: Case, got: Float32Array, expected: Float32Array, label: string): void {
  const unit = 1e-5;
  for (let i = 0; i < x.m; i++) {
    for (let j = 0; j < x.ldc; j++) {
      const at = x.cAt + i * x.ldc + j;
      if (j >= x.n) {
        assert.equal(got[at], x.c[at], `${label}: padding [${i},${j}] changed`);
        continue;
      }
      let bound = Math.abs(x.beta * x.c[at]!) + 1;
      for (let q = 0; q < x.k; q++) bound += Math.abs(x.alpha * opA(x, i, q) * opB(x, q, j));
      assert.ok(Math.abs(got[at]! - expected[at]!) <= unit * x.k * bound + unit, `${label} [${i},${j}]: ${got[at]} vs ${expected[at]}`);
    }
  }
  for (let at = 0; at < x.cAt; at++) assert.equal(got[at], x.c[at], `${label}: C before its offset changed`);
}

test('A read in place and packed, and every edge tile, match the reference on odd shapes across block edges', () => {
  const rng = new Rng(41);
  // [m, n, k]: m around MR/MC (4, 128), n ≤ 128 (A in place when op(A) = A) with every tail 1–7
  // and the 128/129 switch, k around KC (512); plus the CNN's conv1 weight-gradient shape, scaled.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 25, 7],
    [4, 8, 512],
    [5, 9, 513],
    [129, 17, 513],
    [131, 3, 1030],
    [260, 11, 40],
    [7, 128, 33],
    [9, 129, 17],
    [32, 25, 1200],
    [130, 4, 600],
    [6, 2, 1025],
    // m ≤ 128, n > 128, k ≥ 128: B packed one panel ahead while the previous one multiplies.
    [64, 200, 600],
    [5, 257, 300],
    [128, 131, 129],
    [3, 800, 4096],
  ];
  for (let trial = 0; trial < 24; trial++) shapes.push([1 + rng.int(140), 1 + rng.int(40), 1 + rng.int(600)]);
  for (const [m, n, k] of shapes) {
    for (const [transA, transB] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      const x = makeCase(rng, transA, transB, m, n, k, rng.int(3));
      const expected = run(tsKernels, x);
      for (const build of builds) {
        assertMatchesReference(x, run(build, x), expected, `${build.simd} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${m}×${n}×${k}`);
      }
    }
  }
});

test("A read in place gives bitwise the packed kernel's product", () => {
  const rng = new Rng(43);
  for (const [m, n, k] of [
    [36, 32, 25],
    [130, 64, 800],
    [131, 7, 515],
    [5, 120, 1030],
  ] as [number, number, number][]) {
    for (const transA of [false, true]) {
      const direct = makeCase(rng, transA, rng.uniform() < 0.5, m, n, k, 1);
      // The same product with n > 128 (A packed): B and C padded with columns the check ignores.
      const wide = 136;
      const b = new Float32Array(k * wide);
      for (let q = 0; q < k; q++) for (let j = 0; j < wide; j++) b[q * wide + j] = j < n ? opB(direct, q, j) : rng.normal();
      const c = new Float32Array(m * wide);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[i * wide + j] = direct.c[direct.cAt + i * direct.ldc + j]!;
      const packed: Case = { ...direct, transB: false, n: wide, b, ldb: wide, bAt: 0, c, ldc: wide, cAt: 0 };
      for (const build of builds) {
        const got = run(build, direct);
        const reference = run(build, packed);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            assert.equal(
              got[direct.cAt + i * direct.ldc + j],
              reference[i * wide + j],
              `${build.simd} ${transA ? 'T' : 'N'} ${m}×${n}×${k} [${i},${j}]`,
            );
          }
        }
      }
    }
  }
});

test('an edge tile gives bitwise the columns of a full 8-column panel', () => {
  const rng = new Rng(47);
  // n ≤ 128: A in place; 131, 133: packed. n mod 8 ≠ 0: the last panel is an edge tile.
  for (const [m, n, k] of [
    [32, 25, 1200],
    [9, 3, 513],
    [130, 12, 40],
    [4, 1, 7],
    [9, 131, 40],
    [6, 133, 520],
  ] as [number, number, number][]) {
    const narrow = makeCase(rng, rng.uniform() < 0.5, false, m, n, k, 0);
    const wide = Math.ceil(n / 8) * 8 + 8;
    // The same B with columns appended up to full panels: the first n columns of C are computed
    // by the 4×8 kernel there.
    const b = new Float32Array(k * wide);
    for (let q = 0; q < k; q++) for (let j = 0; j < wide; j++) b[q * wide + j] = j < n ? opB(narrow, q, j) : rng.normal();
    const c = new Float32Array(m * wide);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[i * wide + j] = narrow.c[narrow.cAt + i * narrow.ldc + j]!;
    const full: Case = { ...narrow, n: wide, b, ldb: wide, bAt: 0, c, ldc: wide, cAt: 0 };
    for (const build of builds) {
      const got = run(build, narrow);
      const reference = run(build, full);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          assert.equal(got[narrow.cAt + i * narrow.ldc + j], reference[i * wide + j], `${build.simd} ${m}×${n}×${k} [${i},${j}]`);
        }
      }
    }
  }
});
