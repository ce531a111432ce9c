// The fused Lloyd step (k-means): WASM against the TS reference (the oracle) on random shapes,
// float32/float64, X and labels inside and outside WASM memory; and against the unfused path it
// replaced (nearestCenter, then sums in row order), bitwise, on the same backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels } from '../../src/core/kernels-wasm.js';
import { tsKernels } from '../../src/core/kernels-ts.js';
import type { Kernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import type { FloatArray } from '../../src/core/storage.js';

// chunkBytes 3000: X outside WASM memory is copied in several chunks per call.
const wasm = createWasmKernels({ minMultiplyAdds: 0, minVectorLength: 0, chunkBytes: 3000 });
const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)]!;

function randomX(rng: Rng, float32: boolean, length: number): FloatArray {
  const x = float32 ? new Float32Array(length) : new Float64Array(length);
  for (let i = 0; i < length; i++) x[i] = rng.normal();
  return x;
}

interface Case {
  m: number;
  d: number;
  k: number;
  xOffset: number;
  x: FloatArray;
  centers: Float64Array;
  norms: Float64Array;
  previous: Int32Array;
}

function randomCase(rng: Rng): Case {
  const m = pick(rng, [1, 3, 4, 5, 9, 64, 301]);
  const d = pick(rng, [1, 2, 3, 5, 8, 17, 20]);
  const k = pick(rng, [1, 2, 3, 5, 8, 10]);
  const xOffset = rng.int(3);
  const x = randomX(rng, rng.uniform() < 0.5, xOffset + m * d);
  const centers = randomX(rng, false, k * d) as Float64Array;
  const norms = Float64Array.from({ length: k }, (_, j) => tsKernels.dot(d, centers, j * d, centers, j * d));
  // Previous labels: some −1 (none yet), some right, some wrong, so `changed` counts a mix.
  const previous = Int32Array.from({ length: m }, () => rng.int(k + 1) - 1);
  return { m, d, k, xOffset, x, centers, norms, previous };
}

function run(
  kern: Kernels,
  c: Case,
  residentX: boolean,
  rowNorms: Float64Array | null = null,
): { labels: Int32Array; distances: Float64Array; stats: Float64Array } {
  const x = residentX ? kern.resident(c.x) : { array: c.x, release: () => undefined };
  const labels = kern.resident(Int32Array.from(c.previous));
  const distances = new Float64Array(c.m);
  const stats = new Float64Array(c.k * c.d + c.k + 2);
  stats[0] = 0.5; // accumulates into what is there
  kern.lloydStep(c.m, c.d, x.array, c.xOffset, c.k, c.centers, c.norms, labels.array, distances, stats, rowNorms);
  const result = { labels: Int32Array.from(labels.array), distances, stats };
  x.release();
  labels.release();
  return result;
}

test('lloydStep in WASM matches the TS reference (labels, distances, sums, counts, inertia, changed)', () => {
  const rng = new Rng(21);
  for (let trial = 0; trial < 80; trial++) {
    const c = randomCase(rng);
    const expected = run(tsKernels, c, false);
    const got = run(wasm, c, trial % 2 === 0);
    const tolerance = 1e-12 * (1 + c.d * 10);
    for (let i = 0; i < c.m; i++) {
      assert.ok(Math.abs(got.distances[i]! - expected.distances[i]!) <= tolerance, `trial ${trial} row ${i}`);
    }
    // Random Gaussian data has no ties within rounding, so the labels — hence counts and changed — agree exactly.
    assert.deepEqual(got.labels, expected.labels, `trial ${trial}`);
    const { k, d } = c;
    for (let j = 0; j < k * d + k + 2; j++) {
      assert.ok(Math.abs(got.stats[j]! - expected.stats[j]!) <= 1e-9 * (1 + Math.abs(expected.stats[j]!)), `trial ${trial} stats[${j}]`);
    }
    let changed = 0;
    for (let i = 0; i < c.m; i++) if (expected.labels[i] !== c.previous[i]) changed++;
    assert.equal(got.stats[k * d + k + 1], changed);
  }
});

