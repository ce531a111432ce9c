import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCommunicator } from '../../src/comm/local.js';
import { DataError } from '../../src/core/errors.js';
import { discoverClasses } from '../../src/models/spmd.js';

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
