// Load time of a CSV whose first data line (or header) is 8/16/32 MB long: linear loading gives
// times proportional to the size. Run after `npx tsc`: node bench/csv-long-lines.mjs [header|row]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCsv } from '../dist/src/data/csv.js';

const where = process.argv[2] ?? 'header';
const dir = mkdtempSync(join(tmpdir(), 'csv-long-'));
try {
  for (const megabytes of [8, 16, 32]) {
    const cells = Math.floor((megabytes * 1024 * 1024) / 8); // "1234567," is 8 bytes
    const wide = Array.from({ length: cells }, (_, j) => String(1000000 + (j % 9000000))).join(',');
    const names = Array.from({ length: cells }, (_, j) => `c${String(j).padStart(6, '0')}`).join(',');
    const path = join(dir, `wide-${megabytes}.csv`);
    writeFileSync(path, where === 'header' ? `${names}\n${wide}\n` : `${wide}\n${wide}\n`);
    const started = performance.now();
    const data = await loadCsv(path, { header: where === 'header', maxRecordBytes: 1 << 30 });
    const seconds = (performance.now() - started) / 1000;
    console.log(`${where} line of ${megabytes} MB (${cells} cells, ${data.rows} rows): ${seconds.toFixed(2)} s`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
