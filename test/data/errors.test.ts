// Every kind of bad input gives a DataError whose message names the file, the line (or row) and
// the column, and says what was expected and what was found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadData } from '../../src/data/load.js';
import { idxBytes, rejectsWithDataError, tempDir, writeTemp } from './support.js';

const dir = tempDir();

test('CSV: NaN where missing values are not allowed names line and column', async () => {
  const path = writeTemp(dir, 'nan.csv', 'a,b,y\n1,2,0\n3,NaN,1\n');
  const error = await rejectsWithDataError(
    () => loadData(path, { target: 'y' }),
    [path, 'line 3', "column 'b'", 'expected a number, found a missing value "NaN"', '--missing'],
  );
  assert.equal(error.code, 'DATA_MISSING');
  assert.equal(error.where.line, 3);
});

test('CSV: Infinity is refused', async () => {
  const path = writeTemp(dir, 'inf.csv', 'a,b\n1,2\n-Infinity,4\n');
  const error = await rejectsWithDataError(
    () => loadData(path),
    [path, 'line 3', "column 'a'", 'expected a finite number, found "-Infinity"'],
  );
  assert.equal(error.code, 'DATA_VALUE');
});

test('CSV: a ragged row names its line and the expected field count', async () => {
  const path = writeTemp(dir, 'ragged.csv', 'a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n');
  await rejectsWithDataError(() => loadData(path), [path, 'line 4', 'expected 3 fields', 'found 2']);
});

test('CSV: a non-numeric feature cell names line and column', async () => {
  const path = writeTemp(dir, 'text.csv', 'x0,x1\n1,2\n3,abc\n');
  await rejectsWithDataError(() => loadData(path), [path, 'line 3', "column 'x1'", 'expected a number, found "abc"']);
  const noHeader = writeTemp(dir, 'text-noheader.csv', '1,2\n3,abc\n');
  await rejectsWithDataError(() => loadData(noHeader), [noHeader, 'line 2', 'column 2', 'found "abc"']);
});

test('CSV: a missing label column lists the columns found', async () => {
  const path = writeTemp(dir, 'nolabel.csv', 'a,b\n1,2\n');
  await rejectsWithDataError(
    () => loadData(path, { target: 'label' }),
    [path, 'line 1', "column 'label'", 'expected a label column named "label"', '"a", "b"'],
  );
  await rejectsWithDataError(() => loadData(path, { target: 5 }), [path, 'column 5', 'expected a label column index']);
});

test('empty files and header-only files are refused', async () => {
  const empty = writeTemp(dir, 'empty.csv', '');
  await rejectsWithDataError(() => loadData(empty), [empty, 'line 1', 'the file is empty', 'found 0 bytes']);
  const emptySvm = writeTemp(dir, 'empty.svm', '');
  await rejectsWithDataError(() => loadData(emptySvm), [emptySvm, 'the file is empty']);
  const headerOnly = writeTemp(dir, 'header.csv', 'a,b,c\n');
  await rejectsWithDataError(
    () => loadData(headerOnly),
    [headerOnly, 'line 2', 'expected at least one data row after the header, found none'],
  );
});

test('CSV: a partial last line (truncated file) and an unclosed quote', async () => {
  const path = writeTemp(dir, 'cut.csv', 'a,b,c\n1,2,3\n4,5');
  await rejectsWithDataError(() => loadData(path), [path, 'line 3', 'expected 3 fields', 'found 2', 'may be truncated']);
  const quote = writeTemp(dir, 'quote.csv', 'a,b\n1,"2\n');
  await rejectsWithDataError(() => loadData(quote), [quote, 'line 2', 'column 2', 'never closed', 'truncated']);
});

test('CSV: errors inside a shard give the line number in the whole file', async () => {
  const lines = ['a,b', ...Array.from({ length: 99 }, (_, i) => `${i},${i === 80 ? 'oops' : i}`)];
  const path = writeTemp(dir, 'sharded-bad.csv', lines.join('\n') + '\n');
  await rejectsWithDataError(() => loadData(path, { shard: { rank: 1, worldSize: 2 } }), [path, 'line 82', "column 'b'", 'found "oops"']);
});

