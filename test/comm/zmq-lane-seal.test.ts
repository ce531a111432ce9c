// The sealed collective lane between hosts (src/comm/zmq/lane-seal.ts, lane-sealed.ts, lane.ts over
// TCP). The seal format is checked against node:crypto directly (the key derivation against
// hkdfSync, a record against createCipheriv with the documented nonce and additional data); then two
// real lanes over loopback TCP, one of them reached through a man-in-the-middle proxy that tampers
// with, replays, reorders or truncates the sealed records of the stream: each is refused, the lane
// loses that peer, and the wait on it fails with PEER_LOST naming it. A peer that replays a hello it
// saw, an acceptor without the secret, a plain (unsealed) peer and a stale generation are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { createCipheriv, hkdfSync } from 'node:crypto';
import { CommError } from '../../src/core/errors.js';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';
import type { LaneOptions, LanePeerAddress } from '../../src/comm/zmq/lane.js';
import { Lane, nameHash } from '../../src/comm/zmq/lane.js';
import { helloProof } from '../../src/comm/zmq/local.js';
import {
  MAX_RECORD_BYTES,
  TAG_BYTES,
  confirmation,
  laneKeys,
  openRecord,
  recordHeader,
  recordNonce,
  sealRecord,
} from '../../src/comm/zmq/lane-seal.js';
import { CHALLENGE, CHALLENGE_BYTES, acceptorHandshake } from '../../src/comm/zmq/lane-sealed.js';
import { Rng } from '../../src/core/rng.js';

const SECRET = Buffer.alloc(32, 0x5a);
const JOB = 'lane-seal-test';
const rng = new Rng(18);
const bytes = (n: number): Buffer => Buffer.from(Uint8Array.from({ length: n }, () => rng.int(256)));

test('the seal is AES-256-GCM under HKDF-SHA256 keys, a counter nonce and the record header as AAD, exactly as node:crypto computes it', () => {
  const connectorNonce = bytes(32);
  const acceptorNonce = bytes(32);
  const keys = laneKeys(SECRET, { jobId: JOB, generation: 3, connector: 1, acceptor: 0, connectorNonce, acceptorNonce });
  const info = (from: number, to: number): Buffer => Buffer.from(`shardlearn lane aes-256-gcm v1\0${JOB}\x003\0${from}->${to}`, 'utf8');
  const salt = Buffer.concat([connectorNonce, acceptorNonce]);
  assert.deepEqual(keys.acceptorToConnector, Buffer.from(hkdfSync('sha256', SECRET, salt, info(0, 1), 32)));
  assert.deepEqual(keys.connectorToAcceptor, Buffer.from(hkdfSync('sha256', SECRET, salt, info(1, 0), 32)));
  assert.notDeepEqual(keys.acceptorToConnector, keys.connectorToAcceptor, 'one key per direction');
  const other = laneKeys(SECRET, { jobId: JOB, generation: 3, connector: 1, acceptor: 0, connectorNonce, acceptorNonce: bytes(32) });
  assert.notDeepEqual(other.acceptorToConnector, keys.acceptorToConnector, 'a fresh nonce, a fresh key');
  const stale = laneKeys(SECRET, { jobId: JOB, generation: 2, connector: 1, acceptor: 0, connectorNonce, acceptorNonce });
  assert.notDeepEqual(stale.acceptorToConnector, keys.acceptorToConnector, 'the generation is bound into the key');

  assert.deepEqual(recordNonce(0x0102030405), Buffer.from('000000000000000102030405', 'hex'));
  const key = keys.acceptorToConnector;
  const plaintext = bytes(1000);
  const record = sealRecord(key, 7, [plaintext.subarray(0, 24), plaintext.subarray(24)]);
  const header = Buffer.from('e8030000', 'hex'); // 1000, u32 little-endian
  assert.deepEqual(record.header, header);
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.from('000000000000000000000007', 'hex'), { authTagLength: 16 });
  cipher.setAAD(header);
  const expected = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  assert.deepEqual(Buffer.concat(record.ciphertext), expected);
  assert.deepEqual(record.tag, cipher.getAuthTag());
  assert.deepEqual(openRecord(key, 7, record.header, expected, record.tag), plaintext);
  // The key confirmation is the tag of the empty record 0.
  const empty = createCipheriv('aes-256-gcm', key, Buffer.alloc(12), { authTagLength: 16 });
  empty.setAAD(recordHeader(0));
  empty.final();
  assert.deepEqual(confirmation(key), empty.getAuthTag());
});

