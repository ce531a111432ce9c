// A processes rank's shard through a file of the job's folder (runtime/shard-file.ts): the rows, labels,
// row keys and names come back as the launcher's slice of them, in the launcher's dtype — mapped
// where this build maps files (views of one mapping, writable, the float64 columns behind an odd
// count of float32 values copied to stay aligned), read elsewhere; the file is written 0600, removed
// once read, and a file that does not hold what its descriptor says is refused with an error naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { DataError } from '../../src/core/errors.js';
import { canMapFiles } from '../../src/core/mapped-file.js';
import { kernels } from '../../src/core/kernels.js';
import { kernelMemoryArray } from '../../src/core/kernels-wasm.js';
import { Dataset } from '../../src/data/index.js';
import { readShardFile, shardFileBytes, writeShardFile } from '../../src/runtime/shard-file.js';

function withDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-shard-file-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const dataset = (x: Float32Array | Float64Array, keys: boolean): Dataset =>
  new Dataset({
    x,
    rows: 7,
    cols: 3,
    y: Float64Array.from({ length: 7 }, (_, i) => i % 2),
    featureNames: ['a', 'b', 'c'],
    labelNames: ['no', 'yes'],
    source: 'test.csv',
    rowKeys: keys ? Float64Array.from({ length: 7 }, (_, i) => 100 + 3 * i) : null,
    rowKeyBase: 40,
  });

for (const mapping of ['mapped', 'read'] as const)
  test(`${mapping}: a shard file gives back the launcher’s slice: rows, labels, row keys, names and dtype; 0600, removed once read`, (t) =>
    withDir((dir) => {
      if (mapping === 'read') process.env['SHARDLEARN_MAP_FILES'] = '0';
      else delete process.env['SHARDLEARN_MAP_FILES'];
      // Whether the build made the addon is test/comm/zmq-lane-board.test.ts's to check.
      if (mapping === 'mapped' && !canMapFiles()) return t.skip('this build cannot map files (no dist/native/map-file.node)');
      for (const [x, keys, end] of [
        [Float64Array.from({ length: 21 }, (_, i) => Math.sin(i)), true, 6],
        [Float32Array.from({ length: 21 }, (_, i) => i / 3), false, 6],
        // 3 rows × 3 float32 values: the labels and keys after them start 4 bytes off alignment.
        [Float32Array.from({ length: 21 }, (_, i) => i / 7), true, 5],
      ] as const) {
        const data = dataset(x, keys);
        const file = writeShardFile(dir, 1, data, 2, end);
        assert.equal(statSync(file.path).mode & 0o777, 0o600);
        assert.equal(statSync(file.path).size, shardFileBytes(file));
        const back = new Dataset(readShardFile(file));
        const slice = data.slice(2, end);
        const aligned = back.x.byteLength % 8 === 0;
        assert.equal(canMapFiles(), mapping === 'mapped');
        if (canMapFiles()) {
          assert.equal(back.x.buffer.byteLength, shardFileBytes(file), 'x is a view of the whole mapped file');
          assert.equal(back.y!.buffer === back.x.buffer, aligned, 'aligned labels are a view of the same mapping');
        } else assert.equal(back.x.buffer.byteLength, back.x.byteLength);
        assert.equal(existsSync(file.path), false, 'read once, then removed');
        assert.equal(back.x.constructor, x.constructor);
        assert.deepEqual(back.x, slice.x.slice());
        assert.deepEqual(back.y, slice.y!.slice());
        assert.deepEqual([back.rows, back.cols, back.source], [end - 2, 3, 'test.csv']);
        assert.deepEqual([back.featureNames, back.labelNames], [data.featureNames, data.labelNames]);
        for (let i = 0; i < end - 2; i++) assert.equal(back.rowKey(i), slice.rowKey(i), `row ${i}'s key`);
        // The rank's own rows: writable, though the file is gone.
        back.x[0] = 42;
        assert.equal(back.x[0], 42);
      }
    }));

test('with allocateX the features are read into kernel memory (the kernels read them in place), the rest as usual; released blocks are reused', () =>
  withDir((dir) => {
    for (const x of [Float64Array.from({ length: 21 }, (_, i) => Math.cos(i)), Float32Array.from({ length: 21 }, (_, i) => i / 9)]) {
      const data = dataset(x, true);
      const slice = data.slice(1, 6);
      const placed: { array: Float32Array | Float64Array; release(): void }[] = [];
      const back = new Dataset(
        readShardFile(writeShardFile(dir, 0, data, 1, 6), (dtype, length) => {
          placed.push(kernelMemoryArray(dtype, length));
          return placed.at(-1)!.array;
        }),
      );
      assert.equal(placed.length, 1);
      assert.equal(back.x, placed[0]!.array, 'x is the allocated array itself');
      assert.deepEqual(back.x, slice.x.slice());
      assert.deepEqual(back.y, slice.y!.slice());
      for (let i = 0; i < 5; i++) assert.equal(back.rowKey(i), slice.rowKey(i));
      if (kernels().name === 'wasm') {
        const resident = kernels().resident(back.x);
        assert.equal(resident.array, back.x, 'in kernel memory: resident() copies nothing');
        resident.release();
      }
      const { byteOffset } = back.x;
      placed[0]!.release();
      const again = kernelMemoryArray(x instanceof Float32Array ? 'float32' : 'float64', 15);
      if (kernels().name === 'wasm') assert.equal(again.array.byteOffset, byteOffset, 'the released block is taken again');
      assert.ok(
        again.array.every((v) => v === 0),
        'zeroed',
      );
      again.release();
    }
    const file = writeShardFile(dir, 0, dataset(new Float64Array(21), false), 0, 7);
    assert.throws(() => readShardFile(file, () => new Float64Array(3)), /allocateX returned Float64Array\(3\) for 21 float64 values/);
  }));

test('a shard file shorter than its descriptor is refused, naming the file and what was expected', () =>
  withDir((dir) => {
    const file = writeShardFile(dir, 0, dataset(new Float64Array(21).fill(1), true), 0, 7);
    truncateSync(file.path, 100);
    assert.throws(
      () => readShardFile(file),
      (error: unknown) =>
        error instanceof DataError &&
        error.message.startsWith(file.path) &&
        /holds 100 bytes where 7 rows × 3 float64 columns with labels and row keys need 280/.test(error.message),
    );
  }));
