/**
 * One rank body for every paradigm. A `RankJob` (serialisable: it crosses thread and process
 * boundaries) says what to train; `runRank` runs it on one rank, the same way whether the rank is
 * the calling thread (sequential), a worker thread (threads), a child process (processes) or a
 * process on another host (cluster, and its network-namespace ranks): it rebuilds or verifies the
 * model, builds this rank's rows (keeping their row keys), scales them when the job says so, builds
 * the strategy, runs the model's SPMD `train`, and accounts compute, communication and CPU time.
 * A paradigm supplies only what differs: the communicator (or how to join one), its start-up, and
 * how a `RankMessage` reaches the launcher.
 *
 * @example
 * const result = await runRank(job, { rank, size, paradigm: 'processes', comm: () => ZmqCommunicator.join(…) });
 * post({ type: 'result', ...resultForLauncher(result) });
 */
import { readFileSync } from 'node:fs';
import type { CommStats, Communicator } from '../comm/communicator.js';
import { emptyStats } from '../comm/communicator.js';
import { CommError, ConfigError, ShardlearnError } from '../core/errors.js';
import { Dataset } from '../data/dataset.js';
import type { DatasetInit } from '../data/dataset.js';
import { loadData } from '../data/load.js';
import { trainTestSplit } from '../data/split.js';
import type {
  ModelFitOptions,
  ProgressEvent,
  RecoveryHooks,
  SharedRows,
  TrainContext,
  Trainable,
  TrainingSnapshot,
} from '../models/context.js';
import type { DataSource, FaultRecord, JoinRecord, Paradigm } from '../models/paradigm.js';
import { createModel, modelNames } from '../models/registry.js';
import { createStrategy } from '../strategies/index.js';
import type { RoundStats } from '../strategies/index.js';
import { compressionOf } from './compression.js';
import type { ElasticCommunicator, ElasticPlace, ElasticPolicy } from './elastic.js';
import {
  REFORM_CLOSE_WAIT_MS,
  SnapshotRing,
  adoptRankZero,
  agreedStep,
  faultRecord,
  firstPlace,
  lostPeers,
  nextPlace,
  recoverable,
  synchronousStrategy,
} from './elastic.js';
import type { Membership } from './elastic-growth.js';
import { MembershipChange, agreeMembership, joinRecord, shareSnapshot } from './elastic-growth.js';
import { processPeakRssBytes } from './peak-rss.js';
import type { StampedEvent } from './progress.js';
import { batchedProgress } from './progress.js';
import { scaleByAllReduce } from './scale.js';
import { rowBoardSummer } from './row-board.js';
import { sharedZeros } from './row-arrays.js';

/** Where a rank's training rows come from. */
export type RankData =
  /**
   * Rows [start, end) of `init` (a whole shared dataset under threads; the shipped shard elsewhere);
   * under threads also every rank's first row in `init`, in rank order, then its row count
   * (TrainContext.shared.shardStarts).
   */
  | { kind: 'rows'; init: DatasetInit; start: number; end: number; starts?: number[] }
  /** This rank's shard of a source it loads itself (data locality: no row crosses the launcher). */
  | { kind: 'source'; source: DataSource };

/** What one rank runs. Serialisable (structured clone); the same for every rank of a job but `data`. */
export interface RankJob {
  /** Registry name and hyperparameters: each rank builds its own model. */
  model: { name: string; params: Record<string, unknown> };
  data: RankData;
  /** Strategy name (createStrategy). */
  strategy: string;
  /** Longest wait on a peer, in ms (the communicator's timeout). */
  timeoutMs: number;
  /** file: URLs a rank imports first: where models registered outside shardlearn live. */
  modules: readonly string[];
  /** Settings passed untouched to the model as TrainContext.options (see job.ts `rankOptions`). */
  options: Readonly<ModelFitOptions>;
  /** The restart policy (runtime/elastic.ts), where the paradigm re-forms on a lost rank. */
  elastic?: ElasticPolicy;
  /** A collective's wait on one peer that lasts this long logs a warning naming it (0: never). */
  stragglerWarningMs?: number;
}

