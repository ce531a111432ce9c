/**
 * `--rdzv-backend static|etcd`, `--rdzv-endpoint host:port`, `--rdzv-id <job>`, `--rdzv-workers
 * MIN[:MAX]` (torchrun's --rdzv-backend, --rdzv-endpoint, --rdzv-id and --nnodes MIN:MAX): how a
 * `cluster` rank learns its world. The static backend (default) reads the environment (MASTER_ADDR,
 * WORLD_SIZE, RANK, or Slurm's and Kubernetes' own variables); etcd's agrees on the world through
 * the store, with leases. Without --rdzv-workers the etcd world is exactly `--workers` ranks.
 *
 * @example
 * shardlearn train mlp --data d.csv --target y --paradigm cluster --rdzv-backend etcd --rdzv-endpoint 10.0.0.5:2379 --rdzv-id run-7 --workers 4
 */
import { ConfigError } from '../core/errors.js';
import type { Paradigm } from '../models/index.js';
import type { RendezvousBackend } from '../runtime/index.js';
import { EtcdRendezvous, staticRendezvous } from '../runtime/index.js';
import type { ParsedArgs } from './args.js';
import { takeString } from './args.js';

const FLAGS = ['rdzv-endpoint', 'rdzv-id', 'rdzv-workers'] as const;

/** 'N' or 'MIN:MAX' as bounds. */
function parseBounds(text: string): { min: number; max: number } {
  const match = /^\s*(\d+)\s*(?::\s*(\d+)\s*)?$/.exec(text);
  const min = Number(match?.[1]);
  const max = match?.[2] === undefined ? min : Number(match[2]);
  if (match === null || min < 1 || max < min)
    throw new ConfigError(`--rdzv-workers expects N or MIN:MAX with 1 ≤ MIN ≤ MAX (2, 2:4), got '${text}'`, { field: 'rdzv-workers' });
  return { min, max };
}

/**
 * The rendezvous a `cluster` rank joins, from the flags (taken out of `args`); undefined for the
 * other paradigms, which refuse the flags. `workers`, `timeoutMs`: the command's --workers and
 * --timeout-ms (the etcd world's size when --rdzv-workers is absent, and the join's timeout).
 */
export function takeRendezvous(
  args: ParsedArgs,
  paradigm: Paradigm,
  defaults: { workers: number | undefined; timeoutMs: number | undefined },
  env: NodeJS.ProcessEnv = process.env,
): RendezvousBackend | undefined {
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
  const bounds =
    given['rdzv-workers'] !== undefined
      ? parseBounds(given['rdzv-workers'])
      : defaults.workers !== undefined
        ? { min: defaults.workers, max: defaults.workers }
        : undefined;
  if (bounds === undefined)
    throw new ConfigError('--rdzv-backend etcd needs the world size: --workers N, or --rdzv-workers MIN:MAX', { field: 'rdzv-workers' });
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
