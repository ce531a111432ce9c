// Row keys (the per-row identity the train/test split hashes) follow rows through slice/take/with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/data/dataset.js';

const data = new Dataset({ x: Float64Array.of(1, 2, 3, 4, 5, 6), rows: 3, cols: 2, y: Float64Array.of(0, 1, 0) });

test('row keys default to row indices and shift with slices', () => {
  assert.deepEqual(
    [0, 1, 2].map((i) => data.rowKey(i)),
    [0, 1, 2],
  );
  const tail = data.slice(1, 3);
  assert.deepEqual([tail.rowKey(0), tail.rowKey(1)], [1, 2]);
  assert.equal(tail.slice(1, 2).rowKey(0), 2);
});

test('explicit row keys (byte offsets) follow take and slice; with() drops them when rows change', () => {
  const keyed = data.with({ rowKeys: Float64Array.of(10, 25, 40) });
  assert.deepEqual(Array.from(keyed.take([2, 0]).rowKeys!), [40, 10]);
  assert.equal(keyed.slice(1, 2).rowKey(0), 25);
  assert.equal(keyed.with({ x: Float64Array.of(0, 0, 0, 0, 0, 0) }).rowKey(2), 40);
  const fewer = keyed.with({ x: Float64Array.of(1, 2), rows: 1, y: Float64Array.of(0) });
  assert.equal(fewer.rowKey(0), 0);
  assert.throws(() => data.with({ rowKeys: Float64Array.of(1) }), /expected 3 row keys/);
});
