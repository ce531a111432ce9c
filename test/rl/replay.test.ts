// The replay buffer: a ring of the last `capacity` transitions, packed transfer, seeded uniform sampling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { ReplayBuffer, packTransition, packedWidth } from '../../src/rl/replay.js';

test('replay buffer keeps the last `capacity` transitions, oldest overwritten first', () => {
  const buffer = new ReplayBuffer(3, 2);
  for (let i = 0; i < 5; i++) buffer.add([i, -i], i % 2, i * 10, [i + 1, -i - 1], i === 4);
  assert.equal(buffer.size, 3);
  // Slots 0, 1, 2 now hold transitions 3, 4, 2.
  assert.deepEqual(Array.from(buffer.observations), [3, -3, 4, -4, 2, -2]);
  assert.deepEqual(Array.from(buffer.rewards), [30, 40, 20]);
  assert.deepEqual(Array.from(buffer.terminated), [0, 1, 0]);
  const out = new Float32Array(4);
  buffer.gather(Int32Array.of(2, 0), 'nextObservations', out);
  assert.deepEqual(Array.from(out), [3, -3, 4, -4]);
});

test('packed transitions arrive in the buffer as added one by one', () => {
  const d = 3;
  const packed = new Float64Array(2 * packedWidth(d));
  packTransition(packed, 0, [1, 2, 3], 1, 0.5, [4, 5, 6], false);
  packTransition(packed, 1, [7, 8, 9], 0, -1, [10, 11, 12], true);
  const a = new ReplayBuffer(4, d);
  a.addPacked(packed, 2);
  const b = new ReplayBuffer(4, d);
  b.add([1, 2, 3], 1, 0.5, [4, 5, 6], false);
  b.add([7, 8, 9], 0, -1, [10, 11, 12], true);
  for (const field of ['observations', 'nextObservations', 'actions', 'rewards', 'terminated'] as const)
    assert.deepEqual(a[field], b[field], field);
  assert.throws(() => a.addPacked(packed, 3), /3 transitions need 27 values, got 18/);
});

test('sampling is uniform over the transitions held and seeded', () => {
  const buffer = new ReplayBuffer(100, 1);
  for (let i = 0; i < 10; i++) buffer.add([i], 0, 0, [i], false);
  const counts = new Array<number>(10).fill(0);
  const draws = buffer.sample(50_000, new Rng(1));
  for (const i of draws) counts[i]!++;
  // Binomial(50,000, 0.1): sd ≈ 67; 5 sd ≈ 335.
  for (const c of counts) assert.ok(Math.abs(c - 5000) < 335, `count ${c}`);
  assert.deepEqual(buffer.sample(20, new Rng(2)), buffer.sample(20, new Rng(2)));
  assert.throws(() => new ReplayBuffer(5, 1).sample(1, new Rng(0)), /empty/);
});
