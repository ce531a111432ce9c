// `srun -n 2 shardlearn train … --paradigm cluster` on a real single-node Slurm (Debian slurm-wlm,
// started by the test): the ranks take their places from srun's variables alone (no MASTER_ADDR,
// WORLD_SIZE or RANK), and rank 0's model equals the local `processes` run's bit for bit (same seed).
// SIGUSR1 sent through Slurm to the running step makes rank 0 write a checkpoint after its current
// step, and the job goes on.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SGD_TRAIN as TRAIN, bin, run, withDir } from './bin.js';
import type { SlurmCluster } from './slurm-cluster.js';
import { SLURM_MISSING, startSlurm } from './slurm-cluster.js';

let slurm: SlurmCluster | undefined;

/** This environment without any rendezvous or Slurm variable (the test itself may run under one). */
function bareEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SHARDLEARN_SECRET: 'a-test-secret-of-some-length-0123456789' };
  for (const name of ['MASTER_ADDR', 'MASTER_PORT', 'WORLD_SIZE', 'RANK', 'LOCAL_RANK', 'SHARDLEARN_JOB_ID', 'JOB_COMPLETION_INDEX'])
    delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('SLURM_')) delete env[name];
  return env;
}

before(async () => {
  if (SLURM_MISSING === false) slurm = await startSlurm(bareEnv());
});
after(async () => {
  await slurm?.stop();
});

interface Job {
  child: ChildProcess;
  /** What srun has printed so far (every task's output, as srun forwards it). */
  output: { stdout: string; stderr: string };
  done: Promise<number | null>;
}

function srun(args: string[], name: string): Job {
  const child = spawn('/usr/bin/srun', ['-n', '2', '--job-name', name, '--kill-on-bad-exit=1', process.execPath, bin, ...args], {
    env: slurm!.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const done = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output, done };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test(
  'srun -n 2 trains with no rendezvous variables; the model equals the processes run bit for bit',
  { skip: SLURM_MISSING, timeout: 120_000 },
  () =>
    withDir(async (dir) => {
      const model = [...TRAIN, '--epochs', '5'];
      const reference = run([...model, '--paradigm', 'processes', '--workers', '2', '--out', join(dir, 'processes.json')], {
        env: bareEnv(),
      });
      assert.equal(reference.status, 0, reference.stderr);
      const started = performance.now();
      const job = srun([...model, '--json', '--paradigm', 'cluster', '--out', join(dir, 'slurm.json')], 'shardlearn-equal');
      const status = await job.done;
      const seconds = (performance.now() - started) / 1000;
      assert.equal(status, 0, job.output.stderr);
      const report = JSON.parse(job.output.stdout) as { paradigm: string; workers: number; trainSamples: number };
      assert.deepEqual([report.paradigm, report.workers, report.trainSamples], ['cluster', 2, 1580], 'one report, from rank 0 of 2');
      const state = (file: string): unknown => (JSON.parse(readFileSync(file, 'utf8')) as { state: unknown }).state;
      assert.deepEqual(state(join(dir, 'slurm.json')), state(join(dir, 'processes.json')));
      process.stderr.write(`slurm: srun -n 2 train (2 ranks, 5 epochs) in ${seconds.toFixed(2)} s\n`);
    }),
);

test(
  'SIGUSR1 through Slurm (scancel --signal=USR1, as --signal=USR1@N sends it) writes a checkpoint and training goes on',
  { skip: SLURM_MISSING, timeout: 120_000 },
  () =>
    withDir(async (dir) => {
      const checkpoints = join(dir, 'ckpt');
      const name = 'shardlearn-usr1';
      // Checkpoints every 40 steps show that training runs; the one SIGUSR1 asks for is said on stderr.
      const job = srun(
        [
          ...TRAIN,
          '--epochs',
          '400',
          '--paradigm',
          'cluster',
          '--checkpoint-dir',
          checkpoints,
          '--checkpoint-every',
          '40steps',
          '--keep',
          '0',
        ],
        name,
      );
      let ended: number | null | undefined;
      void job.done.then((status) => (ended = status));
      const running = (): boolean => ended === undefined;
      try {
        await waitFor(
          () => !running() || (existsSync(checkpoints) && readdirSync(checkpoints).some((f) => f.endsWith('.slckpt'))),
          60_000,
          'a first checkpoint',
        );
        assert.ok(running(), `the job ended early (${ended}): ${job.output.stderr}`);
        const signalled = spawnSync('/usr/bin/scancel', ['--signal=USR1', '--name', name], {
          env: slurm!.env,
          encoding: 'utf8',
          timeout: 10_000,
        });
        assert.equal(signalled.status, 0, signalled.stderr);
        await waitFor(() => /SIGUSR1: checkpoint written/.test(job.output.stderr) || !running(), 30_000, 'the SIGUSR1 checkpoint');
        const { stderr } = job.output;
        const written = /shardlearn: SIGUSR1: checkpoint written to (\S+) \(step (\d+)\)/.exec(stderr);
        assert.ok(written !== null, `rank 0 said which checkpoint SIGUSR1 wrote: ${stderr}`);
        assert.ok(existsSync(written[1]!), `${written[1]} exists`);
        assert.match(stderr, /SIGUSR1: a checkpoint is written to .* after the current step/);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.ok(running(), `the job goes on after the checkpoint: ${stderr}`);
      } finally {
        spawnSync('/usr/bin/scancel', ['--name', name], { env: slurm!.env, timeout: 10_000 });
        await job.done;
      }
    }),
);
