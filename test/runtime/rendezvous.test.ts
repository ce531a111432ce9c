// The static rendezvous: Kubernetes Indexed Jobs (and JobSets) give the rank as JOB_COMPLETION_INDEX;
// an explicit RANK wins; the environment's world offered as a RendezvousBackend never changes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inCluster, rendezvousFromEnv, staticRendezvous } from '../../src/runtime/rendezvous.js';

const POD = { JOB_COMPLETION_INDEX: '3', WORLD_SIZE: '4', MASTER_ADDR: 'train-0.train', MASTER_PORT: '29500' };

test("a Kubernetes Indexed Job's pod: the rank is its JOB_COMPLETION_INDEX", () => {
  const place = rendezvousFromEnv(POD);
  assert.deepEqual(
    [place.rank, place.worldSize, place.masterAddr, place.masterPort, place.jobId],
    [3, 4, 'train-0.train', 29500, 'train-0.train:29500'],
  );
  assert.equal(inCluster(POD), true);
  assert.equal(rendezvousFromEnv({ ...POD, RANK: '1' }).rank, 1, 'an explicit RANK wins');
  assert.throws(() => rendezvousFromEnv({ ...POD, JOB_COMPLETION_INDEX: '4' }), {
    name: 'ConfigError',
    message: /RANK=4: expected a rank 0..3 \(WORLD_SIZE=4\)/,
  });
  assert.throws(() => rendezvousFromEnv({ JOB_COMPLETION_INDEX: '0', MASTER_ADDR: 'a', MASTER_PORT: '1' }), {
    name: 'ConfigError',
    message: /WORLD_SIZE is not set/,
  });
});

test("the static backend joins the environment's world, once, and never changes it", async () => {
  const backend = staticRendezvous(POD);
  const world = await backend.join();
  assert.equal(backend.name, 'static');
  assert.deepEqual([world.rank, world.worldSize, world.generation, world.members.length], [3, 4, 0, 4]);
  assert.deepEqual(world.members[0], { id: 'rank-0', host: 'train-0.train', port: 29500 });
  assert.equal(await backend.join(), world);
  let changed = false;
  backend.onChange(() => (changed = true))();
  await backend.leave();
  assert.equal(changed, false);
  await assert.rejects(staticRendezvous({}).join(), { name: 'ConfigError', message: /MASTER_ADDR is not set/ });
});