test('opening refuses a flipped byte anywhere, another counter (replay, reorder) and another key; a record is at most MAX_RECORD_BYTES', () => {
  const keys = laneKeys(SECRET, {
    jobId: JOB,
    generation: 0,
    connector: 1,
    acceptor: 0,
    connectorNonce: bytes(32),
    acceptorNonce: bytes(32),
  });
  const key = keys.acceptorToConnector;
  const record = sealRecord(key, 5, [bytes(300)]);
  const ciphertext = Buffer.concat(record.ciphertext);
  const flip = (buffer: Buffer, at: number): Buffer => {
    const copy = Buffer.from(buffer);
    copy[at]! ^= 0x01;
    return copy;
  };
  assert.ok(openRecord(key, 5, record.header, ciphertext, record.tag) !== null);
  assert.equal(openRecord(key, 5, flip(record.header, 0), ciphertext, record.tag), null, 'header (AAD)');
  assert.equal(openRecord(key, 5, record.header, flip(ciphertext, 123), record.tag), null, 'ciphertext');
  assert.equal(openRecord(key, 5, record.header, ciphertext, flip(record.tag, 15)), null, 'tag');
  assert.equal(openRecord(key, 6, record.header, ciphertext, record.tag), null, 'a replayed record (the counter moved on)');
  assert.equal(openRecord(key, 4, record.header, ciphertext, record.tag), null, 'an earlier position');
  assert.equal(openRecord(keys.connectorToAcceptor, 5, record.header, ciphertext, record.tag), null, 'the other direction’s key');
  assert.throws(() => sealRecord(key, 1, [new Uint8Array(MAX_RECORD_BYTES + 1)]), RangeError);
});

// --- Two lanes over loopback TCP ------------------------------------------------------------------

interface Pair {
  lanes: [Lane, Lane];
  logs: string[][];
  close(): Promise<void>;
}

function laneOptions(rank: number, logs: string[], overrides: { secret?: Buffer | null; generation?: number } = {}): LaneOptions {
  const secret = overrides.secret === undefined ? SECRET : overrides.secret;
  return {
    tcp: { host: '127.0.0.1', secret },
    identity: { jobId: JOB, generation: overrides.generation ?? 0, rank, size: 2, proof: helloProof(secret ?? SECRET, JOB) },
    maxMessageBytes: 64 * 1024 * 1024,
    timeoutMs: 5000,
    handshakeTimeoutMs: 2000,
    log: (line) => logs.push(line),
  };
}

/** Rank 0 and rank 1 over TCP; rank 1 reaches rank 0 at `via(port)` (a proxy's port), rank 0 reaches rank 1 directly. */
async function pair(via: (port: number) => Promise<number> = async (port) => port): Promise<Pair> {
  const logs: string[][] = [[], []];
  const lanes = [await Lane.listen(laneOptions(0, logs[0]!)), await Lane.listen(laneOptions(1, logs[1]!))] as [Lane, Lane];
  const zeroAt: LanePeerAddress = { host: '127.0.0.1', port: await via(lanes[0].port!) };
  const oneAt: LanePeerAddress = { host: '127.0.0.1', port: lanes[1].port! };
  await Promise.all([lanes[0].connect(5000, [null, oneAt]), lanes[1].connect(5000, [zeroAt, null])]);
  return { lanes, logs, close: async () => void (await Promise.all(lanes.map((lane) => lane.close()))) };
}

const COLLECTIVE = { seq: 0, name: nameHash('allReduce(sum)') };
const what = 'allReduce(sum) (collective #0)';
const hostOf = (): string => '127.0.0.1';

