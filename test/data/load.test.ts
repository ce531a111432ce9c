import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadData, parseSyntheticSpec } from '../../src/data/load.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { isShared } from '../../src/core/storage.js';
import { assertShardsEqualWhole, idxBytes, tempDir, writeTemp } from './support.js';

const dir = tempDir();

test('loadData picks the format by extension and passes options on', async () => {
  const csv = writeTemp(dir, 'a.csv', 'a,b,y\n1,2,3\n4,5,6\n');
  const tsv = writeTemp(dir, 'a.tsv', 'a\tb\ty\n1\t2\t3\n');
  const svm = writeTemp(dir, 'a.svm', '1 2:5\n');
  const fromCsv = await loadData(csv, { target: 'y', dtype: 'float32', placement: 'shared' });
  assert.equal(fromCsv.test, null);
  assert.ok(fromCsv.train.x instanceof Float32Array && isShared(fromCsv.train.x) && isShared(fromCsv.train.labels()));
  assert.deepEqual(Array.from((await loadData(tsv, { target: 'y' })).train.labels()), [3]);
  assert.deepEqual(Array.from((await loadData(svm, { cols: 3 })).train.x), [0, 5, 0]);
  const idxDir = join(dir, 'idx');
  mkdirSync(idxDir);
  writeTemp(idxDir, 'train-images-idx3-ubyte', idxBytes(0x08, [2, 1, 2], Uint8Array.of(0, 255, 51, 102)));
  writeTemp(idxDir, 'train-labels-idx1-ubyte', idxBytes(0x08, [2], Uint8Array.of(7, 8)));
  const fromDir = await loadData(idxDir);
  assert.deepEqual(Array.from(fromDir.train.x), [0, 1, 0.2, 0.4]);
  assert.equal(fromDir.test, null);
  const fromFile = await loadData(join(idxDir, 'train-images-idx3-ubyte'));
  assert.deepEqual(Array.from(fromFile.train.labels()), [7, 8]);
});

test('synthetic specs: parsed, sharded by row range, unknown keys refused', async () => {
  assert.deepEqual(parseSyntheticSpec('synthetic:blobs?rows=500&centers=4&std=0.5'), { kind: 'blobs', rows: 500, centers: 4, std: 0.5 });
  const spec = 'synthetic:regression?rows=3000&cols=4&seed=1&noise=0.2';
  const whole = (await loadData(spec)).train;
  assert.deepEqual(
    Array.from(whole.x),
    Array.from(syntheticGenerator({ kind: 'regression', rows: 3000, cols: 4, seed: 1, noise: 0.2 }).generate().x),
  );
  for (let worldSize = 1; worldSize <= 3; worldSize++) {
    const shards = await Promise.all(Array.from({ length: worldSize }, (_, rank) => loadData(spec, { shard: { rank, worldSize } })));
    assertShardsEqualWhole(
      whole,
      shards.map((s) => s.train),
    );
  }
  await assert.rejects(
    loadData('synthetic:regression?rows=10&colz=3'),
    (e: unknown) => e instanceof ConfigError && e.field === 'colz' && /accepts rows, cols, seed, noise, intercept/.test(e.message),
  );
  await assert.rejects(loadData('synthetic:blobs?rows=10&rank=3'), (e: unknown) => e instanceof ConfigError && e.field === 'rank');
  await assert.rejects(loadData('synthetic:spiral?rows=10'), ConfigError);
  await assert.rejects(loadData('synthetic:blobs?cols=3'), (e: unknown) => e instanceof ConfigError && e.field === 'rows');
  await assert.rejects(loadData('synthetic:blobs?rows=ten'), (e: unknown) => e instanceof ConfigError && e.field === 'rows');
});

test('bad shard specs and unknown builtins are refused', async () => {
  await assert.rejects(
    loadData('synthetic:blobs?rows=10', { shard: { rank: 2, worldSize: 2 } }),
    (e: unknown) => e instanceof ConfigError && e.field === 'shard',
  );
  await assert.rejects(
    loadData('builtin:cifar'),
    (e: unknown) => e instanceof DataError && /builtin:mnist or builtin:fashion-mnist/.test(e.message),
  );
});

test('builtin:mnist through loadData has train and test parts', async () => {
  const { train, test: testPart } = await loadData('builtin:mnist', { dtype: 'float32', shard: { rank: 0, worldSize: 4 } });
  assert.equal(train.rows, 2000);
  assert.equal(testPart?.rows, 500);
});
