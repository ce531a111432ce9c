/**
 * The `cluster` paradigm: this process is one rank of a job spread over hosts. It finds its place
 * from the environment (rendezvous.ts), joins the ZeroMQ world with the job secret, and runs the one
 * rank body (rank.ts) on `data` — which under `cluster` is this rank's own shard (load it with
 * loadData(spec, { shard: { rank, worldSize } })) — or, with `options.source`, on its own shard of
 * that source, which it loads (and scales, with `source.scale`) itself. Every rank returns the same
 * learned state; rank 0 is the one that reports and saves (nanoGPT's `master_process`).
 *
 * FitInfo's per-rank parts hold every rank's figures: they are gathered with one small all-reduce.
 *
 * The place comes from `options.rendezvous` (etcd's, say) or else the static rendezvous of the
 * environment. Under a restart policy a changing rendezvous (etcd's) drives the membership of the
 * running fit (rendezvous-membership.ts): a rank registering later joins at the next epoch
 * boundary, a lost rank's lapsed lease gives the survivors' world. Without a policy a later
 * generation is only said on stderr: the run goes on with the world it started with. SIGUSR1
 * (Slurm's `--signal=USR1@N`) asks for a checkpoint.
 *
 * @example
 * // on every host, with MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK and SHARDLEARN_SECRET set:
 * const { rank, worldSize } = rendezvousFromEnv();
 * const { train } = await loadData('data.csv', { target: 'y', shard: { rank, worldSize } });
 * const model = await new LinearRegression().fit(train, { paradigm: 'cluster' });
 */
import type { CommStats } from '../comm/communicator.js';
import { ZmqCommunicator } from '../comm/zmq/communicator.js';
import { readSecret } from '../comm/zmq/security.js';
import type { FitInfo, LaunchRequest } from '../models/paradigm.js';
import type { Trainable } from '../models/context.js';
import { fitInfoParts, jobFor, resolveTimeout } from './job.js';
import { followLauncher } from './launcher-link.js';
import { progressHistory } from './progress.js';
import type { StampedEvent } from './progress.js';
import { refuseNetwork } from './network.js';
import type { ElasticSetup, RankJob, RankResult } from './rank.js';
import { ConfigError } from '../core/errors.js';
import type { ElasticPlace } from './elastic.js';
import { reformedMaster, refuseUnreformable, resolveElastic } from './elastic.js';
import { runRank } from './rank.js';
import type { Rendezvous } from './rendezvous.js';
import { placeJoinFields, staticRendezvous } from './rendezvous.js';
import { RendezvousMembership } from './rendezvous-membership.js';
import { StaticMembership, announce, joinPortFromEnv } from './static-join.js';
import { watchCheckpointSignal } from './slurm.js';

const STAT_FIELDS = ['bytesSent', 'bytesReceived', 'messagesSent', 'messagesReceived', 'collectives', 'commMs'] as const;

export async function launchCluster<State>(request: LaunchRequest<State>): Promise<{ state: State; info: FitInfo }> {
  const { options } = request;
  refuseNetwork(options.network, 'cluster');
  followLauncher(); // a rank started by `shardlearn launch` stops when the launcher dies
  const rendezvous = options.rendezvous ?? staticRendezvous();
  const place = await rendezvous.join();
  // A changing rendezvous under a restart policy: its generations are the fit's (growth and shrink).
  const policySet = options.minWorkers !== undefined || options.maxWorkers !== undefined || options.maxRestarts !== undefined;
  const membership = policySet && rendezvous.name !== 'static' ? new RendezvousMembership(rendezvous, place) : undefined;
  // The static rendezvous under a policy: the original rank 0 accepts newcomers (SHARDLEARN_JOIN=1), who join at epoch boundaries.
  const joining = (place as { joining?: true }).joining === true;
  if (joining && !policySet)
    throw new ConfigError(
      'SHARDLEARN_JOIN=1 joins a running job with a restart policy: give this newcomer the same --min-workers/--max-workers as the job',
      { field: 'SHARDLEARN_JOIN' },
    );
  const staticGrowth = policySet && rendezvous.name === 'static' ? await staticJoining(place, joining) : undefined;
  const unwatch = rendezvous.onChange(
    (world) => {
      if (membership === undefined)
        process.stderr.write(
          `shardlearn: rank ${place.rank}: the ${rendezvous.name} rendezvous agreed generation ${world.generation} (${world.worldSize} ranks); this fit goes on with generation ${place.generation} (${place.worldSize} ranks)\n`,
        );
    },
    (error) => process.stderr.write(`shardlearn: rank ${place.rank}: rendezvous: ${error.message}\n`),
  );
  const checkpointDir = options.checkpoint?.dir;
  const ignoreSignal = watchCheckpointSignal(() => {
    if (place.rank === 0)
      process.stderr.write(
        checkpointDir === undefined
          ? 'shardlearn: SIGUSR1: no --checkpoint-dir, so no checkpoint is written\n'
          : `shardlearn: SIGUSR1: a checkpoint is written to ${checkpointDir} after the current step\n`,
      );
  });
  try {
    return await fitOnPlace(request, place, membership, staticGrowth);
  } finally {
    await staticGrowth?.membership.stop();
    membership?.stop();
    unwatch();
    ignoreSignal();
  }
}

