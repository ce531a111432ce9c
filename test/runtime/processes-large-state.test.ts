// A rank's result crosses the IPC channel as one message. The worker used to post it without waiting
// and then disconnect, and closing the channel dropped a write still in flight: with a 3.7M-parameter
// MLP (tens of MB on the wire) every fit failed with "rank 0 exited with code 0 before reporting a
// result" (4 of 4, with the other core busy). The fit must arrive whole and equal the threads fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import { createModel } from '../../src/models/registry.js';
import { bitwiseEqual } from './model-cases.js';

test('processes×2: a model with 3.7M parameters comes back whole, equal to threads×2', async () => {
  const { train } = await loadData('synthetic:classification?rows=200&cols=784&seed=1');
  const params = { hidden: [2048, 1024], epochs: 1, batchSize: 100, seed: 3 };
  const processes = createModel('mlp', params);
  await processes.fit(train, { paradigm: 'processes', workers: 2, timeoutMs: 60_000 });
  const threads = createModel('mlp', params);
  await threads.fit(train, { paradigm: 'threads', workers: 2 });
  const state = (processes as unknown as { state: { params: ArrayLike<number> } }).state;
  assert.ok(state.params.length > 3_700_000, `parameters: ${state.params.length}`);
  assert.ok(bitwiseEqual(state, (threads as unknown as { state: unknown }).state));
});
