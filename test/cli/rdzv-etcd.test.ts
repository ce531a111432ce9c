// `train --paradigm cluster --rdzv-backend etcd` through the real binary and a real etcd (Debian
// etcd-server): two ranks started with no MASTER_ADDR, WORLD_SIZE or RANK meet through etcd, train,
// and rank 0's model equals the `processes` run's bit for bit (same seed, same world size). The world
// is exactly --workers ranks (no restart policy): a member registering later is not taken in (growth
// through etcd, with --min-workers/--max-workers, is test/runtime/elastic-etcd.test.ts). The
// rendezvous flags are checked before anything starts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EtcdServer } from '../runtime/etcd-server.js';
import { ETCD_MISSING, startEtcd } from '../runtime/etcd-server.js';
import { SGD_TRAIN as TRAIN, run, runWatching, withDir } from './bin.js';

let etcd: EtcdServer | undefined;

before(async () => {
  if (ETCD_MISSING === false) etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

/** The environment of a rank with no rendezvous variables of its own. */
function bareEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SHARDLEARN_SECRET: 'a-test-secret-of-some-length-0123456789' };
  for (const name of ['MASTER_ADDR', 'MASTER_PORT', 'WORLD_SIZE', 'RANK', 'LOCAL_RANK', 'SHARDLEARN_JOB_ID', 'JOB_COMPLETION_INDEX'])
    delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('SLURM_')) delete env[name];
  return env;
}

test("two ranks meet through etcd and train the processes run's model bit for bit", { skip: ETCD_MISSING, timeout: 120_000 }, () =>
  withDir(async (dir) => {
    const model = [...TRAIN, '--epochs', '20'];
    const reference = run([...model, '--paradigm', 'processes', '--workers', '2', '--out', join(dir, 'processes.json')]);
    assert.equal(reference.status, 0, reference.stderr);
    const rank = (k: number): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      runWatching(
        [
          ...model,
          '--json',
          '--paradigm',
          'cluster',
          '--rdzv-backend',
          'etcd',
          '--rdzv-endpoint',
          etcd!.endpoint,
          '--rdzv-id',
          'cli-job',
          '--workers',
          '2',
          '--out',
          join(dir, `rank-${k}.json`),
        ],
        () => undefined,
        { env: bareEnv(), timeoutMs: 90_000 },
      );
    const results = await Promise.all([rank(0), rank(1)]);
    for (const result of results) assert.equal(result.status, 0, result.stderr);
    // Which process became rank 0 is etcd's choice (the first to register): it is the one that printed.
    const printed = results.findIndex((result) => result.stdout.trim() !== '');
    assert.ok(printed >= 0, 'rank 0 printed its report');
    assert.equal(results.filter((result) => result.stdout.trim() !== '').length, 1, 'only rank 0 reports');
    const report = JSON.parse(results[printed]!.stdout) as { paradigm: string; workers: number; trainSamples: number };
    assert.deepEqual([report.paradigm, report.workers, report.trainSamples], ['cluster', 2, 1580]);
    const state = (file: string): unknown => (JSON.parse(readFileSync(file, 'utf8')) as { state: unknown }).state;
    assert.deepEqual(state(join(dir, `rank-${printed}.json`)), state(join(dir, 'processes.json')));
  }),
);

test('a rendezvous flag that does not fit is a ConfigError naming it: exit 2 before anything starts', () => {
  const result = run([...TRAIN, '--paradigm', 'cluster', '--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1', '--workers', '2'], {
    env: bareEnv(),
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /needs --rdzv-id <job>/);
});