/** A static rank's growth: its membership, and for a newcomer its admission (static-join.ts). */
interface StaticGrowth {
  membership: StaticMembership;
  admission?: () => ReturnType<typeof announce>;
}

/** Set up growth under the static rendezvous: the original rank 0 listens for newcomers; a newcomer will announce itself. */
async function staticJoining(place: Rendezvous, joining: boolean): Promise<StaticGrowth> {
  const secret = readSecret();
  const port = joinPortFromEnv(place.masterPort);
  const membership = new StaticMembership({
    jobId: place.jobId,
    secret,
    firstSize: place.worldSize,
    masterAddr: place.masterAddr,
    masterPort: place.masterPort,
  });
  if (joining) return { membership, admission: () => announce({ addr: place.masterAddr, port, jobId: place.jobId, secret }) };
  if (place.rank === 0)
    // A join port in use (another job on this host) costs only growth: the run goes on, newcomers are refused.
    await membership
      .listen(place.host ?? place.masterAddr, port)
      .catch((error: unknown) =>
        process.stderr.write(
          `shardlearn: ${error instanceof Error ? error.message : String(error)}; newcomers (SHARDLEARN_JOIN=1) will be refused\n`,
        ),
      );
  return { membership };
}

async function fitOnPlace<State>(
  request: LaunchRequest<State>,
  place: Rendezvous,
  membership: RendezvousMembership | undefined,
  staticGrowth?: StaticGrowth,
): Promise<{ state: State; info: FitInfo }> {
  const { model, data, options } = request;
  const elastic = resolveElastic(options, place.worldSize, 'cluster');
  if (elastic !== undefined) {
    refuseUnreformable(options.strategy ?? 'allreduce', false);
    if (options.source === undefined)
      throw new ConfigError(
        'a restart policy under cluster needs options.source: a re-formed world loads new shards of it (a rank holds only its own rows)',
        { field: 'source' },
      );
  }
  const job = {
    ...jobFor(
      request,
      options.source === undefined ? { kind: 'rows', init: data, start: 0, end: data.rows } : { kind: 'source', source: options.source },
      resolveTimeout(options.timeoutMs),
    ),
    ...(elastic === undefined ? {} : { elastic }),
  };
  const startedAt = performance.timeOrigin + performance.now();
  const { history, onEvents } = progressHistory(place.rank === 0 ? options.onProgress : undefined, startedAt);
  const insecure = options.insecureTransport === true;
  const { result, comm } = await runClusterRank<State>(job, place, {
    model,
    progress: onEvents,
    insecure,
    ...(options.collectiveLane === true ? { collectiveLane: true } : {}),
    ...(membership === undefined ? {} : { membership }),
    ...(staticGrowth === undefined ? {} : { staticGrowth }),
  });
  try {
    const results = await gatherResults(comm, result, comm.size);
    const seconds = result.trainMs / 1000;
    return {
      state: result.state,
      info: {
        paradigm: 'cluster',
        workers: comm.size,
        strategy: job.strategy,
        transport: clusterTransport(comm, insecure),
        seconds,
        ...fitInfoParts(results),
        history,
        ...(result.faults === undefined ? {} : { faults: result.faults }),
        ...(result.joins === undefined ? {} : { joins: result.joins }),
      },
    };
  } finally {
    await comm.close();
  }
}

