// The start line of a shared-memory world (SharedMemoryCommunicator.awaitStart): a world of one
// passes at once, a rank whose peer never arrives fails after its own timeout (not the
// collectives' timeout), and an aborted world fails it at once. Two ranks that both arrive are
// covered by every threads fit (test/runtime/threads-*.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedMemoryCommunicator } from '../../src/comm/shm/communicator.js';
import { abortWorld, createSharedWorld } from '../../src/comm/shm/world.js';
import { CommError } from '../../src/core/errors.js';

test('a world of one passes the start line at once', () => {
  const comm = new SharedMemoryCommunicator(createSharedWorld(1), 0, { timeoutMs: 50 });
  const started = performance.now();
  comm.awaitStart(10_000);
  assert.ok(performance.now() - started < 1000);
});

test('a rank whose peer never arrives fails after the start timeout, not the collective timeout', () => {
  const comm = new SharedMemoryCommunicator(createSharedWorld(2), 0, { timeoutMs: 10 });
  const started = performance.now();
  assert.throws(
    () => comm.awaitStart(300),
    (error: unknown) => error instanceof CommError && error.code === 'TIMEOUT' && /start of training/.test(error.message),
  );
  const waited = performance.now() - started;
  assert.ok(waited >= 290 && waited < 5000, `waited ${waited} ms`);
});

test('an aborted world fails the start line at once', () => {
  const world = createSharedWorld(2);
  abortWorld(world);
  const comm = new SharedMemoryCommunicator(world, 1, { timeoutMs: 10_000 });
  assert.throws(
    () => comm.awaitStart(10_000),
    (error: unknown) => error instanceof CommError && error.code === 'PEER_LOST',
  );
});
