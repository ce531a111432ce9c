// `shardlearn tune` as a user runs it: the real bin in a child process, a real space file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/shardlearn.js');
const DATA = 'synthetic:classification?rows=900&cols=6&classes=3&separation=1.5&seed=4';

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function withSpace(space: unknown, body: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-tune-'));
  try {
    const path = join(dir, 'space.json');
    writeFileSync(path, typeof space === 'string' ? space : JSON.stringify(space));
    body(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('tune --json: every trial, the best, the held-out tuned and default scores; trials two at a time on threads (the default with --concurrency)', () => {
  withSpace({ l2: { type: 'log-uniform', low: 1e-5, high: 10 }, solver: { type: 'choice', values: ['lbfgs', 'nope'] } }, (space) => {
    const r = run([
      'tune',
      'logistic-regression',
      '--data',
      DATA,
      '--space',
      space,
      '--searcher',
      'random',
      '--trials',
      '6',
      '--cv',
      '3',
      '--stratified',
      '--standardize',
      '--metric',
      'accuracy',
      '--concurrency',
      '2',
      '--seed',
      '1',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      trials: { status: string; params: Record<string, unknown>; error: { code: string } | null; foldScores: number[] | null }[];
      best: { score: number; params: Record<string, unknown> };
      heldOut: { rows: number; tuned: number; default: number };
      metric: string;
      folds: number;
      concurrency: number;
      paradigm: string;
      workers: number;
      pipeline: string;
    };
    assert.equal(report.trials.length, 6);
    assert.equal(report.metric, 'accuracy');
    assert.equal(report.folds, 3);
    assert.equal(report.concurrency, 2);
    // No --paradigm: two trials at a time fit on threads, one worker each, so they use two cores.
    assert.equal(report.paradigm, 'threads');
    assert.equal(report.workers, 1);
    assert.equal(report.pipeline, 'standardize');
    for (const trial of report.trials) {
      if (trial.params['solver'] === 'nope') assert.equal(trial.error?.code, 'CONFIG');
      else assert.equal(trial.foldScores?.length, 3);
    }
    assert.equal(report.best.params['solver'], 'lbfgs');
    assert.ok(report.heldOut.rows > 100 && report.heldOut.rows < 260, `held-out rows ${report.heldOut.rows}`);
    assert.ok(report.heldOut.tuned > 0.5 && report.heldOut.default > 0.5);
  });
});

test('tune with ASHA on an epochs budget prints the best and the budget spent, and writes the report page', () => {
  withSpace({ lr: { type: 'log-uniform', low: 1e-3, high: 3e-2 }, hidden: { type: 'choice', values: [[8], [16]] } }, (space) => {
    const report = join(dirname(space), 'study.html');
    const r = run([
      'tune',
      'mlp',
      '--data',
      DATA,
      '--space',
      space,
      '--searcher',
      'asha',
      '--trials',
      '9',
      '--cv',
      '3',
      '--resource',
      'epochs:1:9',
      '--batch-size',
      '32',
      '--report',
      report,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(report, 'utf8').match(/<svg/g)?.length, 3, 'trial curves, parallel coordinates, score vs fit seconds');
    assert.match(r.stdout, /mlp: asha search, \d+ trials \(0 failed\)/);
    assert.match(r.stdout, /best #\d+ budget (1|3|9) /);
    assert.match(r.stdout, /budget spent: \d+ epochs/);
    assert.match(r.stdout, /held-out accuracy: tuned 0\.\d+, default 0\.\d+/);
  });
});

test('a bad space file fails with one line naming the file and field, exit code 2', () => {
  withSpace({ lr: { type: 'uniform', low: 1 } }, (space) => {
    const r = run(['tune', 'mlp', '--data', DATA, '--space', space]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /space\.json: 'lr\.high' must be a finite number/);
  });
  withSpace('{ "lr": ', (space) => {
    const r = run(['tune', 'mlp', '--data', DATA, '--space', space]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /space\.json: not valid JSON/);
  });
  const r = run(['tune', 'mlp', '--data', DATA, '--space', 'x.json', '--searcher', 'bayes']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--searcher expects one of grid, random, tpe, sha, asha, hyperband/);
});

test('--study stores each trial in the runs database; running it again resumes, reusing finished trials', () => {
  withSpace({ l2: { type: 'log-uniform', low: 1e-5, high: 10 } }, (space) => {
    const db = join(dirname(space), 'runs.duckdb');
    const base = [
      'tune',
      'logistic-regression',
      '--data',
      DATA,
      '--space',
      space,
      '--cv',
      '3',
      '--seed',
      '2',
      '--study',
      'lr',
      '--db',
      db,
      '--json',
    ];
    type Report = {
      trials: { params: Record<string, unknown>; foldScores: number[]; reused: boolean }[];
      study: { attempt: number; reused: number };
    };
    const first = run([...base, '--trials', '3']);
    assert.equal(first.status, 0, first.stderr);
    const a = JSON.parse(first.stdout) as Report;
    assert.deepEqual(a.study, { name: 'lr', db, attempt: 1, reused: 0 });
    const second = run([...base, '--trials', '6']);
    assert.equal(second.status, 0, second.stderr);
    const b = JSON.parse(second.stdout) as Report;
    assert.equal(b.trials.length, 6);
    assert.equal(b.study.attempt, 2);
    assert.equal(b.study.reused, 3);
    for (const earlier of a.trials) {
      const again = b.trials.find((t) => JSON.stringify(t.params) === JSON.stringify(earlier.params))!;
      assert.equal(again.reused, true);
      assert.deepEqual(again.foldScores, earlier.foldScores);
    }
    const changed = run([...base.filter((f) => f !== '--seed' && f !== '2'), '--seed', '3']);
    assert.equal(changed.status, 2);
    assert.match(changed.stderr, /study 'lr' .* was run with seed = 2, now 3/);
  });
});
