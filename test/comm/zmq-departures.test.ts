// Exact departures: a rank's bye carries how many messages it sent and the error it stopped on, so a
// wait on a rank that left says exactly why it can never be met: it failed (and on what), it left
// after every message arrived (the ranks disagree on what to exchange), or messages were lost.
// Real ZeroMQ sockets in this process; the "lost messages" case uses a raw CURVE dealer holding the
// job's keys that sends a bye claiming more messages than it sent, as a dropped and re-established
// connection would leave it (libzmq loses what was in flight on the broken connection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zmq from 'zeromq';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';
import { deriveCurveKeys } from '../../src/comm/zmq/security.js';
import { PROTOCOL_VERSION, encodeMessage } from '../../src/comm/zmq/wire.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const secret = Buffer.alloc(32, 5);

async function pair(): Promise<ZmqCommunicator[]> {
  let port = 0;
  const common = {
    size: 2,
    masterAddr: '127.0.0.1',
    secret,
    jobId: `departures-${Math.random()}`,
    timeoutMs: 10_000,
    log: () => undefined,
  };
  const first = ZmqCommunicator.join({ ...common, rank: 0, masterPort: 0, onListening: (p) => (port = p) });
  while (port === 0) await sleep(5);
  return Promise.all([first, ZmqCommunicator.join({ ...common, rank: 1, masterPort: port })]);
}

const goneMessage = async (pending: Promise<unknown>): Promise<string> => {
  const error = await pending.then(
    () => assert.fail('the wait on a departed rank resolved'),
    (reason: unknown) => reason as Error & { code?: string; rank?: number },
  );
  assert.equal(error.code, 'PEER_LOST', error.message);
  return error.message;
};

test('a rank that leaves on an error says so: the peer waiting for it gets that error, not "finished and left"', async () => {
  const [rank0, rank1] = await pair();
  const waiting = rank1!.recv(0);
  const closing = rank0!.close('RangeError: deliberate');
  assert.match(await goneMessage(waiting), /rank 0 .*is gone: it stopped on an error and left \(RangeError: deliberate\)/);
  await rank1!.close();
  await closing;
});

test('every message sent before a bye is delivered; the next wait fails naming the count', async () => {
  const [rank0, rank1] = await pair();
  for (let i = 0; i < 3; i++) await rank0!.send(1, { tag: `m${i}`, arrays: [Float64Array.of(i)] });
  const closing = rank0!.close();
  const waits = [0, 1, 2, 3].map(() => rank1!.recv(0));
  for (let i = 0; i < 3; i++) assert.equal((await waits[i]!).tag, `m${i}`);
  assert.match(await goneMessage(waits[3]!), /it finished and left after all 3 of its messages to this rank arrived/);
  await rank1!.close();
  await closing;
});

test('a bye announcing more messages than arrived names the loss', async () => {
  let port = 0;
  const jobId = `departures-lost-${Math.random()}`;
  const joining = ZmqCommunicator.join({
    rank: 0,
    size: 2,
    masterAddr: '127.0.0.1',
    masterPort: 0,
    secret,
    jobId,
    timeoutMs: 10_000,
    log: () => undefined,
    onListening: (p) => (port = p),
    collectiveLane: false, // the hand-made peer below has no collective lane to advertise
  });
  while (port === 0) await sleep(5);
  const keys = deriveCurveKeys(secret, jobId);
  const peer = new zmq.Dealer({
    curveServerKey: keys.serverPublicKey,
    curvePublicKey: keys.clientPublicKey,
    curveSecretKey: keys.clientSecretKey,
    linger: 0,
  });
  peer.connect(`tcp://127.0.0.1:${port}`);
  // Rank 1's endpoint is never connected to in this test: rank 0 only receives.
  await peer.send(
    encodeMessage({ v: PROTOCOL_VERSION, k: 'hello', h: { job: jobId, generation: 0, rank: 1, size: 2, endpoint: 'tcp://127.0.0.1:9' } }),
  );
  const rank0 = await joining;
  try {
    for (let i = 0; i < 2; i++) await peer.send(encodeMessage({ v: PROTOCOL_VERSION, k: 'user', tag: `m${i}` }));
    await peer.send(encodeMessage({ v: PROTOCOL_VERSION, k: 'bye', h: { sent: 3 } }));
    const waits = [0, 1, 2].map(() => rank0.recv(1));
    assert.equal((await waits[0]!).tag, 'm0');
    assert.equal((await waits[1]!).tag, 'm1');
    assert.match(await goneMessage(waits[2]!), /it had sent this rank 3 messages, of which only 2 arrived: 1 were lost in transit/);
  } finally {
    peer.close();
    await rank0.close();
  }
});
