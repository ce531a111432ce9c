/**
 * Checkpoint overhead: the same `shardlearn train` with and without `--checkpoint-dir` (the
 * default interval: one checkpoint at the end of each epoch; or `--every <N>steps|<N>s`), runs
 * alternated, the median training time (`seconds` of --json) of each, and the ratio; and the median
 * time of one checkpoint write of the same size × the number written, over the plain run's time.
 *
 * node dist/bench/checkpoint-overhead.js [--repeats 3] [--every 100steps] [-- <train arguments>]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveCheckpoint } from '../src/core/checkpoint.js';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/shardlearn.js');
const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const own = split < 0 ? argv : argv.slice(0, split);
const flag = (name: string): string | undefined => {
  const at = own.indexOf(`--${name}`);
  return at < 0 ? undefined : own[at + 1];
};
const repeats = Number(flag('repeats') ?? 3);
const every = flag('every');
const train =
  split < 0
    ? ['mlp', '--data', 'synthetic:classification?rows=20000&cols=200&seed=1', '--hidden', '256,128', '--epochs', '4', '--seed', '1']
    : argv.slice(split + 1);

function seconds(extra: string[]): number {
  const result = spawnSync(process.execPath, [bin, 'train', ...train, '--json', '--quiet', ...extra], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (result.status !== 0) throw new Error(`train failed (${result.status}): ${result.stderr}`);
  return (JSON.parse(result.stdout) as { seconds: number }).seconds;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const plain: number[] = [];
const checkpointed: number[] = [];
let files = 0;
let bytes = 0;
for (let r = 0; r < repeats; r++) {
  plain.push(seconds([]));
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-overhead-'));
  try {
    checkpointed.push(seconds(['--checkpoint-dir', dir, '--keep', '0', ...(every === undefined ? [] : ['--checkpoint-every', every])]));
    const names = readdirSync(dir);
    files = names.length;
    bytes = names.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0) / Math.max(names.length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const a = median(plain);
const b = median(checkpointed);
// On a shared machine the end-to-end difference drowns in noise: also time the writes themselves
// (a checkpoint of the same size, written and fsynced as the trainer does) against the plain run.
const dir = mkdtempSync(join(tmpdir(), 'shardlearn-overhead-'));
const writeMs: number[] = [];
try {
  const values = new Float64Array(Math.max(1, Math.floor(bytes / 8) - 64));
  for (let i = 0; i < 9; i++) {
    const started = performance.now();
    await saveCheckpoint(
      dir,
      { model: 'overhead', params: {}, worldSize: 1, epoch: 0, position: 0, step: i + 1, rng: {}, scalars: {}, arrays: { params: values } },
      { keep: 2 },
    );
    writeMs.push(performance.now() - started);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const perWrite = median(writeMs);
console.log(
  JSON.stringify({
    train: train.join(' '),
    every: every ?? 'epoch',
    repeats,
    plainSeconds: plain,
    checkpointSeconds: checkpointed,
    checkpoints: files,
    bytesPerCheckpoint: Math.round(bytes),
    endToEndOverheadPercent: Number((((b - a) / a) * 100).toFixed(2)),
    fastestRunsOverheadPercent: Number((((Math.min(...checkpointed) - Math.min(...plain)) / Math.min(...plain)) * 100).toFixed(2)),
    medianWriteMs: Number(perWrite.toFixed(2)),
    writeOverheadPercent: Number((((perWrite * files) / 1000 / a) * 100).toFixed(2)),
  }),
);
