// The collective lane of the local path (src/comm/zmq/lane.ts): Unix stream sockets in the job's
// 0700 folder. Whoever can reach the socket (this test, same user) is still refused: a wrong secret,
// a wrong job, a stale generation, a duplicate of a joined rank, garbage, an oversized hello and an
// idle connection are dropped with logged reasons while the world keeps computing; and a peer that
// was admitted but then announces a frame above the maximum message size is lost before anything
// is allocated, its waits failing with PEER_LOST naming it. The conformance suite runs over the lane
// in zmq-local.test.ts (the local path's default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { CommError } from '../../src/core/errors.js';
import { Lane, lanePath, nameHash } from '../../src/comm/zmq/lane.js';
import { createLocalDir, helloProof } from '../../src/comm/zmq/local.js';
import { Rng } from '../../src/core/rng.js';
import type { FloatArray } from '../../src/core/storage.js';
import type { ZmqCommWorld } from './zmq-worlds.js';
import { logged, sleep, stillWorks, zmqWorld } from './zmq-worlds.js';

const makeWorld = zmqWorld({ local: true, captureLogs: true, maxMessageBytes: 1024 * 1024, handshakeTimeoutMs: 1500 });

function framedHello(fields: Record<string, unknown>): Buffer {
  const json = Buffer.from(JSON.stringify(fields), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.byteLength);
  return Buffer.concat([length, json]);
}

/** Connect to rank 0's lane, write `bytes`, and resolve with what came back before the lane closed the connection (or 5 s passed). */
function attempt(world: ZmqCommWorld, bytes: Buffer): Promise<{ reply: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ path: lanePath(world.ipcDir!, 0) }, () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply: Buffer.concat(chunks), closed: false });
    }, 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks), closed: true });
    });
  });
}

test('the lane refuses a wrong secret, a wrong job, a stale generation and a duplicate rank with logged reasons; the job keeps running', async () => {
  const world = await makeWorld(2, {});
  try {
    const secret = Buffer.from(world.secret, 'hex');
    const hello = { job: world.jobId, generation: 0, rank: 1, size: 2, proof: helloProof(secret, world.jobId) };
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { ...hello, proof: helloProof(Buffer.alloc(32, 9), world.jobId) },
        /claiming rank 1: its hello does not prove it holds this job's secret/,
      ],
      [
        { ...hello, job: 'another-job', proof: helloProof(secret, 'another-job') },
        /claiming rank 1: job id "another-job" is not this job's/,
      ],
      [{ ...hello, generation: 7 }, /claiming rank 1: generation 7 is not this job's generation 0/],
      [hello, /claiming rank 1: rank 1 has already joined/],
    ];
    for (const [fields, reason] of cases) {
      const { reply, closed } = await attempt(world, framedHello(fields));
      assert.ok(closed, `closed: ${reason}`);
      assert.equal(reply.byteLength, 0, `not admitted: ${reason}`);
      await logged(world, new RegExp(`refused a lane connection ${reason.source}`));
    }
    await stillWorks(world);
  } finally {
    await world.close();
  }
});

test('the lane drops garbage, an oversized hello and an idle connection with logged reasons; the job keeps running', async () => {
  const world = await makeWorld(2, {});
  try {
    const rng = new Rng(18);
    const noise = Buffer.from(Uint8Array.from({ length: 4096 }, () => rng.int(256)));
    noise.writeUInt32LE(40, 0); // a plausible length, then bytes that are not JSON
    assert.ok((await attempt(world, noise)).closed);
    await logged(world, /dropped a lane connection: (a hello that is not JSON|bytes after the hello)/);
    const oversized = Buffer.alloc(8);
    oversized.writeUInt32LE(64 * 1024 * 1024, 0);
    assert.ok((await attempt(world, oversized)).closed);
    await logged(world, /dropped a lane connection: a hello of 67108864 bytes announced \(at most 4096\)/);
    const idle = await attempt(world, Buffer.alloc(0));
    assert.ok(idle.closed, 'an idle connection is closed after the handshake timeout');
    await logged(world, /dropped a lane connection: no valid hello within 1500 ms/);
    await stillWorks(world);
  } finally {
    await world.close();
  }
});

