// The restart policy under `threads`: a worker that fails is restarted (with the whole run, same
// number of workers) from the newest checkpoint file, and the run ends with the model of an
// uninterrupted one, bit for bit (synchronous all-reduce is deterministic); without restarts left
// the run fails naming the rank.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import { createModel } from '../../src/models/registry.js';
import { FailsOnceModel } from './fixtures/fails-once.js';

const MODULE = new URL('./fixtures/fails-once.js', import.meta.url).href;
const data = (await loadData('synthetic:classification?rows=1200&cols=6&seed=5')).train;

test('threads: a worker that fails at an epoch end is restarted from the newest checkpoint; the model equals an uninterrupted run bitwise', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'shardlearn-threads-restart-'));
  try {
    const marker = join(folder, 'failed');
    const params = { marker, failRank: 1, failEpoch: 3, epochs: 5 };
    writeFileSync(marker, 'never fail\n');
    const uninterrupted = await new FailsOnceModel(params).fit(data, { paradigm: 'threads', workers: 3, workerModules: [MODULE] });
    rmSync(marker);
    const restarted = await new FailsOnceModel(params).fit(data, {
      paradigm: 'threads',
      workers: 3,
      workerModules: [MODULE],
      maxRestarts: 1,
      checkpoint: { dir: join(folder, 'ckpt'), everySteps: 10 },
      timeoutMs: 20_000,
    });
    assert.deepEqual(restarted.state, uninterrupted.state);
    const faults = restarted.fitInfo?.faults;
    assert.equal(faults?.length, 1, JSON.stringify(faults));
    assert.equal(faults![0]!.rank, 1);
    assert.equal(faults![0]!.workers, 3);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('threads: with max-restarts 0 exhausted the run fails with the worker’s error naming its rank', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'shardlearn-threads-restart-'));
  try {
    await assert.rejects(
      createModel('test-fails-once', { marker: join(folder, 'failed'), failRank: 2, failEpoch: 2, epochs: 3 }).fit(data, {
        paradigm: 'threads',
        workers: 3,
        workerModules: [MODULE],
        maxRestarts: 0,
        timeoutMs: 20_000,
      }),
      (error: Error & { code?: string; rank?: number }) => {
        assert.equal(error.code, 'WORKER_FAILED', error.message);
        assert.equal(error.rank, 2, error.message);
        assert.match(error.message, /deliberate failure of rank 2/);
        assert.match(error.message, /max-restarts 0 exhausted/);
        return true;
      },
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
