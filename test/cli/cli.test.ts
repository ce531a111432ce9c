// The CLI as a user runs it: the real bin in a child process, real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/shardlearn.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function withDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-cli-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('train --json prints the documented shape and the model it saves predicts', () => {
  withDir((dir) => {
    const out = join(dir, 'model.json');
    const r = run([
      'train',
      'logistic-regression',
      '--data',
      'synthetic:classification?rows=2000&cols=5&seed=3',
      '--standardize',
      '--out',
      out,
      '--json',
      '--seed',
      '1',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of ['model', 'paradigm', 'workers', 'seconds', 'loadSeconds', 'trainSamples', 'metrics', 'comm'])
      assert.ok(key in report, `missing ${key}`);
    assert.equal(report['model'], 'logistic-regression');
    assert.equal(report['paradigm'], 'sequential');
    const metrics = report['metrics'] as Record<string, number>;
    assert.ok(metrics['accuracy']! > 0.8, `accuracy ${metrics['accuracy']}`);
    assert.ok((report['trainSamples'] as number) > 1400 && (report['trainSamples'] as number) < 1800);
    const p = run([
      'predict',
      '--model',
      out,
      '--data',
      'synthetic:classification?rows=2000&cols=5&seed=3',
      '--json',
      '--out',
      join(dir, 'p.csv'),
    ]);
    assert.equal(p.status, 0, p.stderr);
    const predicted = JSON.parse(p.stdout) as { metrics: Record<string, number> };
    assert.ok(predicted.metrics['accuracy']! > 0.8);
    assert.equal(readFileSync(join(dir, 'p.csv'), 'utf8').trim().split('\n').length, 2001);
  });
});

test('a CSV with a bad cell fails with one line naming file, line and column, exit code 3', () => {
  withDir((dir) => {
    const file = join(dir, 'bad.csv');
    writeFileSync(file, 'a,b,label\n1,2,0\n3,oops,1\n5,6,0\n');
    const r = run(['train', 'linear-regression', '--data', file, '--target', 'label']);
    assert.equal(r.status, 3);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /bad\.csv/);
    assert.match(lines[0]!, /line 3/);
    assert.match(lines[0]!, /'b'|column 2/);
  });
});

test('an unknown model or option is a usage error (exit 2) that lists what exists', () => {
  const r = run(['train', 'random-forest', '--data', 'synthetic:regression?rows=100&cols=3']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown model 'random-forest'.*linear-regression/);
  const o = run(['train', 'kmeans', '--data', 'synthetic:blobs?rows=100&cols=2', '--kay', '3']);
  assert.equal(o.status, 2);
  assert.match(o.stderr, /no option 'kay'/);
});

test('info lists the models, paradigms and kernel backend', () => {
  const r = run(['info', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { models: { name: string }[]; paradigms: string[]; kernels: { active: string } };
  assert.ok(info.models.some((m) => m.name === 'kmeans'));
  assert.ok(info.paradigms.includes('sequential'));
  assert.ok(info.kernels.active.length > 0);
});

test('the same train command gives the same model metrics under sequential, processes and a launched cluster', () => {
  const data = 'synthetic:classification?rows=4000&cols=8&seed=3';
  const sequential = run(['train', 'logistic-regression', '--data', data, '--json']);
  assert.equal(sequential.status, 0, sequential.stderr);
  const processes = run(['train', 'logistic-regression', '--data', data, '--json', '--paradigm', 'processes', '--workers', '2']);
  assert.equal(processes.status, 0, processes.stderr);
  const cluster = run([
    'launch',
    '--workers',
    '2',
    '--',
    'train',
    'logistic-regression',
    '--data',
    data,
    '--json',
    '--paradigm',
    'cluster',
  ]);
  assert.equal(cluster.status, 0, cluster.stderr);
  const reports = [sequential, processes, cluster].map(
    (r) =>
      JSON.parse(
        r.stdout
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .at(-1)!,
      ) as {
        paradigm: string;
        workers: number;
        trainSamples: number;
        metrics: { accuracy: number };
        comm: { bytesSent: number };
      },
  );
  assert.deepEqual(
    reports.map((r) => r.paradigm),
    ['sequential', 'processes', 'cluster'],
  );
  assert.deepEqual(
    reports.map((r) => r.workers),
    [1, 2, 2],
  );
  for (const r of reports) {
    assert.equal(r.trainSamples, reports[0]!.trainSamples);
    assert.ok(
      Math.abs(r.metrics.accuracy - reports[0]!.metrics.accuracy) < 1e-9,
      `accuracy ${r.metrics.accuracy} vs ${reports[0]!.metrics.accuracy}`,
    );
  }
  // Only model statistics cross the wire: workers loaded their own shards, so far fewer bytes than the data.
  assert.ok(reports[1]!.comm.bytesSent > 0 && reports[1]!.comm.bytesSent < 4000 * 8 * 8);
  assert.equal(
    cluster.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{')).length,
    1,
    'only rank 0 prints',
  );
});

test('train --pipeline trains a neural model as a pipeline and reports it; the old --strategy pipeline names the new flag', () => {
  const data = 'synthetic:classification?rows=300&cols=4&seed=5';
  const r = run([
    'train',
    'mlp',
    '--data',
    data,
    '--paradigm',
    'threads',
    '--workers',
    '2',
    '--pipeline',
    '2:1f1b',
    '--hidden',
    '6',
    '--epochs',
    '1',
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(report['pipeline'], '2:1f1b');
  assert.equal(report['strategy'], 'allreduce');
  assert.ok((report['comm'] as { bytesSent: number }).bytesSent > 0, 'stages exchange activations');
  const text = run([
    'train',
    'mlp',
    '--data',
    data,
    '--paradigm',
    'threads',
    '--workers',
    '2',
    '--pipeline',
    '--hidden',
    '6',
    '--epochs',
    '1',
  ]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /\(threads, 2 workers, pipeline 4:gpipe\)/);
  const old = run(['train', 'mlp', '--data', data, '--paradigm', 'threads', '--workers', '2', '--strategy', 'pipeline:8']);
  assert.equal(old.status, 2);
  assert.match(old.stderr, /unknown strategy 'pipeline:8'.*--pipeline 8/);
  const bad = run(['train', 'mlp', '--data', data, '--pipeline', '8:fast']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown part 'fast'/);
});
