import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FASHION_MNIST_DIR, loadFashionMnist, loadMnist } from '../../src/data/builtin.js';
import { DataError } from '../../src/core/errors.js';
import { tempDir } from './support.js';

test('builtin:mnist gives 8,000 train and 2,000 test digits of 784 pixels in [0, 1], in a fixed order', async () => {
  const { train, test: testPart } = await loadMnist();
  assert.equal(train.rows, 8000);
  assert.equal(testPart.rows, 2000);
  assert.equal(train.cols, 784);
  let min = Infinity;
  let max = -Infinity;
  for (const v of train.x) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  // every digit of the package appears exactly once across the two parts
  const counts = new Array<number>(10).fill(0);
  for (const part of [train, testPart]) for (const label of part.labels()) counts[label]!++;
  const require = createRequire(import.meta.url);
  const digits = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const zeros = (JSON.parse(await readFile(join(digits, '0.json'), 'utf8')) as { data: number[] }).data;
  assert.equal(counts[0], zeros.length / 784);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    10000,
  );
  // the package's first zero image is in one of the parts, pixel for pixel, labelled 0
  const firstZero = zeros.slice(0, 784);
  const holders = [train, testPart].flatMap((part) =>
    Array.from({ length: part.rows }, (_, i) => i)
      .filter((i) => part.row(i).every((v, p) => v === firstZero[p]))
      .map((i) => part.labels()[i]),
  );
  assert.deepEqual(holders, [0]);
  // shards are slices of the same fixed order
  const again = await loadMnist({ shard: { rank: 1, worldSize: 2 } });
  assert.deepEqual(Array.from(again.train.x.subarray(0, 784)), Array.from(train.row(4000)));
  assert.deepEqual(Array.from(again.test.labels()), Array.from(testPart.labels().subarray(1000)));
});

test(
  'builtin:fashion-mnist reads the Debian package (10 classes of 1,000 test images)',
  { skip: !existsSync(FASHION_MNIST_DIR) && 'apt-get install dataset-fashion-mnist' },
  async () => {
    const { train, test: testPart } = await loadFashionMnist({ dtype: 'float32', shard: { rank: 0, worldSize: 20 } });
    assert.equal(train.rows, 3000);
    assert.equal(testPart?.rows, 500);
    const whole = await loadFashionMnist({ dtype: 'float32', shard: { rank: 0, worldSize: 1 } });
    const counts = new Array<number>(10).fill(0);
    for (const label of whole.test!.labels()) counts[label]!++;
    assert.deepEqual(counts, new Array<number>(10).fill(1000));
    assert.equal(whole.train.rows, 60000);
    assert.equal(whole.train.labelNames?.[9], 'Ankle boot');
    assert.deepEqual(Array.from(train.x.subarray(0, 784)), Array.from(whole.train.row(0)));
  },
);

test('fashion-mnist missing: a DataError saying how to install it', async () => {
  await assert.rejects(
    loadFashionMnist({ directory: tempDir() }),
    (error: unknown) =>
      error instanceof DataError && /apt-get install dataset-fashion-mnist/.test(error.message) && /--data <dir>/.test(error.message),
  );
});
