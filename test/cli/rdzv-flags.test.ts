// The rendezvous flags (cli/rdzv-flags.ts): which backend a `cluster` rank joins, and a ConfigError
// naming the flag for every combination that does not fit. No store is contacted here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../../src/cli/args.js';
import { takeRendezvous } from '../../src/cli/rdzv-flags.js';
import { EtcdRendezvous } from '../../src/runtime/rendezvous-etcd.js';

const NONE = { workers: undefined, timeoutMs: undefined };

test('cluster joins the static rendezvous by default, etcd when asked; other paradigms join none', async () => {
  const env = { MASTER_ADDR: '10.0.0.1', MASTER_PORT: '29500', WORLD_SIZE: '2', RANK: '1' };
  const fixed = takeRendezvous(parseArgs([]), 'cluster', NONE, env);
  assert.equal(fixed?.name, 'static');
  assert.equal((await fixed!.join()).rank, 1);
  assert.equal(takeRendezvous(parseArgs([]), 'threads', NONE, env), undefined);
  const args = parseArgs([
    '--rdzv-backend',
    'etcd',
    '--rdzv-endpoint',
    '10.0.0.5:2379',
    '--rdzv-id',
    'run-7',
    '--rdzv-workers',
    '2:4',
    '--other',
    'x',
  ]);
  const etcd = takeRendezvous(args, 'cluster', NONE, {});
  assert.ok(etcd instanceof EtcdRendezvous);
  assert.deepEqual([...args.flags.keys()], ['other'], 'the rendezvous flags are taken, the rest left');
  // The job id from Slurm when not given; the size from --workers when no bounds are.
  assert.ok(
    takeRendezvous(
      parseArgs(['--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1']),
      'cluster',
      { workers: 2, timeoutMs: 5000 },
      { SLURM_JOB_ID: '9' },
    ),
  );
});

test('a rendezvous flag that does not fit is a ConfigError naming it', () => {
  const cases: [string[], string, RegExp, NodeJS.ProcessEnv?][] = [
    [['--rdzv-backend', 'etcd'], 'threads', /--rdzv-backend is for --paradigm cluster/],
    [['--rdzv-id', 'j'], 'processes', /--rdzv-id is for --paradigm cluster/],
    [['--rdzv-endpoint', 'h:2379'], 'cluster', /--rdzv-endpoint is for --rdzv-backend etcd/],
    [['--rdzv-backend', 'zookeeper'], 'cluster', /--rdzv-backend expects static or etcd, got 'zookeeper'/],
    [['--rdzv-backend', 'etcd', '--rdzv-id', 'j', '--rdzv-workers', '2'], 'cluster', /needs --rdzv-endpoint <host:port>/],
    [['--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1', '--rdzv-workers', '2'], 'cluster', /needs --rdzv-id <job>/],
    [
      ['--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1', '--rdzv-id', 'j'],
      'cluster',
      /needs the world size: --workers N, or --rdzv-workers MIN:MAX/,
    ],
    [
      ['--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1', '--rdzv-id', 'j', '--rdzv-workers', '3:2'],
      'cluster',
      /expects N or MIN:MAX with 1 ≤ MIN ≤ MAX/,
    ],
    [['--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1', '--rdzv-id', 'j', '--rdzv-workers', '0'], 'cluster', /expects N or MIN:MAX/],
    [
      ['--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1', '--rdzv-id', 'a b', '--rdzv-workers', '2'],
      'cluster',
      /the job id must be non-empty, without spaces/,
    ],
  ];
  for (const [flags, paradigm, message] of cases) {
    assert.throws(
      () => takeRendezvous(parseArgs(flags), paradigm as 'cluster', NONE, {}),
      (error: unknown) => {
        assert.equal((error as { name?: string }).name, 'ConfigError', flags.join(' '));
        assert.match((error as Error).message, message, flags.join(' '));
        return true;
      },
    );
  }
});
