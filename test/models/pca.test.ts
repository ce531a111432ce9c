// PCA: the estimator contract, agreement with scikit-learn (fixtures by scripts/fixtures/kmeans_pca.py),
// recovery of a known principal subspace and known variances, randomized = full on low-rank data,
// transform/inverse identities, SPMD runs equal to sequential, and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { orthonormalize, svd } from '../../src/core/linalg.js';
import { Rng } from '../../src/core/rng.js';
import { Dataset } from '../../src/data/dataset.js';
import { PCA } from '../../src/models/pca/pca.js';
import type { PCAParams, PCAState } from '../../src/models/pca/pca.js';
import { estimatorSuite } from '../support/estimator-suite.js';
import { fixtureData, pcaFixtures } from '../fixtures/kmeans-pca/load.js';
import { runSpmd, shardsOf } from '../fixtures/kmeans-pca/memory-world.js';
import '../../src/index.js';

interface LowRank {
  data: Dataset;
  /** Orthonormal true axes as rows (rank × cols). */
  axes: Float64Array;
  /** Population variance along each axis (signal variance + noise variance), descending. */
  variances: number[];
}

/** x = μ + Σ_i z_i·σ_i·a_i + noise·ε: rank-r signal along orthonormal axes a_i, plus isotropic noise. */
function lowRank(rows: number, cols: number, sigmas: number[], noise: number, seed: number): LowRank {
  const rng = new Rng(seed);
  const rank = sigmas.length;
  const raw = Float64Array.from({ length: cols * rank }, () => rng.normal());
  const basis = orthonormalize(raw, cols, rank); // cols × rank, orthonormal columns
  const axes = new Float64Array(rank * cols);
  for (let i = 0; i < rank; i++) for (let c = 0; c < cols; c++) axes[i * cols + c] = basis[c * rank + i]!;
  const x = new Float64Array(rows * cols);
  for (let n = 0; n < rows; n++) {
    for (let c = 0; c < cols; c++) x[n * cols + c] = 3 + c + noise * rng.normal();
    for (let i = 0; i < rank; i++) {
      const z = sigmas[i]! * rng.normal();
      for (let c = 0; c < cols; c++) x[n * cols + c]! += z * axes[i * cols + c]!;
    }
  }
  return { data: new Dataset({ x, rows, cols, source: 'low-rank' }), axes, variances: sigmas.map((s) => s * s + noise * noise) };
}

/** Cosine of the largest principal angle between the row spaces of a (r × d) and b (r × d), both orthonormal. */
function smallestCosine(a: Float64Array, b: Float64Array, r: number, d: number): number {
  const product = new Float64Array(r * r);
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) for (let c = 0; c < d; c++) product[i * r + j]! += a[i * d + c]! * b[j * d + c]!;
  const { s } = svd(product, r, r);
  return Math.min(...s);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tolerance * (1 + Math.abs(expected[i]!)),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

/** Row i of `expected` equals row i of `actual` up to one sign per row. */
function assertRowsUpToSign(
  actual: Float64Array,
  expected: ArrayLike<number>,
  rows: number,
  cols: number,
  tolerance: number,
  what: string,
): void {
  for (let i = 0; i < rows; i++) {
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += actual[i * cols + c]! * expected[i * cols + c]!;
    const sign = dot < 0 ? -1 : 1;
    for (let c = 0; c < cols; c++) {
      const e = expected[i * cols + c]!;
      assert.ok(
        Math.abs(sign * actual[i * cols + c]! - e) <= tolerance * (1 + Math.abs(e)),
        `${what} row ${i} col ${c}: ${actual[i * cols + c]} vs ${e}`,
      );
    }
  }
}

const small = (): Dataset => lowRank(80, 6, [3, 2, 1], 0.2, 1).data;
estimatorSuite({ name: 'pca', params: { components: 2 }, data: small });
estimatorSuite({ name: 'pca', params: { components: 2, solver: 'randomized', whiten: true, seed: 4 }, data: small });

