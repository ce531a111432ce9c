// The allreduce strategy carries a float32 model's gradients as float32 (models/solvers/sgd.ts tells it the
// precision): half the bytes of a float64 model of the same shape, and still the sequential model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { MLP } from '../../src/models/neural/mlp.js';
import { caseData } from '../runtime/model-cases.js';
import { relativeDifference } from '../support/difference.js';

const params = { hidden: [64], epochs: 1, batchSize: 32, seed: 5 };

test("allreduce sends a float32 MLP's gradients as float32: about half the bytes of the float64 MLP, same model as sequential", async () => {
  const data = caseData('multiclass');
  const bytes = async (precision: 'float32' | 'float64'): Promise<{ sent: number; params: Float64Array }> => {
    const model = await new MLP({ ...params, precision }).fit(data, { paradigm: 'threads', workers: 2 });
    return { sent: model.fitInfo!.comm[0]!.bytesSent, params: model.state.params };
  };
  const single = await bytes('float32');
  const double = await bytes('float64');
  // 19 steps of (4·64 + 64 + 64·3 + 3) = 515 gradients; the few small float64 collectives (row counts,
  // classes, the loss) are the same in both, so the ratio sits just above one half.
  const ratio = single.sent / double.sent;
  assert.ok(ratio > 0.5 && ratio < 0.52, `float32 / float64 bytes sent by rank 0: ${single.sent} / ${double.sent} = ${ratio}`);
  const sequential = (await new MLP(params).fit(data)).state.params;
  const difference = relativeDifference(single.params, sequential);
  assert.ok(difference < 1e-6, `threads×2 float32 vs sequential: relative difference ${difference}`);
});
