// k-means: the estimator contract, recovery of known centres, exact agreement with scikit-learn's
// Lloyd from the same initial centres (fixtures by scripts/fixtures/kmeans_pca.py), and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { Dataset } from '../../src/data/dataset.js';
import { KMeans } from '../../src/models/kmeans/kmeans.js';
import type { KMeansInitName } from '../../src/models/kmeans/kmeans.js';
import { estimatorSuite } from '../support/estimator-suite.js';
import { gaussianBlobs, kmeansFixtures } from '../fixtures/kmeans-pca/load.js';
import '../../src/index.js';

/** Largest distance between each true centre and the found centre greedily matched to it (closest pairs first). */
function matchedError(found: Float64Array, truth: number[][]): number {
  const d = truth[0]!.length;
  const pairs: { i: number; j: number; distance: number }[] = [];
  truth.forEach((centre, i) => {
    for (let j = 0; j < truth.length; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (centre[c]! - found[j * d + c]!) ** 2;
      pairs.push({ i, j, distance: Math.sqrt(s) });
    }
  });
  pairs.sort((a, b) => a.distance - b.distance);
  const usedTruth = new Set<number>();
  const usedFound = new Set<number>();
  let worst = 0;
  for (const pair of pairs) {
    if (usedTruth.has(pair.i) || usedFound.has(pair.j)) continue;
    usedTruth.add(pair.i);
    usedFound.add(pair.j);
    worst = Math.max(worst, pair.distance);
  }
  return worst;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const scale = 1 + Math.abs(expected[i]!);
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const TRUE_CENTERS = [
  [0, 0, 0, 0, 0],
  [8, 0, 0, 2, 0],
  [0, 8, 0, 0, -3],
  [0, 0, 8, 4, 4],
];

estimatorSuite({ name: 'kmeans', params: { k: 3, seed: 1 }, data: () => gaussianBlobs(TRUE_CENTERS.slice(0, 3), 40, 0.5, 9) });
estimatorSuite({
  name: 'kmeans',
  params: { k: 3, seed: 1, init: 'k-means||' },
  data: () => gaussianBlobs(TRUE_CENTERS.slice(0, 3), 40, 0.5, 9),
});

for (const [init, dtype] of [
  ['k-means++', 'float64'],
  ['k-means||', 'float64'],
  ['k-means++', 'float32'],
] as [KMeansInitName, 'float32' | 'float64'][]) {
  test(`kmeans (${init}, ${dtype} data) recovers well-separated Gaussian centres`, async () => {
    const data = gaussianBlobs(TRUE_CENTERS, 250, 0.5, 3).as(dtype);
    const model = await new KMeans({ k: 4, init, seed: 7 }).fit(data);
    // Each found centre is a mean of ~250 rows with σ = 0.5 per feature: its error has norm ≈ 0.5·√(5/250) ≈ 0.07.
    assert.ok(matchedError(model.state.centers, TRUE_CENTERS) < 0.2, `centres ${Array.from(model.state.centers)}`);
    // Every true cluster maps to exactly one predicted cluster.
    const predicted = model.predict(data);
    const mapping = new Map<number, number>();
    for (let i = 0; i < data.rows; i++) {
      const truth = data.y![i]!;
      if (!mapping.has(truth)) mapping.set(truth, predicted[i]!);
      assert.equal(predicted[i], mapping.get(truth), `row ${i}`);
    }
    assert.equal(new Set(mapping.values()).size, 4);
  });
}

test('kmeans: inertia reported per iteration never increases (Lloyd is a descent method)', async () => {
  const data = gaussianBlobs(TRUE_CENTERS, 60, 2.5, 4);
  const losses: number[] = [];
  const model = await new KMeans({ k: 6, init: 'random', seed: 2, tol: 0 }).fit(data, { onProgress: (event) => losses.push(event.loss!) });
  assert.ok(losses.length >= 2, `expected several iterations, got ${losses.length}`);
  assert.equal(losses.length, model.state.iterations);
  for (let i = 1; i < losses.length; i++)
    assert.ok(losses[i]! <= losses[i - 1]! * (1 + 1e-12), `iteration ${i + 1}: ${losses[i]} > ${losses[i - 1]}`);
  assert.ok(model.state.inertia <= losses[losses.length - 1]! * (1 + 1e-12));
});

for (const fixture of kmeansFixtures()) {
  test(`kmeans matches scikit-learn's Lloyd from the same centres: ${fixture.name}`, async () => {
    const data = new Dataset({ x: Float64Array.from(fixture.x), rows: fixture.rows, cols: fixture.cols, source: fixture.name });
    const model = await new KMeans({ k: fixture.k, init: fixture.init, maxIter: fixture.maxIter, tol: fixture.tol }).fit(data);
    assert.equal(model.state.iterations, fixture.iterations);
    assertClose(model.state.centers, fixture.centers, 1e-9, 'centres');
    assert.ok(
      Math.abs(model.state.inertia - fixture.inertia) <= 1e-9 * fixture.inertia,
      `inertia ${model.state.inertia} vs ${fixture.inertia}`,
    );
    assert.deepEqual(Array.from(model.predict(data)), fixture.labels);
    assert.ok(Math.abs(model.score(data) + fixture.inertia) <= 1e-9 * fixture.inertia);
    assertClose(model.transform(data.slice(0, 5)), fixture.transform, 1e-9, 'transform');
  });
}

test('kmeans on float32 data agrees with float64 to float32 precision', async () => {
  const data = gaussianBlobs(TRUE_CENTERS, 50, 0.5, 5);
  const init = Array.from(data.x.subarray(0, 4 * data.cols));
  const wide = await new KMeans({ k: 4, init }).fit(data);
  const narrow = await new KMeans({ k: 4, init }).fit(data.as('float32'));
  assertClose(narrow.state.centers, wide.state.centers, 1e-5, 'centres');
});

test('kmeans: k larger than the number of rows is a ConfigError naming k', async () => {
  const data = gaussianBlobs(TRUE_CENTERS, 1, 0.5, 6);
  await assert.rejects(new KMeans({ k: 5 }).fit(data), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.field, 'k');
    assert.match(error.message, /k = 5 clusters needs at least 5 rows, found 4/);
    return true;
  });
});

