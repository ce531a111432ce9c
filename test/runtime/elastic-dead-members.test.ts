// A generation's rendezvous waits on every member: a member that died before it connected left the
// others waiting timeoutMs (seen as a 20 s "rank 0 … did not welcome this rank" when rank 0 was
// SIGKILLed while the world re-formed to admit a replacement). DeadMembers turns the paradigm's
// notice of that death into an immediate PEER_LOST naming the member, with real ZeroMQ joins over
// the local path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';
import { createLocalDir } from '../../src/comm/zmq/local.js';
import { DeadMembers, firstPlace } from '../../src/runtime/elastic.js';
import type { ElasticPlace } from '../../src/runtime/elastic.js';

/** Generation 2 of a world whose members are launch slots 0, 2, 3, 4 (rank 0 is slot 0). */
const grown: ElasticPlace = { generation: 2, rank: 1, size: 4, members: [0, 2, 3, 4], restarts: 1, version: 1 };

function joinAs(rank: number, size: number, dir: string, generation: number, timeoutMs: number): Promise<ZmqCommunicator> {
  return ZmqCommunicator.join({
    rank,
    size,
    masterAddr: '127.0.0.1',
    masterPort: 0,
    secret: Buffer.alloc(32, 7),
    jobId: 'dead-members',
    generation,
    timeoutMs,
    ipcDir: dir,
    log: () => undefined,
  });
}

test('a member dying while a generation forms fails the join at once with PEER_LOST naming it, not a TIMEOUT after timeoutMs', async () => {
  const local = await createLocalDir();
  try {
    const dead = new DeadMembers();
    // Rank 1 joins; rank 0 (slot 0) never comes: it was SIGKILLed. The transport alone would wait 4 s.
    const joining = joinAs(1, 4, local.dir, grown.generation, 2500);
    joining.catch(() => undefined); // its own TIMEOUT, after the watch gave up on it
    setTimeout(() => dead.died(0), 100);
    await assert.rejects(dead.watch(joining, grown), (error: Error & { code?: string; rank?: number }) => {
      assert.equal(error.name, 'CommError');
      assert.equal(error.code, 'PEER_LOST', error.message);
      assert.equal(error.rank, 0);
      assert.match(error.message, /rank 0 of generation 2 \(launch slot 0\) died while that generation was forming/);
      assert.match(error.message, /members, by launch slot: 0, 2, 3, 4/);
      return true;
    });
    // A death heard before the join starts fails it too.
    const before = new DeadMembers();
    before.died(3);
    const second = joinAs(1, 4, local.dir, 5, 2500);
    second.catch(() => undefined);
    await assert.rejects(before.watch(second, { ...grown, generation: 5 }), /rank 2 of generation 5 \(launch slot 3\) died/);
    await Promise.allSettled([joining, second]);
  } finally {
    await local.remove();
  }
});

test('deaths of non-members (an earlier generation’s lost rank) leave a join alone', async () => {
  const local = await createLocalDir();
  try {
    const dead = new DeadMembers();
    dead.died(1); // lost in generation 0; generation 1 is slots 0 and 2
    const place = (rank: number): ElasticPlace => ({ ...firstPlace(rank, 2, 1), members: [0, 2] });
    const [zero, one] = await Promise.all([
      dead.watch(joinAs(0, 2, local.dir, 1, 5000), place(0)),
      dead.watch(joinAs(1, 2, local.dir, 1, 5000), place(1)),
    ]);
    dead.died(2); // after the world formed: the transport's loss detection takes over, the join is done
    const sum = new Float64Array([1]);
    const other = new Float64Array([2]);
    await Promise.all([zero.allReduce(sum, 'sum'), one.allReduce(other, 'sum')]);
    assert.equal(sum[0], 3);
    assert.equal(other[0], 3);
    await Promise.all([zero.close(), one.close()]);
  } finally {
    await local.remove();
  }
});
