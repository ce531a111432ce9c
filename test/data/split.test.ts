// The one train/test split: independent of line endings and of sharding (row keys are record ordinals).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadData } from '../../src/data/load.js';
import type { Dataset } from '../../src/data/dataset.js';
import { splitRows, trainTestSplit } from '../../src/data/split.js';
import { Rng } from '../../src/core/rng.js';
import { tempDir, writeTemp } from './support.js';

const dir = tempDir();

/** A labelled CSV with quoted cells, quoted newlines in the label, and blank lines. */
function csvLines(rows: number): string[] {
  const rng = new Rng(17);
  const lines = ['"f,1",f2,label'];
  for (let i = 0; i < rows; i++) {
    lines.push(`${(rng.normal() * 100).toPrecision(6)},"${rng.int(50)}",${['a', '"b\nb"', 'c'][rng.int(3)]}`);
    if (rng.uniform() < 0.03) lines.push('');
  }
  return lines;
}

function libsvmLines(rows: number): string[] {
  const rng = new Rng(18);
  return Array.from({ length: rows }, (_, i) =>
    i % 50 === 7 ? '# a comment line' : `${rng.int(2)} 1:${rng.int(9)} ${2 + rng.int(5)}:${(rng.uniform() * 10).toFixed(3)}`,
  );
}

/** The test part as rows of [key, features..., label], for comparing splits of different loads. */
function rowsOf(data: Dataset): number[][] {
  return Array.from({ length: data.rows }, (_, i) => [
    data.rowKey(i),
    ...Array.from(data.row(i)),
    data.y === null ? Number.NaN : data.y[i]!,
  ]);
}

for (const [format, lines] of [
  ['csv', csvLines(600)],
  ['libsvm', libsvmLines(600)],
] as const) {
  test(`${format}: LF and CRLF copies of a file split into the same rows`, async () => {
    const lf = writeTemp(dir, `lf.${format}`, lines.join('\n') + '\n');
    const crlf = writeTemp(dir, `crlf.${format}`, lines.join('\r\n') + '\r\n');
    const options = format === 'csv' ? { target: 'label' } : {};
    const a = trainTestSplit((await loadData(lf, options)).train, { testFraction: 0.25, seed: 3 });
    const b = trainTestSplit((await loadData(crlf, options)).train, { testFraction: 0.25, seed: 3 });
    assert.ok(a.test.rows > 100 && a.train.rows > 300, `a real split: ${a.train.rows}/${a.test.rows}`);
    assert.deepEqual(rowsOf(b.test), rowsOf(a.test));
    assert.deepEqual(rowsOf(b.train), rowsOf(a.train));
  });

  test(`${format}: the shards' splits (2 and 3 shards, LF and CRLF) together are the whole-data split`, async () => {
    for (const ending of ['\n', '\r\n']) {
      const path = writeTemp(dir, `shards${ending.length}.${format}`, lines.join(ending) + ending);
      const options = format === 'csv' ? { target: 'label' } : { cols: 6 };
      const whole = trainTestSplit((await loadData(path, options)).train, { testFraction: 0.3, seed: 11 });
      for (const worldSize of [2, 3]) {
        const parts = await Promise.all(
          Array.from({ length: worldSize }, async (_, rank) =>
            trainTestSplit((await loadData(path, { ...options, shard: { rank, worldSize } })).train, { testFraction: 0.3, seed: 11 }),
          ),
        );
        assert.deepEqual(
          parts.flatMap((p) => rowsOf(p.test)),
          rowsOf(whole.test),
          `${worldSize} shards, ${JSON.stringify(ending)}`,
        );
        assert.deepEqual(
          parts.flatMap((p) => rowsOf(p.train)),
          rowsOf(whole.train),
          `${worldSize} shards, ${JSON.stringify(ending)}`,
        );
      }
    }
  });
}

test('CSV row keys are record ordinals after the header (blank lines count), as Parquet row numbers are', async () => {
  const path = writeTemp(dir, 'ordinals.csv', 'a,b\n1,2\n\n3,"4\n"\n5,6\n');
  const data = (await loadData(path)).train;
  assert.deepEqual(
    Array.from({ length: data.rows }, (_, i) => data.rowKey(i)),
    [0, 2, 3],
  );
});

test('splitRows: the test share follows testFraction, and the seed changes the rows', async () => {
  const data = (await loadData('synthetic:regression?rows=4000&cols=2&seed=1')).train;
  const { test: held } = splitRows(data, 0.2, 5);
  assert.ok(Math.abs(held.length / 4000 - 0.2) < 0.03, `${held.length} test rows`);
  assert.notDeepEqual(splitRows(data, 0.2, 6).test, held);
  assert.throws(() => splitRows(data, 1.5, 0), /testFraction/);
});
