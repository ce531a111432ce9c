// Optimizers against hand-derived updates; schedules and clipping against closed forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam, SgdOptimizer, clipGlobalNorm, scheduledRate } from '../../src/nn/optimizers.js';

test('SGD with momentum and weight decay follows v ← μv + g + λw, w ← w − lr·v', () => {
  const opt = new SgdOptimizer(1, { momentum: 0.9, weightDecay: 0.1 });
  const w = Float64Array.of(1);
  opt.step(w, Float64Array.of(0.5), 0.1); // v = 0.5 + 0.1 = 0.6, w = 1 − 0.06 = 0.94
  assert.ok(Math.abs(w[0]! - 0.94) < 1e-15);
  opt.step(w, Float64Array.of(0.5), 0.1); // v = 0.54 + 0.5 + 0.094 = 1.134, w = 0.94 − 0.1134
  assert.ok(Math.abs(w[0]! - (0.94 - 0.1134)) < 1e-15);
});

test('Adam: the first step moves each weight by lr·sign(g) (bias correction), later steps match the recurrence', () => {
  const adam = new Adam(2);
  const w = Float64Array.of(0, 0);
  adam.step(w, Float64Array.of(3, -0.01), 0.1);
  assert.ok(Math.abs(w[0]! + 0.1) < 1e-6 && Math.abs(w[1]! - 0.1) < 1e-5);
  adam.step(w, Float64Array.of(1, -0.01), 0.1);
  const m = 0.9 * 0.1 * 3 + 0.1 * 1;
  const v = 0.999 * 0.001 * 9 + 0.001 * 1;
  const first = (-0.1 * 3) / (3 + 1e-8);
  const expected = first - (0.1 * (m / (1 - 0.81))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
  assert.ok(Math.abs(w[0]! - expected) < 1e-12);
});

test('Adam minimises a quadratic', () => {
  const adam = new Adam(3);
  const w = Float64Array.of(5, -3, 2);
  const g = new Float64Array(3);
  for (let s = 0; s < 2000; s++) {
    for (let i = 0; i < 3; i++) g[i] = 2 * (w[i]! - i);
    adam.step(w, g, 0.05);
  }
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(w[i]! - i) < 1e-3);
});

test('schedules: step decays by gamma every stepEpochs epochs; cosine goes from base to 0', () => {
  const step = { name: 'step', gamma: 0.5, stepEpochs: 2 } as const;
  assert.equal(scheduledRate(1, step, 1, 10, 100), 1);
  assert.equal(scheduledRate(1, step, 20, 10, 100), 1);
  assert.equal(scheduledRate(1, step, 21, 10, 100), 0.5);
  assert.equal(scheduledRate(1, step, 41, 10, 100), 0.25);
  assert.equal(scheduledRate(0.1, { name: 'cosine' }, 1, 10, 100), 0.1);
  assert.ok(Math.abs(scheduledRate(0.1, { name: 'cosine' }, 51, 10, 100) - 0.05) < 1e-15);
  assert.ok(scheduledRate(0.1, { name: 'cosine' }, 101, 10, 100) < 1e-15);
  assert.equal(scheduledRate(0.3, { name: 'constant' }, 77, 10, 100), 0.3);
});

test('clipGlobalNorm scales the whole vector to the bound and leaves small ones alone', () => {
  const g = Float64Array.of(3, 4);
  assert.equal(clipGlobalNorm(g, 1), 5);
  assert.ok(Math.abs(g[0]! - 0.6) < 1e-15 && Math.abs(g[1]! - 0.8) < 1e-15);
  const small = Float64Array.of(0.1, 0.1);
  clipGlobalNorm(small, 1);
  assert.deepEqual(Array.from(small), [0.1, 0.1]);
});
