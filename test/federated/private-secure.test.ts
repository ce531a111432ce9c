// Distributed DP: clients clip and add their share of the noise, secure aggregation sums; the server
// sees only the noisy sum, which equals what the server-side mechanism would have released.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { privatizeLocally } from '../../src/federated/dp.js';
import { runSecAggRound } from '../../src/federated/secagg/index.js';

test('client-side DP noise through secure aggregation: the unmasked sum is the sum of the privatized deltas', () => {
  const clients = 6;
  const length = 64;
  const rng = new Rng(21);
  const options = { clip: 1, noiseMultiplier: 1.2, expectedClients: clients };
  const privatized = new Map(
    Array.from({ length: clients }, (_, c) => {
      const delta = Float64Array.from({ length }, () => 3 * rng.normal()); // norm ≈ 24: clipped to 1
      return [c, privatizeLocally(delta, options, rng.fork(c))];
    }),
  );
  const outcome = runSecAggRound({ parameters: { round: 0, vectorLength: length, threshold: 4 }, inputs: privatized, seed: 3 });
  const expected = new Float64Array(length);
  for (const delta of privatized.values()) delta.forEach((v, i) => (expected[i]! += v));
  for (let i = 0; i < length; i++) assert.ok(Math.abs(outcome.sum[i]! - expected[i]!) <= clients * 2 ** -17, `coordinate ${i}`);
  // the sum's noise has std σC = 1.2 per coordinate around a signal of norm at most 6: the variance shows it
  const variance = expected.reduce((s, v) => s + v * v, 0) / length;
  assert.ok(variance > 0.5 && variance < 4, `per-coordinate second moment ${variance}`);
});