/**
 * FitInfo.transport of a cluster run, as rank 0's collectives travelled (every rank must agree): ZeroMQ
 * with CURVE (the default) or without (--insecure-transport), or the lane between hosts
 * (collectiveLane, or SHARDLEARN_COLLECTIVE_LANE=1), sealed or plain.
 */
function clusterTransport(comm: ZmqCommunicator, insecure: boolean): NonNullable<FitInfo['transport']> {
  const collectives = comm.collectiveTransport;
  if (collectives === 'lane-tcp-aesgcm' || collectives === 'lane-tcp-plain') return collectives;
  return insecure ? 'zmq-plain-tcp' : 'zmq-curve-tcp';
}

/**
 * Join the job's ZeroMQ world at `place` and run `job` on this rank; the communicator is returned
 * open (the caller gathers over it, then closes it) and closed here on failure. The rank body of
 * `launchCluster` and of the network-namespace ranks (netns-rank.ts).
 */
export async function runClusterRank<State>(
  job: RankJob,
  place: Rendezvous,
  extra: {
    model?: Trainable<State>;
    progress?: (events: StampedEvent[]) => void;
    insecure?: boolean;
    /** The collectives on the lane between hosts (FitOptions.collectiveLane); absent: SHARDLEARN_COLLECTIVE_LANE decides. */
    collectiveLane?: boolean;
    /** A re-formed generation's rows, where the job ships rows rather than a source (the namespace cluster: from a file). */
    rows?: ElasticSetup['rows'];
    /** The rendezvous drives the membership (etcd's): growth at epoch boundaries, its world after a loss. */
    membership?: RendezvousMembership;
    /** The static rendezvous' growth (static-join.ts): newcomers announced to the original rank 0. */
    staticGrowth?: StaticGrowth;
  } = {},
): Promise<{ result: RankResult<State>; comm: ZmqCommunicator }> {
  let comm: ZmqCommunicator | undefined;
  const straggler = job.stragglerWarningMs === undefined ? {} : { stragglerWarningMs: job.stragglerWarningMs };
  const join = async (): Promise<ZmqCommunicator> =>
    (comm = await ZmqCommunicator.join({
      ...placeJoinFields(place),
      secret: readSecret(),
      timeoutMs: job.timeoutMs,
      ...straggler,
      ...(extra.insecure === true ? { insecure: true } : {}),
      ...(extra.collectiveLane === true ? { collectiveLane: true } : {}),
    }));
  // Under a restart policy: generation g (counted on from SHARDLEARN_GENERATION) meets at the lowest
  // surviving rank's host, MASTER_PORT + g (runtime/elastic.ts `reformedMaster`).
  // With a membership (etcd's), generation g is the rendezvous' own and meets where its world says.
  let last: ElasticPlace | undefined;
  const { membership, staticGrowth } = extra;
  // A newcomer's first generation meets where its admission says.
  let admittedAt: { masterAddr: string; masterPort: number } | undefined;
  const elastic: ElasticSetup | undefined =
    job.elastic === undefined
      ? undefined
      : {
          join: async (at, previous, onPeerLost) => {
            const master =
              membership !== undefined
                ? membership.masterOf(at)
                : previous === undefined && admittedAt !== undefined
                  ? admittedAt
                  : previous === undefined || last === undefined
                    ? place
                    : reformedMaster(at, last, place, (oldRank) => previous.hostOf(oldRank));
            last = at;
            return (comm = await ZmqCommunicator.join({
              rank: at.rank,
              size: at.size,
              masterAddr: master.masterAddr,
              masterPort: master.masterPort,
              host: place.host,
              secret: readSecret(),
              jobId: place.jobId,
              generation: membership !== undefined ? at.generation : place.generation + at.generation,
              timeoutMs: job.timeoutMs,
              onPeerLost,
              ...straggler,
              ...(extra.insecure === true ? { insecure: true } : {}),
              ...(extra.collectiveLane === true ? { collectiveLane: true } : {}),
            }));
          },
          ...(extra.rows === undefined ? {} : { rows: extra.rows }),
          ...(membership === undefined ? {} : membershipHooks(membership, job.timeoutMs)),
          ...(staticGrowth === undefined
            ? {}
            : {
                membership: staticGrowth.membership,
                ...(staticGrowth.admission === undefined
                  ? {}
                  : {
                      newcomer: async () => {
                        const admitted = await staticGrowth.admission!();
                        admittedAt = { masterAddr: admitted.masterAddr, masterPort: admitted.masterPort };
                        return admitted.place;
                      },
                    }),
              }),
        };
  try {
    const result = await runRank<State>(job, {
      rank: place.rank,
      size: place.worldSize,
      paradigm: 'cluster',
      comm: join,
      ...(extra.model === undefined ? {} : { model: extra.model }),
      ...(extra.progress === undefined ? {} : { progress: extra.progress }),
      ...(elastic === undefined ? {} : { elastic }),
    });
    return { result, comm: comm! };
  } catch (error) {
    await comm?.close(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    throw error;
  }
}

/** Every rank's figures, index = rank, by one all-reduce: rank r fills row r of a table of zeros. */
async function gatherResults<State>(comm: ZmqCommunicator, own: RankResult<State>, size: number): Promise<Omit<RankResult, 'state'>[]> {
  // The row: the communication statistics, then compute and CPU ms (NaN: unknown on that rank), rows, peak RSS bytes.
  const width = STAT_FIELDS.length + 4;
  const table = new Float64Array(size * width);
  const row = own.rank * width;
  STAT_FIELDS.forEach((field, k) => (table[row + k] = own.stats[field]));
  table[row + STAT_FIELDS.length] = own.computeMs;
  table[row + STAT_FIELDS.length + 1] = own.cpuMs ?? NaN;
  table[row + STAT_FIELDS.length + 2] = own.rows;
  table[row + STAT_FIELDS.length + 3] = own.peakRssBytes ?? NaN;
  await comm.allReduce(table, 'sum');
  return Array.from({ length: size }, (_, rank) => {
    const base = rank * width;
    const stats = Object.fromEntries(STAT_FIELDS.map((field, k) => [field, table[base + k]!])) as unknown as CommStats;
    const cpuMs = table[base + STAT_FIELDS.length + 1]!;
    const computeMs = table[base + STAT_FIELDS.length]!;
    const peakRssBytes = table[base + STAT_FIELDS.length + 3]!;
    return {
      rank,
      stats,
      trainMs: computeMs + stats.commMs,
      computeMs,
      cpuMs: Number.isNaN(cpuMs) ? undefined : cpuMs,
      rows: table[base + STAT_FIELDS.length + 2]!,
      peakRssBytes: Number.isNaN(peakRssBytes) ? undefined : peakRssBytes,
      ...(own.preprocess === undefined ? {} : { preprocess: own.preprocess }),
      ...(rank === own.rank && own.rounds !== undefined ? { rounds: own.rounds } : {}),
    };
  });
}

/**
 * The elastic hooks of a rendezvous-driven membership: its places, newcomers, and the world it agrees
 * after a loss (waited for up to `timeoutMs`: etcd's lease TTL, then its watch, lie within it).
 */
function membershipHooks(membership: RendezvousMembership, timeoutMs: number): Partial<ElasticSetup> {
  const first = membership.placeOf(membership.first, 0);
  return {
    membership,
    ...(membership.newcomer ? { newcomer: () => Promise.resolve(first) } : { first }),
    reform: async (old, lost, derived) => {
      const lostMembers = lost.map((rank) => old.members[rank]!);
      const world = await membership.without(old.version, lostMembers, timeoutMs);
      const next = membership.placeOf(world, derived.restarts);
      const newcomers = next.members.filter((member) => !old.members.includes(member));
      if (newcomers.length > 0)
        throw new ConfigError(
          `rendezvous generation ${world.generation} takes in ${newcomers.length} new rank(s) while the survivors re-form after a loss; ` +
            'start new ranks once the world has re-formed (they join at an epoch boundary)',
          { field: 'rendezvous' },
        );
      return next;
    },
  };
}
