// CSV loading cost that depends on record layout, not on the amount of data:
//   node dist/bench/csv-long-lines.js row     a file of two 8/16/32 MB lines (linear: time ∝ size)
//   node dist/bench/csv-long-lines.js header  the same with an 8/16/32 MB header line
//   node dist/bench/csv-long-lines.js shards  a 100 MB file: time for the last of 4 shards to find
//                                             its first record (scanning 75 MB) vs. loading its shard
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCsv } from '../src/data/csv.js';
import { RecordFinder, locateRecord } from '../src/data/records.js';

const mode = process.argv[2] ?? 'row';
const dir = mkdtempSync(join(tmpdir(), 'csv-long-'));

async function longLines(header: boolean): Promise<void> {
  for (const megabytes of [8, 16, 32]) {
    const cells = Math.floor((megabytes * 1024 * 1024) / 8); // "1234567," is 8 bytes
    const wide = Array.from({ length: cells }, (_, j) => String(1000000 + (j % 9000000))).join(',');
    const names = header ? Array.from({ length: cells }, (_, j) => `c${String(j).padStart(6, '0')}`).join(',') : wide;
    const path = join(dir, `wide-${megabytes}.csv`);
    writeFileSync(path, `${names}\n${wide}\n`);
    const started = performance.now();
    const data = await loadCsv(path, { header, maxRecordBytes: 1 << 30 });
    const seconds = (performance.now() - started) / 1000;
    console.log(`${header ? 'header' : 'row'} line of ${megabytes} MB (${cells} cells, ${data.rows} rows): ${seconds.toFixed(2)} s`);
  }
}

async function shards(): Promise<void> {
  const lines = ['a,b,c,d,label'];
  for (let i = 0; lines.length < 2_000_000; i++)
    lines.push(`${i * 0.5},${i % 97},"${i % 13}",${(i * 7) % 1000}.25,${i % 3 === 0 ? '"x\ny"' : 'z'}`);
  const text = lines.join('\n') + '\n';
  const path = join(dir, 'big.csv');
  writeFileSync(path, text);
  const size = Buffer.byteLength(text);
  const start = Math.floor((3 * size) / 4);
  let started = performance.now();
  const first = await locateRecord(path, 14, start, new RecordFinder(44, true), 1 << 26);
  const locateSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const shard = await loadCsv(path, { target: 'label', classes: ['x\ny', 'z'], shard: { rank: 3, worldSize: 4 } });
  const loadSeconds = (performance.now() - started) / 1000;
  console.log(
    `${(size / 1e6).toFixed(0)} MB file, shard 3 of 4: locating its first record (ordinal ${first.ordinal}, ${(start / 1e6).toFixed(0)} MB scanned) ${locateSeconds.toFixed(2)} s; whole shard load (${shard.rows} rows, locating included) ${loadSeconds.toFixed(2)} s`,
  );
}

try {
  if (mode === 'shards') await shards();
  else await longLines(mode === 'header');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