for (const fixture of pcaFixtures()) {
  test(`pca matches scikit-learn: ${fixture.name}`, async () => {
    const data = fixtureData(fixture);
    const model = await new PCA({ components: fixture.components, whiten: fixture.whiten }).fit(data);
    const state = model.state;
    const c = fixture.components;
    assertRowsUpToSign(state.components, fixture.axes, c, fixture.cols, 1e-9, 'components');
    assertClose(state.explainedVarianceRatio, fixture.explainedVarianceRatio, 1e-9, 'explained variance ratio');
    assertClose(state.explainedVariance, fixture.explainedVariance, 1e-9, 'explained variance');
    assertClose(state.singularValues, fixture.singularValues, 1e-9, 'singular values');
    assertClose(state.mean, fixture.mean, 1e-12, 'mean');
    // Transformed columns flip with their component's sign.
    const scores = model.transform(data.slice(0, 5));
    const flips = Array.from({ length: c }, (_, i) => {
      let dot = 0;
      for (let j = 0; j < fixture.cols; j++) dot += state.components[i * fixture.cols + j]! * fixture.axes[i * fixture.cols + j]!;
      return dot < 0 ? -1 : 1;
    });
    assertClose(
      scores.map((value, index) => value * flips[index % c]!),
      fixture.transform,
      1e-9,
      'transform',
    );
    // The documented sign convention: each component's largest-magnitude entry is positive.
    for (let i = 0; i < c; i++) {
      const row = Array.from(state.components.subarray(i * fixture.cols, (i + 1) * fixture.cols));
      const largest = row.reduce((best, value) => (Math.abs(value) > Math.abs(best) ? value : best), 0);
      assert.ok(largest > 0, `component ${i}`);
    }
  });
}

test('pca recovers a known principal subspace and its variances on low-rank + noise data', async () => {
  const truth = lowRank(4000, 12, [5, 3, 2], 0.3, 2);
  const state = (await new PCA({ components: 3 }).fit(truth.data)).state;
  const cosine = smallestCosine(state.components, truth.axes, 3, 12);
  // Noise of variance 0.09 against a weakest signal variance of 4 over 4,000 rows tilts the subspace by ~1e-2 rad at most.
  assert.ok(cosine > 0.9995, `largest principal angle ${Math.acos(Math.min(1, cosine))} rad`);
  // A sample variance from 4,000 rows has relative standard error √(2/4000) ≈ 2.2%: allow 4 standard errors.
  truth.variances.forEach((variance, i) => {
    assert.ok(
      Math.abs(state.explainedVariance[i]! - variance) <= 0.09 * variance,
      `variance ${i}: ${state.explainedVariance[i]} vs ${variance}`,
    );
  });
  // Population ratio: (σ_i² + noise²) / (Σσ² + 12·noise²).
  const total = 25 + 9 + 4 + 12 * 0.09;
  truth.variances.forEach((variance, i) => {
    assert.ok(Math.abs(state.explainedVarianceRatio[i]! - variance / total) <= 0.09 * (variance / total), `ratio ${i}`);
  });
});

