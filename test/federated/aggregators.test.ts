import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ShardlearnError } from '../../src/core/errors.js';
import type { ClientUpdate } from '../../src/federated/aggregator.js';
import { aggregatorUsages, createAggregator, registerAggregator, weightedMean } from '../../src/federated/aggregators.js';
import { aggregateRound } from '../../src/federated/server.js';
import { byzantineClients, corruptUpdate, parseByzantine } from '../../src/federated/byzantine.js';
import { FederatedClientStrategy } from '../../src/federated/client-strategy.js';

const update = (client: number, weight: number, ...delta: number[]): ClientUpdate => ({ client, weight, delta: Float64Array.from(delta) });
const updates = [update(0, 1, 1, 2), update(1, 3, 5, -2)];
const global = Float64Array.of(10, 10);

test('fedavg is the row-weighted mean of the deltas; fedsgd scales it by its server rate', () => {
  assert.deepEqual(Array.from(createAggregator('fedavg').aggregator.aggregate(updates, global, 1)), [(1 + 15) / 4, (2 - 6) / 4]);
  assert.deepEqual(Array.from(createAggregator('fedsgd:0.5').aggregator.aggregate(updates, global, 1)), [2, -0.5]);
  assert.equal(createAggregator('fedsgd').client.kind, 'gradient');
  assert.deepEqual(createAggregator('fedprox:0.01').client, { kind: 'local-sgd', proximalMu: 0.01 });
});

test('fedavgm keeps server momentum: the second step is lr·(β·m₁ + m₂)', () => {
  const { aggregator } = createAggregator('fedavgm:0.5:2');
  assert.deepEqual(Array.from(aggregator.aggregate([update(0, 1, 1, -1)], global, 1)), [2, -2]);
  assert.deepEqual(Array.from(aggregator.aggregate([update(0, 1, 3, 0)], global, 2)), [2 * (0.5 * 1 + 3), 2 * (0.5 * -1 + 0)]);
});

test('fedadam takes Reddi et al.’s first step lr·(1−β1)g / (√((1−β2)g²) + τ)', () => {
  const { aggregator } = createAggregator('fedadam:0.1:0.001');
  const g = 0.5;
  const step = aggregator.aggregate([update(0, 2, g)], Float64Array.of(0), 1);
  assert.ok(Math.abs(step[0]! - (0.1 * 0.1 * g) / (Math.sqrt(0.01 * g * g) + 0.001)) < 1e-15);
});

test('specs are checked: unknown names list the registered ones, arguments are validated, names register once', () => {
  assert.throws(
    () => createAggregator('fedmagic'),
    (e: unknown) => e instanceof ConfigError && /fedavg, fedsgd/.test(e.message),
  );
  assert.throws(() => createAggregator('fedprox'), /needs μ/);
  assert.throws(() => createAggregator('fedavgm:2'), /momentum β must be/);
  assert.throws(() => createAggregator('fedavg:1'), /too many parts/);
  assert.ok(aggregatorUsages().includes('fedprox:<μ>'));
  assert.throws(() => registerAggregator('fedavg', 'fedavg', () => createAggregator('fedavg')), ShardlearnError);
  assert.throws(() => weightedMean([update(0, 0, 1)], 1), /positive weight/);
});

test('non-finite updates never reach the model: dropped, counted, the rest aggregated', () => {
  const { aggregator } = createAggregator('fedavg');
  const outcome = aggregateRound(
    aggregator,
    [update(0, 1, 1, 1), update(1, 1, NaN, 0), update(2, 1, 0, Infinity), update(3, 1, 3, 3)],
    global,
    1,
  );
  assert.deepEqual(outcome.nonFinite, [1, 2]);
  assert.equal(outcome.used, 2);
  assert.deepEqual(Array.from(outcome.global), [12, 12]);
  const none = aggregateRound(aggregator, [update(0, 1, NaN, NaN)], global, 2);
  assert.equal(none.applied, false);
  assert.equal(none.global, global);
  // An aggregator whose step overflows is refused the same way.
  const huge = aggregateRound(createAggregator('fedsgd:1e308').aggregator, [update(0, 1, 1e308, 0)], global, 3);
  assert.equal(huge.applied, false);
  assert.deepEqual(huge.nonFinite, [0]);
});

test('Byzantine specs: a seeded fixed set of ⌊fraction·clients⌋ clients; scale and NaN corruptions', () => {
  assert.deepEqual(parseByzantine('0.2:scale:-10'), { fraction: 0.2, attack: { kind: 'scale', factor: -10 } });
  assert.deepEqual(parseByzantine('0.3:nan'), { fraction: 0.3, attack: { kind: 'nan' } });
  for (const bad of ['x:nan', '1.5:nan', '0.2:scale', '0.2:flip', '0.2:scale:abc'])
    assert.throws(() => parseByzantine(bad), ConfigError, bad);
  const set = byzantineClients(parseByzantine('0.2:nan'), 100, 7);
  assert.equal(set.size, 20);
  assert.deepEqual([...set].sort(), [...byzantineClients(parseByzantine('0.2:nan'), 100, 7)].sort());
  assert.notDeepEqual([...set].sort(), [...byzantineClients(parseByzantine('0.2:nan'), 100, 8)].sort());
  assert.deepEqual(Array.from(corruptUpdate(Float64Array.of(1, -2), { kind: 'scale', factor: -10 })), [-10, 20]);
  assert.ok(corruptUpdate(Float64Array.of(1), { kind: 'nan' }).every(Number.isNaN));
});

test('the client strategy: local SGD from the global weights with FedProx’s pull, FedSGD’s mean gradient, fixed weights', async () => {
  const apply = (params: Float64Array, g: Float64Array): void => {
    for (let j = 0; j < params.length; j++) params[j]! -= 0.5 * g[j]!;
  };
  // Two steps of gradient sum (2, 2) over 2 rows, μ = 1: w₁ = 1 − 0.5·1 = 0.5; w₂ = 0.5 − 0.5·(1 + (0.5 − 1)) = 0.25.
  const prox = new FederatedClientStrategy('local-sgd', Float64Array.of(1), { proximalMu: 1 });
  const params = await prox.setup(Float64Array.of(99));
  for (let s = 0; s < 2; s++) await prox.step(params, Float64Array.of(2), 2, apply);
  assert.deepEqual(Array.from(prox.update()), [0.25 - 1]);
  const sgd = new FederatedClientStrategy('gradient', Float64Array.of(1, 1));
  const p2 = await sgd.setup(Float64Array.of(0, 0));
  await sgd.step(p2, Float64Array.of(4, 2), 2, apply);
  await sgd.step(p2, Float64Array.of(2, 0), 1, apply);
  assert.deepEqual(Array.from(p2), [1, 1], 'FedSGD applies nothing on the client');
  assert.deepEqual(Array.from(sgd.update()), [-2, -2 / 3]);
  const fixed = new FederatedClientStrategy('fixed', Float64Array.of(7));
  const p3 = await fixed.setup(Float64Array.of(3));
  await fixed.step(p3, Float64Array.of(1), 1, apply);
  await fixed.finish(p3);
  assert.deepEqual([Array.from(p3), Array.from(fixed.initial!)], [[7], [3]]);
  await assert.rejects(new FederatedClientStrategy('local-sgd', Float64Array.of(1, 2)).setup(Float64Array.of(0)), /same architecture/);
  assert.throws(() => new FederatedClientStrategy('local-sgd', Float64Array.of(1)).update(), /did not train by mini-batch SGD/);
});
