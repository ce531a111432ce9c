// The lane's page-cache channel (src/comm/zmq/lane-files.ts, opt-in): large segments through files of
// the job's 0700 folder on tmpfs (/dev/shm here), a notice and an acknowledgement on the lane's socket. The conformance
// suite runs with every payload through files (2 and 3 real rank processes); two lanes in this process
// move a segment through a file and remove their files on close; and a peer that holds the secret
// but misbehaves on the file path — a replayed notice, a stale generation's or missing file, a file
// of the wrong mode or a symbolic link, a file shorter than announced, an acknowledgement nobody
// awaited, a notice over the maximum size — is lost with the reason, its waits failing PEER_LOST
// naming it. A send waiting for a free slot times out naming the peer, and an abort unblocks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { CommError } from '../../src/core/errors.js';
import { Lane, lanePath, nameHash } from '../../src/comm/zmq/lane.js';
import { encodeAck, encodeHeader } from '../../src/comm/zmq/lane-frame.js';
import { onTmpfs, segmentId, segmentPath } from '../../src/comm/zmq/lane-files.js';
import type { LocalDir } from '../../src/comm/zmq/local.js';
import { createLocalDir, helloProof } from '../../src/comm/zmq/local.js';
import { Rng } from '../../src/core/rng.js';
import { communicatorSuite } from './communicator-suite.js';
import { zmqWorld } from './zmq-worlds.js';

const SHM = '/dev/shm';

if (onTmpfs(SHM)) {
  communicatorSuite(
    'zeromq local lane, every payload through segment files',
    zmqWorld({ local: true, localParent: SHM, laneFiles: true, segmentBytes: 16 * 1024, laneFileMinBytes: 1 }),
    { sizes: [2, 3], lengths: [0, 1, 9, 1000, 40_000] },
  );
}

const SECRET = Buffer.alloc(32, 7);
const JOB = 'lane-files';
const identity = (rank: number, generation = 0): { jobId: string; generation: number; rank: number; size: number; proof: string } => ({
  jobId: JOB,
  generation,
  rank,
  size: 2,
  proof: helloProof(SECRET, JOB),
});
const ALL_REDUCE = { seq: 0, name: nameHash('allReduce(sum)') };

async function tmpfsDir(t: { skip(message: string): void }): Promise<LocalDir | null> {
  if (onTmpfs(SHM)) return createLocalDir(SHM);
  t.skip(`no tmpfs at ${SHM}: the lane keeps to its sockets there`);
  return null;
}

function listenLane(dir: string, rank: number, logs: string[], timeoutMs = 5000): Promise<Lane> {
  return Lane.listen({
    dir,
    identity: identity(rank),
    maxMessageBytes: 1024 * 1024,
    timeoutMs,
    handshakeTimeoutMs: 2000,
    log: (line) => logs.push(line),
    fileMinBytes: 1,
  });
}

test('two lanes move a segment through a file, count its bytes, and remove their files on close', async (t) => {
  const local = await tmpfsDir(t);
  if (local === null) return;
  const logs: string[] = [];
  const lanes = await Promise.all([listenLane(local.dir, 0, logs), listenLane(local.dir, 1, logs)]);
  try {
    await Promise.all(lanes.map((lane) => lane.connect(5000)));
    assert.ok(lanes[0]!.hasFiles && lanes[1]!.hasFiles);
    const rng = new Rng(3);
    const segments = Array.from({ length: 5 }, () => Float64Array.from({ length: 20_000 }, () => rng.normal()));
    // Five frames, two slots: the third waits for the first acknowledgement, and the order holds.
    const sent = segments.map((segment) => lanes[0]!.send(1, ALL_REDUCE, segment));
    for (const segment of segments) {
      const frame = await lanes[1]!.recv(0, 'allReduce(sum) (collective #0)', () => 'this host');
      assert.deepEqual(frame.array, segment);
      assert.equal(frame.bytes, 24 + segment.byteLength);
    }
    assert.deepEqual(
      await Promise.all(sent),
      segments.map((segment) => 24 + segment.byteLength),
    );
    assert.ok(readdirSync(local.dir).some((name) => name.startsWith(`seg-${segmentId(identity(0).proof)}-g0-0-1-`)));
  } finally {
    await Promise.all(lanes.map((lane) => lane.close()));
  }
  try {
    assert.deepEqual(
      readdirSync(local.dir).filter((name) => name.startsWith('seg-')),
      [],
      'every segment file is removed on close',
    );
    assert.deepEqual(logs, []);
  } finally {
    await local.remove();
  }
});

