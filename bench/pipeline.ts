/**
 * Pipeline model parallelism (GPipe and 1F1B schedules) against data parallelism and sequential
 * training: one epoch of the MLP and the default CNN on the built-in MNIST digits (8,000 training
 * rows), batch 64, on 2 worker threads; median of `--repeats` runs per configuration (no assertion
 * on speed: a measurement). Configurations are interleaved round by round, so a change in the
 * shared machine's load hits them alike.
 *
 *   node dist/bench/pipeline.js [--repeats 3] [--models mlp,cnn]
 *   # writes bench/results/pipeline.json
 *
 * Each record carries the stage cut, per-rank bytes sent, the micro-batches each stage holds at
 * once under the schedule (activation memory), and the load average before and after (the 2-core
 * machine is shared). Hybrid replicas are not measured: R × S ≥ 4 workers on 2 cores measures the
 * scheduler, not the pipeline.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createModel, loadData } from '../src/index.js';
import type { FitOptions } from '../src/index.js';
import { NEURAL_DEFAULTS } from '../src/models/neural/options.js';
import type { NeuralClassifier } from '../src/models/neural/classifier.js';
import { peakStoredMicroBatches, stageOperations } from '../src/models/neural/pipeline/schedule.js';
import type { PipelineOptions } from '../src/models/neural/pipeline/settings.js';
import { resolvePipeline } from '../src/models/neural/pipeline/settings.js';
import { planStages } from '../src/models/neural/pipeline/trainer.js';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

const MODELS: Record<string, Record<string, unknown>> = {
  mlp: { hidden: [256, 128], epochs: 1, batchSize: 64, lr: 0.001 },
  cnn: { epochs: 1, batchSize: 64, lr: 0.001 },
};

const CONFIGS: { label: string; options: FitOptions }[] = [
  { label: 'sequential', options: { paradigm: 'sequential' } },
  { label: 'data-parallel (allreduce, 2 threads)', options: { paradigm: 'threads', workers: 2, strategy: 'allreduce' } },
  {
    label: 'pipeline GPipe, 4 micro-batches (2 threads)',
    options: { paradigm: 'threads', workers: 2, pipeline: { microBatches: 4, schedule: 'gpipe' } },
  },
  {
    label: 'pipeline 1F1B, 4 micro-batches (2 threads)',
    options: { paradigm: 'threads', workers: 2, pipeline: { microBatches: 4, schedule: '1f1b' } },
  },
  {
    label: 'pipeline GPipe, 8 micro-batches (2 threads)',
    options: { paradigm: 'threads', workers: 2, pipeline: { microBatches: 8, schedule: 'gpipe' } },
  },
  {
    label: 'pipeline 1F1B, 8 micro-batches (2 threads)',
    options: { paradigm: 'threads', workers: 2, pipeline: { microBatches: 8, schedule: '1f1b' } },
  },
];

/** Micro-batches each of the 2 stages holds at once under the configuration's schedule (null when not a pipeline). */
function storedMicroBatches(pipeline: PipelineOptions | undefined): number[] | null {
  if (pipeline === undefined) return null;
  const { microBatches, schedule } = resolvePipeline(pipeline);
  return [0, 1].map((stage) => peakStoredMicroBatches(stageOperations(2, microBatches, stage, schedule)));
}

async function main(): Promise<void> {
  const repeats = Number(argument('repeats') ?? 3);
  const models = (argument('models') ?? 'mlp,cnn').split(',');
  const { train, test } = await loadData('builtin:mnist', { dtype: 'float32' });
  const records: Record<string, unknown>[] = [];
  for (const name of models) {
    const params = MODELS[name]!;
    const probe = createModel(name, params) as unknown as NeuralClassifier<typeof NEURAL_DEFAULTS>;
    const { layers, inputShape } = probe.architecture(train.cols, 10);
    const { ranges } = planStages(layers, inputShape, { ...NEURAL_DEFAULTS, ...params }, 2);
    const stages = ranges.map(({ start, end }) =>
      layers
        .slice(start, end)
        .map((spec) => spec.type)
        .join('-'),
    );
    const seconds = CONFIGS.map((): number[] => []);
    const lastFit = CONFIGS.map(() => createModel(name, params));
    const loadBefore = loadavg()[0];
    for (let r = 0; r < repeats; r++) {
      for (const [c, config] of CONFIGS.entries()) {
        const model = createModel(name, params);
        await model.fit(train, config.options);
        seconds[c]!.push(model.fitInfo!.seconds);
        lastFit[c] = model;
        process.stderr.write(`${name} ${config.label}: ${model.fitInfo!.seconds.toFixed(2)} s\n`);
      }
    }
    const sequentialSeconds = median(seconds[0]!);
    for (const [c, config] of CONFIGS.entries()) {
      const last = lastFit[c]!;
      records.push({
        model: name,
        params,
        config: config.label,
        options: config.options,
        seconds: median(seconds[c]!),
        runs: seconds[c],
        imagesPerSecond: train.rows / median(seconds[c]!),
        speedupOverSequential: sequentialSeconds / median(seconds[c]!),
        testAccuracy: last.score(test!),
        bytesSent: last.fitInfo!.comm.map((stats) => stats.bytesSent),
        stages: config.options.pipeline === undefined ? null : stages,
        storedMicroBatchesPerStage: storedMicroBatches(config.options.pipeline),
        loadAverage: [loadBefore, loadavg()[0]],
      });
    }
  }
  mkdirSync('bench/results', { recursive: true });
  const out = { machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, trainRows: train.rows, repeats, records };
  writeFileSync('bench/results/pipeline.json', JSON.stringify(out, null, 2) + '\n');
  for (const record of records) {
    const bytes = (record['bytesSent'] as number[]).map((b) => (b / 1e6).toFixed(1)).join(' / ');
    process.stdout.write(
      `${String(record['model'])}\t${String(record['config'])}\t${(record['seconds'] as number).toFixed(2)} s\t${(record['imagesPerSecond'] as number).toFixed(0)} img/s\t×${(record['speedupOverSequential'] as number).toFixed(2)}\t${bytes} MB sent\n`,
    );
  }
}

await main();
