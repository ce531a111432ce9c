// Record boundaries (records.ts) and the CSV defects they fixed: a shard starting inside a quoted
// field, quadratic long lines without a cap, ambiguous duplicate label columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvScanner } from '../../src/data/csv-scanner.js';
import { loadCsv } from '../../src/data/csv.js';
import { loadData } from '../../src/data/load.js';
import { LabelCollector } from '../../src/data/labels.js';
import { RecordFinder } from '../../src/data/records.js';
import { Rng } from '../../src/core/rng.js';
import { DataError } from '../../src/core/errors.js';
import { assertShardsEqualWhole, rejectsWithDataError, tempDir, writeTemp } from './support.js';

const dir = tempDir();

/** Random CSV text with quoted newlines, "" escapes, delimiters in quotes, CRLF, blank lines. */
function trickyCsv(rng: Rng, records: number): string {
  const pieces = ['a', '""', ',', '\n', '\r\n', 'x"y', ' '];
  const lines: string[] = [];
  for (let i = 0; i < records; i++) {
    const cells = Array.from({ length: 3 }, () => {
      if (rng.uniform() < 0.5) return String(rng.int(100));
      return `"${Array.from({ length: rng.int(4) }, () => pieces[rng.int(pieces.length)]!)
        .join('')
        .replaceAll('x"y', 'x""y')}"`;
    });
    lines.push(cells.join(',') + (rng.uniform() < 0.2 ? '\r' : ''));
    if (rng.uniform() < 0.05) lines.push('');
  }
  return lines.join('\n') + '\n';
}

test('RecordFinder finds the record ends CsvScanner finds, however the bytes are chunked', () => {
  const rng = new Rng(5);
  const bytes = Buffer.from(trickyCsv(rng, 300));
  // the oracle: CsvScanner record by record over the whole buffer
  const expected: number[] = [];
  const scanner = new CsvScanner(44);
  for (let p = 0; p < bytes.length;) expected.push((p = scanner.scan(bytes, p, true)));
  assert.ok(expected.length >= 300);
  for (const maxChunk of [1, 2, 3, 7, 64, bytes.length]) {
    const finder = new RecordFinder(44, true);
    const found: number[] = [];
    for (let offset = 0; offset < bytes.length;) {
      const chunk = bytes.subarray(offset, Math.min(bytes.length, offset + 1 + rng.int(maxChunk)));
      for (let p = 0; ;) {
        const end = finder.findEnd(chunk, p, chunk.length, offset);
        if (end < 0) break;
        found.push(offset + end);
        p = end;
      }
      offset += chunk.length;
    }
    assert.deepEqual(found, expected, `chunks of at most ${maxChunk} bytes`);
  }
});

test('RecordFinder refuses text after a closing quote, as the parser does', () => {
  const finder = new RecordFinder(44, true);
  assert.throws(
    () => finder.findEnd(Buffer.from('"ab"c,1\n'), 0, 8, 100),
    (error: unknown) => error instanceof Error && /after a closing quote/.test(error.message),
  );
});

test('sharded CSV whose byte ranges start inside quoted fields holding record-like lines equals the whole (2..7 shards)', async () => {
  // Every third label is quoted and holds a newline followed by text that parses as a record with
  // an unseen label: a shard that took that inner line for a row got class −1 (a third class).
  const lines = ['x,y,label'];
  for (let i = 0; i < 240; i++) lines.push(`${i},${i % 7},${i % 3 === 0 ? '"no\n5,1,maybe"' : i % 2 === 0 ? 'yes' : 'no'}`);
  const path = writeTemp(dir, 'quoted-shards.csv', lines.join('\n') + '\n');
  const whole = await loadCsv(path, { target: 'label' });
  assert.equal(whole.rows, 240);
  assert.deepEqual(whole.labelNames?.length, 3);
  for (let worldSize = 2; worldSize <= 7; worldSize++) {
    const shards = await Promise.all(
      Array.from({ length: worldSize }, (_, rank) => loadCsv(path, { target: 'label', shard: { rank, worldSize } })),
    );
    assertShardsEqualWhole(whole, shards);
    for (const shard of shards) assert.ok(Array.from(shard.labels()).every((code) => code >= 0 && code < 3));
  }
  // a binary column stays binary in every shard
  const binary = ['x,label', ...Array.from({ length: 200 }, (_, i) => `${i},${i % 4 === 0 ? '"b\n7,c"' : 'a'}`)];
  const binaryPath = writeTemp(dir, 'binary-quoted.csv', binary.join('\n') + '\n');
  for (let rank = 0; rank < 3; rank++) {
    const shard = await loadCsv(binaryPath, { target: 'label', shard: { rank, worldSize: 3 } });
    assert.deepEqual(shard.labelNames, ['a', 'b\n7,c']);
  }
});

