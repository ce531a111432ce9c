// LinearSVM against references: finite differences of the hinge objective away from its kinks
// (binary and one-vs-rest), scikit-learn's LinearSVC and SGDClassifier(hinge) accuracies
// (fixtures), and separable data it must classify perfectly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { Dataset } from '../../src/data/dataset.js';
import { HingeLoss, LinearSVM } from '../../src/models/linear/linear-svm.js';
import { estimatorSuite } from '../support/estimator-suite.js';
import { fixtureDataset, readLinearFixture } from '../fixtures/linear/load.js';
import '../../src/index.js';

function blobs(seed: number, rows: number, centers: number[][], spread = 1): Dataset {
  const rng = new Rng(seed);
  const cols = centers[0]!.length;
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = rng.int(centers.length);
    y[i] = c;
    for (let j = 0; j < cols; j++) x[i * cols + j] = centers[c]![j]! + spread * rng.normal();
  }
  return new Dataset({ x, y, rows, cols });
}

estimatorSuite({
  name: 'linear-svm',
  params: { epochs: 2, batchSize: 8 },
  data: () =>
    blobs(1, 80, [
      [0, 0],
      [3, 1],
    ]),
});

for (const classes of [2, 3]) {
  test(`the ${classes === 2 ? 'binary' : 'one-vs-rest'} hinge objective's subgradient matches finite differences away from kinks`, () => {
    const rng = new Rng(20 + classes);
    const rows = 50;
    const d = 3;
    const outputs = classes === 2 ? 1 : classes;
    const x = Float64Array.from({ length: rows * d }, () => rng.normal());
    const codes = Int32Array.from({ length: rows }, () => rng.int(classes));
    const params = Float64Array.from({ length: outputs * (d + 1) }, () => 0.5 * rng.normal());
    const l2 = 0.2;
    const all = Uint32Array.from({ length: rows }, (_, i) => i);
    const hinge = new HingeLoss(d, outputs);
    // The objective Pegasos minimises: (λ/2)·‖[W, b]‖² + mean over rows of Σ_c hinge.
    const objective = (p: Float64Array, gradient: Float64Array): number => {
      gradient.fill(0);
      const sum = hinge.sumRows(x, all, rows, codes, p, gradient);
      let norm = 0;
      for (let j = 0; j < p.length; j++) {
        gradient[j] = gradient[j]! / rows + l2 * p[j]!;
        norm += p[j]! * p[j]!;
      }
      return sum / rows + 0.5 * l2 * norm;
    };
    const gradient = new Float64Array(params.length);
    objective(params, gradient);
    const scratch = new Float64Array(params.length);
    const h = 1e-7;
    let active = 0;
    for (let j = 0; j < gradient.length; j++) if (Math.abs(gradient[j]! - l2 * params[j]!) > 0) active++;
    assert.ok(active > 0, 'some margins must be violated for the check to test the hinge part');
    for (let j = 0; j < params.length; j++) {
      const plus = params.slice();
      const minus = params.slice();
      plus[j]! += h;
      minus[j]! -= h;
      const numeric = (objective(plus, scratch) - objective(minus, scratch)) / (2 * h);
      assert.ok(Math.abs(numeric - gradient[j]!) < 1e-6, `parameter ${j}: analytic ${gradient[j]} vs numeric ${numeric}`);
    }
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
  linearSvcAccuracy: number;
  sgdHingeAccuracy: number;
}

for (const name of ['classification-binary.json', 'classification-multiclass.json']) {
  test(`test accuracy within 2 points of scikit-learn's LinearSVC and SGDClassifier(hinge) (${name})`, async () => {
    const f = readLinearFixture<ClassificationFixture>(name);
    const train = fixtureDataset(f.x, f.y, f.rows, f.cols);
    const held = fixtureDataset(f.testX, f.testY, f.testRows, f.cols);
    // Same λ as SGDClassifier's alpha; 600 rows in batches of 16 give ~750 steps in 20 epochs.
    const model = await new LinearSVM({ l2: f.alpha, epochs: 20, batchSize: 16 }).fit(train);
    const ours = model.score(held);
    const best = Math.max(f.linearSvcAccuracy, f.sgdHingeAccuracy);
    assert.ok(ours >= best - 0.02, `ours ${ours} vs LinearSVC ${f.linearSvcAccuracy}, SGDClassifier ${f.sgdHingeAccuracy}`);
  });
}

test('separable classes are classified perfectly (binary with −1/+1 labels, and one-vs-rest)', async () => {
  const binary = blobs(
    2,
    300,
    [
      [0, 0],
      [5, 5],
    ],
    0.6,
  );
  const signed = binary.with({ y: Float64Array.from(binary.y!, (v) => (v === 0 ? -1 : 1)) });
  const svm = await new LinearSVM({ epochs: 10, batchSize: 16 }).fit(signed);
  assert.deepEqual(Array.from(svm.state.classes), [-1, 1]);
  assert.equal(svm.score(signed), 1);
  const scores = svm.decisionFunction(signed);
  assert.equal(scores.length, signed.rows);
  for (let i = 0; i < signed.rows; i++) assert.equal(scores[i]! > 0, signed.y![i] === 1);

  const three = blobs(
    3,
    300,
    [
      [0, 0],
      [6, 0],
      [0, 6],
    ],
    0.6,
  );
  const ovr = await new LinearSVM({ l2: 1e-3, epochs: 10, batchSize: 16 }).fit(three);
  assert.equal(ovr.state.weights.length, 3 * 2);
  assert.equal(ovr.score(three), 1);
  assert.equal(ovr.decisionFunction(three).length, 3 * three.rows);
});

test('a constant learning rate trains too, and so does l2 = 0 (rate 1/(1 + λt) is then 1)', async () => {
  const data = blobs(
    4,
    200,
    [
      [0, 0],
      [4, 4],
    ],
    0.6,
  );
  const constant = await new LinearSVM({ l2: 0, lr: 0.05, epochs: 5, batchSize: 16 }).fit(data);
  assert.equal(constant.score(data), 1);
  const unregularised = await new LinearSVM({ l2: 0, epochs: 5, batchSize: 16 }).fit(data);
  assert.equal(unregularised.score(data), 1);
  assert.throws(
    () => new LinearSVM({ lr: 0 }),
    (error: unknown) => error instanceof ConfigError && error.field === 'lr',
  );
});

test('bad input: missing labels, non-integer labels', async () => {
  const data = blobs(5, 30, [
    [0, 0],
    [3, 3],
  ]);
  await assert.rejects(
    new LinearSVM().fit(data.with({ y: null })),
    (error: unknown) => error instanceof DataError && error.code === 'DATA_MISSING',
  );
  const fractional = data.with({ y: Float64Array.from(data.y!, (v, i) => (i === 2 ? 1.25 : v)) });
  await assert.rejects(
    new LinearSVM().fit(fractional),
    (error: unknown) => error instanceof DataError && /integer class labels, found 1.25/.test(error.message),
  );
});
