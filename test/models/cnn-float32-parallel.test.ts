// The float32 CNN (WASM layer kernels, workspaces in each worker thread's own WASM memory) trains
// the same model with 2 worker threads as sequentially: same global batches under allreduce, so
// only float32 summation order differs. Under threads each worker's batch size varies from step to
// step (it takes the rows of the global batch that fall in its shard), which exercises the
// capacity-keeping `reuse` of layer buffers. Also: a float32 run stays close to the float64 one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { relativeDifference } from '../support/difference.js';
import { CNN } from '../../src/models/neural/cnn.js';
import { barImages } from '../nn/data.js';

const PARAMS = {
  filters: [4, 8],
  kernelSize: 3,
  padding: 1,
  dense: [16],
  epochs: 2,
  batchSize: 16,
  optimizer: 'sgd' as const,
  lr: 0.05,
  momentum: 0.9,
};

test('float32 cnn: 2 worker threads train the sequential weights (within float32 rounding)', async () => {
  const data = barImages(200, 5, 8);
  const sequential = await new CNN(PARAMS).fit(data);
  const threads = await new CNN(PARAMS).fit(data, { paradigm: 'threads', workers: 2 });
  const difference = relativeDifference(threads.state.params, sequential.state.params);
  // float32's rounding unit is 6e-8; after 26 SGD steps the measured difference is 6.6e-8 (and
  // 7.7e-8 float32 vs float64, 915 weights). A wrong batch or a dropped shard moves weights by > 1e-3.
  assert.ok(difference < 1e-5, `relative difference ${difference}`);
  const float64 = await new CNN({ ...PARAMS, precision: 'float64' }).fit(data);
  const drift = relativeDifference(sequential.state.params, float64.state.params);
  assert.ok(drift < 1e-4, `float32 vs float64 relative difference ${drift}`);
});