test('lloydStep equals nearestCenter followed by row-order sums, bitwise, on each backend', () => {
  const rng = new Rng(22);
  for (const kern of [tsKernels, wasm]) {
    for (let trial = 0; trial < 30; trial++) {
      const c = randomCase(rng);
      const { m, d, k, xOffset, x } = c;
      const labels = new Int32Array(m);
      const distances = new Float64Array(m);
      kern.nearestCenter(m, d, x, xOffset, k, c.centers, c.norms, labels, distances);
      const stats = new Float64Array(k * d + k + 2);
      stats[0] = 0.5;
      for (let i = 0; i < m; i++) {
        for (let col = 0; col < d; col++) stats[labels[i]! * d + col]! += x[xOffset + i * d + col]!;
        stats[k * d + labels[i]!]! += 1;
        stats[k * d + k]! += distances[i]!;
        if (labels[i] !== c.previous[i]) stats[k * d + k + 1]! += 1;
      }
      const fused = run(kern, c, trial % 2 === 1);
      assert.deepEqual(fused.labels, labels, `${kern.name} trial ${trial}`);
      assert.deepEqual(fused.distances, distances, `${kern.name} trial ${trial}`);
      assert.deepEqual(fused.stats, stats, `${kern.name} trial ${trial}`);
      // Row norms kept between calls: computed where NaN (first call), read after; same results both times.
      const norms = new Float64Array(m).fill(NaN);
      if (m > 2) norms[1] = 0; // a kept value is read, not recomputed: row 1's distance shifts by −‖row 1‖²
      const first = run(kern, c, trial % 2 === 0, norms);
      const kept = Float64Array.from(norms);
      const second = run(kern, c, trial % 2 === 0, norms);
      assert.deepEqual(norms, kept, 'kept norms are not rewritten');
      for (const result of [first, second]) {
        assert.deepEqual(result.labels, labels, `${kern.name} trial ${trial}`);
        for (let i = 0; i < m; i++) {
          if (i === 1 && m > 2) continue;
          assert.equal(result.distances[i], distances[i], `${kern.name} trial ${trial} row ${i}`);
          assert.ok(norms[i]! > 0, 'every NaN norm was computed and kept');
        }
      }
    }
  }
});

test('of centres at the same distance the lowest index wins in WASM, as in the TS reference, whichever lanes they share', () => {
  // Integer rows and centres: every distance is exact, so ties are exact. Duplicated centres and
  // rows halfway between two centres put equal distances in the same lane, in the other lane of one
  // block and in different blocks; the reference scans in index order and keeps the first minimum.
  const rng = new Rng(23);
  let ties = 0;
  for (let trial = 0; trial < 60; trial++) {
    const m = pick(rng, [1, 4, 7, 101]);
    const d = pick(rng, [1, 2, 3, 5]);
    const k = pick(rng, [2, 3, 5, 7, 10, 13]);
    const centers = new Float64Array(k * d);
    for (let j = 0; j < k; j++) {
      const copy = j > 0 && rng.uniform() < 0.4 ? rng.int(j) : -1;
      for (let c = 0; c < d; c++) centers[j * d + c] = copy >= 0 ? centers[copy * d + c]! : rng.int(5) - 2;
    }
    const x = Float64Array.from({ length: m * d }, () => rng.int(7) - 3);
    const norms = Float64Array.from({ length: k }, (_, j) => tsKernels.dot(d, centers, j * d, centers, j * d));
    const c: Case = { m, d, k, xOffset: 0, x, centers, norms, previous: new Int32Array(m).fill(-1) };
    const expected = run(tsKernels, c, false);
    const got = run(wasm, c, trial % 2 === 0);
    assert.deepEqual(got.labels, expected.labels, `trial ${trial}`);
    assert.deepEqual(got.distances, expected.distances, `trial ${trial}`);
    assert.deepEqual(got.stats, expected.stats, `trial ${trial}`);
    const labels = new Int32Array(m);
    const distances = new Float64Array(m);
    wasm.nearestCenter(m, d, x, 0, k, centers, norms, labels, distances);
    assert.deepEqual(labels, expected.labels, `trial ${trial} nearestCenter`);
    for (let i = 0; i < m; i++) {
      let equal = 0;
      for (let j = 0; j < k; j++)
        if (tsKernels.dot(d, x, i * d, x, i * d) - 2 * tsKernels.dot(d, x, i * d, centers, j * d) + norms[j]! === expected.distances[i])
          equal++;
      if (equal > 1) ties++;
    }
  }
  assert.ok(ties > 100, `rows with tied nearest centres: ${ties}`);
});

test('resident copies values into WASM memory once, returns resident arrays as they are, and releases', () => {
  const x = Float64Array.from({ length: 1000 }, (_, i) => i * 0.5);
  const placed = wasm.resident(x);
  assert.ok(wasm.heap.contains(placed.array));
  assert.notEqual(placed.array, x);
  assert.deepEqual(Array.from(placed.array), Array.from(x));
  const again = wasm.resident(placed.array);
  assert.equal(again.array, placed.array);
  const labels = wasm.resident(Int32Array.of(3, -1, 7));
  assert.ok(labels.array instanceof Int32Array && wasm.heap.contains(labels.array));
  assert.deepEqual(Array.from(labels.array), [3, -1, 7]);
  placed.release();
  placed.release(); // twice is harmless
  labels.release();
  // The freed block is reused by the next allocation of that size.
  const reused = wasm.resident(x);
  assert.equal(reused.array.byteOffset, placed.array.byteOffset);
  reused.release();
  assert.equal(tsKernels.resident(x).array, x);
});
