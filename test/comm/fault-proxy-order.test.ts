// The fault proxy delays bytes but must never reorder them or end a stream before its last bytes.
// The network-profile flake (docs/notes/netprofiles.md, "Session 2: the flake") was the proxy doing
// both: one timer per chunk, and Node fires timers of different durations by expiry from the event
// loop's cached clock, so chunks read in the same loop turn (or the end-of-stream read with them)
// could leave in another order. The test forces that situation: it blocks this process's event loop
// right after writing, so the proxy then reads many chunks and the FIN in one loop turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { FaultProxy } from '../../src/comm/fault-proxy.js';
import type { FaultProfile } from '../../src/comm/fault-proxy.js';

const BYTES = 4 << 20;

/** Every 4-byte word holds its own index, so any reordering or loss shows as a first difference. */
function numbered(): Buffer {
  const data = Buffer.alloc(BYTES);
  for (let i = 0; i < BYTES; i += 4) data.writeUInt32LE(i / 4, i);
  return data;
}

function firstDifference(got: Buffer, sent: Buffer): number {
  for (let i = 0; i < Math.max(got.length, sent.length); i++) if (got[i] !== sent[i]) return i;
  return -1;
}

/** Send `sent` through a proxy with `profile` to a sink; resolves to what the sink received before the stream ended. */
async function throughProxy(sent: Buffer, profile: FaultProfile, seed: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let ended: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (ended = resolve));
  const sink = createServer((socket: Socket) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => ended());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const { port } = sink.address() as { port: number };
  const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port }, seed, ...profile });
  try {
    const client = connect(proxy.port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', resolve));
    client.end(sent);
    // Block the event loop: the data and the FIN pile up in the proxy's socket, to be read in one turn.
    const until = performance.now() + 50;
    while (performance.now() < until);
    await finished;
    return Buffer.concat(chunks);
  } finally {
    await proxy.close();
    await new Promise((resolve) => sink.close(resolve));
  }
}

const profiles: [string, FaultProfile][] = [
  ['latency and jitter', { latencyMs: 20, jitterMs: 10 }],
  ['latency only', { latencyMs: 20 }],
  ['a bandwidth cap', { latencyMs: 2, bytesPerSecond: 200e6 }],
];

for (const [name, profile] of profiles) {
  test(`${name}: 4 MiB arrive whole and in order, and the stream ends after its last byte`, async () => {
    const sent = numbered();
    for (const seed of [1, 2, 3]) {
      const got = await throughProxy(sent, profile, seed);
      assert.equal(got.length, sent.length, `seed ${seed}: received ${got.length} of ${sent.length} bytes before the end of the stream`);
      const at = firstDifference(got, sent);
      assert.equal(at, -1, `seed ${seed}: bytes reordered from offset ${at} (word ${Math.floor(at / 4)})`);
    }
  });
}