/** What a rank hands back. `state` is the learned state (the same on every rank). */
export interface RankResult<State = unknown> {
  rank: number;
  state: State;
  stats: CommStats;
  /** Wall time of `train`, in ms. */
  trainMs: number;
  /** trainMs less the communication time within it: time `train` spent outside communication. */
  computeMs: number;
  /** CPU time of the rank's thread during `train` (Linux), in ms; undefined where unknown. */
  cpuMs: number | undefined;
  /** Rows this rank trained on (its shard). */
  rows: number;
  /**
   * Peak resident set size of the rank's process after training (VmHWM: runtime/peak-rss.ts),
   * bytes; undefined where unknown. Ranks that are threads share one process, so they all report it.
   */
  peakRssBytes?: number | undefined;
  /** The scaler fitted by all-reduce (source.scale), as toJSON(). */
  preprocess?: unknown;
  /** The lost ranks this rank survived by re-forming (rank 0 of the last generation reports them). */
  faults?: FaultRecord[];
  /** What the rounds aggregated and dropped (ps-sync with backup workers or a deadline; rank 0). */
  rounds?: RoundStats;
  /** The newcomers this rank saw join at epoch boundaries (rank 0 of the last generation reports them). */
  joins?: JoinRecord[];
}

/**
 * The one message type between a rank and its launcher, whatever carries it (postMessage, IPC, a
 * file): ready to train, rank 0's progress, the result, or a failure with its code and the peer
 * (rank, host) it names. Times are absolute (performance.timeOrigin + now), comparable across ranks.
 */
export type RankMessage =
  | { type: 'ready'; rank: number }
  | { type: 'progress'; rank: number; events: StampedEvent[] }
  | ({ type: 'result' } & RankResult)
  | RankErrorReport;

export interface RankErrorReport {
  type: 'error';
  rank: number;
  name: string;
  code: string | undefined;
  /** The peer the error names (a lost or silent rank), when it names one. */
  peer: number | undefined;
  host: string | undefined;
  message: string;
  stack: string | undefined;
}

/** What a paradigm gives the rank body besides the job. */
export interface RankSetup {
  rank: number;
  size: number;
  paradigm: Paradigm;
  /** The communicator, or how to make one (join a ZeroMQ world): called once the model is known to exist. */
  comm: Communicator | (() => Promise<Communicator>);
  /** The caller's own model object (in-process paradigms); else the model is rebuilt from the registry. */
  model?: Trainable<unknown>;
  /** `rows` data readable by every rank at no cost (threads): the model gets TrainContext.shared. */
  sharedRows?: boolean;
  /** The threads' shared parameter arena (Hogwild trains in it). */
  sharedParams?: Float64Array;
  /** The threads' row-pass board (row-board.ts): with `sharedRows`, the model's row passes are shared out dynamically. */
  rowBoard?: SharedArrayBuffer;
  /**
   * The job's registry of per-row arrays in the kernel memory every rank shares (row-arrays.ts):
   * with `sharedRows`, the model gets SharedRows.zeros. Only where every rank's kernels run over the
   * launcher's memory.
   */
  rowArrays?: Float64Array;
  /** Rank 0's progress events, batched at most every `progressIntervalMs` (0: each at once). */
  progress?: (events: StampedEvent[]) => void;
  progressIntervalMs?: number;
  /** Called on every progress report of any rank (a liveness sign for a watchdog). */
  heartbeat?: () => void;
  /** Called when the rank is built; training starts when it resolves (threads: once every rank is ready). */
  ready?: () => Promise<void>;
  /** How to join each generation when the job has a restart policy (processes, cluster); `comm` is then unused. */
  elastic?: ElasticSetup;
}

/** What a paradigm gives an elastic rank (runtime/elastic.ts). */
export interface ElasticSetup {
  /**
   * Join generation `place.generation` as `place.rank` of `place.size`; tell `onPeerLost` of every
   * peer the transport finds lost. `previous`: the generation it re-forms from (its peers' hosts).
   */
  join(place: ElasticPlace, previous: ElasticCommunicator | undefined, onPeerLost: (rank: number) => void): Promise<ElasticCommunicator>;
  /** This rank's rows in a re-formed world, when the job ships rows rather than a source (processes: from the launcher). */
  rows?(place: ElasticPlace): Promise<RankData>;
  /** How this rank hears of newcomers, who join at the next epoch boundary (runtime/elastic-growth.ts); absent: the world only shrinks. */
  membership?: Membership;
  /** This rank is a newcomer to a running fit: announce itself and resolve with the place it was admitted at. */
  newcomer?(): Promise<ElasticPlace>;
  /** This rank's place in the first generation, when the paradigm's rendezvous gives one (etcd); default firstPlace(rank, size). */
  first?: ElasticPlace;
  /**
   * The place after `lost` (ranks of `old`) were lost, when the rendezvous decides it (etcd: the
   * world agreed once their leases lapse); `derived` is the survivors' own derivation, which has
   * passed the policy. Default: `derived`.
   */
  reform?(old: ElasticPlace, lost: readonly number[], derived: ElasticPlace): Promise<ElasticPlace>;
}

