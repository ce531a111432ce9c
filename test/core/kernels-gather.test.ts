// gatherDot and gatherAxpy (the one-output linear models' mini-batch scores and gradient, read from
// X in place): WASM against the TS reference on random shapes, float32/float64 X, repeated and
// unordered row indices, X inside WASM memory (the WASM path) and outside (the reference runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels } from '../../src/core/kernels-wasm.js';
import { tsKernels } from '../../src/core/kernels-ts.js';
import { Rng } from '../../src/core/rng.js';
import type { FloatArray } from '../../src/core/storage.js';

const wasm = createWasmKernels({ minMultiplyAdds: 0, minVectorLength: 0 });
const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)]!;

function normals(rng: Rng, length: number, float32 = false): FloatArray {
  const out = float32 ? new Float32Array(length) : new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.normal();
  return out;
}

test('gatherDot and gatherAxpy in WASM match the reference', () => {
  const rng = new Rng(31);
  for (let trial = 0; trial < 80; trial++) {
    const n = pick(rng, [1, 5, 64, 200]);
    const d = pick(rng, [1, 2, 3, 7, 16, 50]);
    const count = pick(rng, [1, 3, 64]);
    const float32 = rng.uniform() < 0.5;
    const x = normals(rng, n * d, float32);
    const placed = wasm.resident(x);
    const inWasm = trial % 4 !== 3;
    const data = inWasm ? placed.array : x;
    assert.equal(wasm.heap.contains(data), inWasm);
    const rows = Uint32Array.from({ length: count }, () => rng.int(n)); // repeats allowed, any order
    const wOffset = rng.int(3);
    const w = normals(rng, wOffset + d) as Float64Array;
    const expectedScores = new Float64Array(count);
    const scores = new Float64Array(count);
    tsKernels.gatherDot(count, rows, d, x, w, wOffset, expectedScores);
    wasm.gatherDot(count, rows, d, data, w, wOffset, scores);
    for (let i = 0; i < count; i++) assert.ok(Math.abs(scores[i]! - expectedScores[i]!) <= 1e-12 * (1 + d), `trial ${trial} row ${i}`);

    const weights = normals(rng, count) as Float64Array;
    if (count > 1) weights[1] = 0; // a zero weight adds nothing
    const yOffset = rng.int(3);
    const start = normals(rng, yOffset + d) as Float64Array;
    const expected = Float64Array.from(start);
    const y = Float64Array.from(start);
    tsKernels.gatherAxpy(count, rows, d, x, weights, expected, yOffset);
    wasm.gatherAxpy(count, rows, d, data, weights, y, yOffset);
    for (let c = 0; c < yOffset + d; c++) assert.ok(Math.abs(y[c]! - expected[c]!) <= 1e-12 * (1 + count), `trial ${trial} column ${c}`);
    for (let c = 0; c < yOffset; c++) assert.equal(y[c], start[c], 'entries before yOffset untouched');
    placed.release();
  }
});

test('gatherDot reads the listed rows: a hand-checked case', () => {
  const x = Float64Array.of(1, 2, 3, 4, 5, 6); // 3 rows × 2
  const placed = wasm.resident(x);
  const out = new Float64Array(3);
  wasm.gatherDot(3, Uint32Array.of(2, 0, 2), 2, placed.array, Float64Array.of(10, 1), 0, out);
  assert.deepEqual(Array.from(out), [56, 12, 56]);
  const y = new Float64Array(2);
  wasm.gatherAxpy(2, Uint32Array.of(1, 2), 2, placed.array, Float64Array.of(1, -1), y, 0);
  assert.deepEqual(Array.from(y), [-2, -2]);
  placed.release();
});

test('gatherDot on float64 rows (four at a time) gives each row the bits of a WASM dot of that row', () => {
  const rng = new Rng(37);
  for (const d of [1, 3, 4, 7, 50]) {
    for (const count of [4, 5, 7, 64]) {
      const n = 100;
      const x = wasm.resident(normals(rng, n * d));
      const w = wasm.resident(normals(rng, d) as Float64Array);
      const rows = Uint32Array.from({ length: count }, () => rng.int(n));
      const scores = new Float64Array(count);
      wasm.gatherDot(count, rows, d, x.array, w.array, 0, scores);
      for (let i = 0; i < count; i++) {
        assert.equal(scores[i], wasm.dot(d, x.array, rows[i]! * d, w.array, 0), `d ${d} count ${count} row ${i}`);
      }
      x.release();
      w.release();
    }
  }
});

test('by default a gather of 32 rows × 50 (a 64-row batch split over 2 threads) runs in WASM, one of 4 × 10 on the reference', () => {
  const defaults = createWasmKernels();
  const d = 50;
  // Row r holds 1e16, 1, −1e16, 1, …: summed left to right (the reference) each pair of ±1e16 swallows
  // the 1 between them; a kernel that sums in lanes adds the 1s apart. The two backends then differ.
  const x = new Float64Array(40 * d);
  for (let i = 0; i < x.length; i++) x[i] = i % 2 === 1 ? 1 : i % 4 === 0 ? 1e16 : -1e16;
  const forced = wasm.resident(x);
  const placed = defaults.resident(x);
  const w = new Float64Array(d).fill(1);
  for (const [count, cols, backend] of [
    [32, d, 'wasm'],
    [4, 10, 'ts'],
  ] as const) {
    const rows = Uint32Array.from({ length: count }, (_, i) => i);
    const reference = new Float64Array(count);
    const viaWasm = new Float64Array(count);
    const viaDefaults = new Float64Array(count);
    tsKernels.gatherDot(count, rows, cols, x, w, 0, reference);
    wasm.gatherDot(count, rows, cols, forced.array, w, 0, viaWasm);
    defaults.gatherDot(count, rows, cols, placed.array, w, 0, viaDefaults);
    assert.notDeepEqual(viaWasm, reference, 'the data tells the two backends apart');
    assert.deepEqual(viaDefaults, backend === 'wasm' ? viaWasm : reference, `${count} rows × ${cols}: ${backend}`);
  }
  forced.release();
  placed.release();
});
