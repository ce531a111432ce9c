// A rank's result crosses the IPC channel as one message. The worker used to post it without waiting
// and then disconnect, and closing the channel dropped a write still in flight: with a 3.7M-parameter
// MLP (tens of MB on the wire) every fit failed with "rank 0 exited with code 0 before reporting a
// result" (4 of 4, with the other core busy). The fit must arrive whole and equal the threads fit
// (within float32 summation order: threads split each batch evenly, processes by shard).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import { createModel } from '../../src/models/registry.js';
import { relativeDifference } from '../support/difference.js';

test('processes×2: a model with 3.7M parameters comes back whole, equal to threads×2', async () => {
  const { train } = await loadData('synthetic:classification?rows=200&cols=784&seed=1');
  // Plain SGD: Adam's first steps are ±lr wherever a gradient is tiny, whatever its rounding.
  const params = { hidden: [2048, 1024], epochs: 1, batchSize: 100, seed: 3, optimizer: 'sgd', lr: 0.1 };
  const processes = createModel('mlp', params);
  await processes.fit(train, { paradigm: 'processes', workers: 2, timeoutMs: 60_000 });
  const threads = createModel('mlp', params);
  await threads.fit(train, { paradigm: 'threads', workers: 2 });
  const state = (processes as unknown as { state: { params: Float64Array } }).state;
  assert.ok(state.params.length > 3_700_000, `parameters: ${state.params.length}`);
  const difference = relativeDifference(state.params, (threads as unknown as { state: { params: Float64Array } }).state.params);
  // A lost or truncated chunk of the result would leave zeros or garbage: far above float32 rounding.
  assert.ok(difference < 1e-5, `processes vs threads: relative difference ${difference}`);
});
