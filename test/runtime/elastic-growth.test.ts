// Elastic growth's pure parts (runtime/elastic-growth.ts): the grown place (newcomers after the old
// members, capped by maxWorkers, restarts kept), the agreement on a membership version (the newest
// every rank has seen), the snapshot handed to a newcomer (every field survives the trip, a rank 0
// without one is refused), and the join record's arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCommunicator } from '../../src/comm/local.js';
import type { TrainingSnapshot } from '../../src/models/context.js';
import { firstPlace, nextPlace } from '../../src/runtime/elastic.js';
import type { Membership } from '../../src/runtime/elastic-growth.js';
import { agreeMembership, grownPlace, joinRecord, shareSnapshot } from '../../src/runtime/elastic-growth.js';
import { CommError } from '../../src/core/errors.js';

const policy = { minWorkers: 2, maxWorkers: 3, maxRestarts: 1 };

test('grownPlace: newcomers go after the old members, as many as maxWorkers leaves room for; restarts are kept', () => {
  const shrunk = nextPlace(firstPlace(2, 3), [1], policy, new CommError('PEER_LOST', 'rank 1 lost', { rank: 1 }));
  assert.deepEqual(shrunk, { generation: 1, rank: 1, size: 2, members: [0, 2], restarts: 1, version: 0 });
  assert.deepEqual(grownPlace(shrunk, [3, 4], 3), { generation: 2, rank: 1, size: 3, members: [0, 2, 3], restarts: 1, version: 1 });
  assert.equal(grownPlace(firstPlace(0, 3), [3], 3), undefined, 'no room: nobody is taken in');
  assert.equal(grownPlace(shrunk, [], 3), undefined);
  // A newcomer already a member is not taken twice; one that died before its admission (−1) is passed over, its announcement used.
  assert.deepEqual(grownPlace(shrunk, [2, 5], 4)?.members, [0, 2, 5]);
  assert.deepEqual(grownPlace(shrunk, [-1, 5], 3), { generation: 2, rank: 1, size: 3, members: [0, 2, 5], restarts: 1, version: 2 });
  assert.equal(grownPlace(shrunk, [-1], 3), undefined);
});

test('agreeMembership: nothing new below the place’s version; else the membership’s place at the agreed version', async () => {
  const seen = { version: 0 };
  const asked: number[] = [];
  const membership: Membership = {
    version: () => seen.version,
    seenAt: () => undefined,
    placeAt: (version, current) => {
      asked.push(version);
      return grownPlace(current, [3], policy.maxWorkers);
    },
  };
  const comm = new LocalCommunicator();
  const place = { ...firstPlace(0, 2), members: [0, 1] };
  assert.equal(await agreeMembership(comm, membership, place, policy), undefined);
  seen.version = 1;
  assert.deepEqual((await agreeMembership(comm, membership, place, policy))?.members, [0, 1, 3]);
  assert.deepEqual(asked, [1]);
});

test('shareSnapshot: parameters, optimizer arrays and scalars, epoch, position, step and RNG streams survive the trip', async () => {
  const own: TrainingSnapshot = {
    params: Float64Array.of(0.5, -1.25, 3),
    epoch: 4,
    position: 0,
    step: 564,
    rng: { own: [1, 2, 3, 4] },
    optimizer: { arrays: { m: Float64Array.of(0.1, 0.2, 0.3), v: Float64Array.of(1, 2, 3) }, scalars: { t: 564 } },
  };
  const shared = await shareSnapshot(new LocalCommunicator(), own);
  assert.deepEqual(shared, own);
  assert.notEqual(shared.params, own.params, 'a copy, not the live state');
  const plain = await shareSnapshot(new LocalCommunicator(), { params: Float64Array.of(1), epoch: 1, position: 0, step: 2, rng: {} });
  assert.equal(plain.optimizer, undefined);
  await assert.rejects(shareSnapshot(new LocalCommunicator(), undefined), /rank 0 holds no snapshot/);
});

test('joinRecord: the newcomers are their ranks in the grown world; joinMs = waitMs + reformMs', () => {
  const from = { ...firstPlace(0, 2), members: [0, 2] };
  const to = grownPlace(from, [3], 3)!;
  const record = joinRecord({ from, to, seenAt: 100, boundaryAt: 350, resumedAt: 500, epoch: 5 });
  assert.deepEqual(record, { added: [2], generation: 1, workers: 3, epoch: 5, waitMs: 250, reformMs: 150, joinMs: 400 });
});
