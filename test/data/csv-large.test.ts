// Files of several 1 MiB read chunks, so records cross chunk boundaries (the loader's carry path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCsv } from '../../src/data/csv.js';
import { loadLibsvm } from '../../src/data/libsvm.js';
import { Rng } from '../../src/core/rng.js';
import { assertShardsEqualWhole, tempDir, writeTemp } from './support.js';

const dir = tempDir();

test('a 3 MB CSV loads value for value, and its shards equal the whole', async () => {
  const rng = new Rng(21);
  const rows = 50000;
  const expected = new Float64Array(rows * 4);
  const labels: string[] = [];
  const lines = ['a,b,c,d,label'];
  for (let i = 0; i < rows; i++) {
    const cells = Array.from({ length: 4 }, (_, j) => {
      const text = (rng.normal() * 10 ** (rng.int(9) - 4)).toPrecision(1 + rng.int(17));
      expected[i * 4 + j] = Number(text);
      return rng.uniform() < 0.1 ? `"${text}"` : text;
    });
    const label = `k${rng.int(5)}`;
    labels.push(label);
    lines.push(`${cells.join(',')},${label}`);
  }
  const path = writeTemp(dir, 'large.csv', lines.join('\n'));
  const whole = await loadCsv(path, { target: 'label' });
  assert.equal(whole.rows, rows);
  assert.deepEqual(whole.x, expected);
  assert.deepEqual(
    Array.from(whole.labels()),
    labels.map((l) => Number(l.slice(1))),
  );
  for (const worldSize of [2, 3]) {
    const shards = await Promise.all(
      Array.from({ length: worldSize }, (_, rank) => loadCsv(path, { target: 'label', shard: { rank, worldSize } })),
    );
    assertShardsEqualWhole(whole, shards);
  }
});

test('quoted fields holding newlines, delimiters and quotes load whole (across chunk boundaries)', async () => {
  const rng = new Rng(4);
  const rows = 40000;
  const names: string[] = [];
  const lines = ['value,name'];
  for (let i = 0; i < rows; i++) {
    const name = `n${rng.int(3)}${rng.uniform() < 0.5 ? ',\n"x"' : ''}`;
    names.push(name);
    lines.push(`${i}.25,"${name.replaceAll('"', '""')}"`);
  }
  const path = writeTemp(dir, 'quoted.csv', lines.join('\r\n') + '\r\n');
  const data = await loadCsv(path, { target: 'name' });
  assert.equal(data.rows, rows);
  assert.equal(data.x[rows - 1], rows - 1 + 0.25);
  const sorted = [...new Set(names)].sort();
  assert.deepEqual(data.labelNames, sorted);
  assert.deepEqual(
    Array.from(data.labels()),
    names.map((n) => sorted.indexOf(n)),
  );
});

test('a multi-chunk LibSVM file loads value for value and shards agree', async () => {
  const rng = new Rng(8);
  const rows = 30000;
  const expected = new Float64Array(rows * 30);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const pairs: string[] = [];
    for (let j = 0; j < 30; j++) {
      if (rng.uniform() < 0.3) {
        const text = rng.normal().toFixed(5);
        expected[i * 30 + j] = Number(text);
        pairs.push(`${j + 1}:${text}`);
      }
    }
    lines.push(`${i % 2} ${pairs.join(' ')}`);
  }
  const path = writeTemp(dir, 'large.svm', lines.join('\n') + '\n');
  const whole = await loadLibsvm(path, { cols: 30 });
  assert.deepEqual(whole.x, expected);
  const shards = await Promise.all([0, 1, 2].map((rank) => loadLibsvm(path, { cols: 30, shard: { rank, worldSize: 3 } })));
  assertShardsEqualWhole(whole, shards);
});
