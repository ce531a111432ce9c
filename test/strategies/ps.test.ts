// The parameter-server strategies under the processes paradigm (real processes, TCP on loopback):
// - ps-sync (BSP) is the allreduce update in another shape — the same global batches, server sums
//   in rank order — so it equals sequential within the equivalence tolerance;
// - ps-async and ps-ssp:2 let workers step at their own pace on their own shards, reading possibly
//   stale parameters; on a linearly separable problem they reach sequential's accuracy within one
//   percentage point (the bar), and every rank ends with the same parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { createModel } from '../../src/models/registry.js';
import { parseConsistency } from '../../src/strategies/parameter-server.js';
import { createStrategy, isStrategyName } from '../../src/strategies/index.js';
import { LocalCommunicator } from '../../src/comm/local.js';
import { caseData, stateDifference } from '../runtime/model-cases.js';
import { RELATIVE_TOLERANCE } from '../runtime/threads-equivalence.js';

const params = { solver: 'sgd', epochs: 4, batchSize: 32, lr: 0.1 };

test('strategy names: ps-sync, ps-async and the ps-ssp:<s> family parse; bad staleness is a ConfigError', () => {
  assert.deepEqual(parseConsistency('ps-ssp:3'), { kind: 'ssp', staleness: 3 });
  assert.ok(isStrategyName('ps-ssp:0') && isStrategyName('ps-async') && isStrategyName('ps-sync'));
  assert.ok(!isStrategyName('ps-ssp:x'));
  assert.throws(() => parseConsistency('ps-ssp:-1'), { name: 'ConfigError' });
  assert.equal(createStrategy('ps-ssp:2', { comm: new LocalCommunicator() }).synchronous, false);
  assert.equal(createStrategy('ps-sync', { comm: new LocalCommunicator() }).synchronous, true);
});

test('ps-sync with 2 processes equals sequential SGD within the equivalence tolerance', async () => {
  const data = caseData('binary');
  const sequential = (await createModel('logistic-regression', params).fit(data)).state;
  const model = await createModel('logistic-regression', params).fit(data, {
    paradigm: 'processes',
    workers: 2,
    strategy: 'ps-sync',
    timeoutMs: 30_000,
  });
  const { worst, where } = stateDifference(model.state, sequential);
  assert.ok(worst <= RELATIVE_TOLERANCE, `relative difference ${worst} at ${where}`);
  assert.equal(model.fitInfo?.strategy, 'ps-sync');
});

for (const [strategy, workers] of [
  ['ps-async', 3],
  ['ps-ssp:2', 2],
] as const) {
  test(`${strategy} with ${workers} processes reaches sequential accuracy within 1 point on separable data`, async () => {
    const data = caseData('binary', 1200);
    const sequential = await createModel('logistic-regression', params).fit(data);
    const model = await createModel('logistic-regression', params).fit(data, {
      paradigm: 'processes',
      workers,
      strategy,
      timeoutMs: 30_000,
    });
    const reference = sequential.score(data);
    const reached = model.score(data);
    assert.ok(reference > 0.95, `sequential accuracy ${reference}: the problem is separable`);
    assert.ok(reached >= reference - 0.01, `${strategy}: accuracy ${reached} vs sequential ${reference}`);
    assert.ok(
      model.fitInfo!.comm.every((stats) => stats.messagesSent > 0),
      'every worker pushed over TCP',
    );
  });
}