test('an admitted peer that announces a frame above the maximum message size is lost before allocation; waits on it fail naming it', async () => {
  const local = await createLocalDir();
  const secret = Buffer.alloc(32, 5);
  const identity = (rank: number): { jobId: string; generation: number; rank: number; size: number; proof: string } => ({
    jobId: 'lane-oversize',
    generation: 0,
    rank,
    size: 2,
    proof: helloProof(secret, 'lane-oversize'),
  });
  const logs: string[] = [];
  const lane = await Lane.listen({
    dir: local.dir,
    identity: identity(0),
    maxMessageBytes: 1024 * 1024,
    timeoutMs: 5000,
    handshakeTimeoutMs: 2000,
    log: (line) => logs.push(line),
  });
  // "Rank 1", by hand: it holds the secret, so both its connections are admitted; then it misbehaves.
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.once('data', () => {
      socket.write(Buffer.of(1)); // admit rank 0's hello
      const header = Buffer.alloc(24);
      header.writeUInt32LE(0x314c4c53, 0);
      header.writeUInt8(1, 4);
      header.writeUInt32LE(2 * 1024 * 1024, 8); // 2 MiB announced, 1 MiB allowed
      header.writeUInt32LE(nameHash('allReduce(sum)'), 12);
      header.writeDoubleLE(0, 16);
      setTimeout(() => socket.write(header), 100);
    });
  });
  await new Promise<void>((resolve) => server.listen(lanePath(local.dir, 1), resolve));
  const toRankZero = connect({ path: lanePath(local.dir, 0) }, () => toRankZero.write(framedHello({ ...helloFieldsOf(identity(1)) })));
  toRankZero.on('error', () => undefined);
  try {
    await lane.connect(5000);
    const error = await lane
      .recv(1, 'allReduce(sum) (collective #0)', () => 'this host')
      .then(
        () => assert.fail('the oversized frame was accepted'),
        (e: unknown) => e as CommError,
      );
    assert.ok(error instanceof CommError);
    assert.equal(error.code, 'PEER_LOST');
    assert.equal(error.rank, 1);
    assert.match(error.message, /malformed lane frame \(a frame of 2097152 bytes, over the maximum message size of 1048576\)/);
    await sleep(50);
    assert.ok(accepted[0]!.destroyed || accepted[0]!.readableEnded || (await closedSoon(accepted[0]!)), 'the connection was closed');
  } finally {
    toRankZero.destroy();
    for (const socket of accepted) socket.destroy();
    await lane.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await local.remove();
  }
});

function helloFieldsOf(identity: {
  jobId: string;
  generation: number;
  rank: number;
  size: number;
  proof: string;
}): Record<string, unknown> {
  return { job: identity.jobId, generation: identity.generation, rank: identity.rank, size: identity.size, proof: identity.proof };
}

