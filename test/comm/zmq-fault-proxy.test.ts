// The ZeroMQ communicator behind the seeded fault proxy: two ranks in this process, rank 1 reaching
// rank 0 through the proxy. Latency, jitter and a bandwidth cap slow the all-reduce down but do not
// change a bit of it; a corrupted byte on the CURVE stream or a reset connection ends the operation
// on both ranks with a typed error within the timeout, never with wrong numbers and never hanging.
// The collectives stay on ZeroMQ here (collectiveLane: false): the proxy fronts rank 0's ZeroMQ port,
// which the lane between hosts would bypass; the lane's own tampering cases are zmq-lane-seal.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';
import { FaultProxy } from '../../src/comm/fault-proxy.js';
import type { FaultProfile } from '../../src/comm/fault-proxy.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function throughProxy(profile: FaultProfile, timeoutMs: number): Promise<{ ranks: ZmqCommunicator[]; proxy: FaultProxy }> {
  let port = 0;
  const common = {
    size: 2,
    masterAddr: '127.0.0.1',
    secret: Buffer.alloc(32, 9),
    jobId: `proxy-${Math.random()}`,
    timeoutMs,
    log: () => undefined,
    collectiveLane: false,
  };
  let failed: unknown = null;
  const first = ZmqCommunicator.join({ ...common, rank: 0, masterPort: 0, onListening: (p) => (port = p) });
  first.catch((error: unknown) => (failed = error));
  while (port === 0 && failed === null) await sleep(5);
  if (failed !== null) throw failed;
  const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port }, seed: 7, ...profile });
  const ranks = await Promise.all([first, ZmqCommunicator.join({ ...common, rank: 1, masterPort: proxy.port })]);
  return { ranks, proxy };
}

const input = (rank: number): Float64Array => Float64Array.from({ length: 50_000 }, (_, i) => Math.sin(i + rank) * 10 ** (i % 5));

test('latency, jitter and a bandwidth cap change the time of an all-reduce, not its result', async () => {
  const { ranks, proxy } = await throughProxy({ latencyMs: 15, jitterMs: 10, bytesPerSecond: 20e6 }, 10_000);
  try {
    const buffers = ranks.map((comm) => input(comm.rank));
    const other = input(1);
    const expected = input(0).map((value, i) => value + other[i]!);
    await Promise.all(ranks.map((comm, r) => comm.allReduce(buffers[r]!, 'sum')));
    for (const buffer of buffers) assert.deepEqual(buffer, expected);
    assert.ok(proxy.counts.bytesForwarded >= (50_000 * 8) / 2, 'rank 1 → rank 0 traffic went through the proxy');
  } finally {
    await Promise.all(ranks.map((comm) => comm.close()));
    await proxy.close();
  }
});

for (const fault of ['corrupt', 'reset'] as const) {
  test(`a ${fault === 'corrupt' ? 'corrupted byte' : 'reset connection'} mid-run ends the all-reduce on both ranks with a typed error, no wrong numbers`, async () => {
    const { ranks, proxy } = await throughProxy({}, 3000);
    try {
      await Promise.all(ranks.map((comm) => comm.allReduce(input(comm.rank), 'sum'))); // healthy first
      if (fault === 'corrupt') proxy.profile = { corruptProbability: 1, faultBudget: 1 };
      else proxy.resetAll();
      const outcomes = await Promise.allSettled(ranks.map((comm) => comm.allReduce(input(comm.rank), 'sum')));
      outcomes.forEach((outcome, rank) => {
        assert.equal(outcome.status, 'rejected', `rank ${rank} must not complete with a broken link`);
        const error = (outcome as PromiseRejectedResult).reason as Error & { code?: string; rank?: number };
        assert.equal(error.name, 'CommError', error.message);
        assert.ok(error.code === 'PEER_LOST' || error.code === 'TIMEOUT', error.message);
        assert.equal(error.rank, 1 - rank, `rank ${rank}'s error names its peer: ${error.message}`);
      });
    } finally {
      await Promise.all(ranks.map((comm) => comm.close()));
      await proxy.close();
    }
  });
}
