import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadIdx, loadIdxDirectory, readIdx } from '../../src/data/idx.js';
import { assertShardsEqualWhole, idxBytes, tempDir, writeTemp } from './support.js';

const dir = tempDir();

const images = Uint8Array.from({ length: 5 * 2 * 3 }, (_, i) => (i * 37) % 256);
const labels = Uint8Array.of(3, 1, 4, 1, 5);

test('IDX images and labels round-trip, scaled to [0, 1], gzipped or not', async () => {
  for (const gz of [false, true]) {
    const sub = join(dir, gz ? 'gz' : 'raw');
    mkdirSync(sub);
    const wrap = (b: Uint8Array): Uint8Array => (gz ? gzipSync(b) : b);
    const suffix = gz ? '.gz' : '';
    const imagesPath = writeTemp(sub, `train-images-idx3-ubyte${suffix}`, wrap(idxBytes(0x08, [5, 2, 3], images)));
    writeTemp(sub, `train-labels-idx1-ubyte${suffix}`, wrap(idxBytes(0x08, [5], labels)));
    const data = await loadIdx(imagesPath, undefined); // labels found beside the images
    assert.equal(data.rows, 5);
    assert.equal(data.cols, 6);
    assert.deepEqual(
      Array.from(data.x),
      Array.from(images, (v) => v / 255),
    );
    assert.deepEqual(Array.from(data.labels()), [3, 1, 4, 1, 5]);
    const raw = await loadIdx(imagesPath, null, { scale: false });
    assert.deepEqual(Array.from(raw.x), Array.from(images));
    assert.equal(raw.y, null);
  }
});

test('an IDX directory gives train and test parts; shards equal slices of the whole', async () => {
  const sub = join(dir, 'mnistlike');
  mkdirSync(sub);
  writeTemp(sub, 'train-images-idx3-ubyte', idxBytes(0x08, [5, 2, 3], images));
  writeTemp(sub, 'train-labels-idx1-ubyte', idxBytes(0x08, [5], labels));
  writeTemp(sub, 't10k-images-idx3-ubyte.gz', gzipSync(idxBytes(0x08, [2, 2, 3], images.subarray(0, 12))));
  writeTemp(sub, 't10k-labels-idx1-ubyte.gz', gzipSync(idxBytes(0x08, [2], labels.subarray(0, 2))));
  const { train, test: testPart } = await loadIdxDirectory(sub);
  assert.equal(train.rows, 5);
  assert.equal(testPart?.rows, 2);
  assert.deepEqual(Array.from(testPart!.labels()), [3, 1]);
  for (let worldSize = 1; worldSize <= 3; worldSize++) {
    const parts = await Promise.all(Array.from({ length: worldSize }, (_, rank) => loadIdxDirectory(sub, { shard: { rank, worldSize } })));
    assertShardsEqualWhole(
      train,
      parts.map((p) => p.train),
    );
    assertShardsEqualWhole(
      testPart!,
      parts.map((p) => p.test!),
    );
  }
});

test('IDX value types other than bytes decode big-endian', async () => {
  const payload = Buffer.alloc(3 * 4);
  [1.5, -2.25, 1e10].forEach((v, i) => payload.writeFloatBE(v, 4 * i));
  const path = writeTemp(dir, 'floats.idx', idxBytes(0x0d, [3], payload));
  const decoded = await readIdx(path);
  assert.deepEqual(Array.from(decoded.values), [1.5, -2.25, Math.fround(1e10)]);
  const ints = Buffer.alloc(2 * 2);
  ints.writeInt16BE(-300, 0);
  ints.writeInt16BE(300, 2);
  const intPath = writeTemp(dir, 'ints.idx', idxBytes(0x0b, [2, 1], ints));
  const data = await loadIdx(intPath, null);
  assert.deepEqual(Array.from(data.x), [-300, 300]); // not bytes: never scaled
});
