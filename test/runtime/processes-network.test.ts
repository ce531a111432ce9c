// A network profile (FitOptions.network) routes every rank-to-rank connection of a processes fit
// through a delaying proxy: the model is the same bit for bit, and the fit takes at least the time
// the added latency implies. Other paradigms and malformed profiles are refused with a ConfigError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { createModel } from '../../src/models/registry.js';
import type { FitOptions } from '../../src/models/paradigm.js';
import { bitwiseEqual, caseData } from './model-cases.js';

const LATENCY_MS = 40;
const make = (): ReturnType<typeof createModel> => createModel('logistic-regression', { solver: 'sgd', epochs: 1, batchSize: 16, lr: 0.1 });

test('40 ms of added latency: the same model bit for bit, and at least one latency per collective of wall time', async () => {
  const data = caseData('binary');
  const plain = await make().fit(data, { paradigm: 'processes', workers: 2, timeoutMs: 30_000 });
  const delayed = await make().fit(data, { paradigm: 'processes', workers: 2, timeoutMs: 30_000, network: { latencyMs: LATENCY_MS } });
  assert.ok(bitwiseEqual(delayed.state, plain.state), 'the proxy changed the trained model');
  const info = delayed.fitInfo!;
  const collectives = info.comm[0]!.collectives;
  assert.ok(collectives >= 5, `expected several collectives, got ${collectives}`);
  // Lower bound, not a speed claim: rank r ends collective k+1 only after a message the other rank sent
  // after ending collective k has crossed a proxy (≥ LATENCY_MS), so the run lasts ≥ collectives × latency.
  // The 0.9 allows for a timer firing a millisecond early.
  const boundSeconds = (collectives * LATENCY_MS * 0.9) / 1000;
  assert.ok(
    info.seconds >= boundSeconds,
    `wall ${info.seconds} s < ${boundSeconds} s implied by ${collectives} collectives × ${LATENCY_MS} ms`,
  );
});

test('a network profile is refused outside processes and when malformed, naming the field', async () => {
  const data = caseData('binary', 60);
  const refused = async (options: FitOptions, field: string): Promise<void> => {
    await assert.rejects(make().fit(data, options), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.field, field, error.message);
      return true;
    });
  };
  await refused({ paradigm: 'threads', workers: 2, network: { latencyMs: 5 } }, 'network');
  await refused({ network: { latencyMs: 5 } }, 'network');
  await refused({ paradigm: 'processes', workers: 2, network: { latencyMs: -1 } }, 'network.latencyMs');
  await refused({ paradigm: 'processes', workers: 2, network: { bandwidthMbit: 0 } }, 'network.bandwidthMbit');
  await refused({ paradigm: 'processes', workers: 2, network: { latency: 5 } as never }, 'network.latency');
});