test('a label absent from the whole-file classes is an error naming the file, never code −1', () => {
  const labels = new LabelCollector();
  labels.addText('yes');
  labels.addText('maybe');
  assert.throws(
    () => labels.finish(['no', 'yes'], 'data.csv'),
    (error: unknown) =>
      error instanceof DataError && error.code === 'DATA_VALUE' && /data\.csv/.test(error.message) && /"maybe"/.test(error.message),
  );
});

test('a record longer than maxRecordBytes is a DataError naming file and line (CSV header and row, LibSVM)', async () => {
  const long = Array.from({ length: 200 }, (_, j) => j).join(',');
  const row = writeTemp(dir, 'long-row.csv', `a,b\n1,2\n${long}\n3,4\n`);
  await rejectsWithDataError(() => loadData(row, { maxRecordBytes: 100 }), [row, 'line 3', 'maxRecordBytes = 100', '--max-record-bytes']);
  // a shard after it cannot find its first record without passing it: the same error
  await rejectsWithDataError(
    () => loadData(row, { maxRecordBytes: 100, shard: { rank: 3, worldSize: 4 } }),
    [row, 'line 3', 'maxRecordBytes = 100'],
  );
  const header = writeTemp(dir, 'long-header.csv', `${long}\n${long}\n`);
  await rejectsWithDataError(() => loadData(header, { maxRecordBytes: 100 }), [header, 'line 1', 'maxRecordBytes = 100']);
  const svm = writeTemp(dir, 'long.libsvm', `1 1:2\n0 ${Array.from({ length: 50 }, (_, j) => `${j + 1}:1`).join(' ')}\n`);
  await rejectsWithDataError(() => loadData(svm, { maxRecordBytes: 100 }), [svm, 'line 2', 'maxRecordBytes = 100']);
  await assert.rejects(loadData(row, { maxRecordBytes: 0 }), /maxRecordBytes/);
});

test('a record spanning several read chunks loads whole: a 3 MB line, a quote across the chunk boundary', async () => {
  const cells = Array.from({ length: 400000 }, (_, j) => String(j % 1000));
  cells[130000] = '"1,\n2"'; // lands near the first 1 MiB boundary; a text feature is refused, so make it the label
  const header = Array.from({ length: cells.length }, (_, j) => (j === 130000 ? 'label' : `"c\n${j}"`));
  const path = writeTemp(dir, 'wide.csv', `${header.join(',')}\n${cells.join(',')}\r\n${cells.join(',')}\n`);
  const data = await loadCsv(path, { target: 'label' });
  assert.equal(data.rows, 2);
  assert.equal(data.cols, cells.length - 1);
  assert.equal(data.featureNames[5], 'c\n5');
  assert.deepEqual(data.labelNames, ['1,\n2']);
  assert.equal(data.x[data.cols + 399998], 999);
});

test('a 4 MB line of quoted fields, in a shard and whole, loads in linear time (each byte searched once)', async () => {
  const cells = Array.from({ length: 600000 }, (_, j) => `"${j % 10}"`).join(',');
  const path = writeTemp(dir, 'quoted-wide.csv', `${cells}\n${cells}\n${cells}\n`);
  const started = performance.now();
  const whole = await loadCsv(path, { header: false });
  const shard = await loadCsv(path, { header: false, shard: { rank: 2, worldSize: 3 } });
  assert.equal(whole.rows, 3);
  assert.equal(shard.rows, 1);
  assert.equal(shard.rowKey(0), 2);
  assert.equal(shard.x[599999], 9);
  // a search from every field start to the line's end took minutes here; linear is about a second
  assert.ok(performance.now() - started < 60_000);
});

test('duplicate header names given as the label column are refused as ambiguous', async () => {
  const path = writeTemp(dir, 'duplicate.csv', 'y,a,y\n1,2,3\n4,5,6\n');
  await rejectsWithDataError(
    () => loadCsv(path, { target: 'y' }),
    [path, 'line 1', "column 'y'", 'columns 1 and 3', 'ambiguous', '--target 0'],
  );
  // a duplicate that is not the label column is harmless; a label column by index is not ambiguous
  assert.deepEqual(Array.from((await loadCsv(path, { target: 'a' })).labels()), [2, 5]);
  assert.deepEqual(Array.from((await loadCsv(path, { target: 2 })).labels()), [3, 6]);
});
