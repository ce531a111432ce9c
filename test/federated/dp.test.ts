import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { ConfigError } from '../../src/core/errors.js';
import type { ClientUpdate } from '../../src/federated/aggregator.js';
import { addGaussianNoise, clipToNorm, createDpAggregator, l2Norm, privateMean, privatizeLocally } from '../../src/federated/dp.js';

test('clipToNorm: longer deltas are scaled to the clip norm, shorter ones kept, non-finite ones zeroed', () => {
  const long = clipToNorm(Float64Array.from([3, 4]), 1);
  assert.equal(long.norm, 5);
  assert.deepEqual([...long.clipped], [0.6000000000000001, 0.8]);
  assert.ok(Math.abs(l2Norm(long.clipped) - 1) < 1e-15);
  const short = clipToNorm(Float64Array.from([0.3, 0.4]), 1);
  assert.deepEqual([...short.clipped], [0.3, 0.4]);
  assert.equal(short.scale, 1);
  assert.deepEqual([...clipToNorm(Float64Array.from([NaN, 1]), 1).clipped], [0, 0]);
});

/** Mean and variance of many draws of one coordinate. */
function moments(values: number[]): { mean: number; variance: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { mean, variance: values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1) };
}

test('server-side: (Σ clipped + N(0, σ²C²)) / m, unbiased, with the noise std the accountant assumes', () => {
  const updates: ClientUpdate[] = [
    { client: 0, delta: Float64Array.from([3, 4]), weight: 10 }, // clipped to (0.6, 0.8)
    { client: 1, delta: Float64Array.from([0.1, -0.2]), weight: 1000 }, // weights are ignored
  ];
  const options = { clip: 1, noiseMultiplier: 2, expectedClients: 4 };
  const rng = new Rng(5);
  const draws = Array.from({ length: 20000 }, () => privateMean(updates, options, rng));
  const first = moments(draws.map((d) => d[0]!));
  // expected mean (0.6 + 0.1)/4 = 0.175, variance (σC/m)² = 0.25; standard error of the mean 0.0035
  assert.ok(Math.abs(first.mean - 0.175) < 0.015, `mean ${first.mean}`);
  assert.ok(Math.abs(first.variance - 0.25) < 0.015, `variance ${first.variance}`);
  // without noise it is exact
  assert.deepEqual([...privateMean(updates, { ...options, noiseMultiplier: 0 }, rng)], [(0.6000000000000001 + 0.1) / 4, (0.8 - 0.2) / 4]);
});

test('client-side: m clients each adding N(0, σ²C²/m) give the sum the same N(0, σ²C²) as the server-side noise', () => {
  const options = { clip: 0.5, noiseMultiplier: 1.5, expectedClients: 9 };
  const rng = new Rng(11);
  const sums = Array.from({ length: 5000 }, () => {
    let sum = 0;
    for (let c = 0; c < 9; c++) sum += privatizeLocally(Float64Array.from([10, 0]), options, rng)[0]!;
    return sum;
  });
  const { mean, variance } = moments(sums);
  assert.ok(Math.abs(mean - 9 * 0.5) < 0.05, `mean ${mean}`);
  assert.ok(Math.abs(variance / (1.5 * 0.5) ** 2 - 1) < 0.06, `variance ${variance}`);
});

test('the same seed gives the same noise; the aggregator forms agree with the functions', () => {
  const updates: ClientUpdate[] = [{ client: 3, delta: Float64Array.from([1, 2, 3]), weight: 1 }];
  const options = { clip: 1, noiseMultiplier: 1, expectedClients: 2 };
  assert.deepEqual(privateMean(updates, options, new Rng(1)), privateMean(updates, options, new Rng(1)));
  assert.deepEqual(
    createDpAggregator({ ...options, placement: 'server' }, new Rng(1)).aggregate(updates, new Float64Array(3), 0),
    privateMean(updates, options, new Rng(1)),
  );
  assert.deepEqual(
    [...createDpAggregator({ ...options, placement: 'client' }, new Rng(1)).aggregate(updates, new Float64Array(3), 0)],
    [0.5, 1, 1.5],
  );
  assert.deepEqual(addGaussianNoise(Float64Array.from([1]), 0, new Rng(1)), Float64Array.from([1]));
});

test('bad options are ConfigErrors naming the flag', () => {
  const field = (name: string) => (error: unknown) => error instanceof ConfigError && error.field === name;
  const delta = Float64Array.from([1]);
  assert.throws(() => privatizeLocally(delta, { clip: 0, noiseMultiplier: 1, expectedClients: 1 }, new Rng(1)), field('dp-clip'));
  assert.throws(() => privatizeLocally(delta, { clip: 1, noiseMultiplier: NaN, expectedClients: 1 }, new Rng(1)), field('dp-noise'));
  assert.throws(() => privateMean([], { clip: 1, noiseMultiplier: 1, expectedClients: 0 }, new Rng(1)), field('clients'));
});
