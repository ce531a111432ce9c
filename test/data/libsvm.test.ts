import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLibsvm } from '../../src/data/libsvm.js';
import { Rng } from '../../src/core/rng.js';
import { assertShardsEqualWhole, tempDir, writeTemp } from './support.js';

const dir = tempDir();

test('LibSVM lines densify: 1-based indices, qid ignored, comments, blank lines', async () => {
  const path = writeTemp(dir, 'a.svm', '# header comment\n+1 1:0.5 4:-2 # trailing\n\n-1 qid:3 2:1e-3\t3:7\n0\n');
  const data = await loadLibsvm(path);
  assert.equal(data.rows, 3);
  assert.equal(data.cols, 4);
  assert.deepEqual(Array.from(data.x), [0.5, 0, 0, -2, 0, 0.001, 7, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(data.labels()), [1, -1, 0]);
  const wider = await loadLibsvm(path, { cols: 6 });
  assert.equal(wider.cols, 6);
  assert.deepEqual(Array.from(wider.row(1)), [0, 0.001, 7, 0, 0, 0]);
});

test('sharded LibSVM equals the whole for 1..3 shards, with and without cols', async () => {
  const rng = new Rng(5);
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const features = Array.from({ length: 20 }, (_, j) => j + 1).filter(() => rng.uniform() < 0.3);
    // the largest index (25) appears only once, late in the file: shards must still agree on cols
    if (i === 250) features.push(25);
    lines.push(`${rng.int(3)} ${features.map((j) => `${j}:${rng.normal().toFixed(4)}`).join(' ')}`);
  }
  const path = writeTemp(dir, 'b.libsvm', lines.join('\n'));
  const whole = await loadLibsvm(path);
  assert.equal(whole.cols, 25);
  for (let worldSize = 1; worldSize <= 3; worldSize++) {
    for (const cols of [undefined, 25]) {
      const shards = await Promise.all(
        Array.from({ length: worldSize }, (_, rank) =>
          loadLibsvm(path, { shard: { rank, worldSize }, ...(cols !== undefined && { cols }) }),
        ),
      );
      assertShardsEqualWhole(whole, shards);
    }
  }
});