test('two sealed lanes over TCP carry small and multi-record frames intact, both ways', async () => {
  const { lanes, close } = await pair();
  try {
    assert.ok(lanes[0].sealed && lanes[1].sealed);
    const large = Float64Array.from({ length: (3 * MAX_RECORD_BYTES) / 8 + 5 }, (_, i) => i * 0.5 - 7);
    const small = Float32Array.of(1, -2, 3.5);
    const sent = Promise.all([
      lanes[0].send(1, COLLECTIVE, large),
      lanes[0].send(1, { ...COLLECTIVE, seq: 1 }, small),
      lanes[1].send(0, COLLECTIVE, null),
    ]);
    const [first, second, empty] = await Promise.all([
      lanes[1].recv(0, what, hostOf),
      lanes[1].recv(0, what, hostOf),
      lanes[0].recv(1, what, hostOf),
    ]);
    await sent;
    assert.deepEqual(first.array, large);
    assert.equal(second.seq, 1);
    assert.deepEqual(second.array, small);
    assert.equal(empty.array, null);
  } finally {
    await close();
  }
});

type Mangle = (records: Buffer[]) => { emit: Buffer[]; end?: boolean };

/**
 * A TCP proxy in front of `port` that passes the connector's bytes on untouched and hands the
 * acceptor's sealed records (after its challenge), whole, to `mangle`, which says what to forward.
 */
async function proxy(mangle: Mangle): Promise<{ via: (port: number) => Promise<number>; server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  let target = 0;
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: target });
    sockets.push(client, upstream);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.on('data', (chunk) => upstream.write(chunk));
    let pending = Buffer.alloc(0);
    let challenged = false;
    const records: Buffer[] = [];
    let emitted = 0;
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!challenged) {
        if (pending.byteLength < CHALLENGE_BYTES) return;
        assert.equal(pending[0], CHALLENGE);
        client.write(pending.subarray(0, CHALLENGE_BYTES));
        pending = pending.subarray(CHALLENGE_BYTES);
        challenged = true;
      }
      while (pending.byteLength >= 4) {
        const total = 4 + pending.readUInt32LE(0) + TAG_BYTES;
        if (pending.byteLength < total) break;
        records.push(Buffer.from(pending.subarray(0, total)));
        pending = pending.subarray(total);
      }
      const { emit, end } = mangle(records);
      for (const record of emit.slice(emitted)) client.write(record);
      emitted = emit.length;
      if (end === true) client.end(() => client.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    via: async (port) => {
      target = port;
      return (server.address() as { port: number }).port;
    },
    server,
    sockets,
  };
}