test("pca far from the origin, rows sorted so the first rows' mean (the one-pass shift) is far from the mean: the fit near the origin", async () => {
  const { data } = lowRank(20_000, 8, [5, 3], 0.3, 4);
  const d = data.cols;
  // Rows in descending order of feature 0 (the first 1,024 rows' mean ~2σ off in it), then moved by 1e6.
  const order = Array.from({ length: data.rows }, (_, i) => i).sort((a, b) => data.x[b * d]! - data.x[a * d]!);
  const sorted = new Float64Array(data.x.length);
  const far = new Float64Array(data.x.length);
  order.forEach((from, to) => {
    for (let j = 0; j < d; j++) {
      sorted[to * d + j] = data.x[from * d + j]!;
      far[to * d + j] = data.x[from * d + j]! + 1e6;
    }
  });
  for (const solver of ['full', 'randomized'] as const) {
    const near = (await new PCA({ components: 2, solver }).fit(new Dataset({ x: sorted, rows: data.rows, cols: d }))).state;
    const moved = (await new PCA({ components: 2, solver }).fit(new Dataset({ x: far, rows: data.rows, cols: d }))).state;
    // XᵀX − n·μμᵀ would keep ~4 digits of these variances (‖μ‖²/σ² ≈ 1e12·8/25).
    assertClose(moved.explainedVariance, near.explainedVariance, 1e-8, `${solver}: explained variance`);
    assertClose(moved.components, near.components, 1e-8, `${solver}: components`);
    assertClose(
      moved.mean,
      near.mean.map((value) => value + 1e6),
      1e-9,
      `${solver}: mean`,
    );
  }
});

// l = 2 + 2 directions. d = 60, one power iteration: C is applied implicitly (data passes); d = 10: C is formed.
for (const [cols, params] of [
  [60, { oversamples: 2, powerIterations: 1 }],
  [10, { oversamples: 2 }],
] as [number, Partial<PCAParams>][]) {
  test(`randomized pca matches full pca's leading components on low-rank data (cols = ${cols})`, async () => {
    const { data } = lowRank(1500, cols, [6, 4], 0.05, 3);
    const full = (await new PCA({ components: 2 }).fit(data)).state;
    const randomized = (await new PCA({ components: 2, solver: 'randomized', seed: 9, ...params }).fit(data)).state;
    // Same sign convention, so the components match without flips.
    assertClose(randomized.components, full.components, 1e-6, 'components');
    assertClose(randomized.explainedVariance, full.explainedVariance, 1e-8, 'explained variance');
    assertClose(randomized.explainedVarianceRatio, full.explainedVarianceRatio, 1e-8, 'explained variance ratio');
  });
}

test('pca with every component reconstructs the data exactly; score equals the kept variance ratio', async () => {
  const { data } = lowRank(300, 5, [4, 2, 1], 0.5, 5);
  const all = await new PCA({ components: 5, whiten: true }).fit(data);
  assertClose(all.inverseTransform(all.transform(data)), data.x, 1e-10, 'reconstruction');
  assert.ok(all.predict(data).every((error) => error < 1e-12));
  assert.ok(Math.abs(all.score(data) - 1) < 1e-12);
  // Whitened scores have unit sample variance (ddof 1) per component.
  const scores = all.transform(data);
  for (let j = 0; j < 5; j++) {
    let sum = 0;
    for (let i = 0; i < data.rows; i++) sum += scores[i * 5 + j]! ** 2;
    assert.ok(Math.abs(sum / (data.rows - 1) - 1) < 1e-9, `component ${j}`);
  }
  // On its training data, the unexplained fraction is exactly the dropped eigenvalues' share.
  const two = await new PCA({ components: 2 }).fit(data);
  const kept = two.state.explainedVarianceRatio.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(two.score(data) - kept) < 1e-10, `${two.score(data)} vs ${kept}`);
});

async function trainOn(data: Dataset, counts: number[], params: Partial<PCAParams>): Promise<PCAState> {
  const { states } = await runSpmd(new PCA(params), shardsOf(data, counts));
  for (let r = 1; r < states.length; r++) assert.deepEqual(states[r], states[0], `rank ${r} disagrees with rank 0`);
  return states[0]!;
}

for (const solver of ['full', 'randomized'] as const) {
  test(`pca (${solver}) on 3 ranks equals the sequential fit (all ranks identical)`, async () => {
    const { data } = lowRank(500, 70, [5, 3, 2], 0.2, 6);
    // l = 5, 3 passes: 70 columns is past the form-C threshold (4·3·5 = 60), so the data passes are all-reduced.
    const params: Partial<PCAParams> = { components: 3, solver, oversamples: 2, powerIterations: 1 };
    const sequential = await trainOn(data, [500], params);
    const parallel = await trainOn(data, [100, 0, 400], params);
    assertClose(parallel.components, sequential.components, 1e-9, 'components');
    assertClose(parallel.explainedVariance, sequential.explainedVariance, 1e-10, 'explained variance');
    assertClose(parallel.mean, sequential.mean, 1e-12, 'mean');
  });
}

