// A cluster rank whose MASTER_ADDR does not resolve, as a user meets it: the real bin in a child
// process fails at once with one line naming the host, not "internal error" (exit 1) nor a wait for
// the join timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/shardlearn.js');

test('train --paradigm cluster with an unresolvable MASTER_ADDR fails at once naming the host, with a network exit code', () => {
  const env = {
    ...process.env,
    MASTER_ADDR: 'no-such-master.invalid',
    MASTER_PORT: '29500',
    WORLD_SIZE: '2',
    RANK: '1',
    SHARDLEARN_SECRET: 'a'.repeat(64),
  };
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [
      bin,
      'train',
      'logistic-regression',
      '--data',
      'synthetic:classification?rows=200&cols=3&seed=1',
      '--paradigm',
      'cluster',
      '--timeout-ms',
      '60000',
    ],
    { env, encoding: 'utf8', timeout: 50_000 },
  );
  assert.ok(Date.now() - started < 40_000, 'failed before the 60 s join timeout');
  assert.notEqual(r.status, 0);
  assert.notEqual(r.status, 1, `exit 1 is for bugs; stderr: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.match(r.stderr, /^shardlearn: MASTER_ADDR=no-such-master\.invalid does not resolve.*ENOTFOUND/m);
});
