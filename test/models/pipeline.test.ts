// Pipeline (GPipe) model parallelism under real worker threads (and once under processes): MLP, CNN and LSTM equal sequential
// training with the same global batch (micro-batch gradient accumulation is the same mean
// gradient), the bytes that cross stages are exactly the activations and gradients, and a model
// without a pipeline trainer refuses the strategy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { relativeDifference } from '../support/difference.js';
import { LocalCommunicator } from '../../src/comm/local.js';
import { encodeHead } from '../../src/comm/shm/mailbox.js';
import { ConfigError } from '../../src/core/errors.js';
import type { Dataset } from '../../src/data/dataset.js';
import { CNN } from '../../src/models/neural/cnn.js';
import { MLP } from '../../src/models/neural/mlp.js';
import { NEURAL_DEFAULTS } from '../../src/models/neural/options.js';
import { planStages } from '../../src/models/neural/pipeline/trainer.js';
import { microBatchSizes } from '../../src/models/neural/pipeline/schedule.js';
import { RNN } from '../../src/models/neural/rnn.js';
import { PipelineStrategy, parseMicroBatches, parsePipelineSettings } from '../../src/strategies/pipeline.js';
import { createStrategy, isStrategyName } from '../../src/strategies/index.js';
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
    const model = await new MLP(params).fit(data, { paradigm: 'threads', workers, strategy: 'pipeline' });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `${workers} stages: relative difference ${difference}`);
    assert.deepEqual(model.predict(data), sequential.predict(data));
    assert.equal(model.fitInfo?.strategy, 'pipeline');
  }
});

test('cnn: pipeline over 2 and 3 threads gives the sequential weights (SGD + momentum, float64)', async () => {
  const data = barImages(120, 12);
  const params = { filters: [4], kernelSize: 3, dense: [8], epochs: 2, batchSize: 24, optimizer: 'sgd' as const, lr: 0.05, precision: 'float64' as const };
  const sequential = await new CNN(params).fit(data);
  for (const workers of [2, 3]) {
    const model = await new CNN(params).fit(data, { paradigm: 'threads', workers, strategy: 'pipeline' });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `${workers} stages: relative difference ${difference}`);
  }
});

test('rnn (two stacked LSTM layers + dense): pipeline over 2 and 3 threads gives the sequential weights', async () => {
  const data = firstStepSequences(96, 18);
  const params = { cell: 'lstm' as const, hidden: 6, layers: 2, epochs: 2, batchSize: 16, precision: 'float64' as const };
  const sequential = await new RNN(params).fit(data);
  for (const workers of [2, 3]) {
    const model = await new RNN(params).fit(data, { paradigm: 'threads', workers, strategy: 'pipeline' });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `${workers} stages: relative difference ${difference}`);
  }
});

test('mlp: pipeline over 2 processes (ZeroMQ, GPipe) and 2 replicas × 2 stages over 4 processes (1F1B, dropout) give the sequential weights too', async () => {
  const data = xorData(160, 17);
  const params = { hidden: [8, 6], epochs: 2, batchSize: 16, dropout: 0.2, precision: 'float64' as const };
  const sequential = await new MLP(params).fit(data);
  for (const [strategy, workers] of [['pipeline', 2], ['pipeline:3:1f1b:replicas=2', 4]] as const) {
    const model = await new MLP(params).fit(data, { paradigm: 'processes', workers, strategy });
    const difference = relativeDifference(model.state.params, sequential.state.params);
    assert.ok(difference <= TOLERANCE, `${strategy} over ${workers} processes: relative difference ${difference}`);
  }
});

/**
 * Bytes rank `rank` sends per epoch in the pipeline: one activation message per micro-batch to the
 * next stage, one gradient message per micro-batch to the previous one (float64: 8 bytes a value),
 * and from the last stage the epoch's loss tally to rank 0; each message also carries its frame head.
 */
function expectedEpochBytes(data: Dataset, params: { hidden: number[]; batchSize: number }, stages: number, microBatches: number, rank: number): { bytes: number; messages: number } {
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
      (await new MLP({ ...params, epochs }).fit(data, { paradigm: 'threads', workers, strategy: 'pipeline:3' })).fitInfo!.comm;
    // One epoch more; setup (row and label gathering) and the final assembly are the same in both runs.
    const [one, two] = [await run(1), await run(2)];
    for (let rank = 0; rank < workers; rank++) {
      const expected = expectedEpochBytes(data, params, workers, 3, rank);
      assert.equal(two[rank]!.bytesSent - one[rank]!.bytesSent, expected.bytes, `${workers} stages, rank ${rank}: bytes of one epoch`);
      assert.equal(two[rank]!.messagesSent - one[rank]!.messagesSent, expected.messages, `${workers} stages, rank ${rank}: messages of one epoch`);
    }
  }
});

test('strategy names: pipeline = 4 micro-batches, pipeline:<m> = m, :1f1b, :replicas=<r>; bad parts and a model without a pipeline trainer get a ConfigError', async () => {
  assert.equal(parseMicroBatches('pipeline'), 4);
  assert.equal(parseMicroBatches('pipeline:8'), 8);
  assert.deepEqual(parsePipelineSettings('pipeline'), { microBatches: 4, schedule: 'gpipe', replicas: 1 });
  assert.deepEqual(parsePipelineSettings('pipeline:8:1f1b'), { microBatches: 8, schedule: '1f1b', replicas: 1 });
  assert.deepEqual(parsePipelineSettings('pipeline:1f1b:replicas=2:6'), { microBatches: 6, schedule: '1f1b', replicas: 2 });
  const isStrategyError = (e: unknown): boolean => e instanceof ConfigError && e.field === 'strategy';
  assert.throws(() => parsePipelineSettings('pipeline:8:2f2b'), (e: unknown) => isStrategyError(e) && /unknown part '2f2b'/.test((e as Error).message));
  assert.throws(() => new PipelineStrategy({ microBatches: 0 }), isStrategyError);
  assert.throws(() => new PipelineStrategy({ replicas: 0 }), isStrategyError);
  assert.throws(() => new PipelineStrategy({ schedule: 'zigzag' as '1f1b' }), isStrategyError);
  // Through the registry, as the CLI and runtimes resolve names.
  const env = { comm: new LocalCommunicator() };
  const made = createStrategy('pipeline:8:1f1b', env) as PipelineStrategy;
  assert.deepEqual([made.microBatches, made.schedule, made.replicas], [8, '1f1b', 1]);
  assert.ok(isStrategyName('pipeline:3:gpipe'));
  assert.throws(() => createStrategy('pipeline:3:fast', env), isStrategyError);
  assert.throws(() => createStrategy('pipeline:replicas=2', env), (e: unknown) => e instanceof ConfigError && e.field === 'workers');
  // Under threads the strategy is built in the workers, so the ConfigError arrives wrapped (WorkerError) with its message.
  await assert.rejects(
    new MLP({ hidden: [4], epochs: 1 }).fit(xorData(30, 16), { paradigm: 'threads', workers: 3, strategy: 'pipeline:replicas=2' }),
    /3 workers is not a multiple of 2; choose --workers 4/,
  );
  await assert.rejects(new PipelineStrategy().setup(new Float64Array(3)), (e: unknown) => e instanceof ConfigError && /only the neural models/.test(e.message));
  const tooDeep = new MLP({ hidden: [], epochs: 1 }); // one layer: no second stage
  await assert.rejects(tooDeep.fit(xorData(20, 16), { paradigm: 'threads', workers: 2, strategy: 'pipeline' }), /need at least 2 layers/);
});
