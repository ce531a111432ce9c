// `train --checkpoint-dir … --resume` through the real binary: a run killed with SIGKILL after a
// checkpoint exists, then resumed, ends with the same model, bit for bit, as an uninterrupted run
// (under processes the kill takes the launcher; its workers end when it is gone).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { run, runWatching, withDir } from './bin.js';

const DATA = 'synthetic:classification?rows=2000&cols=10&seed=3';

/** The fitted state in a model file (typed arrays as base64 of their bytes, so equality is bitwise). */
function state(file: string): unknown {
  return (JSON.parse(readFileSync(file, 'utf8')) as { state: unknown }).state;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const CASES: { name: string; model: string[]; every: string; paradigm: string[] }[] = [
  {
    name: 'logistic regression (SGD), sequential',
    model: ['logistic-regression', '--solver', 'sgd', '--epochs', '200', '--batch-size', '16'],
    every: '400steps',
    paradigm: [],
  },
  {
    name: 'logistic regression (SGD), threads×2',
    model: ['logistic-regression', '--solver', 'sgd', '--epochs', '200', '--batch-size', '16'],
    every: '400steps',
    paradigm: ['--paradigm', 'threads', '--workers', '2'],
  },
  {
    name: 'logistic regression (SGD), processes×2',
    model: ['logistic-regression', '--solver', 'sgd', '--epochs', '200', '--batch-size', '16'],
    every: '400steps',
    paradigm: ['--paradigm', 'processes', '--workers', '2'],
  },
  { name: 'MLP (Adam, dropout), sequential', model: ['mlp', '--epochs', '15', '--dropout', '0.1'], every: '30steps', paradigm: [] },
  {
    name: 'MLP (Adam, dropout), threads×2',
    model: ['mlp', '--epochs', '15', '--dropout', '0.1'],
    every: '30steps',
    paradigm: ['--paradigm', 'threads', '--workers', '2'],
  },
  // The parameter server runs Adam per shard: each rank's moments are right on its own shard only,
  // and the checkpoint composes them from the ranks' state files (rank 0's alone is not bitwise).
  {
    name: 'MLP (Adam, dropout), ps-sync, processes×2',
    model: ['mlp', '--epochs', '15', '--dropout', '0.1', '--strategy', 'ps-sync'],
    every: '30steps',
    paradigm: ['--paradigm', 'processes', '--workers', '2'],
  },
  // Top-k with error feedback: each rank's residual is in its state file.
  {
    name: 'logistic regression (SGD), allreduce --compression topk:0.01, processes×2',
    model: ['logistic-regression', '--solver', 'sgd', '--epochs', '200', '--batch-size', '16', '--compression', 'topk:0.01'],
    every: '400steps',
    paradigm: ['--paradigm', 'processes', '--workers', '2'],
  },
];

for (const { name, model, every, paradigm } of CASES) {
  test(`kill -9 then --resume equals an uninterrupted run bitwise: ${name}`, { timeout: 180_000 }, () =>
    withDir(async (dir) => {
      const common = ['train', ...model, '--data', DATA, '--seed', '4', ...paradigm, '--quiet'];
      const a = run([...common, '--out', join(dir, 'a.json')]);
      assert.equal(a.status, 0, a.stderr);

      const checkpoints = join(dir, 'ckpt');
      const flags = ['--checkpoint-dir', checkpoints, '--checkpoint-every', every, '--keep', '2'];
      let killedAfter = '';
      const killed = await runWatching([...common, ...flags, '--out', join(dir, 'never.json')], (pid) => {
        waitFor(() => existsSync(checkpoints) && readdirSync(checkpoints).some((f) => f.endsWith('.slckpt')), 60_000, 'a first checkpoint')
          .then(() => {
            killedAfter = readdirSync(checkpoints)
              .filter((f) => f.endsWith('.slckpt'))
              .join(',');
            process.kill(pid, 'SIGKILL');
          })
          .catch((error: unknown) => assert.fail(String(error)));
      });
      assert.equal(killed.status, null, `the run was to be killed, but it exited ${killed.status}: ${killed.stderr}`);
      assert.ok(!existsSync(join(dir, 'never.json')), 'the killed run must not have finished');
      assert.notEqual(killedAfter, '');

      const b = run([...common, ...flags, '--resume', '--out', join(dir, 'b.json')]);
      assert.equal(b.status, 0, b.stderr);
      const resumedStep = /resuming from \S+ckpt-0*(\d+)\.slckpt/.exec(b.stderr);
      assert.ok(resumedStep !== null && Number(resumedStep[1]) > 0, `resume must start from a checkpoint: ${b.stderr}`);
      assert.deepEqual(state(join(dir, 'b.json')), state(join(dir, 'a.json')));
    }),
  );
}

test('resume refuses a checkpoint of other hyperparameters, and flags without --checkpoint-dir', () =>
  withDir((dir) => {
    const checkpoints = join(dir, 'ckpt');
    const base = [
      'train',
      'logistic-regression',
      '--solver',
      'sgd',
      '--epochs',
      '2',
      '--data',
      DATA,
      '--quiet',
      '--checkpoint-dir',
      checkpoints,
    ];
    assert.equal(run(base).status, 0);
    const other = run([...base, '--lr', '0.5', '--resume']);
    assert.equal(other.status, 3, other.stderr);
    assert.match(other.stderr, /ckpt-\d+\.slckpt.*other hyperparameters/);
    const stray = run(['train', 'logistic-regression', '--data', DATA, '--resume']);
    assert.equal(stray.status, 2);
    assert.match(stray.stderr, /--resume needs --checkpoint-dir/);
    const bad = run([...base, '--checkpoint-every', '5min']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--checkpoint-every expects/);
    const kmeans = run([
      'train',
      'kmeans',
      '--data',
      'synthetic:blobs?rows=100&cols=2',
      '--k',
      '3',
      '--quiet',
      '--checkpoint-dir',
      checkpoints,
    ]);
    assert.equal(kmeans.status, 0, kmeans.stderr);
    assert.match(kmeans.stderr, /kmeans does not write checkpoints/);
    const hogwild = run([...base, '--strategy', 'hogwild']);
    assert.equal(hogwild.status, 2);
    assert.match(hogwild.stderr, /synchronous strategy/);
  }));

test(
  'processes×2: resume from a mid-run checkpoint (rank 0 reads, broadcasts) past a corrupt newer one, bitwise equal',
  { timeout: 180_000 },
  () =>
    withDir((dir) => {
      const checkpoints = join(dir, 'ckpt');
      const common = [
        'train',
        'logistic-regression',
        '--solver',
        'sgd',
        '--epochs',
        '6',
        '--batch-size',
        '32',
        '--data',
        DATA,
        '--seed',
        '2',
        '--paradigm',
        'processes',
        '--workers',
        '2',
        '--quiet',
      ];
      const a = run([
        ...common,
        '--checkpoint-dir',
        checkpoints,
        '--checkpoint-every',
        '40steps',
        '--keep',
        '0',
        '--out',
        join(dir, 'a.json'),
      ]);
      assert.equal(a.status, 0, a.stderr);
      const files = readdirSync(checkpoints)
        .filter((f) => f.endsWith('.slckpt'))
        .sort();
      assert.ok(files.length >= 4, files.join(','));
      // Keep the first two; the third made corrupt (one flipped byte) stands newest: resume skips it.
      for (const file of files.slice(3)) rmSync(join(checkpoints, file));
      const corrupt = join(checkpoints, files[2]!);
      const bytes = readFileSync(corrupt);
      bytes[200] = bytes[200]! ^ 1;
      writeFileSync(corrupt, bytes);
      const b = run([
        ...common,
        '--checkpoint-dir',
        checkpoints,
        '--checkpoint-every',
        '40steps',
        '--resume',
        '--out',
        join(dir, 'b.json'),
      ]);
      assert.equal(b.status, 0, b.stderr);
      assert.match(b.stderr, new RegExp(`warning: skipping checkpoint \\S*${files[2]!.replace('.', '\\.')}: .*SHA-256`));
      assert.match(b.stderr, new RegExp(`resuming from \\S*${files[1]!.replace('.', '\\.')}`));
      assert.deepEqual(state(join(dir, 'b.json')), state(join(dir, 'a.json')));
    }),
);

test('strategy state: another codec or strategy is refused naming the field; an old checkpoint loads and the codec starts fresh', () =>
  withDir(async (dir) => {
    const checkpoints = join(dir, 'ckpt');
    const base = ['train', 'logistic-regression', '--solver', 'sgd', '--epochs', '2', '--data', DATA, '--quiet', '--checkpoint-dir', checkpoints];
    const topk = ['--compression', 'topk:0.01'];
    const a = run([...base, ...topk]);
    assert.equal(a.status, 0, a.stderr);
    assert.ok(readdirSync(checkpoints).some((f) => f.endsWith('.rank-0.slstate')), readdirSync(checkpoints).join(','));
    const other = run([...base, '--compression', 'topk:0.1', '--resume']);
    assert.equal(other.status, 3, other.stderr);
    assert.match(other.stderr, /ckpt-\d+\.slckpt.*field compression: written with codec 'topk:0\.01', resuming with 'topk:0\.1'/);
    const none = run([...base, '--resume']);
    assert.equal(none.status, 3, none.stderr);
    assert.match(none.stderr, /field compression: written with codec 'topk:0\.01', resuming with 'none'/);
    const ps = run([...base, ...topk, '--strategy', 'ps-sync', '--resume']);
    assert.equal(ps.status, 3, ps.stderr);
    assert.match(ps.stderr, /field strategy: written under 'allreduce', resuming under 'ps-sync'/);
    const seconds = run([...base, ...topk, '--checkpoint-every', '5s']);
    assert.equal(seconds.status, 2, seconds.stderr);
    assert.match(seconds.stderr, /every rank writes its own strategy state at the same steps/);

    // A checkpoint written before strategy state was kept: no strategy record, no rank files.
    const { decodeCheckpoint, encodeCheckpoint, listCheckpoints } = await import('../../src/core/checkpoint.js');
    const newest = (await listCheckpoints(checkpoints)).at(-1)!;
    const { strategy, ...old } = decodeCheckpoint(new Uint8Array(readFileSync(newest)), newest);
    assert.deepEqual(strategy, { name: 'allreduce', codec: 'topk:0.01', ranks: 1 });
    const header = (bytes: Uint8Array): string => new TextDecoder().decode(bytes.subarray(12, 12 + new DataView(bytes.buffer).getUint32(8, true)));
    const oldBytes = encodeCheckpoint(old);
    assert.doesNotMatch(header(oldBytes), /strategy/);
    writeFileSync(newest, oldBytes);
    for (const file of readdirSync(checkpoints)) if (file.endsWith('.slstate')) rmSync(join(checkpoints, file));
    const resumed = run([...base, ...topk, '--resume']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming from \S+ckpt-\d+\.slckpt/);
    assert.match(resumed.stderr, /holds no strategy state \(written before it was kept\): 'allreduce' \(codec 'topk:0\.01'\) starts fresh/);
  }));

test('processes×2, topk: a checkpoint missing a rank\'s state file is skipped for the older complete one', { timeout: 120_000 }, () =>
  withDir((dir) => {
    const checkpoints = join(dir, 'ckpt');
    const common = ['train', 'logistic-regression', '--solver', 'sgd', '--epochs', '3', '--batch-size', '32', '--data', DATA, '--seed', '2'];
    const flags = ['--paradigm', 'processes', '--workers', '2', '--compression', 'topk:0.01', '--quiet', '--checkpoint-dir', checkpoints];
    const a = run([...common, ...flags, '--checkpoint-every', '40steps', '--out', join(dir, 'a.json')]);
    assert.equal(a.status, 0, a.stderr);
    const files = readdirSync(checkpoints)
      .filter((f) => f.endsWith('.slckpt'))
      .sort();
    assert.ok(files.length >= 3, files.join(','));
    for (const file of files.slice(2)) rmSync(join(checkpoints, file));
    // As if the job was killed after rank 0 wrote the checkpoint, before rank 1's state reached the disk.
    rmSync(join(checkpoints, files[1]!.replace('.slckpt', '.rank-1.slstate')));
    const b = run([...common, ...flags, '--checkpoint-every', '40steps', '--resume', '--out', join(dir, 'b.json')]);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stderr, new RegExp(`skipping checkpoint \\S*${files[1]!.replace('.', '\\.')}: .*rank-1\\.slstate.*missing`));
    assert.match(b.stderr, new RegExp(`resuming from \\S*${files[0]!.replace('.', '\\.')}`));
    assert.deepEqual(state(join(dir, 'b.json')), state(join(dir, 'a.json')));
 
    // A world of another size (as after an elastic re-form): the residuals cannot be re-sharded, a note says they are dropped.
    const one = run([...common, ...flags.slice(4), '--checkpoint-every', '40steps', '--resume', '--out', join(dir, 'c.json')]);
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stderr, /holds the strategy state of 2 ranks, this world has 1: its per-rank codec state .* dropped; the codecs start fresh/);
  }));
