// Hamerly's bounds in the fused Lloyd step (k-means `algorithm: 'hamerly'`): on each backend, a run of
// iterations with bounds gives the labels, distances and stats of the same run without, bit for bit,
// on data made to be hard for bounds — uniform rows (no clusters, boundaries moving every iteration), exact ties on an integer lattice with repeated rows, rows far
// from the origin (where ‖x‖² − 2·x·c + ‖c‖² loses most digits), float32 and float64, X inside and
// outside WASM memory; and bounds that settle every row are obeyed (the skipping path really runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels } from '../../src/core/kernels-wasm.js';
import { tsKernels } from '../../src/core/kernels-ts.js';
import type { Kernels, LloydBounds } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import type { FloatArray } from '../../src/core/storage.js';
import { centreBoundsUpdate } from '../../src/models/kmeans/hamerly.js';

// chunkBytes 3000: X outside WASM memory is copied in several chunks per call (the bounds with it).
const wasm = createWasmKernels({ minMultiplyAdds: 0, minVectorLength: 0, chunkBytes: 3000 });

type Shape = 'gaussian' | 'uniform' | 'lattice' | 'far';

function data(rng: Rng, shape: Shape, m: number, d: number, float32: boolean): FloatArray {
  const x = float32 ? new Float32Array(m * d) : new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    const source = shape === 'lattice' && i > 0 && rng.uniform() < 0.3 ? rng.int(i) : -1; // repeated rows
    for (let c = 0; c < d; c++) {
      if (source >= 0) x[i * d + c] = x[source * d + c]!;
      else if (shape === 'lattice') x[i * d + c] = rng.int(5);
      else if (shape === 'far') x[i * d + c] = 1e6 + rng.normal() + 3 * (i % 3);
      else if (shape === 'uniform')
        x[i * d + c] = rng.uniform(); // no clusters: boundaries keep moving
      else x[i * d + c] = rng.normal() + 4 * (i % 4);
    }
  }
  return x;
}

interface Trace {
  labels: Int32Array[];
  distances: Float64Array[];
  stats: Float64Array[];
}

/** `iterations` Lloyd iterations from the first k rows as centres (empty clusters keep their centre), with or without bounds. */
function iterate(
  kern: Kernels,
  x: FloatArray,
  m: number,
  d: number,
  k: number,
  iterations: number,
  withBounds: boolean,
  residentX: boolean,
): Trace {
  const placed = residentX ? kern.resident(x) : { array: x, release: () => undefined };
  let centers = new Float64Array(k * d);
  for (let j = 0; j < k * d; j++) centers[j] = x[j]!;
  const labels = new Int32Array(m).fill(-1);
  const distances = new Float64Array(m);
  const rowNorms = new Float64Array(m).fill(NaN);
  const bounds: LloydBounds | null = withBounds
    ? { lower: new Float64Array(m), shifts: new Float64Array(k), halfSeparation: new Float64Array(k) }
    : null;
  const trace: Trace = { labels: [], distances: [], stats: [] };
  for (let t = 0; t < iterations; t++) {
    const norms = Float64Array.from({ length: k }, (_, j) => tsKernels.dot(d, centers, j * d, centers, j * d));
    const stats = new Float64Array(k * d + k + 2);
    kern.lloydStep(m, d, placed.array, 0, k, centers, norms, labels, distances, stats, rowNorms, bounds);
    trace.labels.push(Int32Array.from(labels));
    trace.distances.push(Float64Array.from(distances));
    trace.stats.push(stats);
    const next = Float64Array.from(centers);
    for (let j = 0; j < k; j++) {
      const count = stats[k * d + j]!;
      if (count > 0) for (let c = 0; c < d; c++) next[j * d + c] = stats[j * d + c]! / count;
    }
    if (bounds !== null) centreBoundsUpdate(centers, next, k, d, bounds.shifts, bounds.halfSeparation);
    centers = next;
  }
  placed.release();
  return trace;
}

