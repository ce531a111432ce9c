// `train` under processes where each rank loads its own byte range of a CSV with quoted newlines:
// the ranks split it as the whole file splits, the model keeps the file's classes, and the report
// counts the rows the ranks trained on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadData } from '../../src/data/load.js';
import { trainTestSplit } from '../../src/data/split.js';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/shardlearn.js');

test('train --paradigm processes on a CSV with quoted newlines: binary stays binary, trainSamples sums the ranks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-cli-shards-'));
  try {
    // every fourth label is "b" written with a newline and record-like text inside the quotes
    const lines = ['x,z,label', ...Array.from({ length: 400 }, (_, i) => `${(i % 17) / 4},${i % 5},${i % 4 === 0 ? '"b\n7,1,c"' : 'a'}`)];
    const file = join(dir, 'quoted.csv');
    writeFileSync(file, lines.join('\r\n') + '\r\n');
    const out = join(dir, 'model.json');
    const result = spawnSync(
      process.execPath,
      [
        bin,
        'train',
        'logistic-regression',
        '--data',
        file,
        '--target',
        'label',
        '--paradigm',
        'processes',
        '--workers',
        '3',
        '--json',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { trainSamples: number; evalSamples: number };
    const whole = trainTestSplit((await loadData(file, { target: 'label' })).train, { testFraction: 0.2, seed: 0 });
    assert.equal(report.trainSamples, whole.train.rows);
    assert.equal(report.evalSamples, whole.test.rows);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as { state: { classes: { base64: string } } };
    const classes = new Float64Array(new Uint8Array(Buffer.from(saved.state.classes.base64, 'base64')).buffer);
    assert.deepEqual(Array.from(classes), [0, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