test('LibSVM: bad index, bad value and multi-label lines name line and token', async () => {
  const zero = writeTemp(dir, 'zero.svm', '1 1:2\n0 0:1\n');
  await rejectsWithDataError(
    () => loadData(zero),
    [zero, 'line 2', 'column 2', 'expected a feature index ≥ 1 (LibSVM indices are 1-based), found "0"'],
  );
  const value = writeTemp(dir, 'value.svm', '1 1:2 3:x\n');
  await rejectsWithDataError(() => loadData(value), [value, 'line 1', 'column 3', 'expected a finite number, found "x"']);
  const multi = writeTemp(dir, 'multi.svm', '1 1:1\n1,2 1:2\n');
  await rejectsWithDataError(() => loadData(multi), [multi, 'line 2', "column 'label'", 'multi-label']);
  const pair = writeTemp(dir, 'pair.svm', '1 7\n');
  await rejectsWithDataError(() => loadData(pair), [pair, 'line 1', 'expected index:value, found "7"']);
  const wide = writeTemp(dir, 'wide.svm', '1 9:1\n');
  await rejectsWithDataError(() => loadData(wide, { cols: 4 }), [wide, 'line 1', 'expected feature indices ≤ cols = 4, found 9']);
});

test('IDX: a file shorter than its header says is truncated; a bad magic is named', async () => {
  const full = idxBytes(0x08, [4, 2, 2], new Uint8Array(16));
  const cut = writeTemp(dir, 'cut-images-idx3-ubyte', full.subarray(0, full.length - 5));
  await rejectsWithDataError(() => loadData(cut), [cut, 'row 3', 'expected 4×2×2 uint8 values (32 bytes)', 'found 27 bytes', 'truncated']);
  const cutGz = writeTemp(dir, 'cutgz-images-idx3-ubyte.gz', gzipSync(full).subarray(0, 20));
  await rejectsWithDataError(() => loadData(cutGz), [cutGz, 'expected a complete gzip stream', 'truncated']);
  const magic = writeTemp(dir, 'magic.idx', Buffer.from('hello world'));
  await rejectsWithDataError(() => loadData(magic), [magic, 'expected an IDX file', 'found 68656c6c']);
});

test('Parquet: a text feature column, a NULL and a missing target name row and column', async () => {
  const path = join(dir, 'bad.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(
    `COPY (SELECT i AS a, CASE WHEN i = 6 THEN NULL ELSE i END AS b, 'w' || i AS word FROM range(10) t(i)) TO '${path}' (FORMAT parquet)`,
  );
  connection.closeSync();
  instance.closeSync();
  await rejectsWithDataError(() => loadData(path), [path, "column 'word'", 'expected a numeric or boolean column, found type VARCHAR']);
  await rejectsWithDataError(() => loadData(path, { target: 'word' }), [path, 'row 7', "column 'b'", 'found a missing value (NULL)']);
  await rejectsWithDataError(() => loadData(path, { target: 'nope' }), [path, "column 'nope'", 'expected a label column named "nope"']);
  const notParquet = writeTemp(dir, 'fake.parquet', 'not parquet at all');
  await rejectsWithDataError(() => loadData(notParquet), [notParquet, 'expected a readable Parquet file']);
});

test('unknown formats and missing files are named', async () => {
  const path = writeTemp(dir, 'data.xlsx', 'x');
  await rejectsWithDataError(() => loadData(path), [path, 'unknown file extension', 'CSV (.csv', 'Parquet', 'LibSVM', 'IDX']);
  const missing = join(dir, 'nope.csv');
  const error = await rejectsWithDataError(() => loadData(missing), [missing, 'expected an existing file']);
  assert.equal(error.code, 'DATA_MISSING');
});
