/**
 * `--rdzv-backend static|etcd`, `--rdzv-endpoint host:port`, `--rdzv-id <job>` (torchrun's
 * --rdzv-backend, --rdzv-endpoint, --rdzv-id): how a `cluster` rank learns its world. The static
 * backend (default) reads the environment (MASTER_ADDR, WORLD_SIZE, RANK, or Slurm's and Kubernetes'
 * own variables); etcd's agrees on the world through the store, with leases.
 *
 * The etcd world's size has one spelling, the restart policy's (torchrun's --nnodes MIN:MAX):
 * `--min-workers` and `--max-workers` bound it, and then the policy also holds, so ranks that
 * register later join the running fit and a lost rank's lapsed lease shrinks it
 * (runtime/rendezvous-membership.ts); without them the world is exactly `--workers` ranks. The old
 * `--rdzv-workers MIN:MAX` is refused with that spelling (a second name for one setting would be a
 * second meaning to keep in step).
 *
 * @example
 * shardlearn train mlp --data d.csv --target y --paradigm cluster --rdzv-backend etcd --rdzv-endpoint 10.0.0.5:2379 --rdzv-id run-7 --min-workers 2 --max-workers 4
 */
import { ConfigError } from '../core/errors.js';
import type { Paradigm } from '../models/index.js';
import type { RendezvousBackend } from '../runtime/index.js';
import { EtcdRendezvous, staticRendezvous } from '../runtime/index.js';
import type { ParsedArgs } from './args.js';
import { takeString } from './args.js';

const FLAGS = ['rdzv-endpoint', 'rdzv-id'] as const;

/** The new spelling of `--rdzv-workers N|MIN:MAX`, for its refusal. */
function newSpelling(text: string): string {
  const match = /^\s*(\d+)\s*(?::\s*(\d+)\s*)?$/.exec(text);
  if (match === null) return '--min-workers MIN --max-workers MAX (or --workers N for an exact size)';
  return match[2] === undefined ? `--workers ${match[1]}` : `--min-workers ${match[1]} --max-workers ${match[2]}`;
}

/**
 * The rendezvous a `cluster` rank joins, from the flags (taken out of `args`); undefined for the
 * other paradigms, which refuse the flags. `defaults`: the command's --workers, --min-workers,
 * --max-workers (the etcd world's bounds) and --timeout-ms (the join's timeout).
 */
export function takeRendezvous(
  args: ParsedArgs,
  paradigm: Paradigm,
  defaults: {
    workers: number | undefined;
    timeoutMs: number | undefined;
    minWorkers?: number | undefined;
    maxWorkers?: number | undefined;
  },
  env: NodeJS.ProcessEnv = process.env,
): RendezvousBackend | undefined {
  const old = takeString(args, 'rdzv-workers');
  if (old !== undefined)
    throw new ConfigError(
      `--rdzv-workers is now spelled as the restart policy's bounds (one setting, torchrun's --nnodes MIN:MAX): use ${newSpelling(old)}`,
      { field: 'rdzv-workers' },
    );
  const backend = takeString(args, 'rdzv-backend');
  const given = Object.fromEntries(FLAGS.map((flag) => [flag, takeString(args, flag)])) as Record<
    (typeof FLAGS)[number],
    string | undefined
  >;
  const stray = FLAGS.find((flag) => given[flag] !== undefined);
  if (paradigm !== 'cluster') {
    const flag = backend !== undefined ? 'rdzv-backend' : stray;
    if (flag !== undefined)
      throw new ConfigError(`--${flag} is for --paradigm cluster, whose ranks meet over the network`, { field: flag });
    return undefined;
  }
  if (backend === undefined || backend === 'static') {
    if (stray !== undefined)
      throw new ConfigError(
        `--${stray} is for --rdzv-backend etcd; the static rendezvous reads the environment (MASTER_ADDR, WORLD_SIZE, RANK)`,
        {
          field: stray,
        },
      );
    return staticRendezvous(env);
  }
  if (backend !== 'etcd') throw new ConfigError(`--rdzv-backend expects static or etcd, got '${backend}'`, { field: 'rdzv-backend' });
  const endpoint = given['rdzv-endpoint'];
  if (endpoint === undefined)
    throw new ConfigError("--rdzv-backend etcd needs --rdzv-endpoint <host:port> (etcd's client URL, e.g. 10.0.0.5:2379)", {
      field: 'rdzv-endpoint',
    });
  // Slurm and Kubernetes name the job already; elsewhere the ranks must be told which job they share.
  const jobId =
    given['rdzv-id'] ?? env['SHARDLEARN_JOB_ID'] ?? (env['SLURM_JOB_ID'] === undefined ? undefined : `slurm-${env['SLURM_JOB_ID']}`);
  if (jobId === undefined)
    throw new ConfigError('--rdzv-backend etcd needs --rdzv-id <job> (the same on every rank of the job)', { field: 'rdzv-id' });
  // torchrun's --nnodes MIN:MAX is --min-workers/--max-workers; either alone takes --workers (or the other) for the missing bound.
  const min = defaults.minWorkers ?? defaults.workers ?? defaults.maxWorkers;
  const max = defaults.maxWorkers ?? defaults.workers ?? defaults.minWorkers;
  if (min === undefined || max === undefined)
    throw new ConfigError('--rdzv-backend etcd needs the world size: --workers N, or --min-workers MIN --max-workers MAX', {
      field: 'workers',
    });
  if (max < min)
    throw new ConfigError(`--rdzv-backend etcd: expected --min-workers ≤ --max-workers, got ${min} > ${max}`, { field: 'max-workers' });
  const bounds = { min, max };
  const localRank = Number(env['LOCAL_RANK'] ?? env['SLURM_LOCALID'] ?? 0);
  const host = env['SHARDLEARN_HOST'];
  return new EtcdRendezvous({
    endpoint,
    jobId,
    minWorkers: bounds.min,
    maxWorkers: bounds.max,
    ...(defaults.timeoutMs === undefined ? {} : { joinTimeoutMs: defaults.timeoutMs }),
    ...(Number.isInteger(localRank) && localRank >= 0 ? { localRank } : {}),
    ...(host === undefined || host === '' ? {} : { host }),
  });
}
