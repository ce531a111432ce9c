// Security and robustness of the ZeroMQ transport, with real rank processes on loopback and an
// attacker in the test process. Each attack must be refused or dropped with a logged reason, must not
// crash or stall the ranks, and the world must still compute a correct all-reduce afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import * as zmq from 'zeromq';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';
import { deriveCurveKeys, readSecret } from '../../src/comm/zmq/security.js';
import { encodeMessage } from '../../src/comm/zmq/wire.js';
import { Rng } from '../../src/core/rng.js';
import type { ZmqCommWorld } from './zmq-worlds.js';
import { logged, sleep, stillWorks, zmqWorld } from './zmq-worlds.js';

/** A dealer holding the job's real keys (an insider or a misconfigured rank). */
function insider(world: ZmqCommWorld): zmq.Dealer {
  const keys = deriveCurveKeys(Buffer.from(world.secret, 'hex'), world.jobId);
  const dealer = new zmq.Dealer({
    curveServerKey: keys.serverPublicKey,
    curvePublicKey: keys.clientPublicKey,
    curveSecretKey: keys.clientSecretKey,
    linger: 0,
  });
  dealer.connect(`tcp://127.0.0.1:${world.port}`);
  return dealer;
}

function nextEvent(dealer: zmq.Dealer, type: string, withinMs: number): Promise<boolean> {
  return Promise.race([
    (async () => {
      for await (const event of dealer.events) if (event.type === type) return true;
      return false;
    })(),
    sleep(withinMs).then(() => false),
  ]);
}

const makeWorld = zmqWorld({ captureLogs: true, maxMessageBytes: 1024 * 1024, handshakeTimeoutMs: 2000 });

test('a rank with the wrong secret is refused at once with a CommError saying so; the job keeps running', async () => {
  const world = await makeWorld(2, {});
  try {
    const started = Date.now();
    await assert.rejects(
      ZmqCommunicator.join({
        rank: 1,
        size: 2,
        masterAddr: '127.0.0.1',
        masterPort: world.port,
        secret: Buffer.alloc(32, 7),
        jobId: world.jobId,
        timeoutMs: 5000,
      }),
      (error: Error & { code?: string }) => {
        assert.equal(error.name, 'CommError');
        assert.match(error.message, /SHARDLEARN_SECRET/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000, 'refused before the join timeout');
    await logged(world, /security handshake failed/);
    await stillWorks(world);
  } finally {
    await world.close();
  }
});

test("garbage bytes on a rank's port are dropped (ZMTP-framed garbage with a logged reason); the job keeps running", async () => {
  const world = await makeWorld(2, {});
  try {
    const rng = new Rng(5);
    const noise = Uint8Array.from({ length: 4096 }, () => rng.int(256));
    // One stream that looks like a ZMTP 3 greeting then turns to noise, one of pure noise.
    const framed = Buffer.concat([Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0]), noise]);
    const sockets = [framed, Buffer.from(noise)].map((bytes) => {
      const socket = connect(world.port, '127.0.0.1', () => socket.write(bytes));
      socket.on('error', () => undefined);
      return socket;
    });
    await logged(world, /dropped a connection .*security handshake failed/);
    await stillWorks(world);
    for (const socket of sockets) socket.destroy();
  } finally {
    await world.close();
  }
});

test('an oversized message is dropped by the socket before allocation; a rank refuses to send one', async () => {
  const world = await makeWorld(2, {});
  try {
    const dealer = insider(world);
    const dropped = nextEvent(dealer, 'disconnect', 5000);
    await dealer.send([Buffer.from('{"v":1,"k":"user"}'), Buffer.alloc(2 * 1024 * 1024)]);
    assert.ok(await dropped, 'the 2 MiB frame above the 1 MiB limit closed the connection');
    dealer.close();
    await stillWorks(world);
  } finally {
    await world.close();
  }
  // Sender side, two ranks in this process: refused before anything is sent, naming the limit.
  let port = 0;
  const secret = Buffer.alloc(32, 3);
  const common = { size: 2, masterAddr: '127.0.0.1', secret, jobId: 'oversize', timeoutMs: 5000, maxMessageBytes: 1024 * 1024 };
  const first = ZmqCommunicator.join({ ...common, rank: 0, masterPort: 0, onListening: (p) => (port = p) });
  await Promise.race([
    first,
    (async () => {
      while (port === 0) await sleep(5);
    })(),
  ]);
  const [rank0, rank1] = await Promise.all([first, ZmqCommunicator.join({ ...common, rank: 1, masterPort: port })]);
  try {
    await assert.rejects(
      rank0.send(1, { tag: 'big', arrays: [new Float64Array(200_000)] }),
      /exceeds the maximum message size of 1048576 bytes/,
    );
  } finally {
    await Promise.all([rank0.close(), rank1.close()]);
  }
});

