// The CLI on hostile model files and hostile option names: the real bin in a child process.
// `predict --model` with a corrupt file exits 3 with one line naming the file and the field;
// `--__proto__ 1` or `--constructor 1` is refused (exit 2) like any misspelt option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/shardlearn.js');
const DATA = 'synthetic:blobs?rows=200&cols=3&seed=2';

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function typed(values: number[]): { $typed: string; base64: string } {
  return { $typed: 'Float64Array', base64: Buffer.from(Float64Array.from(values).buffer).toString('base64') };
}

test('predict --model with a hostile file exits 3 with one line naming the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-model-file-'));
  try {
    const saved = join(dir, 'kmeans.json');
    const trained = run(['train', 'kmeans', '--data', DATA, '--k', '3', '--out', saved]);
    assert.equal(trained.status, 0, trained.stderr);
    assert.equal(run(['predict', '--model', saved, '--data', DATA, '--json']).status, 0, 'the untouched file predicts');
    const original = readFileSync(saved, 'utf8');
    const cases: [string, (document: { model: string; state: Record<string, unknown> }) => void, string][] = [
      [
        'truncated',
        (d) => {
          d.state['centers'] = typed([0, 0, 0]);
        },
        'state.centers',
      ],
      [
        'nan',
        (d) => {
          d.state['centers'] = typed([NaN, 0, 0, 1, 1, 1, 2, 2, 2]);
        },
        'state.centers',
      ],
      [
        'constructor',
        (d) => {
          d.state['centers'] = { $typed: 'constructor', base64: '' };
        },
        'state.centers',
      ],
      [
        'wrong-type',
        (d) => {
          d.state['cols'] = [3];
        },
        'state.cols',
      ],
      [
        'wrong-tag',
        (d) => {
          d.model = 'kmeans2';
        },
        'model',
      ],
    ];
    const files: [string, string][] = cases.map(([label, edit, field]) => {
      const document = JSON.parse(original) as { model: string; state: Record<string, unknown> };
      edit(document);
      const path = join(dir, `${label}.json`);
      writeFileSync(path, JSON.stringify(document));
      return [path, field];
    });
    const proto = join(dir, 'proto.json');
    writeFileSync(proto, original.replace('"state":{', '"state":{"__proto__":{"cols":1},'));
    files.push([proto, 'state.__proto__']);
    for (const [path, field] of files) {
      const r = run(['predict', '--model', path, '--data', DATA]);
      assert.equal(r.status, 3, `${path}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.includes(`${path}: field '${field}'`), lines[0]);
      assert.equal(r.stdout, '', 'nothing predicted');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--__proto__, --constructor and --to-string are refused like any unknown option (exit 2, listing the options)', () => {
  for (const flag of ['--__proto__', '--constructor', '--to-string', '--has-own-property']) {
    const r = run(['train', 'kmeans', '--data', DATA, flag, '1']);
    assert.equal(r.status, 2, `${flag}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /kmeans has no option '(__proto__|constructor|toString|hasOwnProperty)'; its options are: k, init, algorithm, maxIter/,
    );
  }
});
