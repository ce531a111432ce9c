// Hogwild!: its contract as a strategy (plain SGD in a world of one, refusal without shared memory),
// bitwise agreement with sequential for one thread, and accuracy: lock-free asynchronous SGD on 2 and
// 3 threads reaches the sequential test accuracy within 1 point on a linearly separable dataset,
// while all-reducing nothing per step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { LocalCommunicator } from '../../src/comm/local.js';
import { SharedMemoryCommunicator } from '../../src/comm/shm/communicator.js';
import { createSharedWorld } from '../../src/comm/shm/world.js';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { Dataset } from '../../src/data/dataset.js';
import { createModel } from '../../src/models/registry.js';
import { HogwildStrategy } from '../../src/strategies/hogwild.js';
import { bitwiseEqual } from '../runtime/model-cases.js';

test('hogwild in a world of one without an arena is plain SGD on the given vector', async () => {
  const strategy = new HogwildStrategy(new LocalCommunicator(), undefined);
  assert.equal(strategy.synchronous, false);
  const initial = Float64Array.of(1, 2);
  const params = await strategy.setup(initial);
  assert.equal(params, initial, 'trains in place, no copy');
  const seen: number[][] = [];
  const apply = (p: Float64Array, g: Float64Array): void => {
    seen.push(Array.from(g));
    for (let i = 0; i < p.length; i++) p[i]! -= 0.5 * g[i]!;
  };
  await strategy.step(params, Float64Array.of(4, 8), 4, apply);
  await strategy.step(params, Float64Array.of(9, 9), 0, apply); // an empty batch changes nothing
  await strategy.finish(params);
  assert.deepEqual(seen, [[1, 2]], 'the mean gradient (sum / count) is applied once');
  assert.deepEqual(params, Float64Array.of(0.5, 1));
});

test('hogwild trains in the shared arena: rank 0 seeds it, and it refuses a model larger than the arena', async () => {
  const arena = new Float64Array(new SharedArrayBuffer(8 * 4));
  const strategy = new HogwildStrategy(new LocalCommunicator(), arena);
  const params = await strategy.setup(Float64Array.of(3, 4));
  assert.equal(params.buffer, arena.buffer);
  assert.deepEqual(params, Float64Array.of(3, 4));
  await assert.rejects(
    strategy.setup(new Float64Array(5)),
    (error: unknown) => error instanceof ConfigError && /5 parameters but the shared arena holds 4/.test(error.message),
  );
});

test('hogwild refuses to run across workers without shared memory', async () => {
  const comm = new SharedMemoryCommunicator(createSharedWorld(2), 0);
  await assert.rejects(
    new HogwildStrategy(comm, undefined).setup(new Float64Array(3)),
    (error: unknown) => error instanceof ConfigError && error.field === 'strategy' && /--paradigm threads/.test(error.message),
  );
});

/** Two classes split by a hyperplane with a margin: points closer than 0.3 to it are dropped. */
function separable(rows: number, cols: number, seed: number): Dataset {
  const plane = new Rng(1); // the same hyperplane for training and held-out data
  const normal = Float64Array.from({ length: cols }, () => plane.normal());
  const rng = new Rng(seed);
  const norm = Math.hypot(...normal);
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows;) {
    let score = 0;
    for (let j = 0; j < cols; j++) {
      x[i * cols + j] = rng.normal() * 2;
      score += (normal[j]! / norm) * x[i * cols + j]!;
    }
    if (Math.abs(score - 0.2) < 0.3) continue;
    y[i++] = score > 0.2 ? 1 : 0;
  }
  return new Dataset({ x, rows, cols, y, source: 'test:separable' });
}

const train = separable(4000, 10, 7);
const heldOut = separable(1000, 10, 8);
// Rows sorted by label: with contiguous shards, rank 0 sees only class 0 and the last rank only
// class 1. A rank training private parameters would learn one class (≈ 50% accuracy); only
// updates landing in one shared vector learn both.
const byLabel = train.take(Array.from({ length: train.rows }, (_, i) => i).sort((a, b) => train.y![a]! - train.y![b]!));

test('one thread under hogwild is bitwise sequential hogwild (one writer, same stream)', async () => {
  const params = { solver: 'sgd', epochs: 2, batchSize: 32, lr: 0.1 };
  const sequential = await createModel('logistic-regression', params).fit(train, { strategy: 'hogwild' });
  const threaded = await createModel('logistic-regression', params).fit(train, { paradigm: 'threads', workers: 1, strategy: 'hogwild' });
  assert.ok(bitwiseEqual(threaded.state, sequential.state));
});

for (const [name, params] of [
  ['logistic-regression', { solver: 'sgd', epochs: 5, batchSize: 32, lr: 0.1 }],
  ['linear-svm', { epochs: 5, batchSize: 32 }],
] as const) {
  test(`${name}: hogwild on 2 and 3 threads reaches the sequential test accuracy within 1 point, also with one class per shard`, async () => {
    const sequential = await createModel(name, params).fit(train);
    const reference = sequential.score(heldOut);
    assert.ok(reference > 0.95, `sequential accuracy ${reference} on separable data`);
    const steps = 5 * Math.ceil(train.rows / 32);
    for (const [workers, data] of [
      [2, train],
      [3, train],
      [2, byLabel],
      [3, byLabel],
    ] as const) {
      const hogwild = await createModel(name, params).fit(data, { paradigm: 'threads', workers, strategy: 'hogwild' });
      const accuracy = hogwild.score(heldOut);
      const which = data === train ? 'shuffled rows' : 'one class per shard';
      assert.ok(Math.abs(accuracy - reference) <= 0.01, `${workers} threads, ${which}: accuracy ${accuracy} vs sequential ${reference}`);
      // Asynchronous: a handful of collectives (layout, classes, one loss tally per epoch), not one per step.
      for (const stats of hogwild.fitInfo!.comm)
        assert.ok(stats.collectives < 20 && stats.collectives < steps / 10, `collectives ${stats.collectives}`);
    }
  });
}