test('lloydStep with Hamerly bounds reproduces lloydStep bitwise over many iterations, on hard data, on each backend', () => {
  const rng = new Rng(41);
  for (const kern of [tsKernels, wasm]) {
    let trial = 0;
    for (const shape of ['gaussian', 'uniform', 'lattice', 'far'] as const) {
      for (const [m, d, k] of [
        [301, 3, 5],
        [500, 20, 10],
        [257, 1, 3],
        [130, 7, 1],
        [3000, 2, 12],
      ] as const) {
        trial++;
        const x = data(rng, shape, m, d, trial % 2 === 0);
        const plain = iterate(kern, x, m, d, k, 12, false, trial % 3 !== 0);
        const bounded = iterate(kern, x, m, d, k, 12, true, trial % 3 !== 0);
        for (let t = 0; t < 12; t++) {
          const where = `${kern.name} ${shape} m=${m} d=${d} k=${k} iteration ${t}`;
          assert.deepEqual(bounded.labels[t], plain.labels[t], where);
          assert.deepEqual(bounded.distances[t], plain.distances[t], where);
          assert.deepEqual(bounded.stats[t], plain.stats[t], where);
        }
      }
    }
  }
});

test('lloydStep obeys bounds that settle every row: labels kept, only their own distances computed', () => {
  const rng = new Rng(42);
  for (const kern of [tsKernels, wasm]) {
    const [m, d, k] = [64, 4, 3];
    const x = data(rng, 'gaussian', m, d, false);
    const centers = Float64Array.from({ length: k * d }, () => rng.normal());
    const norms = Float64Array.from({ length: k }, (_, j) => tsKernels.dot(d, centers, j * d, centers, j * d));
    // Labels that are mostly not the nearest centre, with bounds claiming every other centre is far away.
    const labels = Int32Array.from({ length: m }, (_, i) => i % k);
    const claimed = Int32Array.from(labels);
    const bounds: LloydBounds = {
      lower: new Float64Array(m).fill(1e9),
      shifts: new Float64Array(k),
      halfSeparation: new Float64Array(k).fill(1e9),
    };
    const distances = new Float64Array(m);
    const stats = new Float64Array(k * d + k + 2);
    kern.lloydStep(m, d, x, 0, k, centers, norms, labels, distances, stats, new Float64Array(m).fill(NaN), bounds);
    assert.deepEqual(labels, claimed, `${kern.name}: the bounds settled every row`);
    assert.equal(stats[k * d + k + 1], 0, 'no label changed');
    for (let i = 0; i < m; i++) {
      const own = tsKernels.dot(d, x, i * d, x, i * d) - 2 * tsKernels.dot(d, x, i * d, centers, labels[i]! * d) + norms[labels[i]!]!;
      assert.ok(Math.abs(distances[i]! - Math.max(own, 0)) <= 1e-9 * (1 + own), `${kern.name} row ${i}: its distance to its own centre`);
    }
    // The same call without bounds finds the nearest centres, which differ from the claimed labels.
    const nearest = Int32Array.from(claimed);
    kern.lloydStep(m, d, x, 0, k, centers, norms, nearest, new Float64Array(m), new Float64Array(k * d + k + 2), null);
    assert.notDeepEqual(nearest, claimed);
  }
});

test('centreBoundsUpdate: shifts and half separations from coordinate differences, rounded outward', () => {
  const previous = Float64Array.of(0, 0, 10, 0, 0, 5);
  const current = Float64Array.of(3, 4, 10, 0, 0, 5);
  const shifts = new Float64Array(3);
  const half = new Float64Array(3);
  centreBoundsUpdate(previous, current, 3, 2, shifts, half);
  assert.ok(shifts[0]! >= 5 && shifts[0]! < 5 * (1 + 1e-12));
  assert.equal(shifts[1], 0);
  assert.equal(shifts[2], 0);
  // Distances between current centres: (3,4)–(10,0) √65, (3,4)–(0,5) √10, (10,0)–(0,5) √125.
  assert.ok(half[0]! <= Math.sqrt(10) / 2 && half[0]! > (Math.sqrt(10) / 2) * (1 - 1e-12));
  assert.ok(half[1]! <= Math.sqrt(65) / 2 && half[1]! > (Math.sqrt(65) / 2) * (1 - 1e-12));
  assert.ok(half[2]! <= Math.sqrt(10) / 2);
  centreBoundsUpdate(Float64Array.of(1, 1), Float64Array.of(1, 1), 1, 2, shifts, half);
  assert.equal(half[0], Infinity, 'one centre: no other to be near');
});
