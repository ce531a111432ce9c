/**
 * Compression against wall time on a real network path (issue 17): `cluster`×2, one network
 * namespace per rank joined by a bridge, each rank's link capped by tc tbf (runtime/netns-cluster.ts,
 * what compare's `--networks lan:tbf:100mbit` cluster cells run). For each model, codec `none` and
 * the given codecs run interleaved (none, codec A, codec B, none, …) `--repeats` times; the record
 * keeps every repeat's wall seconds (start-up included), rank 0's bytes, the link bytes, the
 * communication and compute milliseconds, the test score, and the load average.
 *
 *   sudo node dist/bench/compression-netns.js [--rate-mbit 100] [--repeats 2]
 *       [--codecs topk16:0.01,powersgd:2] [--models cnn,logistic-regression] [--cnn-rows 6000]
 *   # merges into bench/results/compression-netns.json; needs root (network namespaces)
 *
 * Models: the CNN on Fashion-MNIST (`--cnn-rows` training rows, 1 epoch, 184,586 parameters: a
 * 738 kB float32 gradient per step), and logistic regression by SGD on synthetic data at two widths
 * (20 and 2,000 features × 10 classes: a gradient of 1.7 kB and 160 kB float64), so the
 * record shows where compression stops paying.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createModel, loadData } from '../src/index.js';
import type { Dataset } from '../src/index.js';
import { fitInNamespaces, namespacesUnavailable } from '../src/runtime/index.js';
import { splitTrainTest } from '../src/compare/data.js';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

interface Subject {
  label: string;
  model: string;
  params: Record<string, unknown>;
  train: Dataset;
  test: Dataset;
}

async function subjects(models: string[], cnnRows: number): Promise<Subject[]> {
  const out: Subject[] = [];
  if (models.includes('cnn')) {
    const { train, test } = await loadData('builtin:fashion-mnist', { dtype: 'float32' });
    out.push({
      label: `cnn fashion-mnist ${cnnRows} rows`,
      model: 'cnn',
      params: { epochs: 1, batchSize: 64, seed: 1 },
      train: train.slice(0, cnnRows),
      test: test!.slice(0, 2000),
    });
  }
  if (models.includes('logistic-regression')) {
    for (const cols of [20, 2000]) {
      const loaded = await loadData(`synthetic:classification?rows=12000&cols=${cols}&classes=10&seed=3`);
      const { train, test } = splitTrainTest(loaded.train, 0.2, 1);
      out.push({
        label: `logistic-regression ${cols} features × 10 classes`,
        model: 'logistic-regression',
        params: { solver: 'sgd', epochs: 2, batchSize: 64, lr: 0.1 },
        train,
        test,
      });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const why = namespacesUnavailable();
  if (why !== null) throw new Error(`network namespaces are needed: ${why}`);
  const rateMbit = Number(argument('rate-mbit') ?? '100');
  const repeats = Number(argument('repeats') ?? '2');
  const codecs = ['none', ...(argument('codecs') ?? 'topk16:0.01,powersgd:2').split(',')];
  const models = (argument('models') ?? 'cnn,logistic-regression').split(',');
  const cnnRows = Number(argument('cnn-rows') ?? '6000');
  const target = new URL('../../bench/results/compression-netns.json', import.meta.url);
  mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
  const records: Record<string, unknown>[] = existsSync(target)
    ? (JSON.parse(readFileSync(target, 'utf8')) as { records: Record<string, unknown>[] }).records
    : [];
  for (const subject of await subjects(models, cnnRows)) {
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const codec of codecs) {
        const loadBefore = loadavg()[0]!;
        const { state, info, linkBytesSent } = await fitInNamespaces<object>({
          model: subject.model,
          params: subject.params,
          data: subject.train,
          workers: 2,
          rateMbit,
          deadlineMs: 1_800_000,
          options: codec === 'none' ? {} : { compression: codec },
        });
        const model = createModel(subject.model, subject.params);
        model.setState(state as never);
        const score = model.score(subject.test);
        const record = {
          subject: subject.label,
          model: subject.model,
          trainRows: subject.train.rows,
          rateMbit,
          codec,
          repeat,
          wallSeconds: info.seconds,
          bytesSentRank0: info.comm[0]!.bytesSent,
          linkBytesSent,
          commMs: info.comm.map((c: { commMs: number }) => c.commMs),
          computeMs: info.computeMs ?? null,
          score,
          loadAverage: [loadBefore, loadavg()[0]],
          when: new Date().toISOString(),
        };
        records.push(record);
        console.log(
          `${subject.label.padEnd(44)} ${codec.padEnd(12)} #${repeat} ${info.seconds.toFixed(2).padStart(7)} s  ${(record.bytesSentRank0 / 1e6).toFixed(2).padStart(8)} MB  comm ${(record.commMs[0]! / 1000).toFixed(2)} s  score ${score.toFixed(4)}  load ${loadBefore.toFixed(1)}`,
        );
        writeFileSync(
          target,
          JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, records }, null, 2) + '\n',
        );
      }
    }
  }
}

await main();