test('a protocol-version mismatch and a stale generation are refused with logged reasons', async () => {
  const world = await makeWorld(2, {});
  try {
    const future = insider(world);
    await future.send(encodeMessage({ v: 999, k: 'hello', h: { job: world.jobId, generation: 0, rank: 1, size: 2 } }));
    await logged(world, /protocol version 999, expected 1/);
    future.close();
    const stale = insider(world);
    await stale.send(encodeMessage({ v: 1, k: 'hello', h: { job: world.jobId, generation: 7, rank: 1, size: 2 } }));
    const [reply] = await Promise.race([stale.receive(), sleep(5000).then(() => [Buffer.from('{}')])]);
    assert.match(reply!.toString(), /generation 7 is not this job's generation 0/);
    await logged(world, /refused a peer claiming rank 1: generation 7/);
    stale.close();
    await stillWorks(world);
  } finally {
    await world.close();
  }
});

test('a non-finite value from the wire never reaches the model: the receiver fails naming the sender', async () => {
  let port = 0;
  const common = { size: 2, masterAddr: '127.0.0.1', secret: Buffer.alloc(32, 4), jobId: 'nan', timeoutMs: 1500, log: () => undefined };
  const first = ZmqCommunicator.join({ ...common, rank: 0, masterPort: 0, onListening: (p) => (port = p) });
  await Promise.race([
    first,
    (async () => {
      while (port === 0) await sleep(5);
    })(),
  ]);
  const joined = await Promise.allSettled([first, ZmqCommunicator.join({ ...common, rank: 1, masterPort: port })]);
  const failed = joined.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    // Close the rank that did join, so a failed join fails this test instead of keeping the file alive.
    await Promise.all(joined.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  const [rank0, rank1] = joined.map((r) => (r as PromiseFulfilledResult<ZmqCommunicator>).value) as [ZmqCommunicator, ZmqCommunicator];
  try {
    const poisoned = Float64Array.of(1, 2, NaN, 4);
    const results = await Promise.allSettled([rank0.allReduce(Float64Array.of(1, 2, 3, 4)), rank1.allReduce(poisoned)]);
    assert.equal(results[0].status, 'rejected');
    const error = (results[0] as PromiseRejectedResult).reason as Error & { rank?: number };
    assert.equal(error.rank, 1);
    assert.match(error.message, /rank 1 .* sent NaN at element 2/);
  } finally {
    await Promise.all([rank0.close(), rank1.close()]);
  }
});

test('the secret comes from SHARDLEARN_SECRET or a file, and a missing one is a ConfigError saying how to set it', () => {
  assert.equal(readSecret({ env: { SHARDLEARN_SECRET: 'abc' } }).toString(), 'abc');
  assert.throws(() => readSecret({ env: {} }), { name: 'ConfigError', message: /SHARDLEARN_SECRET/ });
  assert.throws(() => deriveCurveKeys(Buffer.from('short'), 'job'), { name: 'ConfigError', message: /at least 16/ });
  const a = deriveCurveKeys(Buffer.alloc(32, 1), 'job');
  assert.deepEqual(deriveCurveKeys(Buffer.alloc(32, 1), 'job'), a, 'every rank derives the same keys');
  assert.notEqual(deriveCurveKeys(Buffer.alloc(32, 1), 'other job').clientPublicKey, a.clientPublicKey, 'keys are per job');
});