/** Run `job` on one rank; see the module comment. The communicator is the caller's to close. */
export async function runRank<State>(job: RankJob, setup: RankSetup): Promise<RankResult<State>> {
  const model = (setup.model ?? (await rebuildModel(job, setup.paradigm))) as Trainable<State>;
  if (job.elastic !== undefined && setup.elastic !== undefined) return runElastic(job, setup, model, job.elastic, setup.elastic);
  const comm = typeof setup.comm === 'function' ? await setup.comm() : setup.comm;
  const attempt = await trainOnce(job, job.data, setup, model, comm, { rank: setup.rank, size: setup.size }, undefined, true);
  const stats = { ...comm.stats };
  return {
    rank: setup.rank,
    state: attempt.state,
    stats,
    trainMs: attempt.trainMs,
    computeMs: attempt.trainMs - (stats.commMs - attempt.commMsBefore),
    cpuMs: attempt.cpuMs,
    rows: attempt.rows,
    peakRssBytes: processPeakRssBytes(),
    ...(attempt.preprocess === undefined ? {} : { preprocess: attempt.preprocess }),
    ...(attempt.rounds === undefined ? {} : { rounds: attempt.rounds }),
  };
}

interface Attempt<State> {
  state: State;
  trainMs: number;
  cpuMs: number | undefined;
  rows: number;
  preprocess: unknown;
  /** The communicator's commMs before training (the scaler's all-reduces are not in trainMs). */
  commMsBefore: number;
  rounds: RoundStats | undefined;
}

/** One training of `model` on `data` over `comm` at `place`: rows, scaler, strategy, context, train. */
async function trainOnce<State>(
  job: RankJob,
  data: RankData,
  setup: RankSetup,
  model: Trainable<State>,
  comm: Communicator,
  place: { rank: number; size: number },
  recovery: RecoveryHooks | undefined,
  first: boolean,
  options: Readonly<ModelFitOptions> = job.options,
): Promise<Attempt<State>> {
  const rows = await rowsFor(data, setup, place);
  let shard = rows.shard;
  let preprocess: unknown;
  if (data.kind === 'source' && data.source.scale !== undefined) {
    ({ data: shard, scaler: preprocess } = await scaleByAllReduce(shard, data.source.scale, comm));
  }
  const strategy = createStrategy(job.strategy, {
    comm,
    sharedParams: setup.sharedParams,
    compression: compressionOf(options),
    bucketBytes: options.bucketBytes,
  });
  // Rank 0 speaks for the run (nanoGPT's master_process); every report is also a liveness sign.
  const progress = batchedProgress(place.rank, setup.progressIntervalMs ?? 0, setup.progress ?? (() => undefined));
  const report = (event: ProgressEvent): void => {
    setup.heartbeat?.();
    progress.report(event);
  };
  let checkpointsAccepted = false;
  const acceptCheckpoints = (): void => {
    checkpointsAccepted = true;
  };
  const context: TrainContext = {
    comm,
    strategy,
    report,
    options,
    model: { name: model.name, params: model.params },
    acceptCheckpoints,
    ...(rows.shared === undefined
      ? {}
      : { shared: setup.rowArrays === undefined ? rows.shared : { ...rows.shared, zeros: sharedZeros(comm, setup.rowArrays) } }),
    ...(rows.shared === undefined || setup.rowBoard === undefined ? {} : { sumRows: rowBoardSummer(rows.shared, setup.rowBoard, comm) }),
    ...(recovery === undefined ? {} : { recovery }),
  };
  if (first) await setup.ready?.();
  // Communication before training (the scaler's all-reduces) is counted in `stats`, not in trainMs.
  const commMsBefore = comm.stats.commMs;
  const started = performance.now();
  const cpuStarted = threadCpuMs();
  let state: State;
  try {
    state = await model.train(shard, context);
  } finally {
    progress.flush();
  }
  if (options.checkpoint !== undefined && !checkpointsAccepted && place.rank === 0) {
    process.stderr.write(
      `shardlearn: warning: ${model.name} does not write checkpoints (only models trained by mini-batch SGD do); --checkpoint-dir was ignored\n`,
    );
  }
  const trainMs = performance.now() - started;
  const cpuEnded = threadCpuMs();
  return {
    state,
    trainMs,
    cpuMs: cpuStarted === undefined || cpuEnded === undefined ? undefined : cpuEnded - cpuStarted,
    rows: shard.rows,
    preprocess,
    commMsBefore,
    rounds: strategy.rounds?.(),
  };
}

