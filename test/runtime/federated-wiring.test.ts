// The robust aggregators, differential privacy and secure aggregation wired into the federated
// paradigm (runtime/federated.ts): real federated fits of a softmax regression on inline clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { createModel } from '../../src/models/registry.js';
import type { AnyEstimator } from '../../src/models/registry.js';
import type { FederatedOptions } from '../../src/federated/settings.js';
import { RdpAccountant } from '../../src/federated/dp-accountant.js';
import { caseData } from './model-cases.js';

const train = caseData('multiclass', 2000);
const held = caseData('multiclass', 300, 4, 7);
const params = { solver: 'sgd', epochs: 1, batchSize: 32, lr: 0.5 };

const weightsOf = (model: AnyEstimator): number[] => {
  const state = model.state as { weights: Float64Array; intercepts: Float64Array };
  return [...state.weights, ...state.intercepts];
};

async function fit(options: FederatedOptions, placement: 'inline' | 'threads' = 'inline'): Promise<AnyEstimator> {
  return createModel('logistic-regression', params).fit(train, {
    paradigm: 'federated',
    federated: { placement, clients: 10, fraction: 1, rounds: 12, localEpochs: 3, seed: 3, ...options },
  });
}

test('median, trimmed-mean and krum stay within 2 points of clean fedavg with 20% ×−10 or NaN clients; fedavg collapses under ×−10', async () => {
  const clean = (await fit({})).score(held);
  assert.ok(clean > 0.95, `clean fedavg ${clean}`);
  const lines = [`clean fedavg ${clean.toFixed(3)}`];
  for (const aggregator of ['median', 'trimmed-mean:0.2', 'krum:2']) {
    for (const attack of ['0.2:scale:-10', '0.2:nan']) {
      const model = await fit({ byzantine: attack, aggregator });
      const accuracy = model.score(held);
      lines.push(`${aggregator} ${attack}: ${accuracy.toFixed(3)}`);
      assert.equal(model.fitInfo!.federated!.aggregator, aggregator);
      assert.ok(accuracy >= clean - 0.02, `${aggregator} under ${attack}: ${accuracy} vs clean fedavg ${clean}`);
    }
  }
  const scaled = (await fit({ byzantine: '0.2:scale:-10' })).score(held);
  const nan = (await fit({ byzantine: '0.2:nan' })).score(held);
  lines.push(`fedavg 0.2:scale:-10: ${scaled.toFixed(3)}`, `fedavg 0.2:nan: ${nan.toFixed(3)} (NaN updates are dropped before any rule)`);
  assert.ok(scaled < clean - 0.2, `fedavg under ×−10: ${scaled}`);
  console.log(lines.join('\n'));
});

test('DP: ε is the accountant’s for (q, σ, rounds, δ); client-side clipping bounds every update the server receives', async () => {
  const dp = { clip: 0.5, noiseMultiplier: 1.1, delta: 1e-5 };
  const rounds = 5;
  const model = await fit({ clients: 20, fraction: 0.25, rounds, dp });
  const info = model.fitInfo!.federated!;
  const direct = new RdpAccountant();
  for (let round = 1; round <= rounds; round++) {
    direct.step({ sampleRate: 5 / 20, noiseMultiplier: 1.1 });
    assert.equal(info.history[round - 1]!.epsilon, direct.epsilon(1e-5).epsilon, `round ${round}`);
  }
  assert.equal(info.epsilon, direct.epsilon(1e-5).epsilon);
  // The dp-local transform is rebuilt from its spec on the worker threads: the same seeded noise, the same model.
  const threaded = await fit({ clients: 20, fraction: 0.25, rounds, dp }, 'threads');
  assert.deepEqual(weightsOf(threaded), weightsOf(model));
  assert.equal(info.delta, 1e-5);
  assert.ok(info.epsilon! > 0 && info.epsilon! < 50, `ε ${info.epsilon}`);
  // No noise: what arrives at the server is the clipped delta itself, of norm ≤ C; unclipped it is larger.
  const clipped = (await fit({ rounds: 3, dp: { ...dp, noiseMultiplier: 0 } })).fitInfo!.federated!;
  const plain = (await fit({ rounds: 3, dp: { ...dp, clip: 1e6, noiseMultiplier: 0 } })).fitInfo!.federated!;
  for (const round of clipped.history) assert.ok(round.maxUpdateNorm! <= 0.5 + 1e-12, `round ${round.round}: ${round.maxUpdateNorm}`);
  assert.ok(plain.history[0]!.maxUpdateNorm! > 0.5, `unclipped norm ${plain.history[0]!.maxUpdateNorm}`);
  // Server-side: the same accounting, the model still learns with little noise.
  const server = await fit({ rounds: 10, dp: { clip: 5, noiseMultiplier: 0.1, delta: 1e-5, mode: 'server' } });
  assert.ok(server.fitInfo!.federated!.epsilon! > 0);
  assert.ok(server.score(held) > 0.8, `server-side DP accuracy ${server.score(held)}`);
  await assert.rejects(fit({ aggregator: 'median', dp }), /DP-FedAvg/);
  console.log(
    `DP q=0.25 σ=1.1 δ=1e-5: ε after ${rounds} rounds ${info.epsilon!.toFixed(4)}; accuracy ${model.score(held).toFixed(3)}; server-side σ=0.1 C=5 accuracy ${server.score(held).toFixed(3)}`,
  );
});

