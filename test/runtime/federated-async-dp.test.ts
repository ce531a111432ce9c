// Differential privacy with FedBuff's asynchronous mode (runtime/federated.ts): each server step is a
// sampled Gaussian mechanism over the updates it buffered, accounted by the Rényi accountant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { RdpAccountant } from '../../src/federated/dp-accountant.js';
import type { FederatedOptions } from '../../src/federated/settings.js';
import { createModel } from '../../src/models/registry.js';
import { bufferedParticipation } from '../../src/runtime/federated.js';
import { caseData } from './model-cases.js';

const train = caseData('multiclass', 2000);
const held = caseData('multiclass', 300, 4, 7);

const fit = (options: FederatedOptions) =>
  createModel('logistic-regression', { solver: 'sgd', epochs: 1, batchSize: 32, lr: 0.5 }).fit(train, {
    paradigm: 'federated',
    federated: { placement: 'inline', clients: 20, fraction: 0.2, async: true, buffer: 4, rounds: 6, localEpochs: 2, seed: 3, ...options },
  });

test('DP with --async: ε composes one sampled Gaussian mechanism per server step at q = buffered clients / population; client- and server-side both learn', async () => {
  const dp = { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 };
  const model = await fit({ dp });
  const info = model.fitInfo!.federated!;
  assert.equal(info.mode, 'async');
  assert.equal(info.rounds, 6);
  // Inline hosts answer in dispatch order, so a buffer of 4 = clients in flight never holds a client twice: q = 4/20, σ unchanged.
  const direct = new RdpAccountant();
  for (const report of info.history) {
    direct.step({ sampleRate: 4 / 20, noiseMultiplier: 1.1 });
    assert.equal(report.epsilon, direct.epsilon(1e-5).epsilon, `step ${report.round}`);
  }
  assert.equal(info.epsilon, direct.epsilon(1e-5).epsilon);
  // Without noise what the server buffers is the clipped delta itself: norm ≤ C.
  const clipped = (await fit({ dp: { ...dp, noiseMultiplier: 0 } })).fitInfo!.federated!;
  for (const report of clipped.history) assert.ok(report.maxUpdateNorm! <= 1 + 1e-12, `step ${report.round}: norm ${report.maxUpdateNorm}`);
  const server = await fit({ dp: { clip: 5, noiseMultiplier: 0.1, delta: 1e-5, mode: 'server' }, rounds: 10 });
  assert.ok(server.fitInfo!.federated!.epsilon! > 0);
  assert.ok(server.score(held) > 0.8, `server-side DP --async accuracy ${server.score(held)}`);
  console.log(
    `DP --async q=0.2 σ=1.1: ε after 6 steps ${info.epsilon!.toFixed(4)}; server-side σ=0.1 accuracy ${server.score(held).toFixed(3)}`,
  );
});

test('a client buffered twice in one step is accounted at σ/2 (sensitivity 2C); q counts distinct clients', () => {
  const update = (client: number) => ({ client, delta: new Float64Array(1), weight: 1 });
  assert.deepEqual(bufferedParticipation([update(1), update(2), update(3), update(4)], 20, 1.1), {
    sampleRate: 4 / 20,
    noiseMultiplier: 1.1,
  });
  assert.deepEqual(bufferedParticipation([update(3), update(2), update(3), update(4)], 20, 1.1), {
    sampleRate: 3 / 20,
    noiseMultiplier: 0.55,
  });
});
