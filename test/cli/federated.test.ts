// `train --paradigm federated` through the real binary: the flags, the JSON report, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from './bin.js';

const DATA = ['--data', 'synthetic:blobs?rows=600&cols=4&seed=1'];

test('train --paradigm federated reports rounds, bytes, (ε, δ) and drops in --json', () => {
  const r = run([
    'train', 'logistic-regression', ...DATA, '--solver', 'sgd', '--lr', '0.1',
    '--paradigm', 'federated', '--clients', '12', '--fraction', '0.5', '--rounds', '4', '--local-epochs', '2',
    '--partition', 'dirichlet:0.5', '--aggregator', 'fedprox:0.01', '--dropout', '0.2', '--byzantine', '0.25:nan',
    '--clients-on', 'inline', '--target-score', '0.5', '--json',
  ]); // prettier-ignore
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { paradigm: string; metrics: { accuracy: number }; federated: Record<string, unknown> };
  assert.equal(report.paradigm, 'federated');
  const f = report.federated;
  assert.equal(f['rounds'], 4);
  assert.equal(f['epsilon'], null);
  assert.equal(f['delta'], null);
  assert.ok((f['bytesUp'] as number) > 0 && (f['bytesDown'] as number) > 0);
  assert.ok((f['dropped'] as number) > 0, 'NaN and dropped-out clients are counted');
  assert.equal(typeof f['roundsToTarget'], 'number');
  assert.ok(report.metrics.accuracy > 0.5, String(report.metrics.accuracy));
});

test('federated flags are refused under another paradigm, and bad values name the flag', () => {
  const other = run(['train', 'logistic-regression', ...DATA, '--paradigm', 'threads', '--rounds', '3']);
  assert.equal(other.status, 2);
  assert.match(other.stderr, /--rounds is a flag of --paradigm federated/);
  const bad = run(['train', 'logistic-regression', ...DATA, '--solver', 'sgd', '--paradigm', 'federated', '--partition', 'dirichlet:-1']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--partition 'dirichlet:-1'/);
  const aggregator = run(['train', 'logistic-regression', ...DATA, '--solver', 'sgd', '--paradigm', 'federated', '--aggregator', 'krum:2']);
  assert.equal(aggregator.status, 2);
  assert.match(aggregator.stderr, /unknown aggregator 'krum:2'; expected one of: fedavg/);
});
