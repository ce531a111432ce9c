/**
 * Pipeline (GPipe) model parallelism against data parallelism and sequential training: one epoch of
 * the MLP and the default CNN on the built-in MNIST digits (8,000 training rows), batch 64, on
 * 2 worker threads; median of 3 runs per configuration (no assertion on speed: a measurement).
 *
 *   node dist/bench/pipeline.js [--repeats 3] [--models mlp,cnn]
 *   # writes bench/results/pipeline.json
 *
 * Each record carries the stage cut, per-rank bytes sent and the load average before and after
 * (the 2-core machine is shared).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createModel, loadData } from '../src/index.js';
import type { FitOptions } from '../src/index.js';
import { NEURAL_DEFAULTS } from '../src/models/neural-options.js';
import type { NeuralClassifier } from '../src/models/neural-classifier.js';
import { planStages } from '../src/models/pipeline-trainer.js';

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
  { label: 'pipeline, 4 micro-batches (2 threads)', options: { paradigm: 'threads', workers: 2, strategy: 'pipeline' } },
  { label: 'pipeline, 8 micro-batches (2 threads)', options: { paradigm: 'threads', workers: 2, strategy: 'pipeline:8' } },
];

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
    const stages = ranges.map(({ start, end }) => layers.slice(start, end).map((spec) => spec.type).join('-'));
    for (const config of CONFIGS) {
      const seconds: number[] = [];
      let last = createModel(name, params);
      const loadBefore = loadavg()[0];
      for (let r = 0; r < repeats; r++) {
        last = createModel(name, params);
        await last.fit(train, config.options);
        seconds.push(last.fitInfo!.seconds);
        process.stderr.write(`${name} ${config.label}: ${seconds[r]!.toFixed(2)} s\n`);
      }
      records.push({
        model: name, params, config: config.label, options: config.options, seconds: median(seconds), runs: seconds,
        imagesPerSecond: train.rows / median(seconds), testAccuracy: last.score(test!),
        bytesSent: last.fitInfo!.comm.map((stats) => stats.bytesSent), stages: config.options.strategy?.startsWith('pipeline') ? stages : null,
        loadAverage: [loadBefore, loadavg()[0]],
      });
    }
  }
  mkdirSync('bench/results', { recursive: true });
  const out = { machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, trainRows: train.rows, repeats, records };
  writeFileSync('bench/results/pipeline.json', JSON.stringify(out, null, 2) + '\n');
  for (const record of records) {
    process.stdout.write(`${String(record['model'])}\t${String(record['config'])}\t${(record['seconds'] as number).toFixed(2)} s\t${(record['imagesPerSecond'] as number).toFixed(0)} img/s\n`);
  }
}

await main();
