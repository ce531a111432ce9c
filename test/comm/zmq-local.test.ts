// The local path of the ZeroMQ transport (src/comm/zmq/local.ts): ipc:// sockets in a fresh 0700
// folder, NULL mechanism, every hello proving the job secret. It passes the communicator conformance
// suite with 2 and 3 real rank processes; its folder is 0700 and refused otherwise; and an intruder
// who can reach the socket (this test, same user) is still refused for a wrong job id, a missing
// proof, a stale generation, garbage and oversized frames, while the world keeps computing.
// A connection from another uid cannot be tested here (the tests run as root, whom modes do not stop).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, stat, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';
import { checkLocalDir, createLocalDir, helloProof, ipcEndpoint } from '../../src/comm/zmq/local.js';
import { encodeMessage } from '../../src/comm/zmq/wire.js';
import { Rng } from '../../src/core/rng.js';
import { communicatorSuite } from './communicator-suite.js';
import type { ZmqCommWorld } from './zmq-worlds.js';
import { logged, sleep, stillWorks, zmqWorld } from './zmq-worlds.js';

// The default local path: on tmpfs, all-reduces up to 64 KiB through the lane's board (lengths up to 1000).
communicatorSuite('zeromq local ipc', zmqWorld({ local: true, segmentBytes: 16 * 1024 }), {
  sizes: [2, 3],
  lengths: [0, 1, 9, 1000, 40_000],
});
// And with every collective on the lane's sockets (the board off, as off tmpfs).
communicatorSuite('zeromq local ipc, lane board off', zmqWorld({ local: true, segmentBytes: 16 * 1024, laneBoard: false }), {
  sizes: [2],
  lengths: [1, 1000],
});

/** A NULL-mechanism dealer on rank 0's socket: anyone who can open the folder. */
function intruder(world: ZmqCommWorld): zmq.Dealer {
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(ipcEndpoint(world.ipcDir!, 0));
  return dealer;
}

async function reply(dealer: zmq.Dealer): Promise<string> {
  const [frame] = await Promise.race([dealer.receive(), sleep(5000).then(() => [Buffer.from('(no reply within 5 s)')])]);
  return frame!.toString();
}

const makeWorld = zmqWorld({ local: true, captureLogs: true, maxMessageBytes: 1024 * 1024, handshakeTimeoutMs: 2000 });

