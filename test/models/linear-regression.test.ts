// LinearRegression against references: known weights on synthetic data, the ridge closed form by
// a naive Gauss-Jordan solve, scikit-learn's LinearRegression and Ridge (fixtures), and the SGD
// solver against the exact one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError, ShardlearnError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { Dataset } from '../../src/data/dataset.js';
import { LinearRegression } from '../../src/models/linear/linear-regression.js';
import { estimatorSuite } from '../support/estimator-suite.js';
import { fixtureDataset, readLinearFixture } from '../fixtures/linear/load.js';
import '../../src/index.js';

/** y = X·w + b + noise·N(0,1), X ~ N(0,1) scaled per column. */
function synthetic(seed: number, rows: number, weights: number[], intercept: number, noise: number): Dataset {
  const rng = new Rng(seed);
  const cols = weights.length;
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let target = intercept;
    for (let j = 0; j < cols; j++) {
      const value = rng.normal() * (1 + j) + j;
      x[i * cols + j] = value;
      target += weights[j]! * value;
    }
    y[i] = target + noise * rng.normal();
  }
  return new Dataset({ x, y, rows, cols });
}

/** Solve A·v = b (n×n) by Gauss-Jordan with partial pivoting: an independent reference. */
function naiveSolve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tolerance})`);
  }
}

estimatorSuite({ name: 'linear-regression', params: {}, data: () => synthetic(1, 60, [1, -2, 0.5], 3, 0.1) });
estimatorSuite({
  name: 'linear-regression',
  params: { solver: 'sgd', epochs: 2, batchSize: 8 },
  data: () => synthetic(2, 60, [1, -2, 0.5], 3, 0.1),
});

test('exact OLS recovers known weights without noise (float64 and float32 data)', async () => {
  const truth = [1.5, -2, 0.25, 0, 3];
  const data = synthetic(3, 500, truth, 4, 0);
  const model = await new LinearRegression().fit(data);
  assertClose(model.state.weights, truth, 1e-6, 'weights');
  assert.ok(Math.abs(model.state.intercept - 4) < 1e-6);
  assert.ok(model.score(data) > 1 - 1e-12);
  // float32 features: the targets were made from the float64 values, so the fit is only float32-exact.
  const model32 = await new LinearRegression().fit(data.as('float32'));
  assertClose(model32.state.weights, truth, 1e-4, 'float32 weights');
});

test('exact OLS on features far from the origin (mean 1e6, spread 1–5): centring first keeps the weights', async () => {
  const truth = [1.5, -2, 0.25, 0, 3];
  const near = synthetic(4, 3000, truth, 4, 0);
  const x = Float64Array.from(near.x, (value) => value + 1e6);
  // The same targets: the plane's intercept becomes 4 − 1e6·Σw.
  const far = new Dataset({ x, y: near.y!, rows: near.rows, cols: near.cols });
  const model = await new LinearRegression().fit(far);
  // Forming XᵀX − n·μμᵀ would leave ~4 digits here (‖μ‖²/σ² ≈ 1e12 against 16 digits).
  assertClose(model.state.weights, truth, 1e-6, 'weights');
  const intercept = 4 - 1e6 * (1.5 - 2 + 0.25 + 0 + 3);
  assert.ok(Math.abs(model.state.intercept - intercept) < 1e-3, `intercept ${model.state.intercept} vs ${intercept}`);
  // The same fit over two threads (each adds up both ranks' first rows for the shift, no all-reduce).
  const threads = await new LinearRegression().fit(far, { paradigm: 'threads', workers: 2 });
  assertClose(threads.state.weights, model.state.weights, 1e-8, 'threads×2 weights');
});

test("exact OLS in one pass: rows sorted so the shift (the first rows' mean) is far from the mean, far from the origin, still exact", async () => {
  const truth = [1.5, -2, 0.25, 0, 3];
  const near = synthetic(6, 40_000, truth, 4, 0);
  const d = near.cols;
  // Rows in descending order of feature 0 plus a trend in feature 4 (row·1e-3): the first 1,024 rows,
  // whose mean is the shift, sit ~2.2σ and ~1.7σ from the means. Then everything moved by 1e6.
  const order = Array.from({ length: near.rows }, (_, i) => i).sort((a, b) => near.x[b * d]! - near.x[a * d]!);
  const x = new Float64Array(near.x.length);
  const y = new Float64Array(near.rows);
  order.forEach((from, to) => {
    for (let j = 0; j < d; j++) x[to * d + j] = near.x[from * d + j]! + 1e6 + (j === 4 ? to * 1e-3 : 0);
    y[to] = near.y![from]! + truth[4]! * to * 1e-3;
  });
  const far = new Dataset({ x, y, rows: near.rows, cols: d });
  const model = await new LinearRegression().fit(far);
  assertClose(model.state.weights, truth, 1e-7, 'weights');
  assert.ok(model.score(far) > 1 - 1e-10, `R² ${model.score(far)}`);
  const threads = await new LinearRegression().fit(far, { paradigm: 'threads', workers: 2 });
  assertClose(threads.state.weights, truth, 1e-7, 'threads×2 weights');
});

test('exact OLS with noise stays within a few standard errors of the true weights', async () => {
  const truth = [1.5, -2, 0.25];
  const noise = 0.5;
  const rows = 2000;
  const model = await new LinearRegression().fit(synthetic(4, rows, truth, -1, noise));
  // Column j has standard deviation (1 + j): standard error ≈ noise / ((1 + j)·√rows); allow 5 of them.
  model.state.weights.forEach((w, j) =>
    assert.ok(Math.abs(w - truth[j]!) < (5 * noise) / ((1 + j) * Math.sqrt(rows)), `weight ${j}: ${w}`),
  );
});

test('ridge without intercept equals the closed form (XᵀX + λI)⁻¹Xᵀy', async () => {
  const data = synthetic(5, 80, [1, 2, -1, 0.5], 0, 1);
  const l2 = 25;
  const d = data.cols;
  const a = Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) => {
      let s = i === j ? l2 : 0;
      for (let r = 0; r < data.rows; r++) s += data.x[r * d + i]! * data.x[r * d + j]!;
      return s;
    }),
  );
  const b = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let r = 0; r < data.rows; r++) s += data.x[r * d + j]! * data.y![r]!;
    return s;
  });
  const model = await new LinearRegression({ l2, fitIntercept: false }).fit(data);
  assertClose(model.state.weights, naiveSolve(a, b), 1e-9, 'ridge weights');
  assert.equal(model.state.intercept, 0);
});

interface RegressionFixture {
  rows: number;
  cols: number;
  x: number[];
  y: number[];
  ols: { coef: number[]; intercept: number };
  ridge: { alpha: number; coef: number[]; intercept: number };
}

test('matches scikit-learn LinearRegression and Ridge (alpha = l2) to 1e-6', async () => {
  const f = readLinearFixture<RegressionFixture>('regression.json');
  const data = fixtureDataset(f.x, f.y, f.rows, f.cols);
  const ols = await new LinearRegression().fit(data);
  assertClose(ols.state.weights, f.ols.coef, 1e-6, 'OLS coef');
  assert.ok(Math.abs(ols.state.intercept - f.ols.intercept) < 1e-6);
  const ridge = await new LinearRegression({ l2: f.ridge.alpha }).fit(data);
  assertClose(ridge.state.weights, f.ridge.coef, 1e-6, 'ridge coef');
  assert.ok(Math.abs(ridge.state.intercept - f.ridge.intercept) < 1e-6);
});

test('SGD gets close to the exact solution on standardised features', async () => {
  const rng = new Rng(6);
  const rows = 2000;
  const truth = [2, -1, 0.5, 1];
  const x = Float64Array.from({ length: rows * 4 }, () => rng.normal());
  const y = Float64Array.from({ length: rows }, (_, i) => 1 + truth.reduce((s, w, j) => s + w * x[i * 4 + j]!, 0) + 0.1 * rng.normal());
  const data = new Dataset({ x, y, rows, cols: 4 });
  const exact = await new LinearRegression().fit(data);
  const sgd = await new LinearRegression({ solver: 'sgd', epochs: 10, lr: 0.05, batchSize: 16 }).fit(data);
  assertClose(sgd.state.weights, exact.state.weights, 0.02, 'SGD weights');
  assert.ok(Math.abs(sgd.state.intercept - exact.state.intercept) < 0.02);
  assert.ok(sgd.score(data) > exact.score(data) - 1e-3);
});

test('collinear features: a NUMERIC error that suggests l2 > 0, and l2 > 0 fits', async () => {
  const rng = new Rng(7);
  const rows = 50;
  const x = new Float64Array(rows * 2);
  for (let i = 0; i < rows; i++) x[2 * i] = x[2 * i + 1] = rng.normal();
  const data = new Dataset({ x, y: Float64Array.from({ length: rows }, (_, i) => x[2 * i]!), rows, cols: 2 });
  await assert.rejects(
    new LinearRegression().fit(data),
    (error: unknown) => error instanceof ShardlearnError && error.code === 'NUMERIC' && /l2 > 0/.test(error.message),
  );
  const ridge = await new LinearRegression({ l2: 1e-3 }).fit(data);
  assertClose(ridge.state.weights, [0.5, 0.5], 1e-3, 'ridge splits the weight');
});

test('bad input: missing labels, wrong feature count, bad options', async () => {
  const data = synthetic(8, 20, [1, 2], 0, 0);
  await assert.rejects(
    new LinearRegression().fit(data.with({ y: null })),
    (error: unknown) => error instanceof DataError && error.code === 'DATA_MISSING',
  );
  const model = await new LinearRegression().fit(data);
  assert.throws(
    () => model.predict(synthetic(8, 5, [1, 2, 3], 0, 0)),
    (error: unknown) => error instanceof DataError && /trained on 2 feature columns, this data has 3/.test(error.message),
  );
  assert.throws(() => new LinearRegression({ solver: 'qr' as never }), ConfigError);
  assert.throws(
    () => new LinearRegression({ l2: -1 }),
    (error: unknown) => error instanceof ConfigError && error.field === 'l2',
  );
});
