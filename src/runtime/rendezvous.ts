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
 *   SHARDLEARN_JOIN=1      a newcomer to a running job with a restart policy: RANK is ignored, the
 *                          process announces itself to the original rank 0 and joins at an epoch
 *                          boundary (static-join.ts)
 *   SHARDLEARN_JOIN_PORT   where the original rank 0 accepts newcomers (default MASTER_PORT + 1000)
 *
 * Orchestrators that say it their own way need no glue:
 *   Slurm (srun)         RANK, WORLD_SIZE, LOCAL_RANK from SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID;
 *                        MASTER_ADDR the step's first host, MASTER_PORT from the job id (slurm.ts)
 *   Kubernetes           RANK from JOB_COMPLETION_INDEX (an Indexed Job's or a JobSet's pod index);
 *                        WORLD_SIZE, MASTER_ADDR (`<job>-0.<service>`) and MASTER_PORT from the manifest
 * A variable set explicitly always wins over what is derived.
 *
 * This is the static rendezvous: the world is what the environment says and never changes.
 * `staticRendezvous()` offers it as a RendezvousBackend, beside etcd's (rendezvous-etcd.ts).
 *
 * @example
 * const { rank, worldSize } = rendezvousFromEnv();
 * const { train } = await loadData(spec, { shard: { rank, worldSize } });
 */
import type { RendezvousBackend, World } from '../comm/rendezvous-backend.js';
import { ConfigError } from '../core/errors.js';
import { slurmEnvironment } from './slurm.js';
import { joiningFromEnv } from './static-join.js';

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
  /** SHARDLEARN_JOIN=1: a newcomer to a running job; `rank` is then −1 until it is admitted. */
  joining?: true;
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

/**
 * The variables with what Slurm and Kubernetes imply filled in where they are not set: RANK from
 * JOB_COMPLETION_INDEX, else the Slurm task's (see the top of this file).
 */
export function orchestratorEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const index = env['JOB_COMPLETION_INDEX'];
  if (index !== undefined && index !== '' && (env['RANK'] ?? '') === '') return { ...env, RANK: index };
  return { ...env, ...slurmEnvironment(env) };
}

/** Read and check the rendezvous variables. Throws a ConfigError naming the missing or bad one. */
export function rendezvousFromEnv(given: NodeJS.ProcessEnv = process.env): Rendezvous {
  const env = orchestratorEnvironment(given);
  const masterAddr = env['MASTER_ADDR'];
  if (masterAddr === undefined || masterAddr === '') {
    throw new ConfigError(
      "MASTER_ADDR is not set; a cluster rank needs MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK (use 'shardlearn launch' locally, or set them as torchrun/Kubernetes do)",
      { field: 'MASTER_ADDR' },
    );
  }
  const masterPort = integer(env, 'MASTER_PORT', undefined, (n) => n >= 1 && n <= 65535, 'a TCP port 1..65535');
  const worldSize = integer(env, 'WORLD_SIZE', undefined, (n) => n >= 1, 'a whole number ≥ 1');
  const joining = joiningFromEnv(env);
  const rank = joining
    ? -1
    : integer(env, 'RANK', undefined, (n) => n >= 0 && n < worldSize, `a rank 0..${worldSize - 1} (WORLD_SIZE=${worldSize})`);
  const localRank = integer(env, 'LOCAL_RANK', 0, (n) => n >= 0, 'a whole number ≥ 0');
  const generation = integer(env, 'SHARDLEARN_GENERATION', 0, (n) => n >= 0, 'a whole number ≥ 0');
  const jobId = env['SHARDLEARN_JOB_ID'] || `${masterAddr}:${masterPort}`;
  const host = env['SHARDLEARN_HOST'] || undefined;
  return { masterAddr, masterPort, worldSize, rank, localRank, jobId, generation, host, ...(joining ? { joining: true as const } : {}) };
}

/** Whether the rendezvous variables are present (a process started by `launch`, torchrun or an orchestrator). */
export function inCluster(given: NodeJS.ProcessEnv = process.env): boolean {
  let env: NodeJS.ProcessEnv;
  try {
    env = orchestratorEnvironment(given);
  } catch {
    return true; // Slurm's variables are there but malformed: rendezvousFromEnv says which
  }
  return (
    env['MASTER_ADDR'] !== undefined &&
    env['WORLD_SIZE'] !== undefined &&
    (env['RANK'] !== undefined || (env['SHARDLEARN_JOIN'] ?? '') === '1')
  );
}

/** A static place as a World: only rank 0's address is known (the others meet there). */
export function worldOf(place: Rendezvous): World {
  return {
    ...place,
    members: Array.from({ length: place.worldSize }, (_, rank) => ({
      id: `rank-${rank}`,
      host: rank === 0 ? place.masterAddr : '',
      port: rank === 0 ? place.masterPort : 0,
    })),
  };
}

/**
 * The environment's world as a RendezvousBackend (the default): `join` reads and checks the
 * variables (rendezvousFromEnv), the world never changes, `leave` has nothing to release.
 *
 * @example
 * const world = await staticRendezvous().join(); // under srun: { rank: SLURM_PROCID, worldSize: SLURM_NTASKS, … }
 */
export function staticRendezvous(env: NodeJS.ProcessEnv = process.env): RendezvousBackend {
  let world: World | undefined;
  return {
    name: 'static',
    join: async () => (world ??= worldOf(rendezvousFromEnv(env))),
    onChange: () => () => undefined,
    leave: async () => undefined,
  };
}

/** The fields of a ZeroMQ join that a rendezvous place fixes: this rank, its world, where rank 0 listens, this host, the job and generation. */
export function placeJoinFields(place: Rendezvous): {
  rank: number;
  size: number;
  masterAddr: string;
  masterPort: number;
  host: string | undefined;
  jobId: string;
  generation: number;
} {
  return {
    rank: place.rank,
    size: place.worldSize,
    masterAddr: place.masterAddr,
    masterPort: place.masterPort,
    host: place.host,
    jobId: place.jobId,
    generation: place.generation,
  };
}
