// Flag values as the user typed them, --help for every command, --version, --quiet: the real binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, withDir } from './bin.js';

const packageJson = resolve(dirname(fileURLToPath(import.meta.url)), '../../../package.json');

test('--target 007 names the column 007 (not index 7); --target 1 is still an index', () => {
  withDir((dir) => {
    const file = join(dir, 'zeros.csv');
    // Column '007' is the label (0/1 by x); index 7 does not exist (3 columns).
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 2},${(i % 2) * 10 + (i % 3)},${i}`);
    writeFileSync(file, `007,x,id\n${rows.join('\n')}\n`);
    const named = run(['train', 'logistic-regression', '--data', file, '--header', 'true', '--target', '007', '--eval', 'train', '--json']);
    assert.equal(named.status, 0, named.stderr);
    assert.equal((JSON.parse(named.stdout) as { metrics: { accuracy: number } }).metrics.accuracy, 1);
    const index = run(['train', 'linear-regression', '--data', file, '--header', 'true', '--target', '1', '--eval', 'train', '--json']);
    assert.equal(index.status, 0, index.stderr);
  });
});

test('--delimiter 1 is the character 1 and --data 007 the path 007 (not 7)', () => {
  withDir((dir) => {
    // No digit 1 in the numbers: a + b = y exactly.
    const rows = Array.from({ length: 30 }, (_, i) => [2 + (i % 3), 2 + (Math.floor(i / 3) % 3)]).map(([a, b]) => `${a}1${b}1${a! + b!}`);
    writeFileSync(join(dir, 'ones.csv'), `a1b1y\n${rows.join('\n')}\n`);
    const r = run([
      'train',
      'linear-regression',
      '--data',
      join(dir, 'ones.csv'),
      '--delimiter',
      '1',
      '--target',
      'y',
      '--eval',
      'train',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { metrics: { r2: number } }).metrics.r2 > 0.999);
    // The loader is handed the text: its error names '007' (the old parser handed it the number 7).
    const path = run(['train', 'kmeans', '--data', '007'], { cwd: dir });
    assert.equal(path.status, 3, path.stderr);
    assert.match(path.stderr, /^shardlearn: 007: /);
  });
});

test('model options become numbers or booleans only where the model declares one', () => {
  const k = run(['train', 'kmeans', '--data', 'synthetic:blobs?rows=300&cols=2&seed=1', '--k', '3', '--max-iter', '1e1', '--json']);
  assert.equal(k.status, 0, k.stderr);
  const bad = run(['train', 'kmeans', '--data', 'synthetic:blobs?rows=300&cols=2', '--k', '0x10']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /option 'k' must be an integer ≥ 1, found '0x10'/);
  // solver is text: '007' stays '007' and the model names it as an unknown solver (not the number 7).
  const solver = run(['train', 'linear-regression', '--data', 'synthetic:regression?rows=100&cols=2', '--solver', '007']);
  assert.equal(solver.status, 2);
  assert.match(solver.stderr, /option 'solver' must be one of exact, sgd, found '007'/);
  const intercept = run([
    'train',
    'linear-regression',
    '--data',
    'synthetic:regression?rows=100&cols=2',
    '--fit-intercept',
    'false',
    '--json',
  ]);
  assert.equal(intercept.status, 0, intercept.stderr);
  const yes = run(['train', 'linear-regression', '--data', 'synthetic:regression?rows=100&cols=2', '--fit-intercept', 'maybe']);
  assert.equal(yes.status, 2);
  assert.match(yes.stderr, /option 'fitIntercept' must be true or false, found 'maybe'/);
});

test('every command answers --help with its own flags, exit 0', () => {
  const expected: Record<string, string[]> = {
    train: ['--data', '--target', '--paradigm', '--out', '--secret-file', '--json'],
    predict: ['--model', '--data', '--out'],
    compare: ['--matrix', '--paradigms', '--db', '--report'],
    runs: ['--db', '--format', '--out'],
    report: ['--db', '--report', '--session'],
    advise: ['--rows', '--cols', '--bandwidth'],
    launch: ['--workers', '--master-port', '--secret-file'],
    info: ['--json'],
  };
  for (const [command, flags] of Object.entries(expected)) {
    const r = run([command, '--help']);
    assert.equal(r.status, 0, `${command}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^usage: shardlearn ${command}`), command);
    for (const flag of [...flags, '--quiet']) assert.ok(r.stdout.includes(flag), `${command} --help lists ${flag}`);
  }
  const kmeans = run(['train', 'kmeans', '--help']);
  assert.match(kmeans.stdout, /kmeans options \(default\):[^]*--max-iter\s+300/);
  assert.equal(run(['--help']).status, 0);
  assert.equal(run(['help', 'runs']).status, 0);
  assert.equal(run([]).status, 2, 'no command at all is a usage error');
  assert.equal(run(['frobnicate', '--help']).status, 2);
});

test('--version prints the version of package.json', () => {
  const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  const r = run(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), `shardlearn ${version}`);
  assert.equal((JSON.parse(run(['info', '--json']).stdout) as { version: string }).version, version);
});

test('--quiet: accepted by every command, silences summaries but not --json nor errors', () => {
  const data = 'synthetic:blobs?rows=300&cols=2&seed=1';
  const quiet = run(['train', 'kmeans', '--data', data, '--k', '3', '--quiet']);
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.equal(quiet.stdout, '');
  assert.equal(quiet.stderr, '');
  const loud = run(['train', 'kmeans', '--data', data, '--k', '3']);
  assert.match(loud.stdout, /kmeans: trained on/);
  const json = run(['train', 'kmeans', '--data', data, '--k', '3', '--quiet', '--json']);
  assert.equal((JSON.parse(json.stdout) as { model: string }).model, 'kmeans');
  const failing = run(['train', 'kmeans', '--data', data, '--k', 'many', '--quiet']);
  assert.equal(failing.status, 2);
  assert.match(failing.stderr, /option 'k' must be an integer/);
  assert.equal(run(['info', '--quiet']).stdout, '');
  assert.equal(run(['advise', '--model', 'kmeans', '--rows', '1000', '--cols', '2', '--quiet']).stdout, '');
  assert.ok(JSON.parse(run(['advise', '--model', 'kmeans', '--rows', '1000', '--cols', '2', '--quiet', '--json']).stdout));
  withDir((dir) => {
    const model = join(dir, 'm.json');
    assert.equal(run(['train', 'kmeans', '--data', data, '--k', '3', '--out', model, '--quiet']).status, 0);
    const predict = run(['predict', '--model', model, '--data', data, '--quiet']);
    assert.equal(predict.status, 0, predict.stderr);
    assert.equal(predict.stdout, '');
    // Readers accept --quiet too (the missing database is an error, still printed).
    for (const command of ['runs', 'report']) {
      const r = run([command, '--db', join(dir, 'none.duckdb'), '--quiet']);
      assert.equal(r.status, 2, `${command}: ${r.stderr}`);
      assert.match(r.stderr, /does not exist/);
    }
    const compare = run([
      'compare',
      '--models',
      'kmeans',
      '--paradigms',
      'sequential',
      '--repeats',
      '1',
      '--rows',
      '200',
      '--db',
      join(dir, 'r.duckdb'),
      '--report',
      join(dir, 'r.html'),
      '--quiet',
    ]);
    assert.equal(compare.status, 0, compare.stderr);
    assert.equal(compare.stdout, '');
  });
  const launch = run(['launch', '--quiet', '--workers', '1', '--', 'info', '--json']);
  assert.equal(launch.status, 0, launch.stderr);
});

test("every flag a command reads is in some command's --help (a new flag without help fails here)", () => {
  const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/cli');
  const read = new Set<string>();
  for (const file of readdirSync(cliDir).filter((name) => name.endsWith('.ts'))) {
    const text = readFileSync(join(cliDir, file), 'utf8');
    for (const match of text.matchAll(/(?:take(?:String|Number|Switch|List)\(\s*args,\s*|flags\.get\(\s*)'([a-z][a-z0-9-]*)'/g))
      read.add(match[1]!);
  }
  assert.ok(read.has('data') && read.has('secret-file') && read.has('format'), [...read].join(' '));
  const help = [
    ...['train', 'tune', 'predict', 'compare', 'runs', 'report', 'advise', 'launch', 'federated-client', 'info'].map(
      (c) => run([c, '--help']).stdout,
    ),
    run(['--help']).stdout,
  ].join('\n');
  const missing = [...read].filter((flag) => !new RegExp(`--${flag}\\b`).test(help));
  assert.deepEqual(missing, []);
});
