// The live ETA: each remaining run at its own cell's mean, unseen cells at the overall mean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, remainingSeconds } from '../../src/compare/eta.js';

test("remaining runs are estimated per cell, in the runner's order (repeat by repeat over the cells)", () => {
  const cells = ['fast', 'slow', 'new'];
  const measured = new Map([
    ['fast', [1, 3]],
    ['slow', [10]],
  ]);
  // 2 repeats = 6 runs; runs 1–3 done or running; 4 = fast (2), 5 = slow (10), 6 = new (the mean of 1, 3, 10)
  assert.equal(remainingSeconds(cells, 6, 4, measured), 2 + 10 + 14 / 3);
  assert.equal(remainingSeconds(cells, 6, 7, measured), 0);
  assert.equal(remainingSeconds(cells, 6, 1, new Map()), null);
});

test('durations read as a person would say them', () => {
  assert.equal(formatDuration(41.6), '42 s');
  assert.equal(formatDuration(185), '3 min 05 s');
  assert.equal(formatDuration(3720), '1 h 02 min');
});