/** Send two frames from rank 0 to rank 1 through `mangle`; the first recv's outcome and the second's. */
async function throughProxy(mangle: Mangle): Promise<[PromiseSettledResult<unknown>, PromiseSettledResult<unknown>]> {
  const { via, server, sockets } = await proxy(mangle);
  const { lanes, close } = await pair(via);
  try {
    void lanes[0].send(1, COLLECTIVE, Float32Array.of(1, 2, 3)).catch(() => undefined);
    void lanes[0].send(1, { ...COLLECTIVE, seq: 1 }, Float32Array.of(4, 5, 6)).catch(() => undefined);
    const first = await Promise.allSettled([lanes[1].recv(0, what, hostOf)]);
    const second = await Promise.allSettled([lanes[1].recv(0, what, hostOf)]);
    return [first[0]!, second[0]!];
  } finally {
    for (const socket of sockets) socket.destroy();
    await close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function assertLost(result: PromiseSettledResult<unknown>, reason: RegExp): void {
  assert.equal(result.status, 'rejected', 'the frame was refused');
  const error = (result as PromiseRejectedResult).reason as CommError;
  assert.ok(error instanceof CommError, String(error));
  assert.equal(error.code, 'PEER_LOST');
  assert.equal(error.rank, 0, 'it names the peer');
  assert.match(error.message, /^rank 0 can no longer send to this rank: /);
  assert.match(error.message, reason);
}

// Records as the proxy sees them: [0] the sealed ADMITTED byte, [1] the first frame, [2] the second.
const AUTH = /sealed record #\d+ failed authentication \(tampered, replayed, reordered/;

test('a man in the middle who flips one byte of a sealed record is refused: the peer is lost, the frames before it arrive', async () => {
  const [first, second] = await throughProxy((records) => ({
    emit: records.map((record, i) => {
      if (i !== 2) return record;
      const copy = Buffer.from(record);
      copy[10]! ^= 0x40;
      return copy;
    }),
  }));
  assert.equal(first.status, 'fulfilled', 'the untouched first frame arrived');
  assertLost(second, AUTH);
});

test('a replayed record is refused (the counter moved on)', async () => {
  const [first, second] = await throughProxy((records) => ({
    emit: records.length >= 2 ? [records[0]!, records[1]!, records[1]!] : records,
  }));
  assert.equal(first.status, 'fulfilled');
  assertLost(second, AUTH);
});

test('reordered records are refused', async () => {
  const [first] = await throughProxy((records) => ({
    emit: records.length >= 3 ? [records[0]!, records[2]!, records[1]!] : records.slice(0, 1),
  }));
  assertLost(first, AUTH);
});

test('a stream cut inside a record is refused as truncated', async () => {
  const [first] = await throughProxy((records) =>
    records.length >= 2 ? { emit: [records[0]!, records[1]!.subarray(0, records[1]!.byteLength - 5)], end: true } : { emit: records },
  );
  assertLost(first, /ended inside a sealed record \(\d+ bytes of it: a truncated stream\)/);
});

// --- The handshake ---------------------------------------------------------------------------------

function framedHello(fields: Record<string, unknown>): Buffer {
  const json = Buffer.from(JSON.stringify(fields), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.byteLength);
  return Buffer.concat([length, json]);
}

/** Connect to `port`, write `first`; then `then(reply)` once `replyBytes` came back; resolve with all replies and whether it was closed. */
function attempt(
  port: number,
  first: Buffer,
  replyBytes: number,
  then: (reply: Buffer) => Buffer | null,
): Promise<{ reply: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    let reply = Buffer.alloc(0);
    let answered = false;
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(first));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply, closed: false });
    }, 4000);
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      if (!answered && reply.byteLength >= replyBytes) {
        answered = true;
        const answer = then(reply);
        if (answer !== null) socket.write(answer);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply, closed: true });
    });
  });
}

