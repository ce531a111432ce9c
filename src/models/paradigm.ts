/**
 * The seam between models and paradigms. `Estimator.fit` asks for the launcher of a paradigm;
 * `runtime/` registers one per paradigm (it is the one place that knows them), so model code never
 * imports a transport. Registering a paradigm twice throws.
 */
import type { CommStats } from '../comm/communicator.js';
import type { RendezvousBackend } from '../comm/rendezvous-backend.js';
import { ConfigError, ShardlearnError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { LoadOptions } from '../data/load.js';
import type { ModelFitOptions, ProgressEvent, Trainable } from './context.js';
import type { PipelineSettings } from './neural/pipeline/settings.js';
import type { FederatedInfo, FederatedOptions } from '../federated/settings.js';
import type { RoundStats } from '../strategies/strategy.js';

export type Paradigm = 'sequential' | 'threads' | 'processes' | 'cluster' | 'federated';
export const PARADIGMS: readonly Paradigm[] = ['sequential', 'threads', 'processes', 'cluster', 'federated'];

/** How to fit: the runtime's settings (paradigm, workers, …) and the model's own (ModelFitOptions). */
export interface FitOptions extends ModelFitOptions {
  paradigm?: Paradigm;
  /** Number of workers (world size); 1 for sequential. */
  workers?: number;
  /** How gradients are combined for SGD-trained models (`allreduce`, `hogwild`, …). */
  strategy?: string;
  /** Called on the caller's thread as rank 0 reports progress. */
  onProgress?: (event: ProgressEvent & { elapsedMs: number }) => void;
  /** Give up (and stop all workers) when no worker has made progress for this long. */
  timeoutMs?: number;
  /**
   * Modules (paths or file: URLs) every worker imports before rebuilding the model — where a custom
   * model registered with `registerModel` outside shardlearn lives. Paradigms with workers only.
   */
  workerModules?: readonly string[];
  /**
   * Where the training rows come from, for paradigms whose workers load their own shard (data
   * locality: `processes` workers call loadData(spec, { shard }) and split locally, so no training
   * row passes through the caller). Without it, `processes` ships each worker its slice of `data`
   * once at start (counted in FitInfo.setupBytes, apart from training communication).
   */
  source?: DataSource;
  /**
   * A network profile for the rank-to-rank links (`processes` only; other paradigms refuse it):
   * every connection goes through a seeded delaying/throttling TCP proxy on loopback, so a run can
   * show how a model and strategy behave on a slower network. Results are unchanged bit for bit.
   *
   * @example
   * await model.fit(data, { paradigm: 'processes', workers: 2, network: { latencyMs: 5, bandwidthMbit: 100 } });
   */
  network?: NetworkProfile;
  /**
   * `threads` only: keep the worker threads of a successful fit alive (idle, not holding the process
   * open, terminated after 30 s unused) and reuse them for the next fit, which then skips their
   * start-up (importing the library, compiling the kernels: 0.1–0.5 s). Default true; false starts
   * fresh threads and terminates them after the fit. `shutdownThreadPool()` ends idle ones at once.
   *
   * @example
   * await model.fit(data, { paradigm: 'threads', workers: 2, reuseThreads: false });
   */
  reuseThreads?: boolean;
  /**
   * `processes` only: keep the child processes of a successful fit alive (idle, not holding this
   * process open, killed after 30 s unused or when it exits) and hand them the next pooled fit,
   * which then skips their start-up (fork, Node's boot, importing the library: 0.15–0.35 s each).
   * The children also keep their ZeroMQ world, and the next pooled fit with as many workers (and
   * the same timeouts) renews it instead of joining a new one: every rank proves the new job's
   * secret to every other first (comm/zmq/renewal.ts); ~10 ms less start-up per fit here.
   * SHARDLEARN_KEEP_WORLDS=0 joins a fresh world every fit. Every job still gets a fresh job id,
   * secret and local folder. Default false. Elastic runs (minWorkers/maxRestarts) and `inject` never
   * use the pool; under a network profile no world is kept. `shutdownProcessPool()` ends idle children at once.
   *
   * @example
   * await model.fit(data, { paradigm: 'processes', workers: 2, reuseProcesses: true });
   */
  reuseProcesses?: boolean;
  /**
   * `cluster` only, and only when named (the CLI's `--insecure-transport`): the ranks talk plain TCP
   * without CURVE, for isolated networks where encryption only costs time. Nothing is encrypted; a
   * hello must still prove the job secret. Recorded as FitInfo.transport 'zmq-plain-tcp' ('lane-tcp-plain'
   * with the lane between hosts, collectiveLane). Every
   * rank of the job must set it. Other paradigms refuse it (`processes` already uses the local path).
   */
  insecureTransport?: boolean;
  /**
   * `cluster` only (the CLI's `--collective-lane`): carry the collectives on the collective lane
   * between hosts — TCP sockets beside ZeroMQ, written and read by the rank's own thread — every
   * record sealed with AES-256-GCM under per-connection keys (plain with `insecureTransport`), instead
   * of on ZeroMQ with CURVE; rendezvous, goodbyes and point-to-point messages stay on ZeroMQ. Recorded
   * as FitInfo.transport 'lane-tcp-aesgcm' ('lane-tcp-plain'). Every rank of the job must agree: a rank
   * that does not is refused at the join, naming the setting. Default off (CURVE), unless
   * SHARDLEARN_COLLECTIVE_LANE=1; measured against CURVE and gloo in docs/distributed.md ("Across hosts").
   */
  collectiveLane?: boolean;
  /**
   * `cluster` only: how this rank learns the world (its rank, the world size, rank 0's address).
   * Default: the static rendezvous of the environment (MASTER_ADDR, WORLD_SIZE, RANK, or what Slurm
   * and Kubernetes set). An `EtcdRendezvous` agrees on the world through etcd, with leases and
   * generations (CLI `--rdzv-backend etcd`). The caller owns it: call its `leave()` when done.
   *
   * @example
   * const rendezvous = new EtcdRendezvous({ endpoint: '10.0.0.5:2379', jobId: 'run-7', minWorkers: 2, maxWorkers: 2 });
   * const { rank, worldSize } = await rendezvous.join();
   * await model.fit(myShard, { paradigm: 'cluster', rendezvous });
   */
  rendezvous?: RendezvousBackend;
  /**
   * `federated` only: the federation (clients, sampling, rounds, local epochs, partition, aggregator,
   * faults); see federated/settings.ts and docs/federated.md.
   *
   * @example
   * await new MLP().fit(train, { paradigm: 'federated', federated: { clients: 100, fraction: 0.1, rounds: 50, localEpochs: 5, partition: 'dirichlet:0.5' } });
   */
  federated?: FederatedOptions;
  /**
   * The restart policy (torchrun's `--nnodes MIN:MAX` and `--max-restarts`; CLI `--min-workers`,
   * `--max-workers`, `--max-restarts`). `processes` and `cluster` under allreduce, ps-sync or ps-async: when a
   * rank is lost the others re-form the world in place as a new generation of at least `minWorkers`
   * ranks, reload the last step boundary (or the newest checkpoint with `checkpoint.dir`), re-shard the
   * data and go on. `threads`: a failed run restarts from the checkpoint with the same workers. At
   * most `maxRestarts` times (default 3 when `minWorkers` is below `workers`, else 0). See
   * docs/distributed.md, "Faults and elastic training".
   *
   * @example
   * await model.fit(data, { paradigm: 'processes', workers: 3, minWorkers: 2, source });
   */
  minWorkers?: number;
  /**
   * The largest world size the policy allows (≥ workers): a replacement (`processes`, within
   * `maxRestarts`) or a rank registered in etcd (`cluster`) joins at the next epoch boundary while the
   * world is smaller. See docs/distributed.md, "Growth".
   */
  maxWorkers?: number;
  maxRestarts?: number;
  /**
   * Seconds a synchronous collective waits on one peer before a warning names it (CLI
   * `--straggler-warning`; Horovod's stall warning: 60 s). 0 turns it off. `processes` and `cluster`.
   */
  stragglerWarningSeconds?: number;
  /**
   * Inject one fault, for measuring what a fault costs (`shardlearn compare`'s fault cells): the
   * launcher sends `signal` to one rank's process once rank 0's progress passes a fraction of the
   * run; the rank and the fraction are drawn from `seed` unless given. `processes` (and compare's
   * namespace cluster); other paradigms refuse it. What was done is FitInfo.injected. See
   * runtime/fault-injection.ts.
   *
   * @example
   * await model.fit(data, { paradigm: 'processes', workers: 3, minWorkers: 2, inject: { signal: 'SIGKILL', seed: 7 } });
   */
  inject?: FaultInjection;
}

/** One injected fault (FitOptions.inject). */
export interface FaultInjection {
  /** SIGKILL: the rank dies; SIGSTOP: it freezes for `holdMs`, then gets SIGCONT. */
  signal: 'SIGKILL' | 'SIGSTOP';
  /** The rank (at launch) to signal; default a seeded choice among all ranks. */
  rank?: number;
  /** Fraction of the run (rank 0's iteration ÷ planned iterations) after which to signal, in (0, 1); default seeded in [0.25, 0.75). */
  atFraction?: number;
  /** Seed of the choices left open; default 0. */
  seed?: number;
  /** SIGSTOP: milliseconds the rank stays stopped (default 2000). */
  holdMs?: number;
}

/** What an injected fault did (FitInfo.injected). */
export interface InjectedFault {
  signal: 'SIGKILL' | 'SIGSTOP';
  /** The rank signalled, numbered as at launch. */
  rank: number;
  /** The planned point (fraction of rank 0's iterations). */
  atFraction: number;
  /** Milliseconds from the launch to the signal; null when the run ended before the point was reached. */
  firedAtMs: number | null;
  /** SIGSTOP: milliseconds the rank was held stopped (SIGCONT sent then, or when the run ended). */
  heldMs?: number;
}

/** One lost rank survived by re-forming the world (FitInfo.faults): the time it cost, by phase. */
export interface FaultRecord {
  /** The lost rank, numbered as at launch (the first when several were lost at once). */
  rank: number;
  /** Every rank lost in this fault, numbered as at launch. */
  lost: number[];
  /** The generation the survivors formed (1 for the first re-form). */
  generation: number;
  /** World size after the re-form. */
  workers: number;
  /** From the last step boundary the old world completed to the loss noticed (work in flight, plus detection). */
  detectedMs: number;
  /** From the loss noticed to the new generation joined (abandon, close, rendezvous). */
  reformMs: number;
  /** From joined to training resumed (the agreed snapshot or checkpoint reloaded, the new shard loaded). */
  reloadMs: number;
  /** detectedMs + reformMs + reloadMs. */
  lostMs: number;
  /** The step training resumed from (processes, cluster; a threads restart is timed by its launcher, which does not see steps). */
  resumedStep?: number;
  /** Steps trained again (done before the fault, after the state reloaded). */
  redoneSteps?: number;
}

/** Newcomers taken into a running fit at an epoch boundary (FitInfo.joins): who, and what it cost. */
export interface JoinRecord {
  /** The newcomers' ranks in the grown world. */
  added: number[];
  /** The generation the grown world formed. */
  generation: number;
  /** World size after the growth. */
  workers: number;
  /** The epoch the grown world trained first. */
  epoch: number;
  /** From the announcement seen (rank 0's view) to the epoch boundary where the world re-formed. */
  waitMs: number;
  /** From that boundary to training on the bigger world (close, rendezvous, state handed over, shards loaded). */
  reformMs: number;
  /** waitMs + reformMs: announce → training on the bigger world. */
  joinMs: number;
}

/** Delay and throughput cap applied to every rank-to-rank connection (see FitOptions.network). */
export interface NetworkProfile {
  /** Added one-way delay of every chunk, in milliseconds. */
  latencyMs?: number;
  /** Uniform ± jitter on that delay, in milliseconds (order is kept). */
  jitterMs?: number;
  /** Throughput cap of each direction of each connection, in megabits per second. */
  bandwidthMbit?: number;
  /** Seed of the jitter. Default 0. */
  seed?: number;
}

/** A data source every worker can load its own shard of (see FitOptions.source). */
export interface DataSource {
  /** A loadData spec: a path, builtin:…, synthetic:… */
  spec: string;
  /** loadData options; `shard` and `placement` are set by the worker. */
  load?: Omit<LoadOptions, 'shard' | 'placement'>;
  /** Keep only the training part of this per-row hash split (trainTestSplit), when the source has no test part of its own. */
  split?: { testFraction: number; seed: number };
  /**
   * Scale the training rows: each rank computes its shard's column statistics, the ranks all-reduce
   * them, and every rank applies the same scaler — the one fitted on all the training rows at once
   * (to rounding). The fitted scaler's JSON is returned in FitInfo.preprocess.
   */
  scale?: 'standardize' | 'minmax';
}

/** How a fit ran. */
export interface FitInfo {
  paradigm: Paradigm;
  workers: number;
  strategy: string;
  /** The pipeline the fit trained as (defaults filled in); absent for data-parallel fits. */
  pipeline?: PipelineSettings;
  /** Wall time of training, data loading excluded (worker start-up included). */
  seconds: number;
  /**
   * Milliseconds, within `seconds`, until every worker had started (imported the library); about 0
   * when the `threads` paradigm reused warm pooled threads. Set by the threads paradigm, and by
   * processes (until every rank was ready to train: forked, imported, joined, its rows received).
   */
  startupMs?: number;
  /** worker_threads threadId per rank (threads paradigm): equal ids in two fits mean the same threads served both. */
  threadIds?: number[];
  /** Per-rank communication statistics, index = rank. */
  comm: CommStats[];
  /**
   * How the ranks talked: on the local path of processes, 'lane-board' (the default when the job's
   * folder is on tmpfs: all-reduces up to 64 KiB through the lane's board of polled files, the other
   * collectives on the lane's Unix sockets), 'lane-ipc' (every collective on the lane's sockets:
   * SHARDLEARN_LANE_BOARD=0, or no tmpfs), 'lane-shm' (the sockets, large segments through files on
   * tmpfs: SHARDLEARN_LANE_FILES=1) or
   * 'zmq-ipc' (the lane off), point-to-point messages on ZeroMQ ipc:// in each case;
   * 'zmq-curve-tcp' (cluster, or processes with a network profile), 'zmq-plain-tcp' (cluster with
   * insecureTransport); with the lane between hosts (SHARDLEARN_COLLECTIVE_LANE=1 on every rank)
   * 'lane-tcp-aesgcm' (collectives on the lane over TCP, every record sealed with AES-256-GCM;
   * rendezvous and point-to-point messages on ZeroMQ with CURVE) or 'lane-tcp-plain' (with
   * insecureTransport). Absent for sequential and threads.
   */
  transport?: 'zmq-ipc' | 'lane-ipc' | 'lane-board' | 'lane-shm' | 'lane-tcp-aesgcm' | 'lane-tcp-plain' | 'zmq-curve-tcp' | 'zmq-plain-tcp';
  /**
   * Rows each rank trained on, index = rank, as the ranks report them (where ranks load their own
   * shards, processes with a `source` and cluster, no one else knows them): the CLI reports their sum.
   */
  rows?: number[];
  /**
   * Per-rank milliseconds of training spent outside communication (train wall time − the
   * communication time within it), index = rank; every paradigm accounts it the same way (runtime/rank.ts).
   */
  computeMs?: number[];
  /**
   * Per-rank CPU milliseconds of the worker's thread during training, where the platform reports it
   * (Linux). Unlike wall time it does not grow when other processes compete for the cores.
   */
  cpuMs?: number[];
  /**
   * Per-rank peak resident set size of the rank's process, bytes, index = rank. Ranks that are
   * threads (and sequential) share the launcher's process, whose peak never falls within it; each
   * processes or cluster rank is a fresh process, so its figure is that rank's own memory.
   */
  peakRssBytes?: number[];
  /**
   * Bytes of training data the launcher shipped to workers before training (processes paradigm with
   * in-memory data); 0 or absent when workers load their own shards. Not part of `comm`.
   */
  setupBytes?: number;
  /** Rank 0's progress events with elapsed milliseconds since training started. */
  history: (ProgressEvent & { elapsedMs: number })[];
  /** The scaler the ranks fitted by all-reduce (`source.scale`), as its toJSON(); absent otherwise. */
  preprocess?: unknown;
  /** The federated paradigm's rounds, bytes, drops and (later) privacy budget. */
  federated?: FederatedInfo;
  /** Lost ranks the run survived (FitOptions.minWorkers): one entry per re-form or restart, in order. */
  faults?: FaultRecord[];
  /**
   * `ps-sync:backup=<b>` / `ps-sync:deadline=<ms>`: rounds closed, gradients aggregated and dropped
   * as stale, rounds closed by the deadline, and per rank the rounds that closed without it.
   */
  rounds?: RoundStats;
  /** The fault FitOptions.inject planned, and whether and when it was sent. */
  injected?: InjectedFault;
  /** Newcomers the run took in at epoch boundaries (FitOptions.maxWorkers): one entry per growth, in order. */
  joins?: JoinRecord[];
}

export interface LaunchRequest<State> {
  model: Trainable<State>;
  data: Dataset;
  options: FitOptions;
}

export type Launcher = <State>(request: LaunchRequest<State>) => Promise<{ state: State; info: FitInfo }>;

const launchers = new Map<Paradigm, Launcher>();

export function registerLauncher(paradigm: Paradigm, launcher: Launcher): void {
  if (launchers.has(paradigm)) throw new ShardlearnError('REGISTRY', `a launcher for paradigm '${paradigm}' is already registered`);
  launchers.set(paradigm, launcher);
}

export function getLauncher(paradigm: Paradigm): Launcher {
  const launcher = launchers.get(paradigm);
  if (launcher !== undefined) return launcher;
  if (!PARADIGMS.includes(paradigm)) {
    throw new ConfigError(`unknown paradigm '${String(paradigm)}'; expected one of: ${PARADIGMS.join(', ')}`, { field: 'paradigm' });
  }
  const available = [...launchers.keys()];
  throw new ConfigError(
    available.length === 0
      ? `no paradigm is available: import 'shardlearn' (the package entry), which registers the launchers`
      : `paradigm '${paradigm}' is not available in this build; available: ${available.join(', ')}`,
    { field: 'paradigm' },
  );
}

export function availableParadigms(): Paradigm[] {
  return [...launchers.keys()];
}
