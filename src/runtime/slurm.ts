/**
 * Running under Slurm with no extra variables: `srun -n N shardlearn train … --paradigm cluster`.
 * Each task's place comes from what srun sets (SLURM_PROCID → rank, SLURM_NTASKS → world size,
 * SLURM_LOCALID → local rank); rank 0 is task 0, which srun's default block distribution puts on the
 * first host of the step's node list (SLURM_STEP_NODELIST, else SLURM_JOB_NODELIST), so that host is
 * MASTER_ADDR; the port is derived from the job and step ids, so every task computes the same one.
 * MASTER_ADDR and MASTER_PORT, when set, still win (an unusual --distribution, a port policy).
 *
 * `sbatch --signal=USR1@60` (or `srun --signal=USR1@60`) has Slurm send SIGUSR1 a minute before the
 * time limit: `onCheckpointSignal` turns it into a checkpoint request that rank 0's SGD loop honours
 * after its current step (see core/checkpoint-request.ts), so a requeued or resubmitted job continues
 * with `--resume`.
 *
 * @example
 * expandHostlist('node[01-03,7],gpu5') // ['node01', 'node02', 'node03', 'node7', 'gpu5']
 */
import { requestCheckpoint } from '../core/checkpoint-request.js';
import { ConfigError } from '../core/errors.js';

/** The first and the last port a Slurm job's rendezvous port is derived into. */
const PORT_BASE = 20000;
const PORT_SPAN = 40000;

/** Split at commas that are not inside brackets: 'a[1,2],b' → ['a[1,2]', 'b']. */
function splitTop(text: string, field: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') {
      if (--depth < 0) throw new ConfigError(`${field}='${text}': unbalanced ']' at character ${i + 1}`, { field });
    } else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new ConfigError(`${field}='${text}': a '[' is not closed`, { field });
  parts.push(text.slice(start));
  return parts.filter((part) => part !== '');
}

/** '01-03' → ['01','02','03'] (zero padding kept, as Slurm does); '7' → ['7']. */
function expandRange(range: string, text: string, field: string): string[] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (match === null) throw new ConfigError(`${field}='${text}': '${range}' is not a number or a range like 01-03`, { field });
  const [, low, high] = match as unknown as [string, string, string | undefined];
  if (high === undefined) return [low];
  const from = Number(low);
  const to = Number(high);
  if (to < from) throw new ConfigError(`${field}='${text}': the range ${range} runs backwards`, { field });
  const width = low.length;
  return Array.from({ length: to - from + 1 }, (_, k) => String(from + k).padStart(width, '0'));
}

/**
 * Slurm's hostlist syntax expanded, in order: `node[01-03,7]` → node01 node02 node03 node7;
 * several bracket groups multiply (`r[1-2]n[1-2]` → r1n1 r1n2 r2n1 r2n2), as `scontrol show hostnames` does.
 */
export function expandHostlist(text: string, field = 'SLURM_STEP_NODELIST'): string[] {
  return splitTop(text.trim(), field).flatMap((part) => {
    let names = [''];
    let rest = part;
    while (rest !== '') {
      const open = rest.indexOf('[');
      if (open < 0) {
        names = names.map((name) => name + rest);
        break;
      }
      const close = rest.indexOf(']', open);
      const prefix = rest.slice(0, open);
      const choices = rest
        .slice(open + 1, close)
        .split(',')
        .flatMap((range) => expandRange(range.trim(), text, field));
      names = names.flatMap((name) => choices.map((choice) => name + prefix + choice));
      rest = rest.slice(close + 1);
    }
    return names;
  });
}

/** The rendezvous port of a Slurm step: the same on every task, different for neighbouring jobs and steps. */
export function slurmPort(jobId: number, stepId: number): number {
  return PORT_BASE + ((jobId * 64 + stepId) % PORT_SPAN);
}

/** Whether this process is a task of a Slurm step (srun set SLURM_PROCID and SLURM_NTASKS). */
export function inSlurmStep(env: NodeJS.ProcessEnv): boolean {
  return (env['SLURM_PROCID'] ?? '') !== '' && (env['SLURM_NTASKS'] ?? '') !== '' && (env['SLURM_JOB_ID'] ?? '') !== '';
}

/**
 * The torchrun-style variables a Slurm task implies (only those not already set), or {} outside
 * Slurm. Checked: a node list that does not parse is a ConfigError naming the variable.
 */
export function slurmEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!inSlurmStep(env)) return {};
  const field = (env['SLURM_STEP_NODELIST'] ?? '') !== '' ? 'SLURM_STEP_NODELIST' : 'SLURM_JOB_NODELIST';
  const nodes = env[field] ?? '';
  const jobId = Number(env['SLURM_JOB_ID']);
  const stepId = Number(env['SLURM_STEP_ID'] ?? env['SLURM_STEPID'] ?? 0);
  const implied: NodeJS.ProcessEnv = {
    RANK: env['SLURM_PROCID'],
    WORLD_SIZE: env['SLURM_NTASKS'],
    LOCAL_RANK: env['SLURM_LOCALID'] ?? '0',
    SHARDLEARN_JOB_ID: `slurm-${env['SLURM_JOB_ID']}.${Number.isInteger(stepId) ? stepId : 0}`,
  };
  if ((env['MASTER_ADDR'] ?? '') === '') {
    const first = nodes === '' ? undefined : expandHostlist(nodes, field)[0];
    if (first === undefined)
      throw new ConfigError("under Slurm, SLURM_STEP_NODELIST and SLURM_JOB_NODELIST are both empty: set MASTER_ADDR to rank 0's host", {
        field,
      });
    implied['MASTER_ADDR'] = first;
  }
  if ((env['MASTER_PORT'] ?? '') === '') {
    if (!Number.isInteger(jobId) || jobId < 0)
      throw new ConfigError(`SLURM_JOB_ID=${env['SLURM_JOB_ID']}: expected a whole number (or set MASTER_PORT)`, { field: 'SLURM_JOB_ID' });
    implied['MASTER_PORT'] = String(slurmPort(jobId, Number.isInteger(stepId) ? stepId : 0));
  }
  return Object.fromEntries(Object.entries(implied).filter(([name]) => (env[name] ?? '') === ''));
}

let watching = false;
let note: (() => void) | undefined;

/**
 * SIGUSR1 (Slurm's `--signal=USR1@N`, or `scancel --signal=USR1`) asks for a checkpoint instead of
 * ending the process. The handler is installed once and stays: a SIGUSR1 that comes after training
 * (rank 0 evaluating, saving) is then ignored rather than fatal. `onSignal` hears of each signal
 * until the returned function is called (a fit says on stderr what will happen).
 */
export function watchCheckpointSignal(onSignal: () => void): () => void {
  if (!watching) {
    process.on('SIGUSR1', () => {
      requestCheckpoint('SIGUSR1');
      note?.();
    });
    watching = true;
  }
  note = onSignal;
  return () => {
    if (note === onSignal) note = undefined;
  };
}