/**
 * `runRank` under a restart policy (runtime/elastic.ts): train; on a lost peer, abandon the
 * generation, re-form with the survivors, reload the agreed step boundary (or the newest checkpoint
 * file) and the new shard, and train again from there, as long as the policy allows. With a
 * membership (runtime/elastic-growth.ts), newcomers are taken in at epoch boundaries: every member
 * leaves the loop there, joins the grown generation, takes rank 0's state and its new shard; a
 * newcomer starts by waiting for its place and receiving that state.
 */
async function runElastic<State>(
  job: RankJob,
  setup: RankSetup,
  model: Trainable<State>,
  policy: ElasticPolicy,
  elastic: ElasticSetup,
): Promise<RankResult<State>> {
  const newcomer = elastic.newcomer;
  let place = newcomer === undefined ? (elastic.first ?? firstPlace(setup.rank, setup.size)) : await newcomer();
  let data = job.data;
  let options = job.options;
  // Synchronous strategies resume at a step every survivor holds; asynchronous ones at an epoch boundary, from rank 0's state.
  const synchronous = synchronousStrategy(job.strategy);
  const ring = new SnapshotRing(synchronous ? (snapshot) => snapshot.step : (snapshot) => snapshot.epoch);
  const faults: FaultRecord[] = [];
  const joins: JoinRecord[] = [];
  const totals = { ...emptyStats() };
  let comm: ElasticCommunicator | undefined;
  let noticedAt: number | undefined;
  const join = async (at: ElasticPlace, previous: ElasticCommunicator | undefined): Promise<ElasticCommunicator> => {
    // The callback can run while joining, before the communicator exists: it aborts through this holder.
    const holder: { comm?: ElasticCommunicator } = {};
    const joined = await elastic.join(at, previous, (lost) => {
      noticedAt ??= performance.now();
      // Fail every wait now, on whichever peer: the survivors are all leaving this generation.
      holder.comm?.abort(
        new CommError('PEER_LOST', `rank ${lost} was lost; leaving generation ${at.generation} to re-form`, { rank: lost }),
      );
    });
    holder.comm = joined;
    // A loss seen while joining: the join itself failed or will; otherwise abort now.
    const seen = joined.lostRanks();
    if (seen.length > 0) joined.abort(new CommError('PEER_LOST', `rank ${seen[0]} was lost while joining`, { rank: seen[0]! }));
    return joined;
  };
  /** A re-formed world's shard of `rows` data, from the paradigm. */
  const reshard = async (at: ElasticPlace, cause?: unknown): Promise<RankData> => {
    if (data.kind !== 'rows') return data;
    if (elastic.rows === undefined)
      throw new ConfigError(
        'this rank holds only its own rows and cannot re-shard: give the ranks a data source they load their shards from',
        {
          field: 'source',
          cause,
        },
      );
    return elastic.rows(at);
  };
  let resume: TrainingSnapshot | undefined;
  comm = await join(place, undefined);
  if (newcomer !== undefined) {
    // Admitted at an epoch boundary: rank 0 hands over the state the others hold there.
    data = await reshard(place);
    resume = await shareSnapshot(comm, undefined);
    ring.keep(resume);
  }
  const trainStarted = performance.now();
  let pending: Omit<Parameters<typeof faultRecord>[0], 'resumedAt'> | undefined;
  let pendingJoin: Omit<Parameters<typeof joinRecord>[0], 'resumedAt'> | undefined;
  let boundaryAt = 0;
  let first = true;
  for (;;) {
    let resumedAt: number | undefined;
    const current = comm;
    const recovery: RecoveryHooks = {
      ...(resume === undefined ? {} : { resume }),
      stepDone: (take) => ring.keep(take()),
      started: () => {
        resumedAt ??= performance.now();
      },
      ...(elastic.membership === undefined
        ? {}
        : {
            epochDone: async () => {
              const next = await agreeMembership(current, elastic.membership!, place, policy);
              if (next === undefined) return;
              boundaryAt = performance.now();
              throw new MembershipChange(next);
            },
          }),
    };
    const attemptStarted = performance.now();
    const finishFault = (): void => {
      if (pendingJoin !== undefined) joins.push(joinRecord({ ...pendingJoin, resumedAt: resumedAt ?? attemptStarted }));
      pendingJoin = undefined;
      if (pending === undefined) return;
      faults.push(faultRecord({ ...pending, resumedAt: resumedAt ?? attemptStarted }));
      pending = undefined;
    };
    try {
      const attempt = await trainOnce(job, data, setup, model, comm, place, recovery, first, options);
      finishFault();
      for (const field of STAT_FIELDS) totals[field] += comm.stats[field];
      const trainMs = performance.now() - trainStarted;
      return {
        rank: place.rank,
        state: attempt.state,
        stats: totals,
        trainMs,
        computeMs: trainMs - totals.commMs,
        cpuMs: attempt.cpuMs,
        rows: attempt.rows,
        peakRssBytes: processPeakRssBytes(),
        ...(attempt.preprocess === undefined ? {} : { preprocess: attempt.preprocess }),
        ...(faults.length === 0 ? {} : { faults }),
        ...(joins.length === 0 ? {} : { joins }),
      };
    } catch (error) {
      finishFault();
      first = false;
      if (error instanceof MembershipChange) {
        // Newcomers join at this epoch boundary: every member left the loop here, with the same state.
        const old = place;
        place = error.next;
        const own = ring.newest();
        for (const field of STAT_FIELDS) totals[field] += comm.stats[field];
        const previous = comm;
        await previous.close(`growing to ${place.size} ranks`, REFORM_CLOSE_WAIT_MS);
        if (place.rank === 0) {
          elastic.membership?.admitted?.(place);
          const added = place.members.filter((id) => !old.members.includes(id));
          process.stderr.write(
            `shardlearn: ${added.length} newcomer${added.length === 1 ? '' : 's'} join; ${place.size} workers form generation ${place.generation}\n`,
          );
        }
        data = await reshard(place, error);
        comm = await join(place, previous);
        resume = await shareSnapshot(comm, own);
        ring.clear();
        ring.keep(resume);
        pendingJoin = { from: old, to: place, seenAt: elastic.membership?.seenAt(old.version + 1), boundaryAt, epoch: resume.epoch };
        noticedAt = undefined; // the old generation's goodbyes are no fault
        continue;
      }
      if (!recoverable(error)) throw error;
      noticedAt ??= performance.now();
      const lost = await lostPeers(comm);
      if (lost.length === 0) throw error; // nobody died: a real failure, not a loss to survive
      const old = place;
      const lostAtLaunch = lost.map((r) => old.members[r]!);
      const cause = new CommError('PEER_LOST', error.message, { rank: lostAtLaunch[0]!, cause: error });
      place = nextPlace(old, lost, policy, cause);
      if (elastic.reform !== undefined) place = await elastic.reform(old, lost, place);
      const lastStep = ring.newestStep();
      const lastStepAt = ring.newestAt() ?? attemptStarted;
      for (const field of STAT_FIELDS) totals[field] += comm.stats[field];
      const previous = comm;
      await previous.close(`re-forming without rank ${lostAtLaunch.join(', ')}`, REFORM_CLOSE_WAIT_MS);
      if (setup.rank === old.members[0] || place.rank === 0)
        process.stderr.write(
          `shardlearn: rank ${lostAtLaunch.join(', ')} lost; ${place.size} workers re-form as generation ${place.generation}\n`,
        );
      data = await reshard(place, error);
      comm = await join(place, previous);
      const joinedAt = performance.now();
      const step = await agreedStep(comm, ring); // a step, or an epoch for asynchronous strategies
      if (options.checkpoint !== undefined) {
        // A checkpoint folder: every rank reloads the newest checkpoint file (rank 0 reads and broadcasts it).
        options = { ...options, checkpoint: { ...options.checkpoint, resume: true } };
        resume = undefined;
      } else {
        resume = step < 0 ? undefined : ring.at(step);
        if (step >= 0 && resume === undefined)
          throw new CommError(
            'COMM',
            `the re-formed world resumes at ${synchronous ? 'step' : 'epoch'} ${step}, which this rank no longer holds`,
            {
              cause: error,
            },
          );
        if (resume !== undefined && !synchronous) resume = await adoptRankZero(comm, resume);
      }
      ring.clear();
      if (resume !== undefined) ring.keep(resume);
      pending = {
        lost: lostAtLaunch,
        generation: place.generation,
        workers: place.size,
        lastStepAt,
        noticedAt,
        joinedAt,
        resumedStep: resume?.step ?? -1,
        lastStep,
      };
      noticedAt = undefined;
    }
  }
}

