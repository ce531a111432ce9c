// The synchronous wait of the shared-memory communicator (shm/wait.ts): its adaptive spin budget,
// and that it ends when the word changes — caught while spinning, or after sleeping — or on timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { SpinPolicy, Waiter } from '../../../src/comm/shm/wait.js';
import { CommError } from '../../../src/core/errors.js';

test('the spin budget halves on every miss down to its floor and doubles on every catch up to its ceiling', () => {
  const policy = new SpinPolicy(0.04, 0.005);
  assert.equal(policy.spinMs(), 0.04, 'a new policy spins the longest');
  for (const expected of [0.02, 0.01, 0.005, 0.005]) {
    policy.spun(false);
    assert.equal(policy.spinMs(), expected);
  }
  for (const expected of [0.01, 0.02, 0.04, 0.04]) {
    policy.spun(true);
    assert.equal(policy.spinMs(), expected);
  }
});

const WORD = 5;
const WAITING = 6;

test('a wait whose word already changed returns at once and counts as a catch', () => {
  const control = new Int32Array(new SharedArrayBuffer(64));
  const policy = new SpinPolicy(0.04, 0.005);
  policy.spun(false); // 0.02
  Atomics.store(control, WORD, 1);
  new Waiter(control, 0, 1000, WAITING, policy).waitSync(WORD, 0, 'test', () => [1]);
  assert.equal(policy.spinMs(), 0.04);
  assert.equal(Atomics.load(control, WAITING), 0, 'no longer flagged as waiting');
});

test('a wait for a word another thread changes 30 ms later sleeps, wakes, and counts as a miss', async () => {
  const control = new Int32Array(new SharedArrayBuffer(64));
  const policy = new SpinPolicy(0.04, 0.005);
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const control = new Int32Array(workerData);
     Atomics.wait(control, 0, 0, 30);
     Atomics.store(control, ${WORD}, 7);
     Atomics.notify(control, ${WORD});`,
    { eval: true, workerData: control.buffer },
  );
  try {
    await new Promise((resolve) => worker.once('online', resolve));
    const started = performance.now();
    new Waiter(control, 0, 10_000, WAITING, policy).waitSync(WORD, 0, 'test', () => [1]);
    assert.equal(Atomics.load(control, WORD), 7);
    assert.ok(performance.now() - started >= 20, 'it waited for the other thread');
    assert.equal(policy.spinMs(), 0.02, 'the spin missed');
  } finally {
    await worker.terminate();
  }
});

test('a wait nobody ends throws a TIMEOUT naming the awaited rank', () => {
  const control = new Int32Array(new SharedArrayBuffer(64));
  const waiter = new Waiter(control, 0, 50, WAITING, new SpinPolicy());
  assert.throws(
    () => waiter.waitSync(WORD, 0, 'a test barrier', () => [2]),
    (error: unknown) => error instanceof CommError && error.code === 'TIMEOUT' && /rank 2/.test(error.message),
  );
});
