// `train --strategy ps-sync:backup=1 --json` reports the rounds (FitInfo.rounds): every round closed
// with at least size − b gradients, dropped gradients counted; a bad option is one line naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SGD_TRAIN, run } from './bin.js';

test('train --strategy ps-sync:backup=1 --json reports rounds, aggregated and dropped gradients', () => {
  const result = run([...SGD_TRAIN, '--paradigm', 'processes', '--workers', '3', '--strategy', 'ps-sync:backup=1', '--json']);
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout) as {
    strategy: string;
    rounds: { rounds: number; aggregated: number; dropped: number; missedByRank: number[]; droppedByRank: number[] };
  };
  assert.equal(report.strategy, 'ps-sync:backup=1');
  const { rounds } = report;
  assert.ok(rounds.rounds > 0 && rounds.aggregated >= 2 * rounds.rounds, JSON.stringify(rounds));
  assert.equal(
    rounds.dropped,
    rounds.droppedByRank.reduce((a, b) => a + b, 0),
  );
  assert.equal(rounds.missedByRank.length, 3);
  const bad = run([...SGD_TRAIN, '--paradigm', 'processes', '--workers', '3', '--strategy', 'ps-sync:backup=x']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /strategy 'ps-sync:backup=x': cannot read 'backup=x'/);
});
