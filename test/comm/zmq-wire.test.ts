// The wire format's byte frames (comm/zmq/wire.ts): a codec's encoded update travels as opaque bytes
// whose exact length the envelope announces; a frame cut short or grown on the way is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BYTE_FRAME, PROTOCOL_VERSION, WireError, decodeMessage, encodeMessage, wireBytes } from '../../src/comm/zmq/wire.js';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';
import { createLocalDir } from '../../src/comm/zmq/local.js';

const envelope = { v: PROTOCOL_VERSION, k: 'user', tag: 'update', h: { client: 3 } } as const;

test('arrays and byte frames round-trip through encodeMessage/decodeMessage, in order, counted by wireBytes', () => {
  const dense = Float64Array.from([1.5, -2, 3]);
  const single = Float32Array.from([0.25]);
  const first = Uint8Array.from([1, 2, 3, 4, 5]);
  const empty = new Uint8Array(0);
  // An unaligned view: the byte frame is sent as it is, no copy of the rest of its buffer.
  const backing = Uint8Array.from([9, 8, 7, 6, 5, 4]);
  const view = backing.subarray(1, 4);
  const frames = encodeMessage(envelope, [dense, single], [first, empty, view]);
  assert.equal(frames.length, 6);
  assert.equal(wireBytes(frames), frames[0]!.byteLength + 24 + 4 + 5 + 0 + 3);
  const { envelope: back, arrays, bytes } = decodeMessage(frames);
  assert.deepEqual(back.h, { client: 3 });
  assert.deepEqual(Array.from(arrays[0]!), [1.5, -2, 3]);
  assert.ok(arrays[1] instanceof Float32Array);
  assert.deepEqual(
    bytes.map((frame) => Array.from(frame)),
    [[1, 2, 3, 4, 5], [], [8, 7, 6]],
  );
  // A message without byte frames has no 'b' in its envelope (older messages decode unchanged).
  const plain = encodeMessage(envelope, [dense]);
  assert.equal(JSON.parse(plain[0]!.toString('utf8')).b, undefined);
  assert.deepEqual(decodeMessage(plain).bytes, []);
});

test('a truncated, oversized or missing byte frame, and a lying length list, are refused with a WireError', () => {
  const payload = Uint8Array.from({ length: 64 }, (_, i) => i);
  const frames = encodeMessage(envelope, [], [payload]);
  const refuses = (altered: Uint8Array[], pattern: RegExp): void =>
    assert.throws(
      () => decodeMessage(altered),
      (error: unknown) => error instanceof WireError && pattern.test(error.reason),
    );
  refuses([frames[0]!, frames[1]!.subarray(0, 63)], /byte frame 0 has 63 bytes, the envelope announces 64 \(truncated\)/);
  refuses([frames[0]!, Buffer.concat([frames[1]!, Buffer.from([0])])], /65 bytes, the envelope announces 64 \(oversized\)/);
  refuses([frames[0]!], /announces 0 arrays and 1 byte frames, message has 0 frames/);
  const lying = (b: unknown): Uint8Array => Buffer.from(JSON.stringify({ v: PROTOCOL_VERSION, k: 'user', tag: 'update', b }), 'utf8');
  refuses([lying([-1]), Buffer.alloc(0)], /byte frame lengths/);
  refuses([lying([1.5]), Buffer.alloc(1)], /byte frame lengths/);
  refuses([lying([MAX_BYTE_FRAME + 1]), Buffer.alloc(1)], /byte frame lengths/);
  refuses([lying('64'), payload], /byte frame lengths/);
});

test('the ZeroMQ communicator carries byte frames from rank to rank and counts them at the transport', async () => {
  const local = await createLocalDir();
  try {
    const common = {
      size: 2,
      masterAddr: '127.0.0.1',
      secret: Buffer.alloc(32, 7),
      jobId: 'wire-bytes',
      timeoutMs: 10_000,
      ipcDir: local.dir,
    };
    let resolvePort: (port: number) => void = () => undefined;
    const port = new Promise<number>((resolve) => (resolvePort = resolve));
    const root = ZmqCommunicator.join({ ...common, rank: 0, masterPort: 0, onListening: resolvePort });
    const other = ZmqCommunicator.join({ ...common, rank: 1, masterPort: await port });
    const [zero, one] = await Promise.all([root, other]);
    try {
      const payload = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
      const before = zero.stats.bytesReceived;
      await one.send(0, { tag: 'update', header: { client: 1 }, bytes: [payload] });
      const message = await zero.recv(1);
      assert.deepEqual(Array.from(message.bytes![0]!), Array.from(payload));
      assert.deepEqual(message.arrays, []);
      // What was counted is the message as it crossed: its envelope plus the 1000 payload bytes.
      const counted = zero.stats.bytesReceived - before;
      assert.equal(counted, one.stats.bytesSent);
      assert.ok(counted > 1000 && counted < 1200, `counted ${counted}`);
    } finally {
      await Promise.all([zero.close(), one.close()]);
    }
  } finally {
    await local.remove();
  }
});
