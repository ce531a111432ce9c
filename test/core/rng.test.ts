import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, hashUniform } from '../../src/core/rng.js';

test('the same seed gives the same stream; another seed another', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(
    sa,
    Array.from({ length: 5 }, () => b.nextUint32()),
  );
  assert.notDeepEqual(
    sa,
    Array.from({ length: 5 }, () => c.nextUint32()),
  );
});

test('uniform has mean 1/2 and variance 1/12; normal has mean 0 and variance 1', () => {
  const rng = new Rng(1);
  const n = 200_000;
  let s = 0;
  let s2 = 0;
  let z = 0;
  let z2 = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
    const g = rng.normal();
    z += g;
    z2 += g * g;
  }
  assert.ok(Math.abs(s / n - 0.5) < 0.005);
  assert.ok(Math.abs(s2 / n - 0.25 - 1 / 12) < 0.005);
  assert.ok(Math.abs(z / n) < 0.01);
  assert.ok(Math.abs(z2 / n - 1) < 0.02);
});

test('int is unbiased over a small range and permutation is a permutation', () => {
  const rng = new Rng(3);
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[rng.int(6)]!++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `count ${c}`);
  const p = Array.from(rng.permutation(1000)).sort((a, b) => a - b);
  assert.deepEqual(
    p,
    Array.from({ length: 1000 }, (_, i) => i),
  );
  const s = new Set(rng.sample(100, 30));
  assert.equal(s.size, 30);
});

test('gamma(k) has mean k', () => {
  const rng = new Rng(5);
  for (const shape of [0.3, 1, 4]) {
    let s = 0;
    for (let i = 0; i < 50_000; i++) s += rng.gamma(shape);
    assert.ok(Math.abs(s / 50_000 - shape) < 0.05 * Math.max(1, shape), `shape ${shape}`);
  }
});

test('hashUniform is deterministic, in [0,1) and roughly uniform', () => {
  assert.equal(hashUniform(7, 123), hashUniform(7, 123));
  let below = 0;
  for (let i = 0; i < 100_000; i++) {
    const u = hashUniform(7, i);
    assert.ok(u >= 0 && u < 1);
    if (u < 0.2) below++;
  }
  assert.ok(Math.abs(below / 100_000 - 0.2) < 0.01);
});

test('getState/setState: a generator restored from a state draws what the original draws next (spare normal included)', () => {
  const original = new Rng(42);
  for (let i = 0; i < 37; i++) original.uniform();
  original.normal(); // leaves a spare normal in the state
  const state = original.getState();
  assert.equal(state.length, 5);
  const restored = new Rng(0).setState(JSON.parse(JSON.stringify(state)) as number[]);
  for (let i = 0; i < 50; i++) assert.equal(restored.normal(), original.normal());
  for (let i = 0; i < 50; i++) assert.equal(restored.nextUint32(), original.nextUint32());
  assert.throws(() => new Rng(1).setState([1, 2, 3]), RangeError);
});