test('secure aggregation gives plain fedavg’s model within the fixed-point precision with 20–40% of clients dropping after sharing keys; below the threshold a round applies no step', async () => {
  const options: FederatedOptions = { clients: 10, fraction: 1, rounds: 4, dropout: 0.2 };
  const plain = await fit(options);
  const secure = await fit({ ...options, secureAggregation: true }, 'threads');
  const a = weightsOf(plain);
  const b = weightsOf(secure);
  // Each value is rounded to 2^−22 (fixed point for ≤ 16 clients): the mean is off by ≤ 1.2e−7 per coordinate per round.
  const gap = Math.max(...a.map((v, j) => Math.abs(v - b[j]!)));
  assert.ok(gap < 1e-6, `largest weight difference ${gap}`);
  const info = secure.fitInfo!.federated!;
  assert.deepEqual(
    info.history.map((r) => r.dropped),
    [3, 4, 3, 2],
    'the seeded dropouts, 20–40% of the sampled clients',
  );
  assert.deepEqual(
    info.history.map((r) => r.participants),
    plain.fitInfo!.federated!.history.map((r) => r.participants),
  );
  // 30%: round 3 keeps 5 of 10 clients, under the threshold of 6 (a strict majority): no step, unlike plain fedavg.
  const harsh: FederatedOptions = { ...options, dropout: 0.3 };
  const plainHarsh = (await fit(harsh)).fitInfo!.federated!.history.map((r) => r.participants);
  const secureHarsh = (await fit({ ...harsh, secureAggregation: true })).fitInfo!.federated!.history.map((r) => r.participants);
  assert.deepEqual(plainHarsh, [7, 6, 5, 6]);
  assert.deepEqual(secureHarsh, [7, 6, 0, 6]);
  await assert.rejects(fit({ ...options, secureAggregation: true, aggregator: 'median' }), /never an individual update/);
  console.log(
    `secure vs plain fedavg: largest weight difference ${gap.toExponential(2)}; bytesUp ${info.bytesUp} vs plaintext ${plain.fitInfo!.federated!.bytesUp}`,
  );
});

test('secure aggregation bytes up per client ≤ 2× the plaintext update for an MLP of a few thousand parameters', async () => {
  const options: FederatedOptions = { placement: 'inline', clients: 8, fraction: 1, rounds: 1, seed: 3 };
  const mlp = { hidden: [256], epochs: 1, batchSize: 32, precision: 'float64' };
  const plain = await createModel('mlp', mlp).fit(train, { paradigm: 'federated', federated: options });
  const secure = await createModel('mlp', mlp).fit(train, { paradigm: 'federated', federated: { ...options, secureAggregation: true } });
  const ratio = secure.fitInfo!.federated!.bytesUp / plain.fitInfo!.federated!.bytesUp;
  const size = (plain.state as { params: Float64Array }).params.length;
  console.log(
    `MLP ${size} parameters, 8 clients: SecAgg bytes up ${secure.fitInfo!.federated!.bytesUp}, plaintext ${plain.fitInfo!.federated!.bytesUp}, ratio ${ratio.toFixed(3)}`,
  );
  assert.ok(size > 1000);
  assert.ok(ratio <= 2, `ratio ${ratio}`);
});
