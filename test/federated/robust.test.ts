import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { ConfigError } from '../../src/core/errors.js';
import type { ClientUpdate } from '../../src/federated/aggregator.js';
import { createRobustAggregator, finiteOnly, guardFinite, krumScores, nonFiniteClients } from '../../src/federated/robust.js';

const updatesOf = (rows: number[][]): ClientUpdate[] => rows.map((row, client) => ({ client, delta: Float64Array.from(row), weight: 1 }));
const zeros = (n: number): Float64Array => new Float64Array(n);

function rule(spec: string) {
  const aggregator = createRobustAggregator(spec);
  assert.ok(aggregator !== null, `${spec} is a robust aggregator`);
  return aggregator;
}

test('median: coordinate-wise, hand-computed for odd and even counts', () => {
  const odd = updatesOf([
    [1, 10],
    [3, -2],
    [2, 7],
  ]);
  assert.deepEqual([...rule('median').aggregate(odd, zeros(2), 0)], [2, 7]);
  const even = updatesOf([[1], [4], [2], [100]]);
  assert.deepEqual([...rule('median').aggregate(even, zeros(1), 0)], [3]);
});

test('trimmed-mean: drops ⌊βn⌋ at each end per coordinate (hand-computed)', () => {
  // n = 5, β = 0.2 → trim 1 at each end: coordinate 0 keeps {2, 3, 4}, coordinate 1 keeps {0, 1, 5}
  const updates = updatesOf([
    [1, 5],
    [2, -9],
    [3, 1],
    [4, 0],
    [50, 7],
  ]);
  assert.deepEqual([...rule('trimmed-mean:0.2').aggregate(updates, zeros(2), 0)], [3, 2]);
  // β = 0.1 → ⌊0.5⌋ = 0 trimmed: the plain mean
  assert.deepEqual([...rule('trimmed-mean:0.1').aggregate(updates, zeros(2), 0)], [12, 0.8]);
});

test('krum: scores are sums of squared distances to the n−f−2 nearest, hand-computed', () => {
  // 1-D points 0, 1, 3, 10, 11 with f = 1 → n − f − 2 = 2 nearest neighbours each
  const updates = updatesOf([[0], [1], [3], [10], [11]]);
  // 0: d² to 1, 3 → 1 + 9 = 10; 1: to 0, 3 → 1 + 4 = 5; 3: to 1, 0 → 4 + 9 = 13; 10: to 11, 3 → 1 + 49 = 50; 11: to 10, 3 → 1 + 64 = 65
  assert.deepEqual([...krumScores(updates, 1)], [10, 5, 13, 50, 65]);
  assert.deepEqual([...rule('krum:1').aggregate(updates, zeros(1), 0)], [1]);
  // multi-krum with m = 3 averages the three best: 1, 0, 3
  assert.deepEqual([...rule('multi-krum:1:3').aggregate(updates, zeros(1), 0)], [4 / 3]);
});

test('no rule modifies the updates it is given', () => {
  const updates = updatesOf([
    [5, -1, NaN],
    [2, 3, 1],
    [9, 0, 4],
    [1, 1, 1],
    [7, -3, 2],
  ]);
  const before = updates.map((u) => u.delta.slice());
  for (const spec of ['median', 'trimmed-mean:0.2', 'krum:1', 'multi-krum:1:2']) rule(spec).aggregate(updates, zeros(3), 0);
  assert.deepEqual(
    updates.map((u) => u.delta),
    before,
  );
});

test('unknown names give null (another registry owns them); bad parameters are ConfigErrors naming the field', () => {
  assert.equal(createRobustAggregator('fedavg'), null);
  assert.equal(createRobustAggregator('fedprox:0.1'), null);
  const bad = [
    'median:3',
    'trimmed-mean',
    'trimmed-mean:0.5',
    'trimmed-mean:-0.1',
    'trimmed-mean:x',
    'krum',
    'krum:1.5',
    'krum:-1',
    'multi-krum:1',
    'multi-krum:1:0',
  ];
  for (const spec of bad)
    assert.throws(
      () => createRobustAggregator(spec),
      (error: unknown) => error instanceof ConfigError && error.field === 'aggregator' && error.message.includes(spec),
      spec,
    );
});

