// Metric arithmetic on known inputs: quartiles as numpy.quantile (linear) gives them, speedup,
// efficiency, time to target, crossover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossover, efficiency, median, quantileSorted, speedup, spread, timeToTargetLoss } from '../../src/compare/stats.js';
import type { HistoryPoint } from '../../src/compare/stats.js';

test('spread matches numpy.quantile([1, 2, 3, 10], [.25, .5, .75]) = [1.75, 2.5, 4.75]', () => {
  // deviations from 2.5: 0.5, 7.5, 1.5, 0.5 → median 1
  assert.deepEqual(spread([3, 10, 1, 2]), { n: 4, median: 2.5, min: 1, max: 10, q1: 1.75, q3: 4.75, iqr: 3, mad: 1 });
});

test('spread of 1..5 and of one value; non-finite values are left out; empty gives null', () => {
  assert.deepEqual(spread([5, 4, 3, 2, 1]), { n: 5, median: 3, min: 1, max: 5, q1: 2, q3: 4, iqr: 2, mad: 1 });
  assert.deepEqual(spread([7, NaN]), { n: 1, median: 7, min: 7, max: 7, q1: 7, q3: 7, iqr: 0, mad: 0 });
  assert.equal(spread([]), null);
  assert.ok(Number.isNaN(median([])));
  assert.equal(median([4, 1, 3]), 3);
  assert.equal(quantileSorted([0, 10], 0.3), 3);
});

test('speedup = baseline / measured; efficiency = speedup / workers; unusable inputs give null', () => {
  assert.equal(speedup(10, 4), 2.5);
  assert.equal(efficiency(2.5, 4), 0.625);
  assert.equal(speedup(null, 4), null);
  assert.equal(speedup(10, 0), null);
  assert.equal(efficiency(null, 2), null);
});

test('time to target loss: the first point at or below the target', () => {
  const history: HistoryPoint[] = [
    { elapsedMs: 10, iteration: 1, total: 4, loss: 0.9 },
    { elapsedMs: 20, iteration: 2, total: 4, loss: null },
    { elapsedMs: 30, iteration: 3, total: 4, loss: 0.5 },
    { elapsedMs: 40, iteration: 4, total: 4, loss: 0.4 },
  ];
  assert.equal(timeToTargetLoss(history, 0.5), 30);
  assert.equal(timeToTargetLoss(history, 0.95), 10);
  assert.equal(timeToTargetLoss(history, 0.1), null);
});

test('crossover: where b stops being slower than a, interpolated linearly', () => {
  // b - a = +2 at x=100, -2 at x=300 → zero at x=200
  assert.equal(crossover([100, 300], [1, 5], [3, 3]), 200);
  assert.equal(crossover([100, 300], [1, 2], [3, 4]), null);
});
