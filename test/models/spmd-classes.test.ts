import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCommunicator } from '../../src/comm/local.js';
import { DataError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { discoverClasses, encodeLabels } from '../../src/models/spmd.js';

test('agreed classes (TrainContext.classes) replace discovery: a shard lacking a class still gets every class', async () => {
  const comm = new LocalCommunicator();
  const labels = Float64Array.of(0, 2, 2);
  assert.deepEqual(Array.from(await discoverClasses(comm, labels)), [0, 2]);
  assert.deepEqual(Array.from(await discoverClasses(comm, labels, 'shard', Float64Array.of(0, 1, 2))), [0, 1, 2]);
  await assert.rejects(
    discoverClasses(comm, Float64Array.of(0, 5), 'client.csv', Float64Array.of(0, 1, 2)),
    (error: unknown) =>
      error instanceof DataError && /client\.csv.*row 2.*label 5 is not one of the agreed classes 0, 1, 2/.test(error.message),
  );
});

test('encodeLabels: classes that are a run of integers are indexed by subtraction, others by search, with the same codes', () => {
  const labels = Float64Array.of(0, 1, 2, 3, -1, 0.5, NaN, Infinity, -0, 2, 1e12, -1e12);
  // 0..2 (a run): 3 and −1 are outside, fractions, NaN and infinities are no class.
  assert.deepEqual(Array.from(encodeLabels(labels, Float64Array.of(0, 1, 2))), [0, 1, 2, -1, -1, -1, -1, -1, 0, 2, -1, -1]);
  // −1, 1 (LibSVM's binary labels, not a run) and 0, 2 (a gap) go by search.
  assert.deepEqual(Array.from(encodeLabels(labels, Float64Array.of(-1, 1))), [-1, 1, -1, -1, 0, -1, -1, -1, -1, -1, -1, -1]);
  assert.deepEqual(Array.from(encodeLabels(labels, Float64Array.of(0, 2))), [0, -1, 1, -1, -1, -1, -1, -1, 0, 1, -1, -1]);
  // Both ways agree on random labels for a run that does not start at 0.
  const rng = new Rng(3);
  const many = Float64Array.from({ length: 5000 }, () => rng.int(14) - 2 + (rng.uniform() < 0.05 ? 0.25 : 0));
  const run = Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const expected = Array.from(many, (v) => run.indexOf(v));
  assert.deepEqual(Array.from(encodeLabels(many, run)), expected);
});
