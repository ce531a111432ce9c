// LogisticRegression against references: finite differences of the objective (binary and
// softmax), scikit-learn's lbfgs LogisticRegression and SGDClassifier (fixtures), and separable
// data it must classify perfectly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { Dataset } from '../../src/data/dataset.js';
import { LogisticLoss, addL2 } from '../../src/models/linear/logistic-loss.js';
import { LogisticRegression } from '../../src/models/linear/logistic-regression.js';
import { estimatorSuite } from '../support/estimator-suite.js';
import { fixtureDataset, readLinearFixture } from '../fixtures/linear/load.js';
import '../../src/index.js';

/** Blobs around `centers` with unit noise; labels are the centre indices times `labelScale`. */
function blobs(seed: number, rows: number, centers: number[][], spread = 1, labelScale = 1): Dataset {
  const rng = new Rng(seed);
  const cols = centers[0]!.length;
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = rng.int(centers.length);
    y[i] = c * labelScale;
    for (let j = 0; j < cols; j++) x[i * cols + j] = centers[c]![j]! + spread * rng.normal();
  }
  return new Dataset({ x, y, rows, cols });
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tolerance})`);
  }
}

estimatorSuite({
  name: 'logistic-regression',
  params: { maxIter: 20 },
  data: () =>
    blobs(1, 80, [
      [0, 0],
      [2, 1],
      [0, 3],
    ]),
});
estimatorSuite({
  name: 'logistic-regression',
  params: { solver: 'sgd', epochs: 2, batchSize: 8 },
  data: () =>
    blobs(2, 80, [
      [0, 0],
      [2, 1],
    ]),
});

for (const classes of [2, 4]) {
  test(`the ${classes === 2 ? 'binary' : 'softmax'} objective's gradient matches central finite differences`, () => {
    const rng = new Rng(10 + classes);
    const rows = 40;
    const d = 3;
    const outputs = classes === 2 ? 1 : classes;
    const x = Float64Array.from({ length: rows * d }, () => rng.normal());
    const codes = Int32Array.from({ length: rows }, () => rng.int(classes));
    const params = Float64Array.from({ length: outputs * (d + 1) }, () => rng.normal());
    const l2 = 0.3;
    const loss = new LogisticLoss(d, outputs);
    const objective = (p: Float64Array, gradient: Float64Array): number => {
      gradient.fill(0);
      const sum = loss.sumRange(x, 0, rows, codes, p, gradient);
      for (let j = 0; j < gradient.length; j++) gradient[j]! /= rows;
      return sum / rows + addL2(p, gradient, outputs * d, l2);
    };
    const gradient = new Float64Array(params.length);
    objective(params, gradient);
    const scratch = new Float64Array(params.length);
    const h = 1e-6;
    for (let j = 0; j < params.length; j++) {
      const plus = params.slice();
      const minus = params.slice();
      plus[j]! += h;
      minus[j]! -= h;
      const numeric = (objective(plus, scratch) - objective(minus, scratch)) / (2 * h);
      assert.ok(Math.abs(numeric - gradient[j]!) < 1e-7, `parameter ${j}: analytic ${gradient[j]} vs numeric ${numeric}`);
    }
    // The mini-batch path (per-row kernels) sums to the same as the full-batch path (gemm/gemv).
    const batchGradient = new Float64Array(params.length);
    const fullGradient = new Float64Array(params.length);
    const all = Uint32Array.from({ length: rows }, (_, i) => i);
    const batchLoss = loss.sumRows(x, all, rows, codes, params, batchGradient);
    const fullLoss = loss.sumRange(x, 0, rows, codes, params, fullGradient);
    assert.ok(Math.abs(batchLoss - fullLoss) < 1e-10);
    assertClose(batchGradient, fullGradient, 1e-10, 'batch vs full gradient');
  });
}

interface LogisticFixture {
  rows: number;
  cols: number;
  x: number[];
  y: number[];
  l2: number;
  classes: number[];
  coef: number[];
  intercept: number[];
  proba: number[];
  accuracy: number;
}

