// The restart-policy flags through the real binary: they reach the fit (a policy that cannot hold is
// refused naming the setting, exit 2), and a run under a policy with nothing lost reports no faults.
// The re-forms themselves are tested with real SIGKILLs in test/runtime/elastic-*.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from './bin.js';

const BASE = [
  'train',
  'logistic-regression',
  '--data',
  'synthetic:classification?rows=600&cols=4&seed=2',
  '--solver',
  'sgd',
  '--epochs',
  '2',
];

test('--min-workers above --workers, a negative --max-restarts, and a policy under ps-ssp are refused, naming the setting', () => {
  const above = run([...BASE, '--paradigm', 'processes', '--workers', '2', '--min-workers', '3']);
  assert.equal(above.status, 2, above.stderr);
  assert.match(above.stderr, /minWorkers ≤ workers ≤ maxWorkers, got 3 ≤ 2/);
  const negative = run([...BASE, '--paradigm', 'processes', '--workers', '2', '--max-restarts', '-1']);
  assert.equal(negative.status, 2, negative.stderr);
  assert.match(negative.stderr, /--max-restarts/);
  const async = run([...BASE, '--paradigm', 'processes', '--workers', '2', '--strategy', 'ps-ssp:2', '--min-workers', '1']);
  assert.equal(async.status, 2, async.stderr);
  assert.match(async.stderr, /re-forms allreduce, ps-sync and ps-async, not 'ps-ssp:2'/);
});

test('processes×2 with --min-workers 1 and nothing lost: trains on both workers, no faults in --json', () => {
  const result = run([...BASE, '--paradigm', 'processes', '--workers', '2', '--min-workers', '1', '--straggler-warning', '30', '--json']);
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { workers: number; faults?: unknown };
  assert.equal(report.workers, 2);
  assert.equal(report.faults, undefined);
});
