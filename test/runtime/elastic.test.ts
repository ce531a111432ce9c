// The restart policy's pure parts (runtime/elastic.ts): the policy's defaults and refusals, the next
// generation's place, the snapshot ring; and the invariant re-sharding rests on — contiguous shards
// of a source, in rank order, are the same rows in the same order for any world size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { CommError, ConfigError } from '../../src/core/errors.js';
import { loadData } from '../../src/data/load.js';
import { trainTestSplit } from '../../src/data/split.js';
import {
  DEFAULT_ELASTIC_RESTARTS,
  SnapshotRing,
  firstPlace,
  nextPlace,
  reformedMaster,
  resolveElastic,
} from '../../src/runtime/elastic.js';
import { ELASTIC_SPEC, ELASTIC_SPLIT } from './fixtures/elastic-settings.js';

test('resolveElastic: none without settings; defaults; refuses what cannot hold, naming the setting', () => {
  assert.equal(resolveElastic({}, 3, 'processes'), undefined);
  assert.deepEqual(resolveElastic({ minWorkers: 2 }, 3, 'processes'), {
    minWorkers: 2,
    maxWorkers: 3,
    maxRestarts: DEFAULT_ELASTIC_RESTARTS,
  });
  assert.deepEqual(resolveElastic({ maxRestarts: 1 }, 3, 'threads'), { minWorkers: 3, maxWorkers: 3, maxRestarts: 1 });
  assert.deepEqual(resolveElastic({ minWorkers: 3 }, 3, 'cluster'), { minWorkers: 3, maxWorkers: 3, maxRestarts: 0 });
  const refused = (
    options: Parameters<typeof resolveElastic>[0],
    field: string,
    paradigm: 'processes' | 'sequential' = 'processes',
  ): void =>
    assert.throws(
      () => resolveElastic(options, 3, paradigm),
      (error: ConfigError) => error instanceof ConfigError && error.field === field,
    );
  refused({ minWorkers: 4 }, 'minWorkers');
  refused({ maxWorkers: 2 }, 'minWorkers');
  refused({ minWorkers: 0 }, 'minWorkers');
  refused({ maxRestarts: -1 }, 'maxRestarts');
  refused({ minWorkers: 1.5 }, 'minWorkers');
  refused({ minWorkers: 1 }, 'minWorkers', 'sequential');
});

test('nextPlace: survivors keep their order as the new ranks; the policy’s refusals name the lost rank at launch', () => {
  const policy = { minWorkers: 2, maxWorkers: 4, maxRestarts: 2 };
  const cause = new CommError('PEER_LOST', 'rank 1 is gone', { rank: 1 });
  const first = firstPlace(2, 4); // launch rank 2 of 4
  const second = nextPlace(first, [1], policy, cause);
  assert.deepEqual(second, { generation: 1, rank: 1, size: 3, members: [0, 2, 3], restarts: 1, version: 0 });
  // Rank 0 of generation 1 (launch rank 0) is lost next: launch rank 2 becomes rank 0.
  const third = nextPlace(second, [0], policy, cause);
  assert.deepEqual(third, { generation: 2, rank: 0, size: 2, members: [2, 3], restarts: 2, version: 0 });
  assert.throws(
    () => nextPlace(third, [1], policy, cause),
    (error: CommError) => error.code === 'PEER_LOST' && error.rank === 3 && /max-restarts 2 exhausted/.test(error.message),
  );
  assert.throws(
    () => nextPlace(second, [0, 2], { ...policy, maxRestarts: 5 }, cause),
    (error: CommError) => error.rank === 0 && /1 of 3 workers left, below min-workers 2/.test(error.message),
  );
  // Generation g meets at the lowest survivor's host, MASTER_PORT + g.
  const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
  assert.deepEqual(
    reformedMaster(third, second, { masterAddr: 'head', masterPort: 29500 }, (rank) => hosts[rank]!),
    { masterAddr: '10.0.0.2', masterPort: 29502 },
  );
  assert.deepEqual(
    reformedMaster(second, first, { masterAddr: 'head', masterPort: 29500 }, (rank) => hosts[rank]!),
    {
      masterAddr: 'head',
      masterPort: 29501,
    },
  );
});

test('SnapshotRing keeps copies of the last two boundaries, by step or by epoch', () => {
  const params = Float64Array.of(1, 2);
  const ring = new SnapshotRing();
  assert.equal(ring.newestKey(), -1);
  for (const step of [1, 2, 3]) {
    params[0] = step;
    ring.keep({ params, epoch: 0, position: step * 8, step, rng: {} });
  }
  assert.equal(ring.newestKey(), 3);
  assert.equal(ring.at(1), undefined);
  assert.equal(ring.at(2)?.params[0], 2, 'a copy: later changes to the live parameters do not reach it');
  const byEpoch = new SnapshotRing((snapshot) => snapshot.epoch);
  byEpoch.keep({ params, epoch: 4, position: 0, step: 77, rng: {} });
  assert.equal(byEpoch.newestKey(), 4);
  assert.equal(byEpoch.at(4)?.step, 77);
});

test('contiguous shards of a source in rank order are the whole split’s rows in order, for 3 and for 2 ranks', async () => {
  const whole = trainTestSplit((await loadData(ELASTIC_SPEC)).train, ELASTIC_SPLIT).train;
  for (const worldSize of [3, 2]) {
    const keys: number[] = [];
    for (let rank = 0; rank < worldSize; rank++) {
      const shard = trainTestSplit((await loadData(ELASTIC_SPEC, { shard: { rank, worldSize } })).train, ELASTIC_SPLIT).train;
      for (let row = 0; row < shard.rows; row++) keys.push(shard.rowKey(row));
    }
    assert.deepEqual(
      keys,
      Array.from({ length: whole.rows }, (_, row) => whole.rowKey(row)),
      `world size ${worldSize}`,
    );
  }
});
