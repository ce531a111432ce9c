// The robust rules inside a federated training loop (FedAvg rounds of local gradient steps on a
// logistic regression, 20 clients), with 20% Byzantine clients sending ×−10 or NaN versions of their
// updates: the "within 2 points of clean accuracy" at test scale. The paradigm's own run (CNN
// on MNIST) belongs to the federated paradigm; this checks the rules, not the paradigm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import type { Aggregator, ClientUpdate } from '../../src/federated/aggregator.js';
import { createRobustAggregator, guardFinite } from '../../src/federated/robust.js';

const FEATURES = 10;
const CLIENTS = 20;

interface Shard {
  x: Float64Array[];
  y: number[];
}

/** Two Gaussian classes in 10-D, centres ±0.5 along a fixed direction plus unit noise (overlap keeps accuracy below 100%). */
function shard(rng: Rng, rows: number): Shard {
  const x: Float64Array[] = [];
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    const label = rng.uniform() < 0.5 ? 0 : 1;
    x.push(Float64Array.from({ length: FEATURES }, (_, j) => (j < 3 ? (label === 1 ? 0.5 : -0.5) : 0) + rng.normal()));
    y.push(label);
  }
  return { x, y };
}

const score = (w: Float64Array, row: Float64Array): number => row.reduce((s, v, j) => s + v * w[j]!, w[FEATURES]!);

/** Five full-batch gradient steps of logistic loss from `global`; the delta they made. */
function localDelta(global: Float64Array, data: Shard): Float64Array {
  const w = global.slice();
  for (let step = 0; step < 5; step++) {
    const gradient = new Float64Array(FEATURES + 1);
    data.x.forEach((row, r) => {
      const error = 1 / (1 + Math.exp(-score(w, row))) - data.y[r]!;
      for (let j = 0; j < FEATURES; j++) gradient[j]! += (error * row[j]!) / data.x.length;
      gradient[FEATURES]! += error / data.x.length;
    });
    for (let j = 0; j <= FEATURES; j++) w[j]! -= 0.5 * gradient[j]!;
  }
  return w.map((v, j) => v - global[j]!);
}

const accuracy = (w: Float64Array, data: Shard): number =>
  data.x.filter((row, r) => (score(w, row) > 0 ? 1 : 0) === data.y[r]).length / data.x.length;

const fedavg: Aggregator = {
  name: 'fedavg',
  aggregate(updates, global) {
    const total = updates.reduce((s, u) => s + u.weight, 0);
    const out = new Float64Array(global.length);
    for (const { delta, weight } of updates) delta.forEach((v, j) => (out[j]! += (weight * v) / total));
    return out;
  },
};

function train(aggregator: Aggregator, attack: 'none' | 'scale' | 'nan', seed: number): number {
  const rng = new Rng(seed);
  const shards = Array.from({ length: CLIENTS }, () => shard(rng, 40 + rng.int(40)));
  const testSet = shard(rng, 1000);
  const byzantine = new Set(rng.sample(CLIENTS, CLIENTS / 5));
  let global = new Float64Array(FEATURES + 1);
  for (let round = 0; round < 10; round++) {
    const updates: ClientUpdate[] = shards.map((data, client) => {
      const delta = localDelta(global, data);
      const bad = attack !== 'none' && byzantine.has(client);
      return { client, weight: data.x.length, delta: !bad ? delta : attack === 'scale' ? delta.map((v) => -10 * v) : delta.map(() => NaN) };
    });
    const step = aggregator.aggregate(updates, global, round);
    global = global.map((v, j) => v + step[j]!);
  }
  return accuracy(global, testSet);
}

test('with 20% of clients sending ×−10 or NaN updates, median, trimmed-mean and krum train to within 2 points of clean FedAvg; FedAvg does not', (t) => {
  const seeds = [1, 2];
  for (const seed of seeds) {
    const clean = train(fedavg, 'none', seed);
    assert.ok(clean > 0.8, `clean FedAvg reaches ${clean}`);
    for (const spec of ['median', 'trimmed-mean:0.25', 'krum:4', 'multi-krum:4:10'])
      for (const attack of ['scale', 'nan'] as const) {
        const robust = train(createRobustAggregator(spec)!, attack, seed);
        t.diagnostic(`seed ${seed} ${spec} ${attack}: ${robust} (clean FedAvg ${clean})`);
        assert.ok(robust >= clean - 0.02, `${spec} under ${attack} (seed ${seed}): ${robust} vs clean ${clean}`);
      }
    const scaled = train(fedavg, 'scale', seed);
    const poisoned = train(fedavg, 'nan', seed);
    t.diagnostic(`seed ${seed} fedavg scale: ${scaled}, nan: ${poisoned}`);
    assert.ok(scaled < clean - 0.2, `FedAvg under ×−10 kept ${scaled} (clean ${clean})`);
    // NaN poisons plain FedAvg (every score is NaN: no row is predicted 1) ...
    assert.ok(poisoned < clean - 0.2, `FedAvg under NaN kept ${poisoned}`);
    // ... unless non-finite updates are filtered first
    assert.ok(train(guardFinite(fedavg), 'nan', seed) >= clean - 0.02);
  }
});
