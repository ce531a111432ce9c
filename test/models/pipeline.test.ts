// Pipeline (GPipe) model parallelism under real worker threads (and once under processes): MLP, CNN and LSTM equal sequential
// training with the same global batch (micro-batch gradient accumulation is the same mean
// gradient), the bytes that cross stages are exactly the activations and gradients, and a model
// without a pipeline trainer refuses the fit option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { relativeDifference } from '../support/difference.js';
import { encodeHead } from '../../src/comm/shm/mailbox.js';
import { ConfigError } from '../../src/core/errors.js';
import type { Dataset } from '../../src/data/dataset.js';
import { CNN } from '../../src/models/neural/cnn.js';
import { MLP } from '../../src/models/neural/mlp.js';
import { NEURAL_DEFAULTS } from '../../src/models/neural/options.js';
import { planStages } from '../../src/models/neural/pipeline/trainer.js';
import { microBatchSizes } from '../../src/models/neural/pipeline/schedule.js';
import { RNN } from '../../src/models/neural/rnn.js';
import { formatPipeline, parsePipelineFlag, resolvePipeline } from '../../src/models/neural/pipeline/settings.js';
import { KMeans } from '../../src/models/kmeans/kmeans.js';
import { LogisticRegression } from '../../src/models/linear/logistic-regression.js';
import { createStrategy, isStrategyName } from '../../src/strategies/index.js';
import { LocalCommunicator } from '../../src/comm/local.js';
import { barImages, firstStepSequences, xorData } from '../nn/data.js';

/**
 * |pipeline − sequential| / max(1, max |param|). Both run float64; they differ only in the order of
 * additions (micro-batch sums, then summed over micro-batches in reverse order): measured 1.1e-16
 * for both tests below (float32 runs: 8e-9 MLP, 3e-8 CNN); 1e-10 still catches any real difference (a wrong batch, a dropped
 * micro-batch or a stage stepping twice moves weights by ≥ 1e-4).
 */
const TOLERANCE = 1e-10;

test('mlp: pipeline over 2 and 3 threads gives the sequential weights (float64, same global batches)', async () => {
  const data = xorData(240, 11);
  const params = { hidden: [12, 8], epochs: 2, batchSize: 20, lr: 0.01, precision: 'float64' as const };
  const sequential = await new MLP(params).fit(data);
  for (const workers of [2, 3]) {
    const model = await new MLP(params).fit(data, { paradigm: 'threads', workers, pipeline: {} });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `${workers} stages: relative difference ${difference}`);
    assert.deepEqual(model.predict(data), sequential.predict(data));
    assert.deepEqual(model.fitInfo?.pipeline, { microBatches: 4, schedule: 'gpipe', replicas: 1 });
    assert.equal(model.fitInfo?.strategy, 'allreduce');
  }
});

test('cnn: pipeline over 2 and 3 threads gives the sequential weights (SGD + momentum, float64)', async () => {
  const data = barImages(120, 12);
  const params = {
    filters: [4],
    kernelSize: 3,
    dense: [8],
    epochs: 2,
    batchSize: 24,
    optimizer: 'sgd' as const,
    lr: 0.05,
    precision: 'float64' as const,
  };
  const sequential = await new CNN(params).fit(data);
  for (const workers of [2, 3]) {
    const model = await new CNN(params).fit(data, { paradigm: 'threads', workers, pipeline: {} });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `${workers} stages: relative difference ${difference}`);
  }
});

test('rnn (two stacked LSTM layers + dense): pipeline over 2 and 3 threads gives the sequential weights', async () => {
  const data = firstStepSequences(96, 18);
  const params = { cell: 'lstm' as const, hidden: 6, layers: 2, epochs: 2, batchSize: 16, precision: 'float64' as const };
  const sequential = await new RNN(params).fit(data);
  for (const workers of [2, 3]) {
    const model = await new RNN(params).fit(data, { paradigm: 'threads', workers, pipeline: {} });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `${workers} stages: relative difference ${difference}`);
  }
});

