// Scaling by all-reduce (runtime/scale.ts) when each rank loads its own shard: with real processes
// (the library, and the CLI) and a launched cluster (the CLI), the scaler the ranks fit equals the
// scaler fitted on all the training rows at once (data/preprocess.ts) to 1e-12 relative, the model
// equals the one trained sequentially on the whole-data-scaled rows, and the CLI saves the ranks'
// scaler with the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../src/index.js';
import { Rng } from '../../src/core/rng.js';
import { loadData } from '../../src/data/load.js';
import { MinMaxScaler, StandardScaler } from '../../src/data/preprocess.js';
import { trainTestSplit } from '../../src/data/split.js';
import { createModel } from '../../src/models/registry.js';
import { stateDifference } from './model-cases.js';
import { RELATIVE_TOLERANCE } from './threads-equivalence.js';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/shardlearn.js');
const SPLIT = { testFraction: 0.2, seed: 0 };
const MODEL = { name: 'linear-regression', params: {} };

/**
 * 3001 rows (shards of unequal size) whose columns sit far from zero with small spreads — where the
 * one-round Σx² − n·mean² formula would lose digits — and a noisy linear target.
 */
function writeCsv(path: string): void {
  const rng = new Rng(17);
  const lines = ['a,b,c,y'];
  for (let i = 0; i < 3001; i++) {
    const a = 1000 + 7 * rng.normal();
    const b = -50 + 0.01 * rng.normal();
    const c = 3 + rng.uniform();
    lines.push(`${a},${b},${c},${2 * a - 30 * b + c + 0.1 * rng.normal()}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** Largest |actual − expected| / |expected| over the scaler's offsets and scales. */
function relativeDifference(actual: unknown, expected: { offset: number[]; scale: number[] }): number {
  const got = actual as { name: string; offset: number[]; scale: number[] };
  let worst = 0;
  for (const field of ['offset', 'scale'] as const) {
    assert.equal(got[field].length, expected[field].length);
    expected[field].forEach((value, j) => (worst = Math.max(worst, Math.abs(got[field][j]! - value) / Math.abs(value))));
  }
  return worst;
}

async function withCsv(body: (csv: string, dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-scale-'));
  try {
    const csv = join(dir, 'rows.csv');
    writeCsv(csv);
    await body(csv, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const scale of ['standardize', 'minmax'] as const) {
  test(`processes×2, each worker loading its own shard with scale '${scale}': the ranks' scaler is the whole-data scaler to 1e-12, the model the sequential one`, async () => {
    await withCsv(async (csv) => {
      const train = trainTestSplit((await loadData(csv, { target: 'y' })).train, SPLIT).train;
      const whole = scale === 'standardize' ? new StandardScaler().fit(train) : new MinMaxScaler().fit(train);
      const model = await createModel(MODEL.name, MODEL.params).fit(train, {
        paradigm: 'processes',
        workers: 2,
        source: { spec: csv, load: { target: 'y' }, split: SPLIT, scale },
      });
      const info = model.fitInfo!;
      assert.equal(info.setupBytes, 0, 'no training row passed through the launcher');
      assert.equal((info.preprocess as { name: string }).name, whole.name);
      const worst = relativeDifference(info.preprocess, whole.toJSON());
      assert.ok(worst <= 1e-12, `relative difference ${worst}`);
      const sequential = await createModel(MODEL.name, MODEL.params).fit(whole.transform(train));
      const { worst: modelWorst, where } = stateDifference(model.state, sequential.state);
      assert.ok(modelWorst <= RELATIVE_TOLERANCE, `model differs from sequential by ${modelWorst} at ${where}`);
    });
  });
}

function trainCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('CLI train --standardize under processes×2 and a launched cluster×2: the ranks fit the scaler, it is saved with the model, metrics match sequential', async () => {
  await withCsv(async (csv, dir) => {
    const train = trainTestSplit((await loadData(csv, { target: 'y' })).train, SPLIT).train;
    const whole = new StandardScaler().fit(train).toJSON();
    const common = ['linear-regression', '--data', csv, '--target', 'y', '--standardize', '--json'];
    const runs = {
      sequential: trainCli(['train', ...common, '--out', join(dir, 'sequential.json')]),
      processes: trainCli(['train', ...common, '--paradigm', 'processes', '--workers', '2', '--out', join(dir, 'processes.json')]),
      cluster: trainCli([
        'launch',
        '--workers',
        '2',
        '--',
        'train',
        ...common,
        '--paradigm',
        'cluster',
        '--out',
        join(dir, 'cluster.json'),
      ]),
    };
    const metrics: Record<string, Record<string, number>> = {};
    for (const [paradigm, run] of Object.entries(runs)) {
      assert.equal(run.status, 0, `${paradigm}: ${run.stderr}`);
      metrics[paradigm] = (
        JSON.parse(
          run.stdout
            .trim()
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .at(-1)!,
        ) as { metrics: Record<string, number> }
      ).metrics;
      const saved = JSON.parse(readFileSync(join(dir, `${paradigm}.json`), 'utf8')) as { preprocess: unknown };
      assert.equal((saved.preprocess as { name: string }).name, 'StandardScaler', `${paradigm} saved its scaler`);
      const worst = relativeDifference(saved.preprocess, whole);
      assert.ok(worst <= 1e-12, `${paradigm}: saved scaler differs from the whole-data one by ${worst}`);
    }
    for (const paradigm of ['processes', 'cluster']) {
      for (const [metric, value] of Object.entries(metrics['sequential']!)) {
        const other = metrics[paradigm]![metric]!;
        assert.ok(Math.abs(other - value) <= 1e-9 * Math.max(1, Math.abs(value)), `${paradigm} ${metric} ${other} vs sequential ${value}`);
      }
    }
  });
});