test('the local folder is created 0700, refused when open to others, a symbolic link or missing, and removed with its sockets', async () => {
  const local = await createLocalDir();
  const mode = (await stat(local.dir)).mode & 0o777;
  assert.equal(mode, 0o700);
  await local.remove();
  assert.equal(existsSync(local.dir), false);

  const parent = await mkdtemp(join(tmpdir(), 'shardlearn-test-'));
  try {
    const open = join(parent, 'open');
    await mkdir(open, { mode: 0o755 });
    await assert.rejects(checkLocalDir(open), (error: Error & { field?: string }) => {
      assert.equal(error.name, 'ConfigError');
      assert.equal(error.field, 'ipcDir');
      assert.match(error.message, /mode is 0755, expected 0700/);
      return true;
    });
    const real = join(parent, 'real');
    await mkdir(real, { mode: 0o700 });
    await symlink(real, join(parent, 'link'));
    await assert.rejects(checkLocalDir(join(parent, 'link')), /symbolic links are refused/);
    await assert.rejects(checkLocalDir(join(parent, 'missing')), /cannot be used/);
    // A rank refuses to join through an open folder, before binding anything in it.
    await assert.rejects(
      ZmqCommunicator.join({
        rank: 0,
        size: 2,
        masterAddr: '127.0.0.1',
        masterPort: 0,
        secret: Buffer.alloc(32, 1),
        jobId: 'open',
        timeoutMs: 2000,
        ipcDir: open,
        log: () => undefined,
      }),
      /mode is 0755/,
    );
    assert.equal(existsSync(join(open, 'rank-0.sock')), false);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});

test("on the local path a wrong job id, a hello without the secret's proof and a stale generation are refused with logged reasons", async () => {
  const world = await makeWorld(2, {});
  try {
    const proof = helloProof(Buffer.from(world.secret, 'hex'), world.jobId);
    const wrongJob = intruder(world);
    await wrongJob.send(
      encodeMessage({
        v: 1,
        k: 'hello',
        h: { job: 'another-job', generation: 0, rank: 1, size: 2, proof: helloProof(Buffer.from(world.secret, 'hex'), 'another-job') },
      }),
    );
    assert.match(await reply(wrongJob), /job id \\"another-job\\" is not this job.s/);
    wrongJob.close();
    const noProof = intruder(world);
    await noProof.send(encodeMessage({ v: 1, k: 'hello', h: { job: world.jobId, generation: 0, rank: 1, size: 2 } }));
    assert.match(await reply(noProof), /does not prove it holds this job's secret/);
    noProof.close();
    const wrongSecret = intruder(world);
    await wrongSecret.send(
      encodeMessage({
        v: 1,
        k: 'hello',
        h: { job: world.jobId, generation: 0, rank: 1, size: 2, proof: helloProof(Buffer.alloc(32, 9), world.jobId) },
      }),
    );
    assert.match(await reply(wrongSecret), /does not prove/);
    wrongSecret.close();
    const stale = intruder(world);
    await stale.send(encodeMessage({ v: 1, k: 'hello', h: { job: world.jobId, generation: 7, rank: 1, size: 2, proof } }));
    assert.match(await reply(stale), /generation 7 is not this job's generation 0/);
    stale.close();
    await logged(world, /refused a peer claiming rank 1: job id "another-job"/);
    await logged(world, /refused a peer claiming rank 1: generation 7/);
    // Traffic from a refused connection never reaches the ranks.
    const sneaky = intruder(world);
    await sneaky.send(encodeMessage({ v: 1, k: 'user', tag: 'x' }));
    await logged(world, /dropped a message from an unidentified connection/);
    sneaky.close();
    await stillWorks(world);
  } finally {
    await world.close();
  }
});

test('on the local path garbage is dropped and an oversized frame closes the connection; the job keeps running', async () => {
  const world = await makeWorld(2, {});
  try {
    const rng = new Rng(6);
    const noise = Buffer.from(Uint8Array.from({ length: 4096 }, () => rng.int(256)));
    const framed = Buffer.concat([Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0]), noise]);
    const path = ipcEndpoint(world.ipcDir!, 0).slice('ipc://'.length);
    const sockets = [framed, noise].map((bytes) => {
      const socket = connect({ path }, () => socket.write(bytes));
      socket.on('error', () => undefined);
      return socket;
    });
    await logged(world, /dropped a connection .*security handshake failed/);
    for (const socket of sockets) socket.destroy();
    const big = intruder(world);
    const dropped = (async () => {
      for await (const event of big.events) if (event.type === 'disconnect') return true;
      return false;
    })();
    await big.send([Buffer.from('{"v":1,"k":"user"}'), Buffer.alloc(2 * 1024 * 1024)]);
    assert.ok(await Promise.race([dropped, sleep(5000).then(() => false)]), 'the 2 MiB frame above the 1 MiB limit closed the connection');
    big.close();
    await stillWorks(world);
  } finally {
    await world.close();
  }
  assert.equal(existsSync(world.ipcDir!), false, 'the folder is removed when the world closes');
});

test("insecure TCP (cluster --insecure-transport): ranks join without CURVE and compute; a hello without the secret's proof is refused; a CURVE rank cannot join", async () => {
  let port = 0;
  const logs: string[] = [];
  const common = {
    size: 2,
    masterAddr: '127.0.0.1',
    secret: Buffer.alloc(32, 5),
    jobId: 'plain',
    timeoutMs: 20_000,
    insecure: true,
    log: (line: string) => logs.push(line),
  };
  const first = ZmqCommunicator.join({ ...common, rank: 0, masterPort: 0, onListening: (p) => (port = p) });
  while (port === 0) await sleep(5);
  // A NULL-mechanism intruder without the proof, before the real rank 1.
  const intruderDealer = new zmq.Dealer({ linger: 0 });
  intruderDealer.connect(`tcp://127.0.0.1:${port}`);
  await intruderDealer.send(
    encodeMessage({ v: 1, k: 'hello', h: { job: 'plain', generation: 0, rank: 1, size: 2, endpoint: 'tcp://127.0.0.1:1' } }),
  );
  assert.match(await reply(intruderDealer), /does not prove it holds this job's secret/);
  intruderDealer.close();
  // A rank that expects CURVE does not get through a NULL listener: its join fails.
  await assert.rejects(
    ZmqCommunicator.join({ ...common, insecure: false, rank: 1, masterPort: port, joinTimeoutMs: 2000, log: () => undefined }),
  );
  const [rank0, rank1] = await Promise.all([first, ZmqCommunicator.join({ ...common, rank: 1, masterPort: port })]);
  try {
    const buffers = [Float32Array.of(1, 2), Float32Array.of(10, 20)];
    await Promise.all([rank0.allReduce(buffers[0]!), rank1.allReduce(buffers[1]!)]);
    for (const sum of buffers) assert.deepEqual([...sum], [11, 22]);
  } finally {
    await Promise.all([rank0.close(), rank1.close()]);
  }
  assert.ok(
    logs.some((line) => /refused a peer claiming rank 1: its hello does not prove/.test(line)),
    logs.join('\n'),
  );
});
