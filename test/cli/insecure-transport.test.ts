// `--insecure-transport`: plain TCP without CURVE for cluster ranks on an isolated network. Refused
// unless the paradigm is cluster; when named, every rank says so on stderr and the report records
// the transport as zmq-plain-tcp. Without it, a cluster run is recorded as zmq-curve-tcp (the sealed
// lane between hosts is opt-in, test/cli/lane-hosts.test.ts): plain only when named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { freePort } from '../../src/runtime/launch.js';
import { run, runWatching } from './bin.js';

const DATA = 'synthetic:blobs?rows=400&cols=3&seed=2';

test('--insecure-transport is refused outside cluster, naming why', () => {
  for (const paradigm of ['processes', 'threads', 'sequential']) {
    const refused = run(['train', 'kmeans', '--data', DATA, '--paradigm', paradigm, '--insecure-transport']);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /--insecure-transport is for --paradigm cluster/);
  }
});

test('two cluster ranks with --insecure-transport train over plain TCP, say so, and record it; without it CURVE is recorded', async () => {
  const rankEnv = (port: number, rank: number): NodeJS.ProcessEnv => ({
    ...process.env,
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(port),
    WORLD_SIZE: '2',
    RANK: String(rank),
    SHARDLEARN_SECRET: 'cd'.repeat(32),
  });
  for (const insecure of [true, false]) {
    const port = await freePort();
    const args = [
      'train',
      'kmeans',
      '--data',
      DATA,
      '--k',
      '3',
      '--paradigm',
      'cluster',
      '--timeout-ms',
      '30000',
      '--json',
      ...(insecure ? ['--insecure-transport'] : []),
    ];
    const [zero, one] = await Promise.all(
      [0, 1].map((rank) => runWatching(args, () => undefined, { timeoutMs: 90_000, env: rankEnv(port, rank) })),
    );
    assert.equal(zero!.status, 0, zero!.stderr);
    assert.equal(one!.status, 0, one!.stderr);
    const report = JSON.parse(zero!.stdout) as { transport?: string; comm: { bytesSent: number } };
    assert.equal(report.transport, insecure ? 'zmq-plain-tcp' : 'zmq-curve-tcp');
    assert.ok(report.comm.bytesSent > 0);
    for (const rank of [zero!, one!]) assert.equal(/NOT encrypted/.test(rank.stderr), insecure, rank.stderr);
  }
});