test('pca: more components than columns or rows is a ConfigError naming components', async () => {
  const { data } = lowRank(30, 4, [2], 0.1, 7);
  await assert.rejects(new PCA({ components: 5 }).fit(data), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.field, 'components');
    assert.match(error.message, /components = 5 exceeds the 4 columns/);
    return true;
  });
  await assert.rejects(
    new PCA({ components: 4 }).fit(data.slice(0, 3)),
    (error: unknown) => error instanceof ConfigError && /3 rows/.test(error.message),
  );
  await assert.rejects(new PCA({ components: 1 }).fit(data.slice(0, 1)), DataError);
  assert.throws(() => new PCA({ components: 0 }), ConfigError);
  assert.throws(
    () => new PCA({ solver: 'arpack' as 'full' }),
    (error: unknown) => error instanceof ConfigError && error.field === 'solver',
  );
});

test('pca on float32 data agrees with float64 to float32 precision (both solvers)', async () => {
  const { data } = lowRank(400, 8, [4, 2], 0.3, 8);
  for (const solver of ['full', 'randomized'] as const) {
    const wide = (await new PCA({ components: 2, solver }).fit(data)).state;
    const narrow = (await new PCA({ components: 2, solver }).fit(data.as('float32'))).state;
    assertClose(narrow.components, wide.components, 1e-5, `${solver} components`);
    assertClose(narrow.explainedVariance, wide.explainedVariance, 1e-5, `${solver} explained variance`);
  }
});

test('pca on the threads paradigm (2 workers) equals the sequential fit', async () => {
  const { data } = lowRank(600, 70, [5, 3], 0.2, 9);
  for (const solver of ['full', 'randomized'] as const) {
    const params: Partial<PCAParams> = { components: 2, solver, oversamples: 2, powerIterations: 1 };
    const sequential = (await new PCA(params).fit(data)).state;
    const threaded = await new PCA(params).fit(data, { paradigm: 'threads', workers: 2 });
    assert.equal(threaded.fitInfo?.workers, 2);
    assertClose(threaded.state.components, sequential.components, 1e-9, `${solver} components`);
    assertClose(threaded.state.explainedVariance, sequential.explainedVariance, 1e-10, `${solver} explained variance`);
  }
});

test('pca gives the same bits with the data in WASM kernel memory (WASM centring and eigensolver) as on the heap', async (t) => {
  const { kernels } = await import('../../src/core/kernels.js');
  if (kernels().name !== 'wasm') {
    t.skip('the WASM kernels are not loaded (npm run build:wasm)');
    return;
  }
  // 1,100 rows: two full 512-row centred blocks and a partial one; float32 rows are widened by the kernel.
  const { data } = lowRank(1100, 40, [5, 3, 1], 0.2, 17);
  for (const dtype of ['float64', 'float32'] as const) {
    const onHeap = data.as(dtype);
    const placed = kernels().resident(onHeap.x);
    try {
      const inWasm = onHeap.with({ x: placed.array });
      assert.notEqual(placed.array, onHeap.x, 'the copy lives in WASM memory');
      for (const solver of ['full', 'randomized'] as const) {
        const params: Partial<PCAParams> = { components: 3, solver, oversamples: 2, powerIterations: 1 };
        const reference = (await new PCA(params).fit(onHeap)).state;
        const fast = (await new PCA(params).fit(inWasm)).state;
        assert.deepEqual(fast, reference, `${dtype} ${solver}`);
      }
    } finally {
      placed.release();
    }
  }
});
