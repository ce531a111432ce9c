// Dropout and hybrid pipelines against sequential training, on real worker threads (float64):
// dropout masks are a function of (seed, epoch, row key, layer, unit), so sequential, data-parallel
// and pipeline training — GPipe, 1F1B, and R replicas of a pipeline — train the same model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { relativeDifference } from '../support/difference.js';
import { CNN } from '../../src/models/neural/cnn.js';
import { MLP } from '../../src/models/neural/mlp.js';
import { NEURAL_DEFAULTS } from '../../src/models/neural/options.js';
import type { FitOptions } from '../../src/models/paradigm.js';
import { planStages } from '../../src/models/neural/pipeline/trainer.js';
import { barImages, xorData } from '../nn/data.js';

/**
 * |run − sequential| / max(1, max |param|). Float64 runs differ from sequential only in the order
 * of additions (micro-batch, replica and rank sums): measured 1.1e-16 to 1.7e-16 for every run here
 * (float32 hybrid: 1e-8). Wrong dropout masks move the weights far more: with the stage networks'
 * dropout layers left at their stage-local offset (no `placeAt`) these runs differed by 0.05–0.15.
 */
const TOLERANCE = 1e-10;

test('mlp with dropout after every hidden layer: a 2-stage pipeline (GPipe and 1F1B) equals sequential', async () => {
  const data = xorData(200, 21);
  const params = { hidden: [12, 10], dropout: 0.3, epochs: 2, batchSize: 20, lr: 0.01, precision: 'float64' as const };
  // The test only proves something if a dropout layer sits on stage 1, whose parameters start past 0.
  const layers = new MLP(params).architecture(data.cols, 2).layers;
  const { ranges, plans } = planStages(layers, [data.cols], { ...NEURAL_DEFAULTS, ...params }, 2);
  assert.ok(layers.slice(ranges[1]!.start, ranges[1]!.end).some((spec) => spec.type === 'dropout') && plans[1]!.offset > 0);

  const sequential = await new MLP(params).fit(data);
  const withoutDropout = await new MLP({ ...params, dropout: 0 }).fit(data);
  assert.ok(relativeDifference(withoutDropout.state.params, sequential.state.params) > 1e-3, 'dropout changes the model');
  for (const pipeline of [{}, { microBatches: 5, schedule: '1f1b' as const }]) {
    const model = await new MLP(params).fit(data, { paradigm: 'threads', workers: 2, pipeline });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `pipeline ${JSON.stringify(pipeline)}: relative difference ${difference}`);
  }
});

test('cnn with dropout: sequential = data-parallel over 2 and 3 threads = 2-stage pipeline (GPipe, 1F1B) = 2 replicas × 2 stages', async () => {
  const data = barImages(96, 22);
  const params = {
    filters: [4],
    kernelSize: 3,
    dense: [8],
    dropout: 0.25,
    epochs: 2,
    batchSize: 24,
    optimizer: 'sgd' as const,
    lr: 0.05,
    precision: 'float64' as const,
  };
  const sequential = await new CNN(params).fit(data);
  const runs: [FitOptions, number][] = [
    [{ strategy: 'allreduce' }, 2],
    [{ strategy: 'allreduce' }, 3],
    [{ pipeline: {} }, 2],
    [{ pipeline: { microBatches: 3, schedule: '1f1b' } }, 2],
    [{ pipeline: { replicas: 2 } }, 4],
  ];
  for (const [options, workers] of runs) {
    const model = await new CNN(params).fit(data, { paradigm: 'threads', workers, ...options });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `${JSON.stringify(options)} on ${workers} threads: relative difference ${difference}`);
  }
});

test('hybrid: 2 replicas × 2 stages and 3 replicas × 1 stage, with gradient clipping and Adam, equal sequential', async () => {
  const data = xorData(150, 23);
  // 150 rows in batches of 32: the last batch (22 rows) splits unevenly over replicas and micro-batches.
  const params = { hidden: [10, 6], epochs: 2, batchSize: 32, lr: 0.02, clipNorm: 0.5, dropout: 0.1, precision: 'float64' as const };
  const sequential = await new MLP(params).fit(data);
  for (const [pipeline, workers] of [
    [{ microBatches: 3, schedule: '1f1b', replicas: 2 }, 4],
    [{ replicas: 3 }, 3],
  ] as const) {
    const model = await new MLP(params).fit(data, { paradigm: 'threads', workers, pipeline });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `pipeline ${JSON.stringify(pipeline)} on ${workers} threads: relative difference ${difference}`);
    // Every replica's stages send their gradients to the group leader: traffic on all ranks.
    assert.ok(model.fitInfo!.comm.every((stats) => stats.bytesSent > 0));
  }
});
