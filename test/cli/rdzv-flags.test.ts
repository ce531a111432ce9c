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
  const args = parseArgs(['--rdzv-backend', 'etcd', '--rdzv-endpoint', '10.0.0.5:2379', '--rdzv-id', 'run-7', '--other', 'x']);
  // The world's bounds are the restart policy's --min-workers/--max-workers (torchrun's --nnodes MIN:MAX).
  const etcd = takeRendezvous(args, 'cluster', { ...NONE, minWorkers: 2, maxWorkers: 4 }, {});
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
    [['--rdzv-backend', 'etcd', '--rdzv-id', 'j'], 'cluster', /needs --rdzv-endpoint <host:port>/],
    [['--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1'], 'cluster', /needs --rdzv-id <job>/],
    [
      ['--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1', '--rdzv-id', 'j'],
      'cluster',
      /needs the world size: --workers N, or --min-workers MIN --max-workers MAX/,
    ],
    // The old spelling is refused with the new one.
    [['--rdzv-workers', '2:4'], 'cluster', /--rdzv-workers is now spelled .*use --min-workers 2 --max-workers 4/],
    [['--rdzv-workers', '3'], 'cluster', /use --workers 3/],
    [['--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1', '--rdzv-id', 'a b'], 'cluster', /the job id must be non-empty, without spaces/],
  ];
  for (const [flags, paradigm, message] of cases) {
    // Every case but the missing size gives the size (--workers 2).
    const sized = message.source.includes('needs the world size') ? NONE : { ...NONE, workers: 2 };
    assert.throws(
      () => takeRendezvous(parseArgs(flags), paradigm as 'cluster', sized, {}),
      (error: unknown) => {
        assert.equal((error as { name?: string }).name, 'ConfigError', flags.join(' '));
        assert.match((error as Error).message, message, flags.join(' '));
        return true;
      },
    );
  }
  assert.throws(
    () =>
      takeRendezvous(
        parseArgs(['--rdzv-backend', 'etcd', '--rdzv-endpoint', 'h:1', '--rdzv-id', 'j']),
        'cluster',
        { ...NONE, minWorkers: 3, maxWorkers: 2 },
        {},
      ),
    /expected --min-workers ≤ --max-workers, got 3 > 2/,
  );
});
