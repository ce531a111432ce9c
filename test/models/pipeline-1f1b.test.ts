// The 1F1B schedule on real worker threads: the same model as GPipe (and as sequential training),
// and the activation memory the trainer counts — GPipe holds all M micro-batches on every stage,
// 1F1B at most S − s on stage s. runPipeline is called directly (pipeline-stage-worker.ts) because
// the estimator API does not return per-rank figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import '../../src/index.js';
import { createSharedWorld } from '../../src/comm/shm/world.js';
import { MLP } from '../../src/models/neural/mlp.js';
import { pipelineMemory } from '../../src/models/neural/pipeline/memory.js';
import type { PipelineSettings } from '../../src/models/neural/pipeline/settings.js';
import { Network } from '../../src/nn/network.js';
import { xorData } from '../nn/data.js';
import type { StageWorkerInput } from './pipeline-stage-worker.js';

interface StageResult {
  params: Float64Array;
  peak: number;
  bytesSent: number;
}

async function runStages(
  workers: number,
  settings: PipelineSettings,
  input: Omit<StageWorkerInput, 'world' | 'rank' | 'settings'>,
): Promise<StageResult[]> {
  const world = createSharedWorld(workers);
  return Promise.all(
    Array.from(
      { length: workers },
      (_, rank) =>
        new Promise<StageResult>((resolve, reject) => {
          const worker = new Worker(new URL('./pipeline-stage-worker.js', import.meta.url), {
            workerData: { ...input, world, rank, settings },
          });
          worker.once('message', (result: StageResult) => resolve(result));
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`rank ${rank} exited (code ${code}) before reporting`)));
        }),
    ),
  );
}

const input = { rows: 120, dataSeed: 31, params: { hidden: [8, 6, 5], epochs: 2, batchSize: 24, lr: 0.02, precision: 'float64' as const } };

test('1F1B stores at most S − s micro-batches on stage s, GPipe all M; both train the sequential model', async () => {
  const stages = 3;
  const microBatches = 6;
  const gpipe = await runStages(stages, { microBatches, schedule: 'gpipe', replicas: 1 }, input);
  const oneForwardOneBackward = await runStages(stages, { microBatches, schedule: '1f1b', replicas: 1 }, input);
  assert.deepEqual(
    gpipe.map((r) => r.peak),
    [6, 6, 6],
  );
  assert.deepEqual(
    oneForwardOneBackward.map((r) => r.peak),
    [3, 2, 1],
  );
  assert.ok(oneForwardOneBackward.every((r) => r.peak <= stages));
  // pipelineMemory (what compare reports per stage) counts from the same plan: its peaks are the
  // ones the trainers reached, and the stages' parameters add up to the whole network.
  const model = new MLP(input.params);
  const architecture = model.architecture(xorData(input.rows, input.dataSeed).cols, 2);
  for (const [schedule, results] of [
    ['gpipe', gpipe],
    ['1f1b', oneForwardOneBackward],
  ] as const) {
    const memory = pipelineMemory(architecture, model.params, stages, { microBatches, schedule, replicas: 1 }, input.params.batchSize);
    assert.deepEqual(
      memory.map((m) => m.peakMicroBatches),
      results.map((r) => r.peak),
    );
    const whole = new Network(architecture.layers, architecture.inputShape, 'float64').size;
    assert.equal(
      memory.reduce((sum, m) => sum + m.parameters, 0),
      whole,
    );
    // Adam: parameters, gradient sums and two moments, float64.
    for (const m of memory) assert.equal(m.parameterBytes, m.parameters * 8 * 4);
    // 24-row batches in 6 micro-batches of 4 rows.
    for (const m of memory) assert.equal(m.activationBytes, m.peakMicroBatches * 4 * m.activationValuesPerRow * 8);
  }

  // Same gradients every step ⇒ same weights; they differ only by the order micro-batch gradients are summed in.
  const sequential = (await new MLP(input.params).fit(xorData(input.rows, input.dataSeed))).state.params;
  for (const [name, results] of [
    ['gpipe', gpipe],
    ['1f1b', oneForwardOneBackward],
  ] as const) {
    for (const { params } of results) {
      assert.equal(params.length, sequential.length);
      const worst = params.reduce((max, value, i) => Math.max(max, Math.abs(value - sequential[i]!)), 0);
      assert.ok(worst <= 1e-12, `${name}: max |difference| ${worst}`);
    }
  }
  // Same messages, reordered: every rank sends exactly as many bytes under both schedules.
  assert.deepEqual(
    oneForwardOneBackward.map((r) => r.bytesSent),
    gpipe.map((r) => r.bytesSent),
  );
});

test('with fewer micro-batches than stages, 1F1B holds all of them (min(S − s, M)), like GPipe', async () => {
  const results = await runStages(
    3,
    { microBatches: 2, schedule: '1f1b', replicas: 1 },
    { ...input, params: { ...input.params, epochs: 1 } },
  );
  assert.deepEqual(
    results.map((r) => r.peak),
    [2, 2, 1],
  );
});
