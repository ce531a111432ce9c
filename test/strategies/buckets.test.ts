// Tensor fusion (strategies/buckets.ts): how tensors are grouped into buckets, and that bucketing
// changes nothing for a linear codec — none and fp16 give the same MLP bucketed and unbucketed, bit
// for bit, under threads×3 (three ranks, so the rank-ordered sum is exercised) — while top-k selects
// per bucket and so learns a different model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { fuseBuckets } from '../../src/strategies/buckets.js';
import { ConfigError } from '../../src/core/errors.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { MLP } from '../../src/models/neural/mlp.js';

test('fuseBuckets: small tensors fused up to the cap, a tensor above it alone and never split, the whole vector covered', () => {
  // The default CNN's tensors: conv 800 + 32, conv 51200 + 64, dense 131072 + 128, output 1280 + 10.
  const tensors = [800, 32, 51200, 64, 131072, 128, 1280, 10];
  const n = tensors.reduce((a, b) => a + b, 0);
  assert.deepEqual(fuseBuckets(tensors, n, 4, 65536), [
    { start: 0, end: 832 },
    { start: 832, end: 52032 }, // the 51200-value kernel alone: above the 16384-value cap
    { start: 52032, end: 52096 }, // its bias: the next tensor would overflow the bucket
    { start: 52096, end: 183168 },
    { start: 183168, end: 184586 },
  ]);
  // A cap above the whole vector: one bucket; no tensor list: one bucket whatever the cap.
  assert.deepEqual(fuseBuckets(tensors, n, 4, 4 * n), [{ start: 0, end: n }]);
  assert.deepEqual(fuseBuckets(undefined, n, 4, 16), [{ start: 0, end: n }]);
  // A cap below every tensor: one bucket per tensor.
  assert.equal(fuseBuckets(tensors, n, 8, 8).length, tensors.length);
  assert.throws(() => fuseBuckets([3, 4], 8, 4, 64), ConfigError);
  assert.throws(() => fuseBuckets(tensors, n, 4, 0), ConfigError);
});

const data = syntheticGenerator({ kind: 'classification', rows: 1200, cols: 30, classes: 3, seed: 5, separation: 1.5 }).generate();

async function fit(options: { compression?: string; bucketBytes?: number }): Promise<{ params: Float64Array; bytesSent: number }> {
  const model = await new MLP({ hidden: [40, 20], epochs: 2, batchSize: 60, seed: 2 }).fit(data, {
    paradigm: 'threads',
    workers: 3,
    ...options,
  });
  return { params: Float64Array.from(model.state.params), bytesSent: model.fitInfo!.comm[0]!.bytesSent };
}

test('bucketed all-reduce: none and fp16 give the unbucketed parameters bit for bit (threads×3); top-k selects per bucket', async () => {
  // The MLP's tensors: 30·40 + 40, 40·20 + 20, 20·3 + 3 values; 2 kB buckets split them into four.
  for (const compression of [undefined, 'fp16']) {
    const options = compression === undefined ? {} : { compression };
    const whole = await fit(options);
    const bucketed = await fit({ ...options, bucketBytes: 2048 });
    assert.deepEqual(bucketed.params, whole.params, `${compression ?? 'none'}: bucketing changed the model`);
    // More, smaller collectives: a few envelopes more, the same payload.
    assert.ok(bucketed.bytesSent >= whole.bytesSent, `${compression ?? 'none'}: ${bucketed.bytesSent} < ${whole.bytesSent}`);
  }
  const whole = await fit({ compression: 'topk16:0.05' });
  const bucketed = await fit({ compression: 'topk16:0.05', bucketBytes: 2048 });
  assert.notDeepEqual(bucketed.params, whole.params, 'top-k per bucket is not top-k of the whole');
});
