// Slurm without extra variables: the hostlist syntax expanded as `scontrol show hostnames` does, and
// a task's place (rank, world size, local rank, master host and port) from what srun sets; explicit
// torchrun-style variables still win. The real Slurm run is test/cli/slurm.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inCluster, rendezvousFromEnv } from '../../src/runtime/rendezvous.js';
import { expandHostlist, slurmEnvironment, slurmPort } from '../../src/runtime/slurm.js';

test('Slurm hostlists expand like scontrol show hostnames: ranges keep their zero padding, lists and groups in order', () => {
  assert.deepEqual(expandHostlist('node[01-03,7]'), ['node01', 'node02', 'node03', 'node7']);
  assert.deepEqual(expandHostlist('vm'), ['vm']);
  assert.deepEqual(expandHostlist('a1,b[8-10],c'), ['a1', 'b8', 'b9', 'b10', 'c']);
  assert.deepEqual(expandHostlist('gpu[009-011]'), ['gpu009', 'gpu010', 'gpu011']);
  assert.deepEqual(expandHostlist('r[1-2]n[1-2]'), ['r1n1', 'r1n2', 'r2n1', 'r2n2']);
  assert.deepEqual(expandHostlist('rack[1-2]-node[3,5].cluster'), [
    'rack1-node3.cluster',
    'rack1-node5.cluster',
    'rack2-node3.cluster',
    'rack2-node5.cluster',
  ]);
  assert.throws(() => expandHostlist('node[01-03'), {
    name: 'ConfigError',
    message: /SLURM_STEP_NODELIST='node\[01-03': a '\[' is not closed/,
  });
  assert.throws(() => expandHostlist('node[3-1]', 'SLURM_JOB_NODELIST'), {
    name: 'ConfigError',
    message: /SLURM_JOB_NODELIST='node\[3-1\]': the range 3-1 runs backwards/,
  });
  assert.throws(() => expandHostlist('node[a-b]'), { name: 'ConfigError', message: /'a-b' is not a number/ });
});

const TASK = {
  SLURM_JOB_ID: '4711',
  SLURM_STEP_ID: '0',
  SLURM_PROCID: '5',
  SLURM_NTASKS: '8',
  SLURM_LOCALID: '1',
  SLURM_STEP_NODELIST: 'node[07-10]',
  SLURM_JOB_NODELIST: 'node[01-10]',
};

test("a Slurm task's place: rank, world size and local rank from srun; master the step's first host; port from the job id", () => {
  assert.deepEqual(rendezvousFromEnv(TASK), {
    masterAddr: 'node07',
    masterPort: slurmPort(4711, 0),
    worldSize: 8,
    rank: 5,
    localRank: 1,
    jobId: 'slurm-4711.0',
    generation: 0,
    host: undefined,
  });
  assert.equal(slurmPort(4711, 0), 20000 + ((4711 * 64) % 40000));
  assert.notEqual(slurmPort(4711, 1), slurmPort(4711, 0), 'two steps of one job do not share a port');
  // Without the step's list (an older srun), the job's.
  assert.equal(rendezvousFromEnv({ ...TASK, SLURM_STEP_NODELIST: undefined }).masterAddr, 'node01');
  // Set explicitly, the torchrun variables win.
  const explicit = rendezvousFromEnv({ ...TASK, MASTER_ADDR: '10.1.1.1', MASTER_PORT: '29500', RANK: '2', SHARDLEARN_JOB_ID: 'mine' });
  assert.deepEqual(
    [explicit.masterAddr, explicit.masterPort, explicit.rank, explicit.worldSize, explicit.jobId],
    ['10.1.1.1', 29500, 2, 8, 'mine'],
  );
  // Outside a Slurm step nothing is implied.
  assert.deepEqual(slurmEnvironment({ SLURM_JOB_ID: '1' }), {});
  assert.equal(inCluster({ SLURM_JOB_ID: '1' }), false);
  assert.equal(inCluster(TASK), true);
  assert.equal(
    inCluster({ ...TASK, SLURM_STEP_NODELIST: 'node[1' }),
    true,
    'malformed, but a Slurm task: rendezvousFromEnv names the fault',
  );
  assert.throws(() => rendezvousFromEnv({ ...TASK, SLURM_STEP_NODELIST: '', SLURM_JOB_NODELIST: '' }), {
    name: 'ConfigError',
    message: /SLURM_STEP_NODELIST and SLURM_JOB_NODELIST are both empty/,
  });
  assert.throws(() => rendezvousFromEnv({ ...TASK, SLURM_PROCID: '8' }), { name: 'ConfigError', message: /RANK=8: expected a rank 0..7/ });
});
