// The robust aggregators, differential privacy and secure aggregation wired into the federated
// paradigm (runtime/federated.ts): real federated fits of a softmax regression on inline clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { createModel } from '../../src/models/registry.js';
import type { AnyEstimator } from '../../src/models/registry.js';
import type { FederatedOptions } from '../../src/federated/settings.js';
import { caseData } from './model-cases.js';

const train = caseData('multiclass', 600);
const held = caseData('multiclass', 300, 4, 7);
const params = { solver: 'sgd', epochs: 1, batchSize: 16, lr: 0.5 };

async function fit(options: FederatedOptions, placement: 'inline' | 'threads' = 'inline'): Promise<AnyEstimator> {
  return createModel('logistic-regression', params).fit(train, {
    paradigm: 'federated',
    federated: { placement, clients: 10, fraction: 1, rounds: 30, localEpochs: 2, seed: 3, ...options },
  });
}

test('median, trimmed-mean and krum stay within 2 points of clean fedavg with 20% ×−10 or NaN clients', async () => {
  const clean = (await fit({})).score(held);
  assert.ok(clean > 0.75, `clean fedavg ${clean}`);
  const lines = [`clean fedavg ${clean.toFixed(3)}`];
  for (const attack of ['0.2:scale:-10', '0.2:nan']) {
    const plain = await fit({ byzantine: attack });
    lines.push(`fedavg ${attack}: ${plain.score(held).toFixed(3)}`);
    for (const aggregator of ['median', 'trimmed-mean:0.2', 'krum:2']) {
      const model = await fit({ byzantine: attack, aggregator });
      const accuracy = model.score(held);
      lines.push(`${aggregator} ${attack}: ${accuracy.toFixed(3)}`);
      assert.equal(model.fitInfo!.federated!.aggregator, aggregator);
      if (process.env.PROBE === undefined) assert.ok(accuracy >= clean - 0.02, `${aggregator} under ${attack}: ${accuracy} vs clean ${clean}`);
    }
  }
  console.log(lines.join('\n'));
});
