// The RL agents on the command line, as a user runs them: the real bin in a child process, no --data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/shardlearn.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('train q-learning --env frozenlake-4x4 --slippery --episodes 20000 --json: metrics, and the saved policy evaluates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-rl-'));
  try {
    const out = join(dir, 'policy.json');
    const r = run([
      'train',
      'q-learning',
      '--env',
      'frozenlake-4x4',
      '--slippery',
      '--episodes',
      '20000',
      '--seed',
      '1',
      '--json',
      '--out',
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      env: string;
      eval: string;
      trainSamples: number;
      evalSamples: number;
      metrics: Record<string, number>;
    };
    assert.equal(report.env, 'frozenlake-4x4');
    assert.equal(report.eval, 'episodes');
    assert.equal(report.evalSamples, 100);
    assert.equal(report.metrics['envSteps'], report.trainSamples);
    assert.ok(report.metrics['evalReturn']! >= 0.6, `evalReturn ${report.metrics['evalReturn']}`);
    assert.equal(report.metrics['successRate'], report.metrics['evalReturn']);
    assert.ok(report.metrics['stepsToTarget']! > 0 && report.metrics['stepsToTarget']! < report.trainSamples);
    assert.ok(report.metrics['envStepsPerSecond']! > 0);
    const p = run(['predict', '--model', out, '--episodes', '1000', '--json']);
    assert.equal(p.status, 0, p.stderr);
    const predicted = JSON.parse(p.stdout) as { episodes: number; metrics: Record<string, number> };
    assert.equal(predicted.episodes, 1000);
    assert.ok(predicted.metrics['successRate']! >= 0.7, `success ${predicted.metrics['successRate']}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train q-learning --env cliffwalking on 2 threads prints evalReturn −13', () => {
  const r = run(['train', 'q-learning', '--env', 'cliffwalking', '--episodes', '2000', '--paradigm', 'threads', '--workers', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /threads, 2 actors/);
  assert.match(r.stdout, /evalReturn: -13\n/);
});

test('agents refuse --data, and a continuous environment for q-learning, with exit code 2', () => {
  const withData = run(['train', 'q-learning', '--data', 'x.csv']);
  assert.equal(withData.status, 2);
  assert.match(withData.stderr, /learns from an environment \(--env\), not from data/);
  const cartpole = run(['train', 'q-learning', '--env', 'cartpole', '--episodes', '5']);
  assert.equal(cartpole.status, 2);
  assert.match(cartpole.stderr, /discrete observation space/);
});

test('train dqn --env cartpole --json on 3 threads with asynchronous actors, and info lists both agents', () => {
  const r = run([
    'train',
    'dqn',
    '--env',
    'cartpole',
    '--steps',
    '3000',
    '--hidden',
    '16,16',
    '--learning-starts',
    '500',
    '--paradigm',
    'threads',
    '--workers',
    '3',
    '--actors',
    'async',
    '--sync-every',
    '50',
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { workers: number; trainSamples: number; metrics: Record<string, number> };
  assert.equal(report.workers, 3);
  assert.equal(report.trainSamples, 3000);
  assert.ok(report.metrics['evalReturn']! >= 8 && report.metrics['evalReturn']! <= 500);
  assert.ok(report.metrics['envStepsPerSecond']! > 0);
  const info = run(['info']);
  assert.match(info.stdout, /q-learning\s+agent/);
  assert.match(info.stdout, /dqn\s+agent/);
});
