import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Checkpoint } from '../../src/core/checkpoint.js';
import {
  CheckpointError,
  checkpointFileName,
  decodeCheckpoint,
  encodeCheckpoint,
  listCheckpoints,
  loadLatestCheckpoint,
  saveCheckpoint,
} from '../../src/core/checkpoint.js';
import { Rng } from '../../src/core/rng.js';

function sample(step: number, size = 7): Checkpoint {
  const params = new Float64Array(size);
  for (let i = 0; i < size; i++) params[i] = Math.sin(step * 31 + i) * 1e3 + (i === 0 ? Number.MIN_VALUE : 0);
  return {
    model: 'mlp',
    params: { lr: 0.01, hidden: [8, 4], name: 'é ☃' },
    worldSize: 2,
    epoch: 3,
    position: 64,
    step,
    rng: { own: [1, 2, 0xffffffff, 4] },
    scalars: { t: step },
    arrays: {
      params,
      'optimizer.m': Float64Array.from(params, (v) => -v),
      codes: Int32Array.from([-1, 0, 2147483647]),
      rows: Uint32Array.from([0, 4294967295]),
    },
  };
}

function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-ckpt-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('a checkpoint round-trips: header fields and every array, bit for bit (NaN, -0, subnormals included)', () => {
  const original = sample(12);
  original.arrays['params']![1] = -0;
  original.arrays['params']![2] = NaN;
  const decoded = decodeCheckpoint(encodeCheckpoint(original), 'x');
  assert.deepEqual({ ...decoded, arrays: undefined }, { ...original, arrays: undefined });
  assert.deepEqual(Object.keys(decoded.arrays), Object.keys(original.arrays));
  for (const [name, array] of Object.entries(original.arrays)) {
    const got = decoded.arrays[name]!;
    assert.equal(got.constructor, array.constructor, name);
    assert.deepEqual(
      new Uint8Array(got.buffer, got.byteOffset, got.byteLength),
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
      name,
    );
  }
  // The encoding is deterministic (same checkpoint, same bytes) and holds no code: the header is JSON.
  assert.deepEqual(encodeCheckpoint(original), encodeCheckpoint(original));
});

test('every single-byte change and every truncation of a checkpoint file is detected', () => {
  const bytes = encodeCheckpoint(sample(5, 20));
  const rng = new Rng(15);
  for (let at = 0; at < bytes.length; at++) {
    const corrupt = Uint8Array.from(bytes);
    corrupt[at] = corrupt[at]! ^ (1 + rng.int(255)); // a seeded non-zero flip of this byte
    assert.throws(
      () => decodeCheckpoint(corrupt, 'f.slckpt'),
      (error) => error instanceof CheckpointError && /f\.slckpt/.test(error.message),
      `byte ${at}`,
    );
  }
  for (let length = 0; length < bytes.length; length++) {
    assert.throws(() => decodeCheckpoint(bytes.subarray(0, length), 'f.slckpt'), CheckpointError, `truncated to ${length}`);
  }
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.throws(() => decodeCheckpoint(longer, 'f.slckpt'), CheckpointError, 'one byte appended');
});

test('--keep keeps the newest N; the loader skips a corrupt newest checkpoint with a warning naming it', () =>
  withDir(async (dir) => {
    for (const step of [10, 20, 30, 40]) await saveCheckpoint(dir, sample(step), { keep: 3 });
    assert.deepEqual(
      (await listCheckpoints(dir)).map((path) => path.slice(dir.length + 1)),
      [20, 30, 40].map(checkpointFileName),
    );
    const newest = join(dir, checkpointFileName(40));
    const bytes = readFileSync(newest);
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 0x10;
    writeFileSync(newest, bytes);
    writeFileSync(join(dir, checkpointFileName(50)), bytes.subarray(0, 100)); // a truncated one, newer still
    const skipped: string[] = [];
    const found = await loadLatestCheckpoint(dir, (file) => skipped.push(file));
    assert.equal(found?.checkpoint.step, 30);
    assert.deepEqual(skipped, [join(dir, checkpointFileName(50)), newest]);
    assert.equal(await loadLatestCheckpoint(join(dir, 'missing')), null);
  }));