async function waitFor(logs: string[], pattern: RegExp): Promise<void> {
  for (let i = 0; i < 200 && !logs.some((line) => pattern.test(line)); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(
    logs.some((line) => pattern.test(line)),
    `logged ${pattern}; got ${JSON.stringify(logs)}`,
  );
}

test('a replayed hello without the secret, a plain hello, a stale generation and a wrong secret are refused with logged reasons', async () => {
  const logs: string[] = [];
  const lane = await Lane.listen(laneOptions(0, logs));
  try {
    const port = lane.port!;
    const hello = { job: JOB, generation: 0, rank: 1, size: 2, proof: helloProof(SECRET, JOB) };
    // Someone who saw a real hello on the wire replays it (proof and nonce), then cannot confirm the key.
    const replayed = await attempt(port, framedHello({ ...hello, nonce: bytes(32).toString('hex') }), CHALLENGE_BYTES, () => bytes(16));
    assert.ok(replayed.closed);
    assert.equal(replayed.reply.byteLength, CHALLENGE_BYTES, 'it saw the challenge, and nothing after it');
    await waitFor(logs, /refused a lane connection claiming rank 1: its key confirmation failed/);
    const plain = await attempt(port, framedHello(hello), 1, () => null);
    assert.ok(plain.closed && plain.reply.byteLength === 0);
    await waitFor(logs, /claiming rank 1: its hello has no handshake nonce .*--insecure-transport/);
    const stale = await attempt(port, framedHello({ ...hello, generation: 7, nonce: bytes(32).toString('hex') }), 1, () => null);
    assert.ok(stale.closed && stale.reply.byteLength === 0);
    await waitFor(logs, /claiming rank 1: generation 7 is not this job's generation 0/);
    const wrong = await attempt(
      port,
      framedHello({ ...hello, proof: helloProof(Buffer.alloc(32, 1), JOB), nonce: bytes(32).toString('hex') }),
      1,
      () => null,
    );
    assert.ok(wrong.closed && wrong.reply.byteLength === 0);
    await waitFor(logs, /claiming rank 1: its hello does not prove it holds this job's secret/);
  } finally {
    await lane.close();
  }
});

test('an acceptor without the secret fails the key confirmation: connecting fails naming the rank', async () => {
  // "Rank 0" knows the hello proof (it saw one) but not the secret: its challenge is under another key.
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (chunk: Buffer) => {
      const hello = JSON.parse(chunk.subarray(4).toString('utf8')) as { nonce: string };
      const wrong = acceptorHandshake(Buffer.alloc(32, 1), {
        jobId: JOB,
        generation: 0,
        connector: 1,
        acceptor: 0,
        connectorNonce: Buffer.from(hello.nonce, 'hex'),
      });
      socket.write(wrong.challenge);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const logs: string[] = [];
  const lane = await Lane.listen(laneOptions(1, logs));
  try {
    const error = await lane.connect(3000, [{ host: '127.0.0.1', port: (server.address() as { port: number }).port }, null]).then(
      () => assert.fail('connected to an acceptor without the secret'),
      (e: unknown) => e as CommError,
    );
    assert.ok(error instanceof CommError);
    assert.equal(error.rank, 0);
    assert.match(
      error.message,
      /rank 0 refused this rank's collective lane \(its collective lane was refused: its lane's key confirmation failed/,
    );
  } finally {
    await lane.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

// --- Through the communicator (loopback TCP, two host addresses) ----------------------------------

async function world(lanes: [boolean, boolean], insecure = false): Promise<PromiseSettledResult<ZmqCommunicator>[]> {
  let port = 0;
  const common = {
    size: 2,
    masterAddr: '127.0.0.1',
    secret: SECRET,
    jobId: `${JOB}-${rng.int(1e9)}`,
    timeoutMs: 5000,
    joinTimeoutMs: 2500,
    insecure,
    log: () => undefined,
  };
  const first = ZmqCommunicator.join({
    ...common,
    rank: 0,
    masterPort: 0,
    host: '127.0.0.1',
    collectiveLane: lanes[0],
    onListening: (p) => (port = p),
  });
  while (port === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const second = ZmqCommunicator.join({ ...common, rank: 1, masterPort: port, host: '127.0.0.2', collectiveLane: lanes[1] });
  return Promise.allSettled([first, second]);
}

test('communicators on two host addresses all-reduce over the sealed lane (or the plain one when insecure), as over ZeroMQ', async () => {
  for (const insecure of [false, true]) {
    const joined = await world([true, true], insecure);
    const ranks = joined.map((r) => (r as PromiseFulfilledResult<ZmqCommunicator>).value);
    try {
      assert.deepEqual(
        ranks.map((comm) => comm.collectiveTransport),
        insecure ? ['lane-tcp-plain', 'lane-tcp-plain'] : ['lane-tcp-aesgcm', 'lane-tcp-aesgcm'],
      );
      const input = (rank: number): Float64Array => Float64Array.from({ length: 300_000 }, (_, i) => Math.sin(i + rank) * 10 ** (i % 5));
      const buffers = ranks.map((comm) => input(comm.rank));
      const other = input(1);
      await Promise.all(ranks.map((comm, r) => comm.allReduce(buffers[r]!, 'sum')));
      const expected = input(0).map((value, i) => value + other[i]!);
      for (const buffer of buffers) assert.deepEqual(buffer, expected);
    } finally {
      await Promise.all(ranks.map((comm) => comm.close()));
    }
  }
});

test('a rank without the lane between hosts is refused by a rank 0 with one, saying every rank must agree', async () => {
  const [zero, one] = await world([true, false]);
  assert.equal(one!.status, 'rejected');
  const error = (one as PromiseRejectedResult).reason as CommError;
  assert.ok(error instanceof CommError);
  assert.match(
    error.message,
    /rank 0 .* refused this rank: it advertised no collective lane port .*every rank must agree on --collective-lane \(SHARDLEARN_COLLECTIVE_LANE\)/,
  );
  if (zero?.status === 'fulfilled') await zero.value.close();
});
