// Where a ZeroMQ rank listens and how its join fails, on real sockets: rank 0 binds only the address
// it was given (every interface only when asked), a bad address or a taken port and an unresolvable
// MASTER_ADDR are NetworkErrors naming the address and the OS's answer at once, and a flood of idle
// TCP connections does not hold a real rank's join for long.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';
import type { ZmqCommunicatorOptions } from '../../src/comm/zmq/communicator.js';
import { RENDEZVOUS_HANDSHAKE_TIMEOUT_MS } from '../../src/comm/zmq/options.js';
import { NetworkError } from '../../src/core/errors.js';
import { freePort } from '../../src/runtime/launch.js';

const LISTEN_RANK = fileURLToPath(new URL('./zmq-listen-rank.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function common(): Pick<ZmqCommunicatorOptions, 'secret' | 'jobId' | 'timeoutMs'> & { log: (line: string) => void } {
  return { secret: randomBytes(32), jobId: `join-${randomBytes(4).toString('hex')}`, timeoutMs: 10_000, log: () => undefined };
}

function isNetworkError(expected: { host: string; osCode: string; port?: number; message: RegExp }): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof NetworkError, `expected a NetworkError, got ${String(error)}`);
    assert.equal(error.code, 'NETWORK');
    assert.equal(error.host, expected.host);
    assert.equal(error.osCode, expected.osCode);
    if (expected.port !== undefined) assert.equal(error.port, expected.port);
    assert.match(error.message, expected.message);
    return true;
  };
}

test('rank 0 whose MASTER_ADDR is not an address of this host fails naming it and EADDRNOTAVAIL, never listening on every interface instead', async () => {
  const port = await freePort();
  // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this host.
  await assert.rejects(
    ZmqCommunicator.join({ ...common(), rank: 0, size: 2, masterAddr: '192.0.2.1', masterPort: port, joinTimeoutMs: 3000 }),
    isNetworkError({
      host: '192.0.2.1',
      port,
      osCode: 'EADDRNOTAVAIL',
      message: new RegExp(`cannot listen on tcp://192\\.0\\.2\\.1:${port}: .*SHARDLEARN_HOST=0\\.0\\.0\\.0`),
    }),
  );
  // Nothing listens on that port on any interface.
  await assert.rejects(
    new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve()));
      socket.once('error', reject);
    }),
    { code: 'ECONNREFUSED' },
  );
});

test('rank 0 on a port already taken fails at once naming the address and EADDRINUSE', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    await assert.rejects(
      ZmqCommunicator.join({ ...common(), rank: 0, size: 2, masterAddr: '127.0.0.1', masterPort: port }),
      isNetworkError({ host: '127.0.0.1', port, osCode: 'EADDRINUSE', message: /port is taken.*choose another MASTER_PORT/ }),
    );
  } finally {
    server.close();
  }
});

test('every interface only when asked (host 0.0.0.0): a world of three joins and all-reduces, each rank advertising a reachable address', async () => {
  const options = common();
  const lines: string[] = [];
  let port = 0;
  const first = ZmqCommunicator.join({
    ...options,
    rank: 0,
    size: 3,
    masterAddr: '127.0.0.1',
    masterPort: 0,
    host: '0.0.0.0',
    log: (line) => lines.push(line),
    onListening: (p) => (port = p),
  });
  while (port === 0) await sleep(5);
  // Rank 1 also listens on every interface: rank 2 must still reach it, through the address it advertises.
  const ranks = await Promise.all([
    first,
    ZmqCommunicator.join({ ...options, rank: 1, size: 3, masterAddr: '127.0.0.1', masterPort: port, host: '0.0.0.0' }),
    ZmqCommunicator.join({ ...options, rank: 2, size: 3, masterAddr: '127.0.0.1', masterPort: port }),
  ]);
  try {
    assert.ok(
      lines.some((line) => /listening on all interfaces/.test(line)),
      lines.join('\n'),
    );
    assert.equal(ranks[1]!.hostOf(1), '127.0.0.1');
    const sums = ranks.map((comm) => Float64Array.of(comm.rank + 1));
    await Promise.all(ranks.map((comm, r) => comm.allReduce(sums[r]!, 'sum')));
    for (const sum of sums) assert.equal(sum[0], 6);
  } finally {
    await Promise.all(ranks.map((comm) => comm.close()));
  }
});

