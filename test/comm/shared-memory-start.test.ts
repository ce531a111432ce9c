// The start line of a shared-memory world (SharedMemoryCommunicator.crossStartLine): a rank crosses
// it without waiting; until every rank has crossed, a wait for a peer may last the start-up allowance
// instead of the collectives' timeout (a peer that starts late is waited for, one that never starts
// fails the wait after the allowance, naming the start), and once all have crossed, the collectives'
// own timeout applies again. An aborted world fails the crossing at once. Two ranks that both start
// promptly are covered by every threads fit (test/runtime/threads-*.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { SharedMemoryCommunicator } from '../../src/comm/shm/communicator.js';
import type { SharedWorld } from '../../src/comm/shm/world.js';
import { START_COUNT, abortWorld, createSharedWorld } from '../../src/comm/shm/world.js';
import { CommError } from '../../src/core/errors.js';

const isTimeout = (pattern: RegExp) => (error: unknown) =>
  error instanceof CommError && error.code === 'TIMEOUT' && pattern.test(error.message);

/** Rank 1 of `world` in a worker thread: it sleeps `delayMs`, then crosses the start line and enters one barrier. */
function lateRank(world: SharedWorld, delayMs: number): Worker {
  const source = `
    const { workerData } = require('node:worker_threads');
    import(workerData.module).then(async ({ SharedMemoryCommunicator }) => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.delayMs);
      const comm = new SharedMemoryCommunicator(workerData.world, 1, { timeoutMs: 10000 });
      comm.crossStartLine(10000);
      await comm.barrier();
    });`;
  const module = new URL('../../src/comm/shm/communicator.js', import.meta.url).href;
  return new Worker(source, { eval: true, workerData: { world, delayMs, module } });
}

test('a world of one crosses the start line at once', async () => {
  const world = createSharedWorld(1);
  const comm = new SharedMemoryCommunicator(world, 0, { timeoutMs: 50 });
  comm.crossStartLine(10_000);
  assert.equal(Atomics.load(new Int32Array(world.control), START_COUNT), 1, 'the crossing is counted');
  await comm.barrier();
});

test('a rank goes on past the start line, and waits for a peer that starts later than the collective timeout', async () => {
  const world = createSharedWorld(2);
  const peer = lateRank(world, 400);
  const exited = new Promise((resolve, reject) => peer.once('exit', resolve).once('error', reject));
  const comm = new SharedMemoryCommunicator(world, 0, { timeoutMs: 100 });
  const started = performance.now();
  comm.crossStartLine(20_000);
  // The peer sleeps 400 ms before it crosses: a crossing that waited for it would return with both counted.
  assert.equal(Atomics.load(new Int32Array(world.control), START_COUNT), 1, 'crossing does not wait for the peer');
  await comm.barrier(); // the peer arrives ~400 ms later (plus its start-up): beyond timeoutMs, within the allowance
  assert.ok(performance.now() - started >= 390, 'the barrier waited for the late peer');
  assert.equal(await exited, 0);
});

test('a peer that never crosses the start line fails the wait after the start-up allowance, not the collective timeout', async () => {
  const comm = new SharedMemoryCommunicator(createSharedWorld(2), 0, { timeoutMs: 10 });
  comm.crossStartLine(300);
  const started = performance.now();
  await assert.rejects(comm.barrier(), isTimeout(/waited 300 ms in barrier for rank 1, and not every rank reached the start of training/));
  const waited = performance.now() - started;
  assert.ok(waited >= 290 && waited < 5000, `waited ${waited} ms`);
});

test('once every rank has crossed the start line, a wait times out after the collective timeout', async () => {
  const world = createSharedWorld(2);
  // Rank 1 crosses and then never comes to the barrier.
  new SharedMemoryCommunicator(world, 1, { timeoutMs: 10_000 }).crossStartLine(10_000);
  const comm = new SharedMemoryCommunicator(world, 0, { timeoutMs: 100 });
  comm.crossStartLine(10_000);
  const started = performance.now();
  await assert.rejects(comm.barrier(), isTimeout(/waited 100 ms in barrier for rank 1, which never answered/));
  const waited = performance.now() - started;
  assert.ok(waited >= 95 && waited < 5000, `waited ${waited} ms, not the 10 s start-up allowance`);
});

test('an aborted world fails the start line at once', () => {
  const world = createSharedWorld(2);
  abortWorld(world);
  const comm = new SharedMemoryCommunicator(world, 1, { timeoutMs: 10_000 });
  assert.throws(
    () => comm.crossStartLine(10_000),
    (error: unknown) => error instanceof CommError && error.code === 'PEER_LOST',
  );
});