const STAT_FIELDS = ['bytesSent', 'bytesReceived', 'messagesSent', 'messagesReceived', 'collectives', 'commMs'] as const;

/** The result as a rank posts it: only rank 0 carries the state (every rank has the same one). */
export function resultForLauncher(result: RankResult): Extract<RankMessage, { type: 'result' }> {
  return { type: 'result', ...result, state: result.rank === 0 ? result.state : null };
}

/** This rank's rows: a view of `rows` data (row keys kept), or its own shard of a source, split locally. */
async function rowsFor(
  data: RankData,
  setup: RankSetup,
  place: { rank: number; size: number },
): Promise<{ shard: Dataset; shared: SharedRows | undefined }> {
  if (data.kind === 'rows') {
    const whole = data.init instanceof Dataset ? data.init : new Dataset(data.init);
    const shard = data.start === 0 && data.end === whole.rows ? whole : whole.slice(data.start, data.end);
    if (setup.sharedRows !== true) return { shard, shared: undefined };
    return { shard, shared: { data: whole, first: data.start, ...(data.starts === undefined ? {} : { shardStarts: data.starts }) } };
  }
  const { source } = data;
  const loaded = await loadData(source.spec, { ...(source.load ?? {}), shard: { rank: place.rank, worldSize: place.size } });
  // The split is a per-row hash of global row keys, so each shard splits alone and agrees with the whole.
  const shard = loaded.test === null && source.split !== undefined ? trainTestSplit(loaded.train, source.split).train : loaded.train;
  return { shard, shared: undefined };
}

