// `--collective-lane` (FitOptions.collectiveLane): the cluster's collectives on the lane between hosts,
// sealed with AES-256-GCM. Refused outside cluster, by the CLI and the library alike, naming why; two
// cluster ranks on loopback that pass it record lane-tcp-aesgcm and learn what the CURVE run learns.
// Across two network namespaces, and with --insecure-transport: test/cli/lane-hosts.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { loadData } from '../../src/data/index.js';
import { createModel } from '../../src/models/index.js';
import { freePort } from '../../src/runtime/launch.js';
import { run, runWatching } from './bin.js';

const DATA = 'synthetic:classification?rows=600&cols=4&seed=3';

test('--collective-lane is refused outside cluster, by the CLI and the library, naming why', async () => {
  for (const paradigm of ['processes', 'threads', 'sequential']) {
    const refused = run(['train', 'logistic-regression', '--data', DATA, '--paradigm', paradigm, '--collective-lane']);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /--collective-lane is for --paradigm cluster/);
  }
  const { train } = await loadData(DATA);
  for (const paradigm of ['processes', 'threads', 'sequential'] as const) {
    await assert.rejects(
      createModel('logistic-regression', {}).fit(train, { paradigm, workers: 1, collectiveLane: true }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.field === 'collectiveLane' &&
        new RegExp(`cluster paradigm only, got paradigm '${paradigm}'`).test(error.message),
    );
  }
});

test('two cluster ranks with --collective-lane record lane-tcp-aesgcm and learn what the CURVE run learns', async () => {
  const states: unknown[] = [];
  for (const lane of [true, false]) {
    const port = await freePort();
    const env = (rank: number): NodeJS.ProcessEnv => ({
      ...process.env,
      SHARDLEARN_COLLECTIVE_LANE: '',
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: String(port),
      WORLD_SIZE: '2',
      RANK: String(rank),
      SHARDLEARN_SECRET: 'ab'.repeat(32),
    });
    const args = ['train', 'logistic-regression', '--solver', 'sgd', '--epochs', '3', '--data', DATA, '--paradigm', 'cluster'];
    args.push('--timeout-ms', '30000', '--json', ...(lane ? ['--collective-lane'] : []));
    const [zero, one] = await Promise.all([0, 1].map((rank) => runWatching(args, () => undefined, { timeoutMs: 90_000, env: env(rank) })));
    assert.equal(zero!.status, 0, zero!.stderr);
    assert.equal(one!.status, 0, one!.stderr);
    const report = JSON.parse(zero!.stdout) as { transport?: string; comm: { bytesSent: number; collectives: number }; metrics: unknown };
    assert.equal(report.transport, lane ? 'lane-tcp-aesgcm' : 'zmq-curve-tcp');
    assert.ok(report.comm.collectives > 0 && report.comm.bytesSent > 0);
    states.push(report.metrics);
  }
  assert.deepEqual(states[0], states[1], 'the same metrics over the sealed lane as over CURVE');
});
