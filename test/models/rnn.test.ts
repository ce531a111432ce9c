// RNN: the estimator suite for each cell, a memory task (the class is in step 0 only, followed by
// noise) that each cell must solve, and the sequence-shape rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { RNN } from '../../src/models/neural/rnn.js';
import { estimatorSuite } from '../support/estimator-suite.js';
import { firstStepSequences } from '../nn/data.js';
import '../../src/index.js';

estimatorSuite({
  name: 'rnn',
  params: { cell: 'lstm', hidden: 4, epochs: 1, batchSize: 16, steps: 6 },
  data: () => firstStepSequences(48, 1),
});

for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  test(`rnn (${cell}) remembers step 0 through 5 noisy steps (≥ 95% held out)`, async () => {
    const model = await new RNN({ cell, hidden: 12, steps: 6, epochs: 8, batchSize: 16, lr: 0.01 }).fit(firstStepSequences(400, 2));
    const accuracy = model.score(firstStepSequences(200, 3));
    assert.ok(accuracy >= 0.95, `${cell} accuracy ${accuracy}`);
  });
}

test('rnn stacks layers: every layer but the last returns its whole sequence', () => {
  const { inputShape, layers } = new RNN({ cell: 'gru', hidden: 5, layers: 3 }).architecture(784, 10);
  assert.deepEqual(inputShape, [28, 28]);
  assert.deepEqual(
    layers.map((l) => ('returnSequences' in l ? l.returnSequences : l.type)),
    [true, true, false, 'dense'],
  );
});

test('rnn sequence shape: a square column count is rows of an image, else one feature per step, or --steps', () => {
  assert.deepEqual(new RNN().architecture(784, 10).inputShape, [28, 28]);
  assert.deepEqual(new RNN().architecture(12, 3).inputShape, [12, 1]);
  assert.deepEqual(new RNN({ steps: 4 }).architecture(12, 3).inputShape, [4, 3]);
  assert.throws(
    () => new RNN({ steps: 5 }).architecture(12, 3),
    (e: unknown) => e instanceof DataError && /--steps/.test(e.message),
  );
  assert.throws(
    () => new RNN({ cell: 'transformer' as 'lstm' }),
    (e: unknown) => e instanceof ConfigError && e.field === 'cell',
  );
});
