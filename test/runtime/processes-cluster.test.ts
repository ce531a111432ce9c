// `launchLocal` (shardlearn launch) starts N ranks of a `cluster` job on this host with the
// rendezvous environment: each loads only its shard, they meet at MASTER_ADDR:MASTER_PORT with a
// generated secret, and the model equals sequential on the whole data. A failing rank stops the job
// with its exit code, and every rank is reaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize } from 'node:v8';
import { PassThrough } from 'node:stream';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import type { FitInfo } from '../../src/models/paradigm.js';
import { createModel } from '../../src/models/registry.js';
import { launchLocal } from '../../src/runtime/launch.js';
import { rendezvousFromEnv } from '../../src/runtime/rendezvous.js';
import { CLUSTER_MODEL } from './cluster-rank.js';
import { stateDifference } from './model-cases.js';
import { RELATIVE_TOLERANCE } from './threads-equivalence.js';

const RANK_SCRIPT = fileURLToPath(new URL('./cluster-rank.js', import.meta.url));
const SPEC = 'synthetic:classification?rows=2400&cols=5&seed=4';

test('launch --workers 3 runs a cluster job whose model equals sequential; every rank reports its statistics', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-cluster-'));
  try {
    const out = join(dir, 'result.bin');
    const code = await launchLocal({
      workers: 3,
      entry: RANK_SCRIPT,
      command: [SPEC, out],
      env: { SHARDLEARN_CLUSTER_TEST: '1', SHARDLEARN_SECRET: '' },
    });
    assert.equal(code, 0);
    const { state, info } = deserialize(readFileSync(out)) as { state: unknown; info: FitInfo };
    const sequential = (await createModel(CLUSTER_MODEL.name, CLUSTER_MODEL.params).fit((await loadData(SPEC)).train)).state;
    const { worst, where } = stateDifference(state, sequential);
    assert.ok(worst <= RELATIVE_TOLERANCE, `relative difference ${worst} at ${where}`);
    assert.equal(info.paradigm, 'cluster');
    assert.equal(info.workers, 3);
    assert.equal(info.comm.length, 3);
    assert.ok(
      info.comm.every((stats) => stats.bytesSent > 0 && stats.collectives > 0),
      "every rank's statistics were gathered",
    );
    assert.equal(
      info.rows?.reduce((sum, rows) => sum + rows, 0),
      2400,
      "every rank's rows were gathered",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a rank that fails stops the job: launch returns its exit code and reaps the others', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-cluster-'));
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  try {
    const code = await launchLocal({
      workers: 3,
      entry: RANK_SCRIPT,
      command: [SPEC, join(dir, 'never.bin')],
      env: { SHARDLEARN_CLUSTER_TEST: '1', SHARDLEARN_TEST_FAIL_RANK: '1' },
      stderr,
    });
    assert.equal(code, 3);
    assert.match(text, /rank 1 \(pid \d+\) exited with code 3; stopping the other ranks/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rendezvous variables are checked: a missing or out-of-range one is a ConfigError naming it', () => {
  const env = { MASTER_ADDR: '10.0.0.1', MASTER_PORT: '29500', WORLD_SIZE: '4', RANK: '2' };
  assert.deepEqual(rendezvousFromEnv(env), {
    masterAddr: '10.0.0.1',
    masterPort: 29500,
    worldSize: 4,
    rank: 2,
    localRank: 0,
    jobId: '10.0.0.1:29500',
    generation: 0,
    host: undefined,
  });
  assert.throws(() => rendezvousFromEnv({ ...env, RANK: '4' }), { name: 'ConfigError', message: /RANK=4: expected a rank 0..3/ });
  assert.throws(() => rendezvousFromEnv({ ...env, MASTER_PORT: undefined }), { name: 'ConfigError', message: /MASTER_PORT is not set/ });
});