test('krum refuses a round with n <= 2f + 2 updates, saying how many it needs', () => {
  const updates = updatesOf([[0], [1], [2], [3], [4], [5]]);
  assert.throws(
    () => rule('krum:2').aggregate(updates, zeros(1), 0),
    (error: unknown) => error instanceof ConfigError && /more than 2f \+ 2 = 6 .* got 6/.test(error.message),
  );
  assert.doesNotThrow(() => rule('krum:1').aggregate(updates, zeros(1), 0));
  assert.throws(() => rule('multi-krum:1:7').aggregate(updates, zeros(1), 0), ConfigError);
});

test('a delta of the wrong length is refused naming the client', () => {
  const updates = updatesOf([[1, 2], [3], [4, 5]]);
  assert.throws(() => rule('median').aggregate(updates, zeros(2), 0), /client 1 sent a delta of 1 values, expected 2/);
});

test('finiteOnly drops updates with a NaN or infinite value or weight; guardFinite filters before the rule', () => {
  const updates = updatesOf([
    [1, 2],
    [NaN, 0],
    [0, Infinity],
    [3, 4],
  ]);
  updates.push({ client: 9, delta: Float64Array.from([1, 1]), weight: NaN });
  assert.deepEqual(
    finiteOnly(updates).map((u) => u.client),
    [0, 3],
  );
  assert.deepEqual(nonFiniteClients(updates), [1, 2, 9]);
  assert.deepEqual([...guardFinite(rule('median')).aggregate(updates, zeros(2), 0)], [2, 3]);
  assert.deepEqual([...guardFinite(rule('median')).aggregate(updates.slice(1, 3), zeros(2), 0)], [0, 0]);
});

/** The weighted mean of the deltas (FedAvg's rule), written here as the non-robust reference. */
function weightedMean(updates: readonly ClientUpdate[], dimension: number): Float64Array {
  const out = new Float64Array(dimension);
  let total = 0;
  for (const { delta, weight } of updates) {
    total += weight;
    for (let j = 0; j < dimension; j++) out[j]! += weight * delta[j]!;
  }
  return out.map((v) => v / total);
}

const distance = (a: Float64Array, b: Float64Array): number => Math.sqrt(a.reduce((s, v, j) => s + (v - b[j]!) ** 2, 0));

test('property: with 20% of updates replaced by ×−10 or NaN versions, the robust rules stay near the clean mean and the weighted mean does not', () => {
  const dimension = 50;
  const clients = 20;
  for (let trial = 0; trial < 10; trial++) {
    const rng = new Rng(1000 + trial);
    const centre = Float64Array.from({ length: dimension }, () => rng.normal());
    const clean: ClientUpdate[] = Array.from({ length: clients }, (_, client) => ({
      client,
      delta: centre.map((c) => c + 0.1 * rng.normal()),
      weight: 50 + rng.int(100),
    }));
    const cleanMean = weightedMean(clean, dimension);
    const scale = Math.sqrt(dimension) * 0.1; // the spread of one honest update around the centre
    const byzantine = Array.from(rng.sample(clients, clients / 5));
    for (const attack of ['scale', 'nan'] as const) {
      const attacked = clean.map((update) =>
        byzantine.includes(update.client)
          ? { ...update, delta: attack === 'scale' ? update.delta.map((v) => -10 * v) : update.delta.map(() => NaN) }
          : update,
      );
      for (const spec of ['median', 'trimmed-mean:0.25', 'krum:4', 'multi-krum:4:8']) {
        const step = rule(spec).aggregate(attacked, zeros(dimension), trial);
        assert.ok(distance(step, cleanMean) < scale, `${spec} under ${attack} (trial ${trial}): ${distance(step, cleanMean)} >= ${scale}`);
      }
      const plain = weightedMean(attacked, dimension);
      const gap = distance(plain, cleanMean);
      assert.ok(Number.isNaN(gap) || gap > 10 * scale, `the weighted mean under ${attack} moved only ${gap}`);
    }
  }
});
