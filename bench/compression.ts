/**
 * Gradient compression benchmark (issue 17): for each codec, the bytes per step the transport
 * counted (rank 0's comm.stats.bytesSent over the steps it took, never an estimate), the test
 * accuracy, and the wall time, training one model with the all-reduce strategy.
 *
 *   node dist/bench/compression.js [--model cnn|mlp] [--data builtin:mnist|builtin:fashion-mnist]
 *       [--epochs 3] [--rows N] [--paradigm threads|processes] [--workers 2] [--warmup 1]
 *       [--codecs none,fp16,topk:0.01,…] [--bandwidth-mbit 100 --latency-ms 1]
 *       [--optimizer adam|sgd --lr 0.001 --momentum 0.9] [--bucket-bytes B]
 *   # merges its records into bench/results/compression.json (the same configuration run again replaces its record)
 *
 * The issue's target run is the CNN on Fashion-MNIST, 3 epochs, 2 workers (goal: ≥ 100× fewer bytes
 * within 0.5 points of uncompressed). `--rows` trains on the first N training rows, for a run that
 * fits a shared machine. `--bandwidth-mbit`/`--latency-ms` (processes only) put every rank-to-rank
 * link behind the seeded throttling proxy (FitOptions.network), to see where compression starts and
 * stops paying in wall time. Every record carries the load average, because the machine is shared.
 * Not run by the tests.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createModel, loadData } from '../src/index.js';
import type { Paradigm } from '../src/index.js';

const DEFAULT_CODECS = ['none', 'fp16', 'bf16', 'qsgd:16', 'terngrad', 'signsgd', 'randomk:0.01', 'topk:0.01', 'topk:0.001', 'powersgd:4'];

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

async function main(): Promise<void> {
  const modelName = argument('model') ?? 'cnn';
  const dataSpec = argument('data') ?? 'builtin:fashion-mnist';
  const epochs = Number(argument('epochs') ?? '3');
  const workers = Number(argument('workers') ?? '2');
  const paradigm = (argument('paradigm') ?? 'threads') as Paradigm;
  const warmup = Number(argument('warmup') ?? '1');
  const codecs = (argument('codecs') ?? DEFAULT_CODECS.join(',')).split(',');
  const bandwidthMbit = argument('bandwidth-mbit');
  const latencyMs = argument('latency-ms');
  const network =
    bandwidthMbit === undefined && latencyMs === undefined
      ? undefined
      : {
          ...(bandwidthMbit === undefined ? {} : { bandwidthMbit: Number(bandwidthMbit) }),
          ...(latencyMs === undefined ? {} : { latencyMs: Number(latencyMs) }),
        };
  const batchSize = 64;
  const loaded = await loadData(dataSpec, { dtype: 'float32' });
  const rows = Math.min(Number(argument('rows') ?? loaded.train.rows), loaded.train.rows);
  const train = loaded.train.slice(0, rows);
  const test = loaded.test!;
  // DGC's momentum correction (topk:<ratio>:<m>) keeps the momentum in the codec: train it with
  // plain SGD (--optimizer sgd --momentum 0) and compare it with `none` under SGD with momentum m.
  const optimizer = argument('optimizer');
  const lr = argument('lr');
  const momentum = argument('momentum');
  const bucketBytes = argument('bucket-bytes');
  const training = {
    epochs,
    batchSize,
    seed: 1,
    ...(optimizer === undefined ? {} : { optimizer }),
    ...(lr === undefined ? {} : { lr: Number(lr) }),
    ...(momentum === undefined ? {} : { momentum: Number(momentum) }),
  };
  const params = modelName === 'mlp' ? { hidden: [256], ...training } : training;

  const target = new URL('../../bench/results/compression.json', import.meta.url);
  mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
  const key = (r: Record<string, unknown>): string =>
    [
      'model',
      'data',
      'rows',
      'epochs',
      'paradigm',
      'workers',
      'network',
      'codec',
      'warmupEpochs',
      'optimizer',
      'lr',
      'momentum',
      'bucketBytes',
    ]
      .map((field) => JSON.stringify(r[field] ?? null))
      .join(' ');
  // Read again before every write: two runs of this script (different codecs) may share the file.
  const stored = (): Map<string, Record<string, unknown>> => {
    const previous = existsSync(target) ? (JSON.parse(readFileSync(target, 'utf8')) as { records: Record<string, unknown>[] }).records : [];
    return new Map(previous.map((r) => [key(r), r]));
  };

  let noneBytes: number | undefined;
  let noneAccuracy: number | undefined;
  for (const codec of codecs) {
    const model = createModel(modelName, params);
    const loadBefore = loadavg()[0];
    await model.fit(train, {
      paradigm,
      workers,
      ...(network === undefined ? {} : { network }),
      ...(codec === 'none' ? {} : { compression: codec, compressionWarmup: warmup }),
      ...(bucketBytes === undefined ? {} : { bucketBytes: Number(bucketBytes) }),
    });
    const info = model.fitInfo!;
    // Synchronous SGD: every rank takes ⌈rows / batch⌉ steps an epoch.
    const steps = epochs * Math.ceil(rows / batchSize);
    const bytesPerStep = info.comm[0]!.bytesSent / steps;
    const testAccuracy = model.score(test);
    if (codec === 'none') {
      noneBytes = bytesPerStep;
      noneAccuracy = testAccuracy;
    }
    const record = {
      model: modelName,
      data: dataSpec,
      rows,
      testRows: test.rows,
      epochs,
      batchSize,
      paradigm,
      workers,
      network: network ?? null,
      optimizer: optimizer ?? null,
      lr: lr === undefined ? null : Number(lr),
      momentum: momentum === undefined ? null : Number(momentum),
      bucketBytes: bucketBytes === undefined ? null : Number(bucketBytes),
      codec,
      warmupEpochs: codec === 'none' ? 0 : warmup,
      steps,
      bytesSentRank0: info.comm[0]!.bytesSent,
      bytesPerStep,
      fewerBytesThanNone: noneBytes === undefined ? null : noneBytes / bytesPerStep,
      testAccuracy,
      accuracyVsNone: noneAccuracy === undefined ? null : testAccuracy - noneAccuracy,
      seconds: info.seconds,
      commMs: info.comm.map((c) => c.commMs),
      loadAverage: [loadBefore, loadavg()[0]],
      when: new Date().toISOString(),
    };
    const records = stored();
    records.set(key(record), record);
    console.log(
      `${codec.padEnd(13)} ${bytesPerStep.toFixed(0).padStart(9)} B/step  ${record.fewerBytesThanNone === null ? '' : `${record.fewerBytesThanNone.toFixed(1)}× fewer`}  accuracy ${testAccuracy.toFixed(4)}  ${info.seconds.toFixed(1)} s`,
    );
    const output = { machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, records: [...records.values()] };
    writeFileSync(target, JSON.stringify(output, null, 2) + '\n');
  }
}

await main();
