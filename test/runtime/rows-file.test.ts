// A processes rank's shipped rows through the job's local folder (runtime/rows-file.ts): the arrays
// come back bit for bit (float32 or float64 features, labels and row keys present or null) from a
// file only this user can read, which the rank removes once read; a file cut short is refused naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalDir } from '../../src/comm/zmq/local.js';
import { readRowsFile, withoutRows, writeRowsFile } from '../../src/runtime/rows-file.js';
import type { DatasetInit } from '../../src/data/dataset.js';
import { WorkerError } from '../../src/core/errors.js';

test('rows written to the local folder read back bit for bit, from a 0600 file the rank then removes', async () => {
  const local = await createLocalDir();
  try {
    const cases: DatasetInit[] = [
      {
        x: Float64Array.from([1.5, -0, Math.PI, 1e-300, 7, 8]),
        rows: 3,
        cols: 2,
        y: Float64Array.from([0, 1, 2]),
        rowKeys: Float64Array.from([10, 12, 15]),
        source: 'a.csv',
        featureNames: ['a', 'b'],
      },
      { x: Float32Array.from([0.1, 0.2, 0.3]), rows: 3, cols: 1, y: null, rowKeys: null, rowKeyBase: 40 },
    ];
    for (const [i, init] of cases.entries()) {
      const file = writeRowsFile(join(local.dir, `rows-${i}.bin`), init);
      assert.equal(statSync(file.path).mode & 0o777, 0o600);
      const shipped = withoutRows(init);
      assert.equal(shipped.x.length, 0);
      const back = readRowsFile(file, shipped, i);
      assert.equal(back.x.constructor, init.x.constructor);
      assert.deepEqual(Array.from(back.x), Array.from(init.x));
      assert.deepEqual(back.y === null ? null : Array.from(back.y!), init.y === null ? null : Array.from(init.y!));
      assert.deepEqual(back.rowKeys === null ? null : Array.from(back.rowKeys!), init.rowKeys === null ? null : Array.from(init.rowKeys!));
      assert.equal(back.rows, init.rows);
      assert.equal(back.rowKeyBase, init.rowKeyBase);
      assert.deepEqual(back.featureNames, init.featureNames);
      assert.equal(existsSync(file.path), false, 'removed once read');
    }
  } finally {
    await local.remove();
  }
});

test('a rows file cut short, or missing, fails the rank with a WorkerError naming the file', async () => {
  const local = await createLocalDir();
  try {
    const init: DatasetInit = { x: new Float64Array(100).fill(1), rows: 50, cols: 2, y: new Float64Array(50) };
    const file = writeRowsFile(join(local.dir, 'rows-0.bin'), init);
    truncateSync(file.path, 700);
    assert.throws(
      () => readRowsFile(file, withoutRows(init), 1),
      (error: unknown) => error instanceof WorkerError && error.rank === 1 && error.message.includes(file.path) && /end after 700 bytes/.test(error.message),
    );
    assert.throws(
      () => readRowsFile({ ...file, path: join(local.dir, 'gone.bin') }, withoutRows(init), 1),
      (error: unknown) => error instanceof WorkerError && error.message.includes('gone.bin'),
    );
  } finally {
    await local.remove();
  }
});
