// Files the CLI writes and reads, with the real binary: --out is written atomically and never through
// a planted symlink; a folder or a missing folder as --out is a clear error (exit 5) leaving no
// temporary file; readers of a results database never create one; the job secret file must be private.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../src/index.js';
import { ResultsStore } from '../../src/compare/store.js';
import { freePort } from '../../src/runtime/launch.js';
import { record, session } from '../compare/records.js';
import { run, runWatching, withDir } from './bin.js';

const DATA = 'synthetic:blobs?rows=400&cols=3&seed=2';

test('train --out and predict --out do not follow a symlink planted at the old temporary name (${out}.tmp-${pid})', () =>
  withDir(async (dir) => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const out = join(dir, 'model.json');
    const trained = await runWatching(['train', 'kmeans', '--data', DATA, '--k', '3', '--out', out], (pid) =>
      symlinkSync(victim, `${out}.tmp-${pid}`),
    );
    assert.equal(trained.status, 0, trained.stderr);
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.ok(lstatSync(out).isFile(), 'the model is a file, not the planted link');
    assert.equal((JSON.parse(readFileSync(out, 'utf8')) as { model: string }).model, 'kmeans');

    const predictions = join(dir, 'p.csv');
    const predicted = await runWatching(['predict', '--model', out, '--data', DATA, '--out', predictions], (pid) =>
      symlinkSync(victim, `${predictions}.tmp-${pid}`),
    );
    assert.equal(predicted.status, 0, predicted.stderr);
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.equal(readFileSync(predictions, 'utf8').trim().split('\n').length, 401);
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.endsWith('.tmp')),
      [],
      'no temporary file left',
    );
  }));