for (const name of ['logistic-binary.json', 'logistic-multinomial.json']) {
  test(`lbfgs matches scikit-learn's LogisticRegression (${name}, C mapped to l2 = 1/(C·n)) to 1e-4`, async () => {
    const f = readLinearFixture<LogisticFixture>(name);
    const data = fixtureDataset(f.x, f.y, f.rows, f.cols);
    const model = await new LogisticRegression({ l2: f.l2, tol: 1e-9, maxIter: 1000 }).fit(data);
    assert.deepEqual(Array.from(model.state.classes), f.classes);
    assertClose(model.state.weights, f.coef, 1e-4, 'coef');
    // Softmax intercepts are defined up to a common shift; both solvers start at 0 and keep Σb = 0.
    assertClose(model.state.intercepts, f.intercept, 1e-4, 'intercept');
    const first10 = new Dataset({ x: Float64Array.from(f.x.slice(0, 10 * f.cols)), rows: 10, cols: f.cols });
    assertClose(model.predictProba(first10), f.proba, 1e-4, 'predict_proba');
    assert.equal(model.score(data), f.accuracy);
    // scikit-learn stops on its own tolerance (its multinomial solution leaves a gradient of ~4e-6):
    // ours must be at least as good a minimiser of the shared objective.
    const outputs = model.state.intercepts.length;
    const loss = new LogisticLoss(f.cols, outputs);
    const codes = Int32Array.from(f.y, (v) => f.classes.indexOf(v));
    const objective = (params: Float64Array): number => {
      const gradient = new Float64Array(params.length);
      return loss.sumRange(data.x, 0, f.rows, codes, params, gradient) / f.rows + addL2(params, gradient, outputs * f.cols, f.l2);
    };
    const ours = objective(Float64Array.from([...model.state.weights, ...model.state.intercepts]));
    const theirs = objective(Float64Array.from([...f.coef, ...f.intercept]));
    assert.ok(ours <= theirs + 1e-12, `objective: ours ${ours} vs scikit-learn ${theirs}`);
  });
}

interface ClassificationFixture {
  rows: number;
  cols: number;
  x: number[];
  y: number[];
  testRows: number;
  testX: number[];
  testY: number[];
  alpha: number;
  sgdLogAccuracy: number;
}

for (const name of ['classification-binary.json', 'classification-multiclass.json']) {
  test(`SGD reaches scikit-learn SGDClassifier(log_loss)'s test accuracy within 2 points (${name})`, async () => {
    const f = readLinearFixture<ClassificationFixture>(name);
    const train = fixtureDataset(f.x, f.y, f.rows, f.cols);
    const held = fixtureDataset(f.testX, f.testY, f.testRows, f.cols);
    const model = await new LogisticRegression({ solver: 'sgd', l2: f.alpha, epochs: 20, lr: 0.05, batchSize: 16 }).fit(train);
    const ours = model.score(held);
    assert.ok(ours >= f.sgdLogAccuracy - 0.02, `ours ${ours} vs scikit-learn ${f.sgdLogAccuracy}`);
  });
}

test('separable classes are classified perfectly by lbfgs and almost by SGD; probabilities sum to 1', async () => {
  const data = blobs(
    3,
    400,
    [
      [0, 0],
      [6, 0],
      [0, 6],
    ],
    0.7,
    5,
  ); // classes 0, 5, 10
  const lbfgs = await new LogisticRegression().fit(data);
  assert.deepEqual(Array.from(lbfgs.state.classes), [0, 5, 10]);
  assert.equal(lbfgs.score(data), 1);
  const proba = lbfgs.predictProba(data);
  for (let i = 0; i < data.rows; i++) assert.ok(Math.abs(proba[3 * i]! + proba[3 * i + 1]! + proba[3 * i + 2]! - 1) < 1e-12);
  const sgd = await new LogisticRegression({ solver: 'sgd', epochs: 5, lr: 0.1, batchSize: 16 }).fit(data);
  assert.ok(sgd.score(data) >= 0.99, `SGD accuracy ${sgd.score(data)}`);
});

test('bad input: missing labels, non-integer labels, a single class', async () => {
  const data = blobs(4, 30, [
    [0, 0],
    [3, 3],
  ]);
  await assert.rejects(
    new LogisticRegression().fit(data.with({ y: null })),
    (error: unknown) => error instanceof DataError && error.code === 'DATA_MISSING',
  );
  const fractional = data.with({ y: Float64Array.from(data.y!, (v, i) => (i === 7 ? 0.5 : v)) });
  await assert.rejects(
    new LogisticRegression().fit(fractional),
    (error: unknown) => error instanceof DataError && error.where.row === 8 && /integer class labels, found 0.5/.test(error.message),
  );
  const single = data.with({ y: new Float64Array(data.rows).fill(3) });
  await assert.rejects(
    new LogisticRegression().fit(single),
    (error: unknown) => error instanceof DataError && /at least 2 classes/.test(error.message),
  );
});
