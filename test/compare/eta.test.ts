// The live ETA: each remaining run at its own cell's mean, unseen cells at the overall mean; the
// federated fits after the runs counted too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { etaText, formatDuration, remainingFederatedSeconds, remainingSeconds } from '../../src/compare/eta.js';
import { expandFederated } from '../../src/compare/federated-cells.js';
import type { FederatedResult } from '../../src/compare/federated-run.js';
import { failedFederated } from '../../src/compare/federated-run.js';
import { parseMatrix } from '../../src/compare/matrix.js';
import type { CompareEvent } from '../../src/compare/runner.js';
import { runMatrix } from '../../src/compare/runner.js';
import { session } from './records.js';

test("remaining runs are estimated per cell, in the runner's order (repeat by repeat over the cells)", () => {
  const cells = ['fast', 'slow', 'new'];
  const measured = new Map([
    ['fast', [1, 3]],
    ['slow', [10]],
  ]);
  // 2 repeats = 6 runs; runs 1–3 done or running; 4 = fast (2), 5 = slow (10), 6 = new (the mean of 1, 3, 10)
  assert.equal(remainingSeconds(cells, 6, 4, measured), 2 + 10 + 14 / 3);
  assert.equal(remainingSeconds(cells, 6, 7, measured), 0);
  assert.equal(remainingSeconds(cells, 6, 1, new Map()), null);
});

test('durations read as a person would say them', () => {
  assert.equal(formatDuration(41.6), '42 s');
  assert.equal(formatDuration(185), '3 min 05 s');
  assert.equal(formatDuration(3720), '1 h 02 min');
});

test('federated fits after the runs: each at its own cell mean, else the federated mean; untimed until one has run, and said so', () => {
  const keys = ['avg', 'avg', 'sgd', 'sgd'];
  assert.equal(remainingFederatedSeconds(keys, 0, new Map()), null);
  // 1 done (avg: 4 s): one more avg (4) and two sgd at the federated mean (4)
  assert.equal(remainingFederatedSeconds(keys, 1, new Map([['avg', [4]]])), 12);
  assert.equal(remainingFederatedSeconds(keys, 3, new Map([['avg', [4, 6]], ['sgd', [20]]])), 20);
  assert.equal(remainingFederatedSeconds(keys, 4, new Map([['avg', [4]]])), 0);
  assert.equal(etaText(65, { left: 4, seconds: null }), ' · about 1 min 05 s left + 4 federated fits (not timed yet)');
  assert.equal(etaText(0, { left: 1, seconds: null }), ' · 1 federated fit left (not timed yet)');
  assert.equal(etaText(0, { left: 3, seconds: 12 }), ' · about 12 s left');
  assert.equal(etaText(30, { left: 3, seconds: 12 }), ' · about 42 s left');
  assert.equal(etaText(30, { left: 0, seconds: null }), ' · about 30 s left');
  assert.equal(etaText(0, { left: 0, seconds: null }), '');
});

test("the runner's start event lists the federated fits still to run (a set's cells × repeats), resumed fits left out", async () => {
  const matrix = parseMatrix({
    name: 'eta-federated',
    repeats: 2,
    federated: [
      {
        model: 'logistic-regression',
        params: { solver: 'sgd', epochs: 1 },
        data: 'synthetic:classification?rows=200&cols=4&seed=1',
        target: 0.7,
        rounds: 2,
        aggregators: ['fedavg', 'fedsgd:0.5'],
        partitions: ['iid'],
        clients: [4],
        fractions: [0.5],
        localEpochs: [1],
      },
    ],
  });
  const [avg, sgd] = expandFederated(matrix.federated ?? []).map(({ cell }) => cell);
  const startOf = async (resumed: FederatedResult[]): Promise<Extract<CompareEvent, { type: 'start' }>> => {
    const controller = new AbortController();
    let start: Extract<CompareEvent, { type: 'start' }> | null = null;
    const result = await runMatrix(matrix, {
      signal: controller.signal,
      // Stop at once: only the plan is wanted, not the fits.
      onProgress: (event) => {
        if (event.type === 'start') {
          start = event;
          controller.abort();
        }
      },
      ...(resumed.length === 0 ? {} : { resume: { session: session(), records: [], federated: resumed } }),
    });
    assert.equal(result.aborted, true);
    return start!;
  };
  const fresh = await startOf([]);
  const repeats = matrix.federated![0]!.repeats;
  assert.deepEqual(fresh.federatedFits, [...Array<string>(repeats).fill(avg!.key), ...Array<string>(repeats).fill(sgd!.key)]);
  const resumed = await startOf([failedFederated(avg!, 0, 'stored')]);
  assert.deepEqual(resumed.federatedFits, [...Array<string>(repeats - 1).fill(avg!.key), ...Array<string>(repeats).fill(sgd!.key)]);
});