test('an existing --out file is replaced whole; a folder or a missing folder is exit 5 naming the path, with no temporary file left', () =>
  withDir((dir) => {
    const out = join(dir, 'model.json');
    writeFileSync(out, 'x'.repeat(100_000));
    assert.equal(run(['train', 'kmeans', '--data', DATA, '--k', '2', '--out', out]).status, 0);
    assert.equal((JSON.parse(readFileSync(out, 'utf8')) as { model: string }).model, 'kmeans');

    const folder = join(dir, 'results');
    mkdirSync(folder);
    for (const args of [
      ['train', 'kmeans', '--data', DATA, '--out', folder],
      ['predict', '--model', out, '--data', DATA, '--out', folder],
    ]) {
      const r = run(args);
      assert.equal(r.status, 5, r.stderr);
      assert.equal(r.stderr, `shardlearn: cannot write '${folder}': it is a folder, expected a file\n`);
    }
    const missing = join(dir, 'no', 'such', 'model.json');
    const r = run(['train', 'kmeans', '--data', DATA, '--out', missing]);
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot write '${missing}': the folder '${join(dir, 'no', 'such')}' does not exist`));
    assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'results'], 'no temporary file beside the destination');
    assert.deepEqual(readdirSync(folder), []);
    // Reading a model file that is not there: exit 5, the path named (it was "internal error", exit 1).
    const gone = run(['predict', '--model', join(dir, 'gone.json'), '--data', DATA]);
    assert.equal(gone.status, 5, gone.stderr);
    assert.match(gone.stderr, /cannot read '.*gone\.json': no such file or folder/); // predict wraps it: it knows it reads
    const folderModel = run(['predict', '--model', folder, '--data', DATA]);
    assert.equal(folderModel.status, 5, folderModel.stderr);
    assert.equal(folderModel.stderr, `shardlearn: cannot read '${folder}': it is a folder, expected a file\n`);
  }));

test('runs and report with a mistyped --db fail (exit 2) naming it and create nothing; md: is refused without a download', () =>
  withDir(async (dir) => {
    for (const command of [['runs'], ['runs', '--format', 'csv'], ['report', '--report', join(dir, 'r.html')]]) {
      const typo = join(dir, 'typo', 'results.duckdb');
      const r = run([...command, '--db', typo]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`results database '${typo}' does not exist`));
      assert.doesNotMatch(r.stdout, /0 runs/);
      assert.deepEqual(readdirSync(dir), [], `${command.join(' ')} created nothing`);
    }
    const md = run(['runs', '--db', 'md:results']);
    assert.equal(md.status, 2, md.stderr);
    assert.match(md.stderr, /'md:results' is not a local file path/);
    assert.doesNotMatch(md.stderr, /download|extension/i);

    // A real database: runs lists it, --out writes the export atomically, report --report into a folder is exit 5.
    const db = join(dir, 'results.duckdb');
    const store = await ResultsStore.open(db);
    await store.writeSession(session());
    await store.writeRun(record({ paradigm: 'sequential', wallSeconds: 1 }), session());
    store.close();
    const listed = run(['runs', '--db', db]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /1 runs in/);
    const csv = join(dir, 'runs.csv');
    assert.equal(run(['runs', '--db', db, '--format', 'csv', '--out', csv, '--quiet']).status, 0);
    assert.equal(readFileSync(csv, 'utf8').trim().split('\n').length, 2);
    mkdirSync(join(dir, 'html'));
    const report = run(['report', '--db', db, '--report', join(dir, 'html')]);
    assert.equal(report.status, 5, report.stderr);
    assert.match(report.stderr, /is a folder/);
    assert.deepEqual(readdirSync(join(dir, 'html')), []);
  }));

test('train --secret-file joins a cluster by hand; a file open to group or others is refused like ssh does', () =>
  withDir(async (dir) => {
    const secret = join(dir, 'job.secret');
    writeFileSync(secret, `${'ab'.repeat(32)}\n`);
    chmodSync(secret, 0o644);
    const rankEnv = (port: number, rank: number): NodeJS.ProcessEnv => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        WORLD_SIZE: '2',
        RANK: String(rank),
      };
      delete env['SHARDLEARN_SECRET'];
      delete env['SHARDLEARN_SECRET_FILE'];
      return env;
    };
    const env = rankEnv(1, 0);
    const open = run(['train', 'kmeans', '--data', DATA, '--paradigm', 'cluster', '--secret-file', secret], { env });
    assert.equal(open.status, 2, open.stderr);
    assert.match(open.stderr, /--secret-file '.*job\.secret' is accessible by its group or others \(mode 0644\).*chmod 600/);
    const launched = run(['launch', '--workers', '2', '--secret-file', secret, '--', 'info']);
    assert.equal(launched.status, 2, launched.stderr);
    const fromEnv = run(['launch', '--workers', '1', '--', 'info'], { env: { ...process.env, SHARDLEARN_SECRET_FILE: secret } });
    assert.equal(fromEnv.status, 2, fromEnv.stderr);
    assert.match(fromEnv.stderr, /SHARDLEARN_SECRET_FILE '.*job\.secret' is accessible by its group or others/);
    const notCluster = run(['train', 'kmeans', '--data', DATA, '--secret-file', secret]);
    assert.equal(notCluster.status, 2);
    assert.match(notCluster.stderr, /--secret-file is for --paradigm cluster/);

    chmodSync(secret, 0o600);
    // Two ranks started by hand, no SHARDLEARN_SECRET: each reads the file. Rank 0 prints the report.
    const port = await freePort();
    const args = [
      'train',
      'kmeans',
      '--data',
      DATA,
      '--k',
      '3',
      '--paradigm',
      'cluster',
      '--secret-file',
      secret,
      '--timeout-ms',
      '30000',
      '--json',
    ];
    const [zero, one] = await Promise.all(
      [0, 1].map((rank) => runWatching(args, () => undefined, { timeoutMs: 90_000, env: rankEnv(port, rank) })),
    );
    assert.equal(zero!.status, 0, zero!.stderr);
    assert.equal(one!.status, 0, one!.stderr);
    const report = JSON.parse(zero!.stdout) as { paradigm: string; workers: number };
    assert.deepEqual([report.paradigm, report.workers], ['cluster', 2]);
    assert.equal(existsSync(secret), true);
  }));
