// A real single-node Slurm for the tests (Debian slurm-wlm): a slurm.conf for this host in a temporary
// folder, slurmctld and slurmd started in the foreground on free ports (auth/none: this Slurm, 22.05,
// still has it, so no munge daemon is needed), waited for until the node is idle, and stopped (their
// pids, SIGTERM then SIGKILL) by `stop`. Tests skip, naming the package, where it is missing.
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/runtime/launch.js';

const DAEMONS = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/srun'];

/** Why the Slurm tests skip, or false when they can run. */
export const SLURM_MISSING: string | false = !DAEMONS.every(existsSync)
  ? `needs ${DAEMONS.join(', ')}: install the Debian package slurm-wlm`
  : !existsSync('/usr/lib/x86_64-linux-gnu/slurm-wlm/auth_none.so')
    ? "needs Slurm's auth/none plugin (slurm-wlm ≤ 22.05)"
    : userInfo().uid !== 0
      ? 'needs root: slurmd starts the job steps as their users'
      : false;

export interface SlurmCluster {
  /** The environment for srun, squeue, scancel: SLURM_CONF set. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

async function ended(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function startSlurm(base: NodeJS.ProcessEnv = process.env): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-slurm-'));
  for (const sub of ['state', 'spool']) mkdirSync(join(dir, sub));
  const node = hostname();
  const user = userInfo().username;
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=shardlearn-test',
      `SlurmctldHost=${node}(127.0.0.1)`,
      'AuthType=auth/none',
      'CredType=cred/none',
      `SlurmUser=${user}`,
      `SlurmdUser=${user}`,
      `SlurmctldPort=${await freePort()}`,
      `SlurmdPort=${await freePort()}`,
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SwitchType=switch/none',
      'MpiDefault=none',
      'ReturnToService=2',
      'SchedulerType=sched/builtin',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${Math.max(2, cpus().length)} State=UNKNOWN`,
      'PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env = { ...base, SLURM_CONF: conf };
  const controller = spawn('/usr/sbin/slurmctld', ['-D', '-c', '-f', conf], { env, stdio: 'ignore' });
  const daemon = spawn('/usr/sbin/slurmd', ['-D', '-f', conf], { env, stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    await Promise.all([ended(daemon, 3000), ended(controller, 3000)]);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = spawnSync('/usr/bin/sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8', timeout: 5000 }).stdout.trim();
    if (state === 'idle') break;
    if (Date.now() > deadline || controller.exitCode !== null || daemon.exitCode !== null) {
      const logs = ['slurmctld.log', 'slurmd.log']
        .map((name) => join(dir, name))
        .filter(existsSync)
        .map((file) => `${file}:\n${readFileSync(file, 'utf8').split('\n').slice(-8).join('\n')}`);
      await stop();
      throw new Error(`the test Slurm did not come up within 15 s (node state '${state}')\n${logs.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { env, stop };
}