/**
 * Rank 0 is a real lane; "rank 1" is by hand: it holds the secret, so both connections are admitted,
 * then `misbehave` writes what it likes on the connection rank 0 reads from. Resolves with rank 0's
 * lane, its log, and a cleanup.
 */
async function withHandmadePeer(
  dir: string,
  misbehave: (toRankZero: Socket) => void,
  timeoutMs = 5000,
): Promise<{ lane: Lane; logs: string[]; close: () => Promise<void> }> {
  const logs: string[] = [];
  const lane = await listenLane(dir, 0, logs, timeoutMs);
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.once('data', () => {
      socket.write(Buffer.of(1)); // admit rank 0's hello
      setTimeout(() => misbehave(socket), 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(lanePath(dir, 1), resolve));
  const fields = identity(1);
  const json = Buffer.from(JSON.stringify({ job: fields.jobId, generation: 0, rank: 1, size: 2, proof: fields.proof }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.byteLength);
  const toRankZero = connect({ path: lanePath(dir, 0) }, () => toRankZero.write(Buffer.concat([length, json])));
  toRankZero.on('error', () => undefined);
  await lane.connect(5000);
  return {
    lane,
    logs,
    close: async () => {
      toRankZero.destroy();
      for (const socket of accepted) socket.destroy();
      await lane.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Rank 1's segment file for rank 0 in `slot`, holding `values` (as the real lane would write it). */
function writeSegment(dir: string, slot: number, values: Float32Array, generation = 0, mode = 0o600): string {
  const path = segmentPath({ dir, id: segmentId(identity(1).proof), generation }, 1, 0, slot);
  writeFileSync(path, new Uint8Array(values.buffer), { mode });
  return path;
}

const notice = (values: Float32Array, slot: number): Buffer => encodeHeader(values, ALL_REDUCE, { slot });

async function refusal(lane: Lane): Promise<CommError> {
  return lane
    .recv(1, 'allReduce(sum) (collective #0)', () => 'this host')
    .then(
      () => assert.fail('the misbehaving frame was accepted'),
      (error: unknown) => error as CommError,
    );
}

const values = Float32Array.from({ length: 1024 }, (_, i) => i / 7);

const misbehaviours: { name: string; reason: RegExp; act: (dir: string, socket: Socket) => void }[] = [
  {
    name: 'a stale generation (only its files exist)',
    reason: /its segment file cannot be opened \(ENOENT\)/,
    act: (dir, socket) => {
      writeSegment(dir, 0, values, 7);
      socket.write(notice(values, 0));
    },
  },
  {
    name: 'a file open to others (mode 0644)',
    reason: /its segment file has mode 644, expected 600/,
    act: (dir, socket) => {
      writeSegment(dir, 0, values, 0, 0o644);
      socket.write(notice(values, 0));
    },
  },
  {
    name: 'a symbolic link in place of the file',
    reason: /its segment file cannot be opened \(ELOOP\)/,
    act: (dir, socket) => {
      const target = writeSegment(dir, 1, values);
      symlinkSync(target, segmentPath({ dir, id: segmentId(identity(1).proof), generation: 0 }, 1, 0, 0));
      socket.write(notice(values, 0));
    },
  },
  {
    name: 'a file shorter than announced',
    reason: /its segment file \(slot 0\) holds 4096 bytes, 8192 were announced/,
    act: (dir, socket) => {
      writeSegment(dir, 0, values);
      socket.write(notice(new Float32Array(2048), 0));
    },
  },
  {
    name: 'a notice of the wrong slot',
    reason: /a notice of segment file slot 1 where slot 0 was next \(replayed or reordered\)/,
    act: (dir, socket) => {
      writeSegment(dir, 1, values);
      socket.write(notice(values, 1));
    },
  },
  {
    name: 'an acknowledgement nobody awaited',
    reason: /an acknowledgement of segment file slot 0, which was not the next awaiting one/,
    act: (_dir, socket) => socket.write(encodeAck(0)),
  },
  {
    name: 'a notice over the maximum message size',
    reason: /a frame of 2097152 bytes, over the maximum message size of 1048576/,
    act: (dir, socket) => {
      writeSegment(dir, 0, values);
      socket.write(notice(new Float32Array(512 * 1024), 0));
    },
  },
];

for (const { name, reason, act } of misbehaviours) {
  test(`a peer that sends ${name} on the file path is lost with the reason; waits on it fail naming it`, async (t) => {
    const local = await tmpfsDir(t);
    if (local === null) return;
    const peer = await withHandmadePeer(local.dir, (socket) => act(local.dir, socket));
    try {
      const error = await refusal(peer.lane);
      assert.ok(error instanceof CommError);
      assert.equal(error.code, 'PEER_LOST');
      assert.equal(error.rank, 1);
      assert.match(error.message, new RegExp(`malformed lane frame \\(${reason.source}\\)`));
    } finally {
      await peer.close();
      await local.remove();
    }
  });
}

test('a replayed notice is refused after the genuine one was read', async (t) => {
  const local = await tmpfsDir(t);
  if (local === null) return;
  const peer = await withHandmadePeer(local.dir, (socket) => {
    writeSegment(local.dir, 0, values);
    socket.write(notice(values, 0));
    socket.write(notice(values, 0)); // the same notice again: slot 1 is next
  });
  try {
    const frame = await peer.lane.recv(1, 'allReduce(sum) (collective #0)', () => 'this host');
    assert.deepEqual(frame.array, values);
    const error = await refusal(peer.lane);
    assert.equal(error.code, 'PEER_LOST');
    assert.match(error.message, /slot 0 where slot 1 was next \(replayed or reordered\)/);
  } finally {
    await peer.close();
    await local.remove();
  }
});

test('a send waiting for a free slot times out naming the peer that never acknowledges', async (t) => {
  const local = await tmpfsDir(t);
  if (local === null) return;
  const peer = await withHandmadePeer(local.dir, () => undefined, 300);
  try {
    const first = [peer.lane.send(1, ALL_REDUCE, values), peer.lane.send(1, ALL_REDUCE, values)];
    assert.deepEqual(await Promise.all(first), [24 + values.byteLength, 24 + values.byteLength]);
    const started = performance.now();
    const error = await peer.lane.send(1, ALL_REDUCE, values).then(
      () => assert.fail('a third segment was written over an unread one'),
      (e: unknown) => e as CommError,
    );
    assert.ok(error instanceof CommError);
    assert.equal(error.code, 'TIMEOUT');
    assert.equal(error.rank, 1);
    assert.match(error.message, /sending to rank 1: it read none of this rank's pending segment files within 300 ms/);
    assert.ok(performance.now() - started >= 250, 'it waited for the timeout');
  } finally {
    await peer.close();
    await local.remove();
  }
});

test('an abort (the elastic runtime re-forming the world) fails a send waiting for a free slot at once, and every later send', async (t) => {
  const local = await tmpfsDir(t);
  if (local === null) return;
  const peer = await withHandmadePeer(local.dir, () => undefined, 60_000);
  try {
    await Promise.all([peer.lane.send(1, ALL_REDUCE, values), peer.lane.send(1, ALL_REDUCE, values)]);
    const waiting = peer.lane.send(1, ALL_REDUCE, values);
    const queued = peer.lane.send(1, ALL_REDUCE, new Float32Array(4)); // a small frame queued behind it keeps its place
    const reformed = new CommError('PEER_LOST', 'the world is re-forming without rank 2');
    peer.lane.abort(reformed);
    await assert.rejects(waiting, (error) => error === reformed);
    await assert.rejects(queued, (error) => error === reformed);
    await assert.rejects(peer.lane.send(1, ALL_REDUCE, values), (error) => error === reformed);
  } finally {
    await peer.close();
    await local.remove();
  }
});
