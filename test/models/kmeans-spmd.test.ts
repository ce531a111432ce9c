// k-means as SPMD code: on several ranks (an in-process world whose reductions run in ascending rank
// order, as every transport's), every rank returns the same state, and it equals the sequential
// result — for explicit centres, k-means++, k-means|| and the empty-cluster rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dataset } from '../../src/data/dataset.js';
import { KMeans } from '../../src/models/kmeans/kmeans.js';
import type { KMeansParams, KMeansState } from '../../src/models/kmeans/kmeans.js';
import { fixtureData, gaussianBlobs, kmeansFixtures } from '../fixtures/kmeans-pca/load.js';
import { runSpmd, shardsOf } from '../fixtures/kmeans-pca/memory-world.js';
import '../../src/index.js';

const CENTERS = [
  [0, 0, 0],
  [6, 1, 0],
  [0, 6, 2],
  [5, 5, 5],
  [-4, 3, -3],
];

/** Uneven row counts summing to `rows`, including an empty shard when there are 4+ ranks. */
function split(rows: number, ranks: number): number[] {
  if (ranks === 1) return [rows];
  const counts = Array.from({ length: ranks }, (_, r) => (r === 1 && ranks >= 4 ? 0 : Math.floor(rows / ranks) + (r === 0 ? 7 : 0)));
  counts[ranks - 1]! += rows - counts.reduce((a, b) => a + b, 0);
  return counts;
}

async function trainOn(data: Dataset, ranks: number, params: Partial<KMeansParams>): Promise<KMeansState> {
  const { states } = await runSpmd(new KMeans(params), shardsOf(data, split(data.rows, ranks)));
  for (let r = 1; r < states.length; r++) {
    assert.deepEqual(states[r], states[0], `rank ${r} disagrees with rank 0`);
  }
  return states[0]!;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tolerance * (1 + Math.abs(expected[i]!)),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

for (const init of ['k-means++', 'k-means||', 'random'] as const) {
  test(`kmeans ${init}: 2, 3 and 4 ranks give the sequential model (all ranks identical)`, async () => {
    const data = gaussianBlobs(CENTERS, 120, 1.2, 11);
    const sequential = await trainOn(data, 1, { k: 5, init, seed: 3 });
    for (const ranks of [2, 3, 4]) {
      const parallel = await trainOn(data, ranks, { k: 5, init, seed: 3 });
      // Same initial rows are drawn (draws are positions in the global D² mass, not per-rank), so the
      // runs differ only in summation order.
      assert.equal(parallel.iterations, sequential.iterations, `${ranks} ranks: iterations`);
      assertClose(parallel.centers, sequential.centers, 1e-12, `${ranks} ranks: centres`);
      assert.ok(Math.abs(parallel.inertia - sequential.inertia) <= 1e-12 * sequential.inertia);
    }
  });
}

test('kmeans on 3 ranks matches scikit-learn fixtures, including the empty-cluster relocation', async () => {
  for (const fixture of kmeansFixtures()) {
    const data = fixtureData(fixture);
    const state = await trainOn(data, 3, { k: fixture.k, init: fixture.init, maxIter: fixture.maxIter, tol: fixture.tol });
    assert.equal(state.iterations, fixture.iterations, fixture.name);
    assertClose(state.centers, fixture.centers, 1e-9, `${fixture.name} centres`);
    assert.ok(Math.abs(state.inertia - fixture.inertia) <= 1e-9 * fixture.inertia, fixture.name);
  }
});

test('kmeans reports inertia per iteration on rank 0, one event per Lloyd iteration', async () => {
  const data = gaussianBlobs(CENTERS, 40, 1.0, 12);
  const { states, events } = await runSpmd(new KMeans({ k: 5, seed: 1 }), shardsOf(data, split(data.rows, 2)));
  assert.equal(events.length, states[0]!.iterations);
  assert.ok(events.every((event, i) => event.iteration === i + 1 && Number.isFinite(event.loss)));
});

test('kmeans on the threads paradigm (2 workers) equals the sequential fit', async () => {
  const data = gaussianBlobs(CENTERS, 100, 1.2, 13);
  for (const init of ['k-means++', 'k-means||'] as const) {
    const sequential = await new KMeans({ k: 5, init, seed: 4 }).fit(data);
    const threaded = await new KMeans({ k: 5, init, seed: 4 }).fit(data, { paradigm: 'threads', workers: 2 });
    assert.equal(threaded.fitInfo?.workers, 2);
    assert.equal(threaded.state.iterations, sequential.state.iterations);
    assertClose(threaded.state.centers, sequential.state.centers, 1e-12, `${init} centres`);
  }
});
