// compare and train hold out the same rows for the same data and seed (one split function).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../../src/cli/args.js';
import { prepareData } from '../../src/cli/data-flags.js';
import { defaultLoader, splitTrainTest, trainAndTest } from '../../src/compare/data.js';
import type { Dataset } from '../../src/data/dataset.js';
import { DataError } from '../../src/core/errors.js';
import { loadData } from '../../src/data/load.js';

const dir = mkdtempSync(join(tmpdir(), 'shardlearn-compare-data-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function rowsOf(data: Dataset): number[][] {
  return Array.from({ length: data.rows }, (_, i) => [data.rowKey(i), ...Array.from(data.row(i)), data.labels()[i]!]);
}

test('train (--test-fraction, --split-seed) and compare (testFraction, seed) hold out the same rows', async () => {
  const lines = ['a,b,y', ...Array.from({ length: 500 }, (_, i) => `${i},${(i * 37) % 101},${i % 3}`)];
  for (const [name, ending] of [
    ['lf.csv', '\n'],
    ['crlf.csv', '\r\n'],
  ] as const) {
    const path = join(dir, name);
    writeFileSync(path, lines.join(ending) + ending);
    // compare's loader for a CSV names the label column as a custom DataLoader would
    const compared = trainAndTest(await loadData(path, { target: 'y', placement: 'shared' }), 0.3, 4);
    const trained = await prepareData(parseArgs(['--data', path, '--target', 'y', '--test-fraction', '0.3', '--split-seed', '4']));
    assert.ok(compared.test.rows > 100);
    assert.deepEqual(rowsOf(trained.evaluation), rowsOf(compared.test));
    assert.deepEqual(rowsOf(trained.train), rowsOf(compared.train));
  }
  const synthetic = 'synthetic:classification?rows=800&cols=3&seed=2';
  const compared = trainAndTest(await defaultLoader(synthetic), 0.2, 9);
  const trained = await prepareData(parseArgs(['--data', synthetic, '--split-seed', '9']));
  assert.deepEqual(rowsOf(trained.evaluation), rowsOf(compared.test));
});

test('a split that leaves one side empty is a DataError naming the data', async () => {
  const one = (await loadData('synthetic:regression?rows=1&cols=2&seed=1')).train;
  assert.throws(
    () => splitTrainTest(one, 0.5, 0),
    (error: unknown) =>
      error instanceof DataError && /synthetic:regression/.test(error.message) && /found 0 training|and 0 test/.test(error.message),
  );
});
