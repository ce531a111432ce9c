import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCsv } from '../../src/data/csv.js';
import { parseDecimal } from '../../src/data/text.js';
import { Rng } from '../../src/core/rng.js';
import { isShared } from '../../src/core/storage.js';
import { assertShardsEqualWhole, tempDir, writeTemp } from './support.js';

const dir = tempDir();

test('a CSV with header, quotes, text labels round-trips', async () => {
  const path = writeTemp(dir, 'iris.csv', 'sepal,"petal, width",species\n5.1,3.5,setosa\n"4.9",3.0,"versi""color"\r\n6.3,2.5e0,setosa\n');
  const data = await loadCsv(path, { target: 'species' });
  assert.equal(data.rows, 3);
  assert.deepEqual(Array.from(data.x), [5.1, 3.5, 4.9, 3.0, 6.3, 2.5]);
  assert.deepEqual(data.featureNames, ['sepal', 'petal, width']);
  // sorted text coding: setosa < versi"color
  assert.deepEqual(data.labelNames, ['setosa', 'versi"color']);
  assert.deepEqual(Array.from(data.labels()), [0, 1, 0]);
});

test('numeric labels stay numbers; target by negative index; semicolon and tab detected', async () => {
  const semicolon = writeTemp(dir, 'semi.csv', 'a;b;y\n1;2;0.5\n3;4;-7\n');
  const data = await loadCsv(semicolon, { target: -1 });
  assert.deepEqual(Array.from(data.labels()), [0.5, -7]);
  assert.equal(data.labelNames, null);
  const tab = writeTemp(dir, 'tab.txt', '1\t2\t3\n4\t5\t6\n');
  const noHeader = await loadCsv(tab, { target: 0 });
  assert.deepEqual(noHeader.featureNames, ['col1', 'col2']);
  assert.deepEqual(Array.from(noHeader.x), [2, 3, 5, 6]);
  assert.deepEqual(Array.from(noHeader.labels()), [1, 4]);
});

test('header: false keeps a first line of words as data labels; explicit delimiter', async () => {
  const path = writeTemp(dir, 'pipe.csv', '1|x\n2|y\n');
  const data = await loadCsv(path, { header: false, delimiter: '|', target: 1 });
  assert.deepEqual(Array.from(data.x), [1, 2]);
  assert.deepEqual(data.labelNames, ['x', 'y']);
});

test('missing values: drop, zero and mean policies (empty, NA, NaN, ?)', async () => {
  const path = writeTemp(dir, 'missing.csv', 'a,b,y\n1,,0\nNA,4,1\n3,NaN,0\n5,?,1\n7,8,0\n');
  const dropped = await loadCsv(path, { target: 'y', missing: 'drop' });
  assert.deepEqual(Array.from(dropped.x), [7, 8]);
  assert.deepEqual(Array.from(dropped.labels()), [0]);
  const zero = await loadCsv(path, { target: 'y', missing: 'zero' });
  assert.deepEqual(Array.from(zero.x), [1, 0, 0, 4, 3, 0, 5, 0, 7, 8]);
  const mean = await loadCsv(path, { target: 'y', missing: 'mean' });
  // column a present: 1,3,5,7 → mean 4; column b present: 4,8 → mean 6
  assert.deepEqual(Array.from(mean.x), [1, 6, 4, 4, 3, 6, 5, 6, 7, 8]);
});

test('float32 dtype and shared placement', async () => {
  const path = writeTemp(dir, 'f32.csv', 'a,b\n0.1,2\n3,4\n');
  const data = await loadCsv(path, { dtype: 'float32', placement: 'shared' });
  assert.ok(data.x instanceof Float32Array);
  assert.equal(data.x[0], Math.fround(0.1));
  assert.ok(isShared(data.x));
  assert.equal(data.y, null);
});

test('sharded loading equals the whole file for 1..3 shards (text labels, quotes, CRLF, blank lines)', async () => {
  const rng = new Rng(3);
  const lines = ['id,"value",label'];
  for (let i = 0; i < 400; i++) {
    const value = (rng.normal() * 1000).toPrecision(1 + rng.int(17));
    const label = ['red', 'green', 'blue'][rng.int(3)]!;
    const quoted = rng.uniform() < 0.3 ? `"${value}"` : value;
    lines.push(`${i},${quoted},${label}${rng.uniform() < 0.2 ? '\r' : ''}`);
    if (rng.uniform() < 0.05) lines.push('');
  }
  const path = writeTemp(dir, 'shards.csv', lines.join('\n') + '\n');
  const whole = await loadCsv(path, { target: 'label' });
  assert.equal(whole.rows, 400);
  assert.deepEqual(whole.labelNames, ['blue', 'green', 'red']);
  for (let worldSize = 1; worldSize <= 3; worldSize++) {
    const shards = await Promise.all(
      Array.from({ length: worldSize }, (_, rank) => loadCsv(path, { target: 'label', shard: { rank, worldSize } })),
    );
    assertShardsEqualWhole(whole, shards);
  }
  // more shards than lines in a tiny file: some shards are empty, the union is still the whole
  const tiny = writeTemp(dir, 'tiny.csv', 'a,b\n1,2\n3,4\n');
  const tinyWhole = await loadCsv(tiny);
  assertShardsEqualWhole(
    tinyWhole,
    await Promise.all(Array.from({ length: 7 }, (_, rank) => loadCsv(tiny, { shard: { rank, worldSize: 7 } }))),
  );
});

test('parseDecimal equals Number() bit for bit where it answers', () => {
  const rng = new Rng(11);
  let answered = 0;
  for (let i = 0; i < 20000; i++) {
    const value = (rng.uniform() - 0.5) * 10 ** (rng.int(40) - 20);
    const text = rng.uniform() < 0.5 ? value.toPrecision(1 + rng.int(17)) : value.toExponential(rng.int(16));
    const bytes = Buffer.from(text);
    const parsed = parseDecimal(bytes, 0, bytes.length);
    if (Number.isNaN(parsed)) continue;
    answered++;
    assert.ok(Object.is(parsed, Number(text)), `${text}: ${parsed} vs ${Number(text)}`);
  }
  assert.ok(answered > 10000, `fast path answered only ${answered} of 20000`);
  assert.ok(Number.isNaN(parseDecimal(Buffer.from('1.2.3'), 0, 5)));
  assert.ok(Number.isNaN(parseDecimal(Buffer.from(' 1'), 0, 2)));
});
