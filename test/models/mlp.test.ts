// MLP: the estimator suite, a task logistic regression cannot solve (XOR), option checks, and the
// flat parameter vector's layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { LogisticRegression } from '../../src/models/linear/logistic-regression.js';
import type { Dataset } from '../../src/data/dataset.js';
import { MLP } from '../../src/models/neural/mlp.js';
import type { MLPParams } from '../../src/models/neural/mlp.js';
import { estimatorSuite } from '../support/estimator-suite.js';
import { xorData } from '../nn/data.js';
import '../../src/index.js';

estimatorSuite({ name: 'mlp', params: { hidden: [6], epochs: 2, batchSize: 16, dropout: 0.2 }, data: () => xorData(60, 1) });

test('mlp learns XOR (≥ 95% on held-out points) where logistic regression stays near chance', async () => {
  const train = xorData(600, 2);
  const test = xorData(300, 3);
  const mlp = await new MLP({ hidden: [16], epochs: 40, lr: 0.02, batchSize: 32 }).fit(train);
  const linear = await new LogisticRegression().fit(train);
  assert.ok(mlp.score(test) >= 0.95, `mlp accuracy ${mlp.score(test)}`);
  assert.ok(linear.score(test) < 0.7, `logistic accuracy ${linear.score(test)}`);
});

test('mlp trains with SGD + momentum, a step schedule, weight decay and clipping too', async () => {
  const train = xorData(600, 4);
  const model = await new MLP({
    hidden: [16],
    activation: 'tanh',
    optimizer: 'sgd',
    lr: 0.1,
    momentum: 0.9,
    weightDecay: 1e-4,
    schedule: 'step',
    stepEpochs: 20,
    gamma: 0.5,
    clipNorm: 5,
    epochs: 40,
    batchSize: 32,
  }).fit(train);
  assert.ok(model.score(xorData(300, 5)) >= 0.9, `accuracy ${model.score(xorData(300, 5))}`);
});

test('mlp probabilities are rows × classes and sum to 1', async () => {
  const data = xorData(50, 6);
  const model = await new MLP({ hidden: [4], epochs: 1 }).fit(data);
  const p = model.predictProba(data);
  assert.equal(p.length, 100);
  for (let i = 0; i < 50; i++) assert.ok(Math.abs(p[2 * i]! + p[2 * i + 1]! - 1) < 1e-9);
});

test('mlp state is one flat vector: (2·8 + 8) + (8·2 + 2) parameters for hidden [8] on 2 features, 2 classes', async () => {
  const model = await new MLP({ hidden: [8], epochs: 1 }).fit(xorData(40, 7));
  assert.equal(model.state.params.length, 2 * 8 + 8 + 8 * 2 + 2);
  assert.ok(model.state.params instanceof Float64Array);
});

test('mlp options: hidden sizes from CLI text; bad values are ConfigErrors naming the option', () => {
  assert.deepEqual(new MLP({ hidden: '64,32' as unknown as number[] }).params.hidden, [64, 32]);
  assert.throws(
    () => new MLP({ hidden: '64,x' as unknown as number[] }),
    (e: unknown) => e instanceof ConfigError && e.field === 'hidden',
  );
  assert.throws(
    () => new MLP({ dropout: 1 }),
    (e: unknown) => e instanceof ConfigError && e.field === 'dropout',
  );
  assert.throws(
    () => new MLP({ optimizer: 'rmsprop' as 'adam' }),
    (e: unknown) => e instanceof ConfigError && e.field === 'optimizer',
  );
  assert.throws(
    () => new MLP({ precision: 'float16' as 'float32' }),
    (e: unknown) => e instanceof ConfigError && e.field === 'precision',
  );
});

test('mlp refuses data with other columns than it was trained on', async () => {
  const model = await new MLP({ hidden: [4], epochs: 1 }).fit(xorData(40, 8));
  const wide = xorData(10, 9);
  assert.throws(() => model.predict({ ...wide, cols: 3 } as typeof wide), /trained on 2 feature columns/);
});

/** Fit `params` on `data` sequentially and with 2 workers of `paradigm`; assert the float64 weights agree to 1e-12; return the sequential ones. */
async function parallelEqualsSequential(
  data: Dataset,
  params: Partial<MLPParams>,
  paradigm: 'threads' | 'processes',
): Promise<Float64Array> {
  const sequential = (await new MLP(params).fit(data)).state.params;
  const parallel = (await new MLP(params).fit(data, { paradigm, workers: 2 })).state.params;
  let worst = 0;
  for (let i = 0; i < sequential.length; i++) worst = Math.max(worst, Math.abs(sequential[i]! - parallel[i]!));
  assert.ok(worst < 1e-12, `${paradigm}: largest difference ${worst}`);
  return sequential;
}

for (const paradigm of ['threads', 'processes'] as const) {
  test(`mlp with dropout: 2 ${paradigm} equal sequential (same global batches, dropout masks keyed by row, not rank)`, async () => {
    const data = xorData(300, 10);
    const params = { hidden: [8], epochs: 3, batchSize: 16, dropout: 0.3, precision: 'float64' as const };
    const sequential = await parallelEqualsSequential(data, params, paradigm);
    // And the masks matter: without dropout the model is a different one.
    const plain = (await new MLP({ ...params, dropout: 0 }).fit(data)).state.params;
    assert.ok(Math.abs(plain[0]! - sequential[0]!) > 1e-6);
  });

  test(`mlp with dropout on rows that carry their own keys (a shuffled take): 2 ${paradigm} still equal sequential`, async () => {
    // take() gives every row the key of its source row; the workers must see those keys, not their
    // index in their copy of the rows, or the masks (and the model) differ from sequential training.
    const source = xorData(300, 11);
    const order = Array.from({ length: source.rows }, (_, i) => (i * 7919) % source.rows);
    const data = source.take(order);
    assert.notEqual(data.rowKey(1), 1);
    await parallelEqualsSequential(data, { hidden: [8], epochs: 2, batchSize: 16, dropout: 0.3, precision: 'float64' }, paradigm);
  });
}