/** The models the library itself registers, as first seen by this thread (a pooled worker keeps them). */
let builtinModels: Set<string> | undefined;
/** Per module, the model names importing it registered (imports are cached: a second import adds none). */
const registeredBy = new Map<string, string[]>();

/**
 * Import the job's modules and build its model. A pooled thread has also imported earlier jobs'
 * modules, but a job sees only what a fresh rank would: the library's models and its own modules'.
 */
async function rebuildModel(job: RankJob, paradigm: Paradigm): Promise<Trainable<unknown>> {
  builtinModels ??= new Set(modelNames());
  const known = new Set(builtinModels);
  for (const module of job.modules) {
    let added = registeredBy.get(module);
    if (added === undefined) {
      const before = new Set(modelNames());
      await import(module);
      added = modelNames().filter((name) => !before.has(name));
      registeredBy.set(module, added);
    }
    for (const name of added) known.add(name);
  }
  if (!known.has(job.model.name)) {
    const where = paradigm === 'threads' ? 'worker threads' : paradigm === 'processes' ? 'worker processes' : `${paradigm} ranks`;
    throw new ConfigError(
      `model '${job.model.name}' is not registered in the ${where}; if you registered it yourself, ` +
        `pass the module that registers it in fit options { workerModules: [...] }. Registered: ${[...known].join(', ')}`,
      { field: 'model' },
    );
  }
  return createModel(job.model.name, job.model.params) as Trainable<unknown>;
}

/**
 * CPU time this thread has used, in ms, from Linux's /proc/thread-self/stat (utime + stime, fields
 * 14 and 15, in USER_HZ = 100 ticks per second); undefined elsewhere. Unlike wall time it does not
 * grow when other processes compete for the cores, so it shows the work a rank did. The rank's own
 * thread in every paradigm (ZeroMQ's I/O threads are not counted), so the paradigms compare.
 */
export function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The report of a rank's failure: a typed error keeps its code and the peer (rank, host) it names. */
export function errorReport(rank: number, error: unknown): RankErrorReport {
  const known = error instanceof ShardlearnError ? error : null;
  const named = known as { rank?: number; host?: string } | null;
  return {
    type: 'error',
    rank,
    name: error instanceof Error ? error.name : 'Error',
    code: known?.code,
    peer: named?.rank,
    host: named?.host,
    message: error instanceof Error ? error.message : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  };
}
