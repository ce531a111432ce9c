// The renewal of a kept local world (src/comm/zmq/renewal.ts): two real ranks joined over ipc:// in
// a 0700 folder are taken over for a next job when both prove its secret, and then refuse hellos of
// the last job; a rank given another secret, a message of the last job left unread, or a peer that
// left make both ranks refuse the renewal (they would join a fresh world instead). Two communicators
// in this process, real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zmq from 'zeromq';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';
import { createLocalDir, helloProof, ipcEndpoint } from '../../src/comm/zmq/local.js';
import type { LocalDir } from '../../src/comm/zmq/local.js';
import { renewalFields, renewalProblem } from '../../src/comm/zmq/renewal.js';
import { encodeMessage } from '../../src/comm/zmq/wire.js';

const FIRST = { jobId: 'job-first', secret: Buffer.alloc(32, 1) };
const NEXT = { jobId: 'job-next', secret: Buffer.alloc(32, 2) };

async function world(logs: string[]): Promise<{ ranks: ZmqCommunicator[]; local: LocalDir }> {
  const local = await createLocalDir();
  const common = { size: 2, masterAddr: '127.0.0.1', masterPort: 0, timeoutMs: 10_000, ipcDir: local.dir, ...FIRST };
  const ranks = await Promise.all(
    [0, 1].map((rank) => ZmqCommunicator.join({ ...common, rank, log: (line: string) => logs.push(`rank ${rank}: ${line}`) })),
  );
  return { ranks, local };
}

async function knock(dir: string, job: string, secret: Buffer): Promise<string> {
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(ipcEndpoint(dir, 0));
  await dealer.send(encodeMessage({ v: 1, k: 'hello', h: { job, generation: 0, rank: 1, size: 2, proof: helloProof(secret, job) } }));
  const [frame] = await Promise.race([
    dealer.receive(),
    new Promise<Buffer[]>((resolve) => setTimeout(() => resolve([Buffer.from('(no reply within 5 s)')]), 5000)),
  ]);
  dealer.close();
  return frame!.toString();
}

test('a renewal message is checked for its round, job and proof', () => {
  const own = { jobId: 'job-next', proof: helloProof(NEXT.secret, 'job-next') };
  assert.equal(renewalProblem(own, 1, renewalFields(own, 1)), null);
  assert.equal(renewalProblem(own, 2, renewalFields(own, 2, true)), null);
  assert.match(renewalProblem(own, 1, renewalFields({ ...own, proof: helloProof(FIRST.secret, 'job-next') }, 1))!, /does not prove/);
  assert.match(renewalProblem(own, 1, renewalFields({ ...own, jobId: 'job-first' }, 1))!, /not for this rank's next job/);
  assert.match(renewalProblem(own, 1, renewalFields(own, 2, true))!, /round 2 where round 1 was due/);
  assert.match(renewalProblem(own, 2, { job: 'job-next', round: 2 })!, /neither yes nor no/);
  assert.match(renewalProblem(own, 1, undefined)!, /without fields/);
});

test('both ranks proving the next job renew the kept world: statistics restart, it computes, and hellos of the last job are refused', async () => {
  const logs: string[] = [];
  const { ranks, local } = await world(logs);
  const [rank0, rank1] = ranks as [ZmqCommunicator, ZmqCommunicator];
  try {
    await rank1.send(0, { tag: 'last job', arrays: [Float64Array.of(1, 2)] });
    assert.deepEqual([...(await rank0.recv(1)).arrays![0]!], [1, 2]);
    await Promise.all([rank0.barrier(), rank1.barrier()]);
    assert.ok(rank0.stats.messagesReceived > 0 && rank1.stats.bytesSent > 0);
    assert.equal(rank0.idleProblem(), null);
    assert.equal(rank1.idleProblem(), null);

    assert.deepEqual(await Promise.all(ranks.map((comm) => comm.renew(NEXT, 5000))), [null, null]);
    for (const comm of ranks) assert.deepEqual([comm.stats.bytesSent, comm.stats.messagesReceived, comm.stats.collectives], [0, 0, 0]);
    await rank0.send(1, { tag: 'next job', arrays: [Float32Array.of(7)] });
    assert.deepEqual([...(await rank1.recv(0)).arrays![0]!], [7]);
    await Promise.all([rank0.barrier(), rank1.barrier()]);

    assert.match(await knock(local.dir, FIRST.jobId, FIRST.secret), /job id .{0,3}job-first.{0,3} is not this job's/);
    assert.match(await knock(local.dir, NEXT.jobId, FIRST.secret), /does not prove it holds this job's secret/);
    assert.match(await knock(local.dir, NEXT.jobId, NEXT.secret), /rank 1 has already joined/);
  } finally {
    await Promise.all(ranks.map((comm) => comm.close()));
    await local.remove();
  }
});

test('a rank with another secret, an unread message of the last job, or a peer that left: the renewal is refused on every rank', async () => {
  const logs: string[] = [];
  {
    const { ranks, local } = await world(logs);
    try {
      const answers = await Promise.all([ranks[0]!.renew(NEXT, 5000), ranks[1]!.renew({ ...NEXT, secret: FIRST.secret }, 5000)]);
      assert.match(answers[0]!, /rank 1: it does not prove the next job's secret/);
      assert.match(answers[1]!, /rank 0: it does not prove the next job's secret/);
    } finally {
      await Promise.all(ranks.map((comm) => comm.close()));
      await local.remove();
    }
  }
  {
    const { ranks, local } = await world(logs);
    try {
      await ranks[1]!.send(0, { tag: 'never read', arrays: [Float64Array.of(3)] });
      const answers = await Promise.all(ranks.map((comm) => comm.renew(NEXT, 5000)));
      assert.match(answers[0]!, /a message of the last job waits unread/);
      assert.match(answers[1]!, /rank 0 cannot renew it/);
    } finally {
      await Promise.all(ranks.map((comm) => comm.close()));
      await local.remove();
    }
  }
  {
    const { ranks, local } = await world(logs);
    try {
      await ranks[1]!.close(undefined, 100);
      const answer = await ranks[0]!.renew(NEXT, 5000);
      // Its goodbye is seen before any renewal message is sent: refused at once, not after the timeout.
      assert.match(answer!, /^rank 1 is gone \(/);
      assert.doesNotMatch(answer!, /within 5000 ms/);
    } finally {
      await ranks[0]!.close();
      await local.remove();
    }
  }
});
