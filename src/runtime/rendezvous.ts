/**
 * Where a rank of a `cluster` job learns its place: the environment variables torchrun, Kubeflow's
 * PyTorchJob, Kubernetes Indexed Jobs (with a little glue) and Slurm scripts already set.
 *
 *   MASTER_ADDR   rank 0's address (IP or resolvable name)     MASTER_PORT  rank 0's port
 *   WORLD_SIZE    number of ranks                              RANK         this rank, 0..WORLD_SIZE-1
 *   LOCAL_RANK    this rank's index on its host (default 0)
 *   SHARDLEARN_JOB_ID      job id bound into every connection (default MASTER_ADDR:MASTER_PORT)
 *   SHARDLEARN_GENERATION  restart count; peers of another generation are refused (default 0)
 *   SHARDLEARN_HOST        address this rank binds and advertises (default: toward MASTER_ADDR);
 *                          0.0.0.0 listens on every interface (rank 0 never does unless asked)
 *   SHARDLEARN_SECRET / SHARDLEARN_SECRET_FILE   the per-job secret (see comm/zmq/security.ts)
 *
 * @example
 * const { rank, worldSize } = rendezvousFromEnv();
 * const { train } = await loadData(spec, { shard: { rank, worldSize } });
 */
import { ConfigError } from '../core/errors.js';

export interface Rendezvous {
  masterAddr: string;
  masterPort: number;
  worldSize: number;
  rank: number;
  localRank: number;
  jobId: string;
  generation: number;
  /** SHARDLEARN_HOST when set. */
  host: string | undefined;
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number | undefined,
  check: (n: number) => boolean,
  expected: string,
): number {
  const text = env[name];
  if (text === undefined || text === '') {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(
      `${name} is not set; a cluster rank needs MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK (use 'shardlearn launch' locally, or set them as torchrun/Kubernetes do)`,
      { field: name },
    );
  }
  const value = Number(text);
  if (!Number.isInteger(value) || !check(value)) throw new ConfigError(`${name}=${text}: expected ${expected}`, { field: name });
  return value;
}

/** Read and check the rendezvous variables. Throws a ConfigError naming the missing or bad one. */
export function rendezvousFromEnv(env: NodeJS.ProcessEnv = process.env): Rendezvous {
  const masterAddr = env['MASTER_ADDR'];
  if (masterAddr === undefined || masterAddr === '') {
    throw new ConfigError(
      "MASTER_ADDR is not set; a cluster rank needs MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK (use 'shardlearn launch' locally, or set them as torchrun/Kubernetes do)",
      { field: 'MASTER_ADDR' },
    );
  }
  const masterPort = integer(env, 'MASTER_PORT', undefined, (n) => n >= 1 && n <= 65535, 'a TCP port 1..65535');
  const worldSize = integer(env, 'WORLD_SIZE', undefined, (n) => n >= 1, 'a whole number ≥ 1');
  const rank = integer(env, 'RANK', undefined, (n) => n >= 0 && n < worldSize, `a rank 0..${worldSize - 1} (WORLD_SIZE=${worldSize})`);
  const localRank = integer(env, 'LOCAL_RANK', 0, (n) => n >= 0, 'a whole number ≥ 0');
  const generation = integer(env, 'SHARDLEARN_GENERATION', 0, (n) => n >= 0, 'a whole number ≥ 0');
  const jobId = env['SHARDLEARN_JOB_ID'] || `${masterAddr}:${masterPort}`;
  const host = env['SHARDLEARN_HOST'] || undefined;
  return { masterAddr, masterPort, worldSize, rank, localRank, jobId, generation, host };
}

/** Whether the rendezvous variables are present (a process started by `launch`, torchrun or an orchestrator). */
export function inCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['MASTER_ADDR'] !== undefined && env['WORLD_SIZE'] !== undefined && env['RANK'] !== undefined;
}