test('mlp: pipeline over 2 processes (ZeroMQ, GPipe) and 2 replicas × 2 stages over 4 processes (1F1B, dropout) give the sequential weights too', async () => {
  const data = xorData(160, 17);
  const params = { hidden: [8, 6], epochs: 2, batchSize: 16, dropout: 0.2, precision: 'float64' as const };
  const sequential = await new MLP(params).fit(data);
  for (const [pipeline, workers] of [
    [{}, 2],
    [{ microBatches: 3, schedule: '1f1b', replicas: 2 }, 4],
  ] as const) {
    const model = await new MLP(params).fit(data, { paradigm: 'processes', workers, pipeline });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `pipeline ${JSON.stringify(pipeline)} over ${workers} processes: relative difference ${difference}`);
  }
});

/**
 * Bytes rank `rank` sends per epoch in the pipeline: one activation message per micro-batch to the
 * next stage, one gradient message per micro-batch to the previous one (float64: 8 bytes a value),
 * and from the last stage the epoch's loss tally to rank 0; each message also carries its frame head.
 */
function expectedEpochBytes(
  data: Dataset,
  params: { hidden: number[]; batchSize: number },
  stages: number,
  microBatches: number,
  rank: number,
): { bytes: number; messages: number } {
  const layers = new MLP(params).architecture(data.cols, 2).layers;
  const { plans } = planStages(layers, [data.cols], { ...NEURAL_DEFAULTS, ...params, precision: 'float64' }, stages);
  const plan = plans[rank]!;
  const outValues = plan.outputShape.reduce((a, b) => a * b, 1);
  const inValues = plan.inputShape.reduce((a, b) => a * b, 1);
  const frame = (tag: string, values: number): number => encodeHead({ tag, arrays: [new Float64Array(values)] }).length + 8 * values;
  const sizes: number[] = []; // bytes of every message sent, frame head included
  for (let start = 0; start < data.rows; start += params.batchSize) {
    for (const n of microBatchSizes(Math.min(params.batchSize, data.rows - start), microBatches)) {
      if (rank < stages - 1) sizes.push(frame('pipeline-activation', n * outValues));
      if (rank > 0) sizes.push(frame('pipeline-gradient', n * inValues));
    }
  }
  if (rank === stages - 1) sizes.push(frame('pipeline-loss', 2));
  return { bytes: sizes.reduce((a, b) => a + b, 0), messages: sizes.length };
}

test('bytes sent per epoch are exactly the activations and gradients crossing stages (2 and 3 stages)', async () => {
  const data = xorData(90, 13);
  const params = { hidden: [7, 5], batchSize: 16, precision: 'float64' as const };
  for (const workers of [2, 3]) {
    const run = async (epochs: number): Promise<{ bytesSent: number; messagesSent: number }[]> =>
      (await new MLP({ ...params, epochs }).fit(data, { paradigm: 'threads', workers, pipeline: { microBatches: 3 } })).fitInfo!.comm;
    // One epoch more; setup (row and label gathering) and the final assembly are the same in both runs.
    const [one, two] = [await run(1), await run(2)];
    for (let rank = 0; rank < workers; rank++) {
      const expected = expectedEpochBytes(data, params, workers, 3, rank);
      assert.equal(two[rank]!.bytesSent - one[rank]!.bytesSent, expected.bytes, `${workers} stages, rank ${rank}: bytes of one epoch`);
      assert.equal(
        two[rank]!.messagesSent - one[rank]!.messagesSent,
        expected.messages,
        `${workers} stages, rank ${rank}: messages of one epoch`,
      );
    }
  }
});

