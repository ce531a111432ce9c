// The binary logistic residual computes σ(z) and softplus(±z) from one shared exponential: it must
// give exactly what the two separate functions give, on ordinary scores and at the edges (±0,
// saturation, ±∞, NaN), for both labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogisticLoss, sigmoid, softplus } from '../../src/models/linear/logistic-loss.js';
import '../../src/index.js';

test('the binary logistic loss and gradient equal sigmoid and softplus bit for bit', () => {
  const scores = [
    0,
    -0,
    1e-300,
    -1e-300,
    0.3,
    -0.3,
    1,
    -1,
    17.5,
    -17.5,
    36.8,
    -36.8,
    40,
    -40,
    710,
    -710,
    800,
    -800,
    Infinity,
    -Infinity,
    NaN,
  ];
  const loss = new LogisticLoss(1, 1);
  for (const z of scores) {
    for (const label of [0, 1]) {
      // One row, one feature x = 1, weight z, intercept 0: the row's score is z.
      const gradient = new Float64Array(2);
      const sum = loss.sumRange(Float64Array.of(1), 0, 1, Int32Array.of(label), Float64Array.of(z, 0), gradient);
      const residual = sigmoid(z) - label;
      assert.ok(Object.is(sum, softplus(label === 1 ? -z : z)), `loss at z = ${z}, y = ${label}: ${sum}`);
      assert.ok(Object.is(gradient[1], 0 + residual), `intercept gradient at z = ${z}, y = ${label}: ${gradient[1]} vs ${residual}`);
      assert.ok(Object.is(gradient[0], 0 + residual), `weight gradient at z = ${z}, y = ${label}: ${gradient[0]} vs ${residual}`);
    }
  }
});

test('sumRangeBinary (positive rows told by their label) gives sumRange’s sums with codes, bit for bit', () => {
  const rows = 3000;
  const d = 7;
  let state = 12345;
  const next = (): number => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const x = Float64Array.from({ length: rows * d }, next);
  // Classes −1 and 3 (not 0/1), labels drawn from them.
  const labels = Float64Array.from({ length: rows }, () => (next() > 0.2 ? 3 : -1));
  const codes = Int32Array.from(labels, (label) => (label === 3 ? 1 : 0));
  const params = Float64Array.from({ length: d + 1 }, next);
  const loss = new LogisticLoss(d, 1);
  for (const [start, end] of [
    [0, rows],
    [517, 2049],
  ] as const) {
    const byCode = new Float64Array(d + 1);
    const byLabel = new Float64Array(d + 1);
    // A fresh loss for the labels, so nothing of an earlier call by codes can stand in for them.
    const sumByLabel = new LogisticLoss(d, 1).sumRangeBinary(x, start, end, labels, 3, params, byLabel);
    const sumByCode = loss.sumRange(x, start, end, codes, params, byCode);
    loss.sumRangeBinary(x, start, end, labels, 3, params, new Float64Array(d + 1));
    assert.ok(Object.is(sumByLabel, sumByCode), `loss over [${start}, ${end}): ${sumByLabel} vs ${sumByCode}`);
    assert.deepEqual(byLabel, byCode);
    // And a call by codes after one by labels reads codes again.
    const again = new Float64Array(d + 1);
    assert.ok(Object.is(loss.sumRange(x, start, end, codes, params, again), sumByCode));
  }
});