test('kill -9 of a process writing checkpoints, at 50 seeded moments: the loader gets the newest complete one', { timeout: 180_000 }, () =>
  withDir(async (root) => {
    const module = pathToFileURL(new URL('../../src/core/checkpoint.js', import.meta.url).pathname).href;
    // The writer: 2 MiB of parameters per checkpoint (long enough for a kill to land inside a
    // write), steps 1, 2, 3, … with contents derived from the step; prints each step once saved.
    const writer = `
      const { saveCheckpoint } = await import(${JSON.stringify(module)});
      const dir = process.argv[1];
      const params = new Float64Array(1 << 18);
      process.stdout.write('ready\\n');
      for (let step = 1; ; step++) {
        params.fill(step);
        await saveCheckpoint(dir, { model: 'w', params: {}, worldSize: 1, epoch: 0, position: 0, step, rng: {}, scalars: {}, arrays: { params } }, { keep: 2 });
        process.stdout.write('saved ' + step + '\\n');
      }`;
    const rng = new Rng(2026);
    // 50 seeded kill delays, drawn in trial order; trials run 5 at a time (each is a fresh process).
    const delays = Array.from({ length: 50 }, () => rng.uniform() * 150);
    const outcomes: string[] = [];
    const trialAt = async (trial: number, delayMs: number): Promise<void> => {
      const dir = join(root, `t${trial}`);
      const child = spawn(process.execPath, ['--input-type=module', '-e', writer, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the writer did not save its first checkpoint within 20 s')), 20_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          // The clock starts at the first save, so the kills land among the writes that follow.
          if (/saved 1\n/.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      const saved = [...out.matchAll(/saved (\d+)/g)].map((m) => Number(m[1]));
      const lastReported = saved.at(-1) ?? 0;
      const names = existsSync(dir) ? readdirSync(dir) : []; // killed before the folder was made
      const found = await loadLatestCheckpoint(dir, (file, error) =>
        assert.fail(`a renamed checkpoint must be whole: ${file}: ${error.message}`),
      );
      const newestPresent = Math.max(0, ...names.filter((n) => /^ckpt-\d+\.slckpt$/.test(n)).map((n) => Number(n.slice(5, 17))));
      // Saved and reported, or saved (renamed) with the report not yet out: never older, never half.
      assert.equal(found?.checkpoint.step ?? 0, newestPresent, `trial ${trial}`);
      assert.ok(
        newestPresent === lastReported || newestPresent === lastReported + 1,
        `trial ${trial}: loaded ${newestPresent}, last reported ${lastReported}`,
      );
      if (found !== null)
        assert.ok(
          found.checkpoint.arrays['params']!.every((v) => v === found.checkpoint.step),
          `trial ${trial}: contents of step ${found.checkpoint.step}`,
        );
      outcomes.push(`${lastReported}:${names.some((n) => n.endsWith('.tmp')) ? 'tmp' : '-'}`);
    };
    for (let first = 0; first < delays.length; first += 5)
      await Promise.all(delays.slice(first, first + 5).map((delayMs, k) => trialAt(first + k, delayMs)));
    // The kills landed at different points: some before any checkpoint, some with a write under way.
    process.stderr.write(`# kill outcomes (last reported step: temporary file left): ${outcomes.join(' ')}\n`);
    assert.ok(new Set(outcomes).size >= 3, `kill points too alike: ${outcomes.join(' ')}`);
    assert.ok(
      outcomes.some((outcome) => outcome.endsWith(':tmp')),
      `no kill landed inside a write (a temporary file left): ${outcomes.join(' ')}`,
    );
  }),
);

test('rank-state files: round trip, not checkpoints themselves, pruned with --keep; the strategy record survives decoding', () =>
  withDir(async (dir) => {
    const { loadRankState, rankStateFileName, saveRankState } = await import('../../src/core/checkpoint.js');
    const stateOf = (step: number, rank: number): Checkpoint => ({
      ...sample(step),
      state: { strategy: { clock: step, rank } },
      arrays: { 'strategy.push.1.residual': Float64Array.from([rank, step, -0]) },
    });
    for (const step of [10, 20, 30]) {
      for (const rank of [0, 1]) await saveRankState(dir, rank, stateOf(step, rank));
      if (step === 20) writeFileSync(join(dir, `.${rankStateFileName(10, 1)}.0123abcd.tmp`), 'partial');
      writeFileSync(join(dir, `.${rankStateFileName(step, 1)}.4567ef01.tmp`), 'being written');
      await saveCheckpoint(dir, { ...sample(step), strategy: { name: 'ps-sync', codec: 'topk:0.01', ranks: 2 } }, { keep: 2 });
    }
    assert.deepEqual(
      (await listCheckpoints(dir)).map((path) => path.slice(dir.length + 1)),
      [checkpointFileName(20), checkpointFileName(30)],
    );
    // Older rank files went with their checkpoints; a rank's temporary file of the current step stays (it may be writing it).
    assert.deepEqual(readdirSync(dir).sort(), [
      `.${rankStateFileName(30, 1)}.4567ef01.tmp`,
      checkpointFileName(20),
      rankStateFileName(20, 0),
      rankStateFileName(20, 1),
      checkpointFileName(30),
      rankStateFileName(30, 0),
      rankStateFileName(30, 1),
    ].sort());
    const loaded = await loadRankState(dir, 30, 1);
    assert.deepEqual(loaded.state, { strategy: { clock: 30, rank: 1 } });
    assert.deepEqual(loaded.arrays['strategy.push.1.residual'], Float64Array.from([1, 30, -0]));
    await assert.rejects(loadRankState(dir, 10, 0), (error: unknown) => {
      assert.ok(error instanceof CheckpointError);
      assert.match(error.message, new RegExp(`${rankStateFileName(10, 0).replace(/\./g, '\\.')}': missing`));
      return true;
    });
    const latest = await loadLatestCheckpoint(dir);
    assert.deepEqual(latest?.checkpoint.strategy, { name: 'ps-sync', codec: 'topk:0.01', ranks: 2 });
    // A checkpoint of before (no strategy record) decodes without one.
    assert.equal('strategy' in decodeCheckpoint(encodeCheckpoint(sample(5)), 'old'), false);
    // `accept` refusing the newest falls back to the one before, naming it to onSkip.
    const skipped: string[] = [];
    const older = await loadLatestCheckpoint(
      dir,
      (file) => skipped.push(file),
      async (_file, checkpoint) => {
        if (checkpoint.step === 30) await loadRankState(dir, 30, 2);
      },
    );
    assert.equal(older?.checkpoint.step, 20);
    assert.deepEqual(skipped, [join(dir, checkpointFileName(30))]);
  }));
