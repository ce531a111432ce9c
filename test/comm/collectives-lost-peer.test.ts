// A collective on a link whose peer is lost (comm/collectives/link.ts): the sends to the lost peer
// fail at once while the collective still waits on a receive, which fails a moment later (the
// transport's loss detection). The collective must reject with the receive's error and leave no
// unhandled rejection behind: one ended a surviving rank's process (exit 1) under `processes` before
// its restart policy could re-form the world ("sending to rank 0 failed: write EPIPE"). Fails on the
// code before the fix (the early send failures were unobserved while the receive was awaited).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CollectiveLink } from '../../src/comm/collectives/link.js';
import { allToAllBarrier, directAllReduce, ringAllReduce } from '../../src/comm/collectives/link.js';
import { CommError } from '../../src/core/errors.js';
import type { FloatArray } from '../../src/core/storage.js';

/** Rank 0 of 3 whose peers are gone: every send fails now, every receive after `lossMs` (a real timer). */
function lostPeersLink(lossMs: number): CollectiveLink {
  return {
    rank: 0,
    size: 3,
    check: { allowInfinity: false },
    refused: (from) => new CommError('COMM', `refused a value from ${from}`),
    send: (to: number) => Promise.reject(new CommError('PEER_LOST', `sending to rank ${to} failed: write EPIPE`, { rank: to })),
    recv: (from: number): Promise<FloatArray[]> =>
      new Promise((_, reject) => setTimeout(() => reject(new CommError('PEER_LOST', `rank ${from} was lost`, { rank: from })), lossMs)),
  };
}

test('a collective whose sends fail before its receive does rejects with the receive’s error and leaves no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const listener = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', listener);
  try {
    for (const collective of [
      (link: CollectiveLink) => directAllReduce(link, new Float64Array(64), 'sum', 16),
      (link: CollectiveLink) => ringAllReduce(link, new Float64Array(64), 'sum', 16),
      (link: CollectiveLink) => allToAllBarrier(link),
    ]) {
      await assert.rejects(collective(lostPeersLink(30)), /was lost|sending to rank/);
    }
    // Unhandled rejections are reported after the microtask queue drains: give them a turn.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(
      unhandled.map((reason) => (reason as Error).message),
      [],
      'no send failure went unobserved',
    );
  } finally {
    process.off('unhandledRejection', listener);
  }
});
