// Losses against finite differences (float64) and closed forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { huber, huberLoss, meanSquaredError, softmaxCrossEntropy, softmaxRows } from '../../src/nn/losses.js';
import { relativeError } from './gradcheck.js';

function numericGradient(f: (z: Float64Array) => number, z: Float64Array): Float64Array {
  const h = 1e-6;
  return Float64Array.from(z, (_, i) => {
    const saved = z[i]!;
    z[i] = saved + h;
    const plus = f(z);
    z[i] = saved - h;
    const minus = f(z);
    z[i] = saved;
    return (plus - minus) / (2 * h);
  });
}

test('softmax cross-entropy: gradient matches finite differences, loss matches −log p', () => {
  const rng = new Rng(3);
  const rows = 4;
  const classes = 5;
  const z = Float64Array.from({ length: rows * classes }, () => 3 * rng.normal());
  const targets = [0, 4, 2, 2];
  const { loss, gradient } = softmaxCrossEntropy({ shape: [rows, classes], data: z }, targets);
  const numeric = numericGradient((v) => softmaxCrossEntropy({ shape: [rows, classes], data: v }, targets).loss, z);
  for (let i = 0; i < z.length; i++) assert.ok(relativeError(gradient.data[i]!, numeric[i]!) < 1e-5, `entry ${i}`);
  const p = new Float64Array(z.length);
  softmaxRows(z, rows, classes, p);
  const expected = targets.reduce((sum, t, r) => sum - Math.log(p[r * classes + t]!), 0);
  assert.ok(Math.abs(loss - expected) < 1e-12);
});

test('softmax cross-entropy stays finite for logits of 1000', () => {
  const { loss, gradient } = softmaxCrossEntropy({ shape: [1, 3], data: Float64Array.of(1000, -1000, 0) }, [1]);
  assert.ok(Number.isFinite(loss) && Math.abs(loss - 2000) < 1e-9);
  assert.ok(Array.from(gradient.data).every(Number.isFinite));
});

test('softmax cross-entropy refuses a target outside the classes', () => {
  assert.throws(() => softmaxCrossEntropy({ shape: [1, 3], data: new Float64Array(3) }, [3]), /class index in 0..2/);
});

test('mean squared error: gradient matches finite differences, loss matches the definition', () => {
  const rng = new Rng(4);
  const y = Float64Array.from({ length: 6 }, () => rng.normal());
  const t = Float64Array.from({ length: 6 }, () => rng.normal());
  const { loss, gradient } = meanSquaredError({ shape: [3, 2], data: y }, t);
  const numeric = numericGradient((v) => meanSquaredError({ shape: [3, 2], data: v }, t).loss, y);
  for (let i = 0; i < y.length; i++) assert.ok(relativeError(gradient.data[i]!, numeric[i]!) < 1e-5);
  let expected = 0;
  for (let i = 0; i < 6; i++) expected += (y[i]! - t[i]!) ** 2 / 2;
  assert.ok(Math.abs(loss - expected) < 1e-12);
});

test('huber loss: gradient matches finite differences on both sides of δ, loss matches the closed form', () => {
  const rng = new Rng(5);
  for (const delta of [1, 0.5]) {
    // Differences on both sides of ±δ (away from the kinks), so both regimes are exercised.
    const offsets = [-3, -1.5, -0.7, -0.2, 0.3, 0.8, 1.7, 2.5];
    const t = Float64Array.from({ length: 8 }, () => rng.normal());
    const y = Float64Array.from(t, (v, i) => v + offsets[i]! * delta);
    const { loss, gradient } = huberLoss({ shape: [4, 2], data: y }, t, delta);
    const numeric = numericGradient((v) => huberLoss({ shape: [4, 2], data: v }, t, delta).loss, y);
    let quadratic = 0;
    for (let i = 0; i < y.length; i++) {
      assert.ok(relativeError(gradient.data[i]!, numeric[i]!) < 1e-6, `delta ${delta} entry ${i}`);
      if (Math.abs(y[i]! - t[i]!) <= delta) quadratic++;
    }
    assert.ok(quadratic > 0 && quadratic < y.length, 'both regimes covered');
    const expected = Array.from(y).reduce((sum, v, i) => sum + huber(v - t[i]!, delta) / 2, 0);
    assert.ok(Math.abs(loss - expected) < 1e-12);
  }
  // The closed form at chosen points: h(0.5) = 0.125, h(3) = 2.5, h(−3) = 2.5 (δ = 1); PyTorch's HuberLoss gives the same.
  assert.equal(huber(0.5), 0.125);
  assert.equal(huber(3), 2.5);
  assert.equal(huber(-3), 2.5);
  const { gradient } = huberLoss({ shape: [1, 3], data: Float64Array.of(0.5, 3, -3) }, [0, 0, 0]);
  assert.deepEqual(Array.from(gradient.data), [0.5 / 3, 1 / 3, -1 / 3]);
});