test('an unresolvable MASTER_ADDR fails the join at once with a NetworkError naming the host, on rank 0 and on the others', async () => {
  const host = 'no-such-master.invalid'; // RFC 6761: .invalid never resolves
  for (const extra of [{ rank: 0 }, { rank: 1 }, { rank: 1, host: '127.0.0.1' }]) {
    const started = performance.now();
    await assert.rejects(
      ZmqCommunicator.join({ ...common(), size: 2, masterAddr: host, masterPort: 29_500, joinTimeoutMs: 60_000, ...extra }),
      isNetworkError({ host, osCode: 'ENOTFOUND', message: /MASTER_ADDR=no-such-master\.invalid does not resolve/ }),
    );
    const elapsedMs = performance.now() - started;
    assert.ok(
      elapsedMs < 30_000,
      `${JSON.stringify(extra)}: failed after ${Math.round(elapsedMs)} ms, not at once (the join timeout is 60 s)`,
    );
  }
});

test("a flood of idle TCP connections that exhausts rank 0's file descriptors holds a real join only for the short rendezvous handshake limit", async (t) => {
  const secret = randomBytes(32).toString('hex');
  const jobId = `flood-${randomBytes(4).toString('hex')}`;
  // Rank 0 with 128 descriptors: 150 idle connections take every free one, the rest wait in its listen backlog.
  const rank0 = spawn('bash', ['-c', 'ulimit -n 128 && exec "$0" "$1"', process.execPath, LISTEN_RANK], {
    env: { ...process.env, SHARDLEARN_LISTEN_RANK: '1', SHARDLEARN_SECRET: secret, SHARDLEARN_JOB_ID: jobId },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  rank0.stderr.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  const said: string[] = [];
  const heard = new Set<(line: string) => void>();
  createInterface({ input: rank0.stdout }).on('line', (line) => {
    said.push(line);
    for (const listener of heard) listener(line);
  });
  const line = (pattern: RegExp, withinMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const done = (value: string | Error): void => {
        clearTimeout(timer);
        heard.delete(listener);
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
      const listener = (text: string): void => {
        if (pattern.test(text)) done(text);
        else if (text.startsWith('failed')) done(new Error(`rank 0: ${text}\n${logs}`));
      };
      const timer = setTimeout(
        () => done(new Error(`rank 0 did not say ${pattern} within ${withinMs} ms; it said ${said.join(' | ')}; logs:\n${logs}`)),
        withinMs,
      );
      const earlier = said.find((text) => pattern.test(text));
      if (earlier !== undefined) return done(earlier);
      heard.add(listener);
    });
  const idle: Socket[] = [];
  try {
    const port = Number((await line(/^port \d+$/, 20_000)).split(' ')[1]);
    const closedAfterMs: number[] = [];
    for (let i = 0; i < 150; i++) {
      const opened = performance.now();
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.on('close', () => closedAfterMs.push(performance.now() - opened));
      socket.resume(); // read rank 0's greeting, so that its closing the connection is seen
      idle.push(socket);
    }
    await sleep(500);
    // A real rank joins while they are open, with a join timeout shorter than the 10 s those idle
    // connections held it before rank 0's handshake limit was shortened.
    const joined = ZmqCommunicator.join({
      rank: 1,
      size: 2,
      masterAddr: '127.0.0.1',
      masterPort: port,
      secret: Buffer.from(secret, 'hex'),
      jobId,
      timeoutMs: 7000,
      log: () => undefined,
    });
    const comm = await joined;
    await line(/^joined$/, 10_000);
    await comm.close();
    assert.match(logs, /could not accept a connection .*EMFILE/, "the idle connections did exhaust rank 0's descriptors");
    // The first idle connections were closed by rank 0 at its handshake limit, not at the old 10 s.
    for (const deadline = performance.now() + 15_000; closedAfterMs.length === 0 && performance.now() < deadline;) await sleep(50);
    const first = Math.min(...closedAfterMs);
    t.diagnostic(`first idle connection closed by rank 0 after ${Math.round(first)} ms; limit ${RENDEZVOUS_HANDSHAKE_TIMEOUT_MS} ms`);
    assert.ok(
      first >= RENDEZVOUS_HANDSHAKE_TIMEOUT_MS - 100 && first < RENDEZVOUS_HANDSHAKE_TIMEOUT_MS + 3000,
      `closed after ${Math.round(first)} ms`,
    );
  } finally {
    for (const socket of idle) socket.destroy();
    rank0.kill('SIGKILL');
  }
});
