// Who computes which rows of a synchronous global batch (models/solvers/sgd.ts): an even split by position
// when every rank can read all rows (threads), the rows of its own shard otherwise. Both must hand
// out every row of the batch exactly once over the ranks, so every paradigm trains on the same batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { evenShare, shardShare } from '../../src/models/solvers/sgd.js';

const order = new Rng(3).permutation(1000);

test('evenShare: P ranks cover each batch exactly once, in parts that differ by at most one row', () => {
  for (const size of [1, 2, 3, 7]) {
    for (const [start, stop] of [
      [0, 64],
      [64, 128],
      [960, 1000],
      [5, 6],
    ] as const) {
      const seen: number[] = [];
      const lengths: number[] = [];
      for (let rank = 0; rank < size; rank++) {
        const rows = new Uint32Array(64);
        const count = evenShare(order, start, stop, rank, size, rows);
        lengths.push(count);
        seen.push(...rows.subarray(0, count));
      }
      assert.deepEqual(seen, [...order.subarray(start, stop)], `size ${size}, batch [${start}, ${stop})`);
      assert.ok(Math.max(...lengths) - Math.min(...lengths) <= 1, `size ${size}: parts ${lengths.join(', ')}`);
    }
  }
});

test('shardShare: each rank gets the batch rows inside its shard, as shard indices; together every row once', () => {
  const shards = [
    [0, 300],
    [300, 650],
    [650, 1000],
  ] as const;
  const seen: number[] = [];
  const lengths: number[] = [];
  for (const [first, end] of shards) {
    const rows = new Uint32Array(64);
    const count = shardShare(order, 128, 192, first, end, rows);
    lengths.push(count);
    for (const local of rows.subarray(0, count)) {
      assert.ok(local < end - first);
      seen.push(local + first);
    }
  }
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    [...order.subarray(128, 192)].sort((a, b) => a - b),
  );
  // The shares follow where the rows live, so they are uneven (the cost the even split removes).
  assert.ok(Math.max(...lengths) - Math.min(...lengths) > 1, `shares ${lengths.join(', ')}`);
});
