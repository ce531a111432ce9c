/**
 * Neural benchmark: test accuracy, training time and images/second of the MLP, CNN and RNN/LSTM on
 * the built-in MNIST digits (8,000 train / 2,000 test) and on Fashion-MNIST (Debian's
 * dataset-fashion-mnist: 60,000 / 10,000), plus CNN training throughput.
 *
 *   node dist/bench/neural.js [--tasks mlp,cnn,lstm,gru,fashion,speed] [--epochs-scale 0.5]
 *   # merges its records into bench/results/neural.json (a task run again replaces its record)
 *
 * Accuracy tasks run once (a fixed seed; the figure is the test accuracy after the stated epochs),
 * with the per-epoch training loss and elapsed time. `speed` times one epoch of the default CNN on
 * the 8,000 MNIST training images, batch 64, median of 3 after a warm-up, sequential and with 2
 * worker threads (allreduce: the same global batch of 64, 32 rows per worker). Every
 * record carries the load average before and after, because the machine (2 cores) is shared.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createModel, loadData } from '../src/index.js';
import type { Dataset } from '../src/index.js';

interface Task {
  name: string;
  model: string;
  data: 'builtin:mnist' | 'builtin:fashion-mnist';
  params: Record<string, unknown>;
  target: number;
}

const TASKS: Task[] = [
  {
    name: 'mlp',
    model: 'mlp',
    data: 'builtin:mnist',
    params: { hidden: [256], epochs: 15, lr: 0.001, batchSize: 64, dropout: 0.2 },
    target: 0.95,
  },
  { name: 'cnn', model: 'cnn', data: 'builtin:mnist', params: { epochs: 8, lr: 0.001, batchSize: 64 }, target: 0.97 },
  {
    name: 'lstm',
    model: 'rnn',
    data: 'builtin:mnist',
    params: { cell: 'lstm', hidden: 128, epochs: 12, lr: 0.002, batchSize: 64, schedule: 'cosine' },
    target: 0.95,
  },
  {
    name: 'gru',
    model: 'rnn',
    data: 'builtin:mnist',
    params: { cell: 'gru', hidden: 128, epochs: 12, lr: 0.002, batchSize: 64, schedule: 'cosine' },
    target: 0.95,
  },
  { name: 'fashion', model: 'cnn', data: 'builtin:fashion-mnist', params: { epochs: 3, lr: 0.001, batchSize: 64 }, target: 0.88 },
];

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function accuracyTask(task: Task, epochsScale: number): Promise<Record<string, unknown>> {
  const { train, test } = await loadData(task.data, { dtype: 'float32' });
  const epochs = Math.max(1, Math.round((task.params['epochs'] as number) * epochsScale));
  const params = { ...task.params, epochs };
  const model = createModel(task.model, params);
  const loadBefore = loadavg()[0];
  const perEpoch: { epoch: number; loss: number; elapsedSeconds: number }[] = [];
  await model.fit(train, {
    onProgress: (event) => {
      perEpoch.push({ epoch: event.iteration, loss: event.loss ?? NaN, elapsedSeconds: event.elapsedMs / 1000 });
      process.stderr.write(
        `${task.name}: epoch ${event.iteration}/${event.total} loss ${event.loss?.toFixed(4)} ${(event.elapsedMs / 1000).toFixed(1)} s\n`,
      );
    },
  });
  const seconds = model.fitInfo!.seconds;
  const testAccuracy = model.score(test!);
  return {
    task: task.name,
    model: task.model,
    data: task.data,
    params,
    trainRows: train.rows,
    testRows: test!.rows,
    seconds,
    imagesPerSecond: (train.rows * epochs) / seconds,
    trainAccuracy: model.score(train),
    testAccuracy,
    target: task.target,
    reached: testAccuracy >= task.target,
    perEpoch,
    loadAverage: [loadBefore, loadavg()[0]],
  };
}

async function speedTask(): Promise<Record<string, unknown>> {
  const { train } = await loadData('builtin:mnist', { dtype: 'float32', placement: 'shared' });
  const loadBefore = loadavg()[0];
  // New worker threads are started per fit, and each compiles the WASM module and warms up V8
  // again: a whole 8,000-image epoch amortises that as real training does (2,048 images did not).
  const timeFit = async (images: Dataset, workers: number): Promise<{ seconds: number; commMs: number[] }> => {
    const model = createModel('cnn', { epochs: 1, batchSize: 64 });
    await model.fit(images, workers === 1 ? {} : { paradigm: 'threads', workers });
    return { seconds: model.fitInfo!.seconds, commMs: model.fitInfo!.comm.map((c) => c.commMs) };
  };
  const result: Record<string, unknown> = { task: 'speed', model: 'cnn', images: train.rows, batchSize: 64 };
  for (const workers of [1, 2]) {
    await timeFit(train.slice(0, 1024), workers); // warm-up of this process's JIT and WASM tiers
    const runs = [await timeFit(train, workers), await timeFit(train, workers), await timeFit(train, workers)];
    const seconds = runs.map((run) => run.seconds);
    result[workers === 1 ? 'sequential' : 'threads2'] = {
      seconds,
      commMs: runs.map((run) => run.commMs),
      medianImagesPerSecond: train.rows / median(seconds),
    };
  }
  result['loadAverage'] = [loadBefore, loadavg()[0]];
  return result;
}

async function main(): Promise<void> {
  const wanted = (argument('tasks') ?? 'mlp,cnn,lstm,gru,fashion,speed').split(',');
  const epochsScale = Number(argument('epochs-scale') ?? '1');
  const target = new URL('../../bench/results/neural.json', import.meta.url);
  mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
  const previous = existsSync(target) ? (JSON.parse(readFileSync(target, 'utf8')) as { records: Record<string, unknown>[] }).records : [];
  const records = new Map(previous.map((r) => [r['task'] as string, r]));
  for (const name of wanted) {
    const task = TASKS.find((t) => t.name === name);
    if (name !== 'speed' && task === undefined)
      throw new Error(`unknown task '${name}'; tasks: ${TASKS.map((t) => t.name).join(', ')}, speed`);
    const record = task === undefined ? await speedTask() : await accuracyTask(task, epochsScale);
    records.set(name, { ...record, when: new Date().toISOString() });
    console.log(JSON.stringify(record));
    const output = { machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, records: [...records.values()] };
    writeFileSync(target, JSON.stringify(output, null, 2) + '\n');
  }
}

await main();