function closedSoon(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 2000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Two lanes (ranks 0 and 1 of one job) in this process, connected. */
async function lanePair(): Promise<{ lanes: Lane[]; close: () => Promise<void> }> {
  const local = await createLocalDir();
  const secret = Buffer.alloc(32, 7);
  const lanes = await Promise.all(
    [0, 1].map((rank) =>
      Lane.listen({
        dir: local.dir,
        identity: { jobId: 'lane-into', generation: 0, rank, size: 2, proof: helloProof(secret, 'lane-into') },
        maxMessageBytes: 1024 * 1024,
        timeoutMs: 5000,
        handshakeTimeoutMs: 2000,
        log: () => undefined,
      }),
    ),
  );
  await Promise.all(lanes.map((lane) => lane.connect(5000)));
  return {
    lanes,
    close: async () => {
      await Promise.all(lanes.map((lane) => lane.close()));
      await local.remove();
    },
  };
}

test("a receive given memory gets the payload in it; a frame queued before it, of another collective, length or dtype lands in the lane's own", async () => {
  const { lanes, close } = await lanePair();
  const [zero, one] = lanes as [Lane, Lane];
  const name = nameHash('allReduce(sum)');
  const host = (): string => 'this host';
  const rng = new Rng(21);
  const values = (length: number): Float32Array => Float32Array.from({ length }, () => rng.normal());
  try {
    const sent = values(5000);
    const into = new Float32Array(5000);
    const receiving = one.recv(0, 'into', host, { seq: 1, name, array: into });
    await zero.send(1, { seq: 1, name }, sent);
    const frame = await receiving;
    assert.equal(frame.array, into, 'read into the memory given');
    assert.deepEqual(into, sent);

    const misfits: [string, { seq: number; name: number; array: FloatArray }, FloatArray, number][] = [
      ['another collective', { seq: 3, name, array: new Float32Array(5000) }, values(5000), 2],
      ['another length', { seq: 4, name, array: new Float32Array(4999) }, values(5000), 4],
      ['another dtype', { seq: 5, name, array: new Float32Array(5000) }, new Float64Array(5000).fill(2.5), 5],
    ];
    for (const [what, target, payload, seq] of misfits) {
      const waiting = one.recv(0, what, host, target);
      await zero.send(1, { seq, name }, payload);
      const landed = await waiting;
      assert.notEqual(landed.array, target.array, what);
      assert.deepEqual(landed.array, payload, what);
      assert.ok(
        target.array.every((v) => v === 0),
        `${what}: the memory given is untouched`,
      );
    }

    const early = values(5000);
    await zero.send(1, { seq: 6, name }, early);
    await sleep(100); // it arrives, queued, before the receive
    const late = new Float32Array(5000);
    const queued = await one.recv(0, 'queued', host, { seq: 6, name, array: late });
    assert.notEqual(queued.array, late);
    assert.deepEqual(queued.array, early);
    assert.ok(late.every((v) => v === 0));
  } finally {
    await close();
  }
});

test('a receive that fails in the middle of its payload closes that connection: nothing more is written into the memory it gave', async () => {
  const local = await createLocalDir();
  const secret = Buffer.alloc(32, 5);
  const identity = (rank: number): { jobId: string; generation: number; rank: number; size: number; proof: string } => ({
    jobId: 'lane-detach',
    generation: 0,
    rank,
    size: 2,
    proof: helloProof(secret, 'lane-detach'),
  });
  const lane = await Lane.listen({
    dir: local.dir,
    identity: identity(0),
    maxMessageBytes: 1024 * 1024,
    timeoutMs: 5000,
    handshakeTimeoutMs: 2000,
    log: () => undefined,
  });
  // "Rank 1", by hand: it sends the header and half of a 64 KiB payload, then (after rank 0 gave up) the rest.
  const name = nameHash('allReduce(sum)');
  const payload = new Float32Array(16 * 1024).fill(3);
  const bytes = Buffer.from(payload.buffer);
  const half = bytes.byteLength / 2;
  let rest: () => void = () => undefined;
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => undefined); // EPIPE once rank 0 closed the connection
    socket.once('data', () => {
      socket.write(Buffer.of(1));
      const header = Buffer.alloc(24);
      header.writeUInt32LE(0x314c4c53, 0);
      header.writeUInt8(1, 4);
      header.writeUInt32LE(bytes.byteLength, 8);
      header.writeUInt32LE(name, 12);
      header.writeDoubleLE(0, 16);
      setTimeout(() => socket.write(Buffer.concat([header, bytes.subarray(0, half)])), 100);
      rest = () => socket.write(bytes.subarray(half));
    });
  });
  await new Promise<void>((resolve) => server.listen(lanePath(local.dir, 1), resolve));
  const toRankZero = connect({ path: lanePath(local.dir, 0) }, () => toRankZero.write(framedHello({ ...helloFieldsOf(identity(1)) })));
  toRankZero.on('error', () => undefined);
  try {
    await lane.connect(5000);
    const into = new Float32Array(payload.length);
    const receiving = lane.recv(1, 'allReduce(sum) (collective #0)', () => 'this host', { seq: 0, name, array: into });
    receiving.catch(() => undefined);
    for (let i = 0; i < 100 && into[0] === 0; i++) await sleep(20);
    assert.equal(into[0], 3, 'the first half was read into the memory given');
    lane.abort(new CommError('COMM', 'the world is re-forming'));
    await assert.rejects(receiving, /re-forming/);
    assert.ok(await closedSoon(accepted[0]!), 'the connection the payload came on was closed');
    rest();
    await sleep(200);
    assert.ok(
      into.subarray(payload.length / 2).every((v) => v === 0),
      'nothing of the payload was written into the memory after its receive failed',
    );
  } finally {
    toRankZero.destroy();
    for (const socket of accepted) socket.destroy();
    await lane.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await local.remove();
  }
});