test('pipeline options: defaults, the --pipeline grammar, and a ConfigError naming the field for bad values', () => {
  assert.deepEqual(resolvePipeline({}), { microBatches: 4, schedule: 'gpipe', replicas: 1 });
  assert.deepEqual(resolvePipeline({ schedule: '1f1b', replicas: 2 }, 4), { microBatches: 4, schedule: '1f1b', replicas: 2 });
  assert.deepEqual(parsePipelineFlag('default'), {});
  assert.deepEqual(parsePipelineFlag('8'), { microBatches: 8 });
  assert.deepEqual(parsePipelineFlag('8:1f1b'), { microBatches: 8, schedule: '1f1b' });
  assert.deepEqual(parsePipelineFlag('1f1b:replicas=2:6'), { microBatches: 6, schedule: '1f1b', replicas: 2 });
  assert.equal(formatPipeline(resolvePipeline(parsePipelineFlag('8:1f1b:replicas=2'))), '8:1f1b:replicas=2');
  assert.equal(formatPipeline(resolvePipeline({})), '4:gpipe');
  const refused = (run: () => unknown, field: string, pattern: RegExp): void =>
    assert.throws(run, (e: unknown) => e instanceof ConfigError && e.field === field && pattern.test(e.message), field);
  refused(() => parsePipelineFlag('8:2f2b'), 'pipeline', /unknown part '2f2b'/);
  refused(() => resolvePipeline({ microBatches: 0 }), 'pipeline.microBatches', /whole number ≥ 1, got 0/);
  refused(() => resolvePipeline({ microBatches: 2.5 }), 'pipeline.microBatches', /got 2.5/);
  refused(() => resolvePipeline({ replicas: 0 }), 'pipeline.replicas', /got 0/);
  refused(() => resolvePipeline({ schedule: 'zigzag' as '1f1b' }), 'pipeline.schedule', /'zigzag'/);
  refused(() => resolvePipeline({ stages: 2 } as object), 'pipeline.stages', /no option 'stages'/);
  refused(() => resolvePipeline({ replicas: 2 }, 3), 'workers', /3 workers is not a multiple of 2; choose --workers 4/);
});

test('pipeline is a fit option, not a strategy: the old names are refused with the new spelling, and models without a pipeline trainer refuse it before any worker starts', async () => {
  const env = { comm: new LocalCommunicator() };
  assert.ok(!isStrategyName('pipeline') && !isStrategyName('pipeline:3:gpipe'));
  assert.throws(
    () => createStrategy('pipeline:8:1f1b', env),
    (e: unknown) => e instanceof ConfigError && e.field === 'strategy' && /--pipeline 8:1f1b/.test(e.message),
  );
  const data = xorData(30, 16);
  // Refused in the caller as ConfigErrors (not a worker's WorkerError): bad values, a bad world size,
  // a strategy beside the pipeline, a model that has no pipeline trainer.
  const refused = (fit: Promise<unknown>, field: string, pattern: RegExp): Promise<void> =>
    assert.rejects(fit, (e: unknown) => e instanceof ConfigError && e.field === field && pattern.test(e.message));
  await refused(
    new MLP({ hidden: [4], epochs: 1 }).fit(data, { paradigm: 'threads', workers: 3, pipeline: { replicas: 2 } }),
    'workers',
    /3 workers is not a multiple of 2/,
  );
  await refused(
    new MLP({ hidden: [4], epochs: 1 }).fit(data, { paradigm: 'threads', workers: 2, pipeline: { microBatches: -1 } }),
    'pipeline.microBatches',
    /got -1/,
  );
  await refused(
    new MLP({ hidden: [4], epochs: 1 }).fit(data, { paradigm: 'threads', workers: 2, strategy: 'hogwild', pipeline: {} }),
    'strategy',
    /takes no strategy 'hogwild'/,
  );
  await refused(
    new LogisticRegression({ epochs: 1 }).fit(data, { paradigm: 'threads', workers: 2, pipeline: {} }),
    'pipeline',
    /logistic-regression has no pipeline trainer/,
  );
  await refused(new KMeans({ k: 2 }).fit(data, { pipeline: {} }), 'pipeline', /kmeans has no pipeline trainer/);
  const tooDeep = new MLP({ hidden: [], epochs: 1 }); // one layer: no second stage
  await assert.rejects(tooDeep.fit(data, { paradigm: 'threads', workers: 2, pipeline: {} }), /need at least 2 layers/);
});