test('kmeans: bad options are ConfigErrors that name the option', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ k: 0 }, 'k'],
    [{ k: 2.5 }, 'k'],
    [{ init: 'kmeans++' }, 'init'],
    [{ k: 2, init: [1, 2, 3] }, 'init'],
    [{ tol: -1 }, 'tol'],
    [{ maxIter: 0 }, 'maxIter'],
    [{ oversampling: 0 }, 'oversampling'],
  ];
  for (const [params, field] of cases) {
    assert.throws(
      () => new KMeans(params),
      (error: unknown) => error instanceof ConfigError && error.field === field,
      JSON.stringify(params),
    );
  }
  // Centres whose count is right for k but wrong for the data's columns are found at fit time.
  const data = gaussianBlobs(TRUE_CENTERS, 5, 0.5, 6);
  await assert.rejects(
    new KMeans({ k: 2, init: [0, 0, 1, 1] }).fit(data),
    (error: unknown) => error instanceof ConfigError && error.field === 'init',
  );
});

test('kmeans: predicting on data with other columns is a DataError', async () => {
  const model = await new KMeans({ k: 2 }).fit(gaussianBlobs(TRUE_CENTERS, 5, 0.5, 6));
  const other = new Dataset({ x: new Float64Array(6), rows: 2, cols: 3 });
  assert.throws(() => model.predict(other), DataError);
});

test('kmeans: initial centres given as a Float64Array are kept as a plain array (params travel as JSON)', async () => {
  const data = gaussianBlobs(TRUE_CENTERS, 20, 0.5, 8);
  const start = data.x.slice(0, 4 * data.cols) as Float64Array;
  const typed = new KMeans({ k: 4, init: start });
  assert.ok(Array.isArray(typed.params.init));
  const plain = await new KMeans({ k: 4, init: Array.from(start) }).fit(data);
  assert.deepEqual((await typed.fit(data)).state, plain.state);
});
