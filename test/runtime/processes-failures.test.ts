// The processes paradigm with real child processes: data locality (workers load their own shards of
// a source), and failure — a worker SIGKILLed mid-training ends the run with PEER_LOST naming a rank
// and host within a bounded time, and every child process is reaped; a worker's own error arrives as
// a WorkerError with its rank.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import { trainTestSplit } from '../../src/data/split.js';
import { createModel } from '../../src/models/registry.js';
import { stateDifference } from './model-cases.js';
import { RELATIVE_TOLERANCE } from './threads-equivalence.js';
import { childPids } from './child-pids.js';

test('workers load their own shards of a source and split locally: the model equals sequential on the same rows', async () => {
  const spec = 'synthetic:classification?rows=3000&cols=6&seed=3';
  const split = { testFraction: 0.25, seed: 9 };
  const whole = trainTestSplit((await loadData(spec)).train, split).train;
  const params = { solver: 'sgd', epochs: 3, batchSize: 64, lr: 0.1 };
  const sequential = (await createModel('logistic-regression', params).fit(whole)).state;
  // `data` is not shipped when a source is given: pass an empty placeholder to prove it.
  const placeholder = whole.slice(0, 0);
  const model = await createModel('logistic-regression', params).fit(placeholder, {
    paradigm: 'processes',
    workers: 3,
    source: { spec, split },
    timeoutMs: 30_000,
  });
  const { worst, where } = stateDifference(model.state, sequential);
  assert.ok(worst <= RELATIVE_TOLERANCE, `relative difference ${worst} at ${where}`);
  assert.equal(model.fitInfo?.setupBytes, 0, 'no training row passed through the launcher');
  // each rank reports the rows it trained on; together the whole split's training rows
  assert.equal(model.fitInfo?.rows?.length, 3);
  assert.equal(
    model.fitInfo.rows.reduce((sum, rows) => sum + rows, 0),
    whole.rows,
  );
});

test('a worker SIGKILLed mid-training ends the run with PEER_LOST naming a rank and its host; all children are reaped', async () => {
  const before = new Set(childPids());
  const params = { solver: 'sgd', epochs: 100_000, batchSize: 8, lr: 0.01 };
  const spec = 'synthetic:classification?rows=2000&cols=8&seed=1';
  let killed = 0;
  const started = Date.now();
  await assert.rejects(
    createModel('logistic-regression', params).fit((await loadData(spec)).train.slice(0, 0), {
      paradigm: 'processes',
      workers: 3,
      source: { spec },
      timeoutMs: 20_000,
      onProgress: () => {
        if (killed !== 0) return;
        const victim = childPids().find((pid) => !before.has(pid));
        if (victim === undefined) return;
        killed = victim;
        process.kill(victim, 'SIGKILL');
      },
    }),
    (error: Error & { code?: string; rank?: number; host?: string }) => {
      assert.equal(error.name, 'CommError', error.message);
      assert.equal(error.code, 'PEER_LOST', error.message);
      assert.ok(error.rank !== undefined && error.rank >= 0 && error.rank < 3, `names a rank: ${error.message}`);
      assert.equal(error.host, '127.0.0.1');
      assert.match(error.message, /rank \d/);
      return true;
    },
  );
  assert.notEqual(killed, 0, 'a worker was killed mid-training');
  assert.ok(Date.now() - started < 20_000, `ended in ${Date.now() - started} ms, before the 20 s timeout`);
  assert.deepEqual(
    childPids().filter((pid) => !before.has(pid)),
    [],
    'every worker process was reaped',
  );
});

test("a worker's own error (a missing data file) arrives as a WorkerError with its rank and the file's name", async () => {
  const data = (await loadData('synthetic:regression?rows=10&cols=2&seed=1')).train;
  await assert.rejects(
    createModel('linear-regression', {}).fit(data, {
      paradigm: 'processes',
      workers: 2,
      source: { spec: '/nonexistent/rows.csv' },
      timeoutMs: 20_000,
    }),
    (error: Error & { code?: string; rank?: number }) => {
      assert.equal(error.code, 'WORKER_FAILED', error.message);
      assert.ok(error.rank === 0 || error.rank === 1);
      assert.match(error.message, /\/nonexistent\/rows\.csv/);
      return true;
    },
  );
});
