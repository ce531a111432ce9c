/**
 * The advisor's cost model: pure functions that predict the wall seconds of one fit from the
 * algorithm (how many passes, steps and collectives), the data size (rows × cols) and the cluster
 * (paradigm, workers, cores, link), given calibrated parameters.
 *
 *   wall = start-up(paradigm, N, data) + compute + communication
 *   start-up = fixed_p + perWorker_p · N + perDataByte_p · rows · cols · 8   (shipping the shards: processes, cluster)
 *   compute = factor_p · own_model + fixed_p                               (how the paradigm's ranks run the model's code)
 *   own_model = rate_model · rows · cols · work · passes / min(N, cores)   (the parallel part)
 *             + stepCost_model · stepsPerRank · max(1, N / cores)          (per-step overhead)
 *             + fixed_model                                                (per fit: allocating the model, first calls)
 *   communication = collectives · time of one collective of `payloadBytes`:
 *     threads    (shared memory)        α·(N−1) + (N−1)·bytes·s     (each rank folds in N−1 peers)
 *     processes/cluster (ring, Patarasuk & Yuan 2009: each rank sends 2(N−1)/N of the buffer)
 *                                       α·2(N−1) + 2(N−1)/N·bytes·s
 *   with α = seconds per hop (latency) and s = seconds per byte (1 / bandwidth).
 *
 * Why a per-step term: synchronous SGD makes every rank walk the whole global permutation to find
 * its rows of each batch (models/solvers/sgd.ts), and each step pays a fixed JS overhead, so on small data
 * those costs do not shrink with N — measured: logistic SGD on 3,200 rows × 10, 2 epochs, computes
 * 9 ms sequentially and 18 ms per rank with 2 threads (bench probe, docs/notes/advisor.md).
 *
 * Why a factor per paradigm: a rank does not run the model's code at the sequential fit's speed —
 * measured (two default compares, docs/notes/advisor.md): a process rank computes k-means 2.0×,
 * linear regression 2.7× and logistic SGD 1.2× slower than the sequential fit of the same rows,
 * because its shard arrives outside the WASM kernels' memory and every kernel call copies it
 * (core/kernels-wasm.ts), while a thread rank runs at the sequential speed (0.9–1.1×). Fitting one
 * rate per model over all paradigms put sequential 20–34% too slow and processes 2× too fast.
 * Why a per-byte start-up: process ranks receive their rows over IPC before training; measured
 * 3 ns per byte on a warm process pool (0.1 s for 160k rows × 20 columns), which a fixed +
 * per-worker start-up cannot follow across sizes.
 *
 * @example
 * const work = workloadOf({ form: 'sgd', passes: 5, workPerCell: 1, batchSize: 64, payloadValues: 21, collectivesPerPass: 0 },
 *   { rows: 1e6, cols: 20, workers: 4, strategy: 'allreduce' });
 * const seconds = predictSeconds(work, { paradigm: 'processes', workers: 4, cores: 8 }, DEFAULT_CALIBRATION, 'logistic-regression/sgd');
 */
import type { Paradigm } from '../models/paradigm.js';

/** How a model trains, in the terms the cost model counts. */
export interface Algorithm {
  /** 'sgd': mini-batch steps with a per-step gradient exchange (synchronous strategies); 'summation': one statistic all-reduced per pass. */
  form: 'sgd' | 'summation';
  /** Passes over the data: epochs (SGD) or iterations (summation form). */
  passes: number;
  /** Work per row·col per pass relative to one multiply-add (k for k-means, cols for X^T X, 1 for a gradient). */
  workPerCell: number;
  /** Rows per step (SGD); null for summation form. */
  batchSize: number | null;
  /** Length of the vector exchanged per collective (the parameters or the statistic), in float64 values. */
  payloadValues: number;
  /** Extra collectives per pass (the per-epoch loss all-reduce; the statistic itself for summation form). */
  collectivesPerPass: number;
}

/** The counts a prediction is made of, for one (algorithm, size, workers, strategy). */
export interface Workload {
  rows: number;
  cols: number;
  workers: number;
  /** rows · cols · workPerCell · passes: the work that divides over workers. */
  workUnits: number;
  /** Steps each rank takes (synchronous SGD: every global step; Hogwild: its own shard's steps; summation: passes). */
  stepsPerRank: number;
  /** Collectives each rank joins (0 with one worker). */
  collectives: number;
  payloadBytes: number;
}

/** Strategies whose workers exchange nothing per step (parameters live in shared memory). */
const LOCK_FREE = ['hogwild'];

export function workloadOf(algorithm: Algorithm, size: { rows: number; cols: number; workers: number; strategy: string }): Workload {
  const { rows, cols, workers, strategy } = size;
  const workUnits = rows * cols * algorithm.workPerCell * algorithm.passes;
  const payloadBytes = algorithm.payloadValues * 8;
  if (algorithm.form === 'summation' || algorithm.batchSize === null) {
    return {
      rows,
      cols,
      workers,
      workUnits,
      stepsPerRank: algorithm.passes,
      collectives: workers > 1 ? algorithm.passes * Math.max(1, algorithm.collectivesPerPass) : 0,
      payloadBytes,
    };
  }
  const globalSteps = algorithm.passes * Math.ceil(rows / algorithm.batchSize);
  const lockFree = LOCK_FREE.includes(strategy) && workers > 1;
  const stepsPerRank = lockFree ? algorithm.passes * Math.ceil(rows / workers / algorithm.batchSize) : globalSteps;
  // Parameter-server strategies exchange with the server every step too: counted as one collective.
  const perStep = lockFree ? 0 : globalSteps;
  return {
    rows,
    cols,
    workers,
    workUnits,
    stepsPerRank,
    collectives: workers > 1 ? perStep + algorithm.passes * algorithm.collectivesPerPass : 0,
    payloadBytes,
  };
}

/** One link's parameters: seconds per hop, per byte, and per fit. */
export interface LinkParameters {
  latencySeconds: number;
  secondsPerByte: number;
  /**
   * Seconds per fit that communicates, whatever its number of collectives: the first collective
   * waits for the last rank to start and to open its sockets (a rank's start-up skew); absent = 0.
   */
  fixedSeconds?: number;
}

/** Start-up (spawning workers, shipping data, tearing down): fixed + per worker + per byte of the data shipped. */
export interface StartupParameters {
  fixedSeconds: number;
  perWorkerSeconds: number;
  /** Seconds per byte of the feature matrix (rows · cols · 8) shipped to the ranks (processes, cluster); absent = 0. */
  perDataByteSeconds?: number;
}

export interface ComputeParameters {
  /** Seconds per work unit (row · col · workPerCell · pass) on one core. */
  secondsPerUnit: number;
  /** Seconds per step per rank that do not divide over workers. */
  secondsPerStep: number;
  /** Seconds per fit that do not grow with the data (allocating the model and its buffers); absent = 0. */
  fixedSeconds?: number;
}

/**
 * How a paradigm's ranks run a model's code against the sequential fit (whose rates `compute` holds):
 * rank compute seconds = factor · the model's compute + fixedSeconds.
 */
export interface RankComputeParameters {
  factor: number;
  fixedSeconds: number;
}

/** One run's typical distance from its configuration's median wall time: fixedSeconds + relative × the median. */
export interface RepeatSpread {
  fixedSeconds: number;
  relative: number;
}

/** The spread at a predicted wall time. */
export const spreadAt = (spread: RepeatSpread, seconds: number): number => spread.fixedSeconds + spread.relative * seconds;

/** Everything the cost model needs; `calibrate` fits it from runs, DEFAULT_CALIBRATION is the fallback. */
export interface Calibration {
  /** 'runs' when fitted from measurements; 'defaults' when nothing was measured. */
  source: 'runs' | 'defaults';
  /** Compute parameters per computeKey (model name, '/sgd' appended for SGD); `default` for models never measured. */
  compute: Record<string, ComputeParameters>;
  /** Per paradigm: its ranks' compute against the sequential fit's (absent: factor 1, no fixed cost; cluster falls back on processes). */
  rankCompute?: Partial<Record<Paradigm, RankComputeParameters>>;
  /** Link parameters per paradigm (sequential has none). */
  links: Partial<Record<Paradigm, LinkParameters>>;
  startup: Partial<Record<Paradigm, StartupParameters>>;
  /** Observed passes per model (median iterations of data-dependent trainers: k-means, L-BFGS). */
  passes: Record<string, number>;
  /**
   * Per paradigm: how far one run typically lands from its configuration's median wall time,
   * fixedSeconds + relative × that median (fitted to the median absolute deviations of the cells of
   * ≥ 3 repeats). Absent for a paradigm none of whose cells had 3 repeats. The advice calls two
   * options whose gap is within it too close to call.
   */
  spread?: Partial<Record<Paradigm, RepeatSpread>>;
  /** Runs the parameters were fitted on. */
  runs: number;
  /** Which parameters are defaults, and why. */
  notes: string[];
}

/**
 * Defaults when no run exists — orders of magnitude from this project's first probe on a 2-core
 * x86 VM (docs/notes/advisor.md): a float64 multiply-add in a JS loop ≈ 1 ns; a step of the SGD
 * loop ≈ 20 µs; a shared-memory barrier ≈ 0.2 ms and a ZeroMQ loopback hop ≈ 0.7 ms (measured
 * per-step communication of 2-worker logistic SGD: 0.3 ms threads, 0.8 ms processes); memory copies
 * ≈ 2 GB/s, loopback TCP ≈ 0.5 GB/s; starting 2 threads ≈ 0.2 s and 2 processes ≈ 0.8 s; shipping
 * rows to process ranks ≈ 3 ns per byte, and a process rank computing ≈ 1.4× the sequential time
 * (two default compares, 2026-12). `advise` says when it used them: calibrate from your own runs (`shardlearn compare`) instead.
 */
export const DEFAULT_CALIBRATION: Calibration = {
  source: 'defaults',
  compute: { default: { secondsPerUnit: 1e-9, secondsPerStep: 2e-5 } },
  links: {
    threads: { latencySeconds: 2e-4, secondsPerByte: 1 / 2e9 },
    processes: { latencySeconds: 7e-4, secondsPerByte: 1 / 5e8 },
    cluster: { latencySeconds: 7e-4, secondsPerByte: 1 / 5e8 },
  },
  startup: {
    sequential: { fixedSeconds: 0, perWorkerSeconds: 0 },
    threads: { fixedSeconds: 0.05, perWorkerSeconds: 0.08 },
    processes: { fixedSeconds: 0.1, perWorkerSeconds: 0.35, perDataByteSeconds: 3e-9 },
    cluster: { fixedSeconds: 0.1, perWorkerSeconds: 0.35, perDataByteSeconds: 3e-9 },
  },
  rankCompute: { threads: { factor: 1, fixedSeconds: 0 }, processes: { factor: 1.4, fixedSeconds: 0 } },
  passes: {},
  runs: 0,
  notes: [
    'no measured runs: every parameter is a default (DEFAULT_CALIBRATION), good to an order of magnitude; run `shardlearn compare` and pass --db to calibrate',
  ],
};

/** The cluster a prediction is for. */
export interface ClusterSpec {
  paradigm: Paradigm;
  workers: number;
  /** Cores one host offers; compute parallelism is min(workers, cores) on one host, workers for `cluster`. */
  cores: number;
  /** The network between workers (processes/cluster): caps the calibrated software bandwidth. */
  bandwidthBytesPerSecond?: number;
  /** One-way network latency per hop, added to the calibrated software latency. */
  latencySeconds?: number;
}

export interface Prediction {
  startupSeconds: number;
  computeSeconds: number;
  communicationSeconds: number;
  totalSeconds: number;
}

/** Hops and bytes-per-payload-byte of one collective, per rank, for a paradigm and world size. */
export function collectiveShape(paradigm: Paradigm, workers: number): { hops: number; byteFactor: number } {
  if (workers <= 1 || paradigm === 'sequential') return { hops: 0, byteFactor: 0 };
  if (paradigm === 'threads') return { hops: workers - 1, byteFactor: workers - 1 };
  return { hops: 2 * (workers - 1), byteFactor: (2 * (workers - 1)) / workers };
}

/** Effective compute parallelism: ranks beyond the cores time-share them. */
export function parallelism(cluster: Pick<ClusterSpec, 'paradigm' | 'workers' | 'cores'>): number {
  if (cluster.paradigm === 'sequential') return 1;
  if (cluster.paradigm === 'cluster') return cluster.workers;
  return Math.max(1, Math.min(cluster.workers, cluster.cores));
}

/** The link of a paradigm with the user's network applied: the slower bandwidth, latencies added. */
export function effectiveLink(cluster: ClusterSpec, calibration: Calibration): LinkParameters {
  const base = calibration.links[cluster.paradigm] ??
    DEFAULT_CALIBRATION.links[cluster.paradigm] ?? { latencySeconds: 0, secondsPerByte: 0 };
  if (cluster.paradigm === 'threads' || cluster.paradigm === 'sequential') return base;
  const wire = cluster.bandwidthBytesPerSecond === undefined ? 0 : 1 / cluster.bandwidthBytesPerSecond;
  return {
    ...base,
    latencySeconds: base.latencySeconds + (cluster.latencySeconds ?? 0),
    secondsPerByte: Math.max(base.secondsPerByte, wire),
  };
}

/** The key compute parameters are stored under: one model trains at different rates by SGD and by its other solver. */
export function computeKey(model: string, form: Algorithm['form']): string {
  return form === 'sgd' ? `${model}/sgd` : model;
}

export function computeParameters(calibration: Calibration, key: string): ComputeParameters {
  return calibration.compute[key] ?? calibration.compute.default ?? DEFAULT_CALIBRATION.compute.default!;
}

const SAME_AS_SEQUENTIAL: RankComputeParameters = { factor: 1, fixedSeconds: 0 };

/**
 * A paradigm's rank compute parameters: its own, else (cluster ranks are processes running the same
 * code) processes', else DEFAULT_CALIBRATION's, as for links and start-up.
 */
export function rankComputeOf(calibration: Calibration, paradigm: Paradigm): RankComputeParameters {
  if (paradigm === 'sequential') return SAME_AS_SEQUENTIAL;
  const family: Paradigm = paradigm === 'cluster' ? 'processes' : paradigm;
  return (
    calibration.rankCompute?.[paradigm] ??
    calibration.rankCompute?.[family] ??
    DEFAULT_CALIBRATION.rankCompute?.[family] ??
    SAME_AS_SEQUENTIAL
  );
}

/** A paradigm's start-up parameters (DEFAULT_CALIBRATION's when it was not calibrated). */
export function startupOf(calibration: Calibration, paradigm: Paradigm): StartupParameters {
  return calibration.startup[paradigm] ?? DEFAULT_CALIBRATION.startup[paradigm] ?? { fixedSeconds: 0, perWorkerSeconds: 0 };
}

/**
 * Seconds spent shipping the feature matrix (rows · cols · 8 bytes) to the ranks: processes receive
 * every shard from the one launcher, one after another; cluster hosts each receive (or load) their
 * own shard at the same time, so a cluster pays one shard's share.
 */
export function shippingSeconds(
  work: Pick<Workload, 'rows' | 'cols'>,
  cluster: Pick<ClusterSpec, 'paradigm' | 'workers'>,
  calibration: Calibration,
): number {
  const perByte = startupOf(calibration, cluster.paradigm).perDataByteSeconds ?? 0;
  if (perByte === 0 || cluster.paradigm === 'sequential' || cluster.paradigm === 'threads') return 0;
  const bytes = work.rows * work.cols * 8;
  return (perByte * bytes) / (cluster.paradigm === 'cluster' ? Math.max(1, cluster.workers) : 1);
}

/** The three parts of a fit's predicted wall time; `model` = computeKey(model name, algorithm form). */
export function predict(work: Workload, cluster: ClusterSpec, calibration: Calibration, model: string): Prediction {
  const workers = cluster.paradigm === 'sequential' ? 1 : cluster.workers;
  const compute = computeParameters(calibration, model);
  const p = parallelism(cluster);
  const oversubscribed = Math.max(1, workers / p);
  const own =
    (compute.secondsPerUnit * work.workUnits) / p +
    compute.secondsPerStep * work.stepsPerRank * oversubscribed +
    (compute.fixedSeconds ?? 0);
  const rank = rankComputeOf(calibration, cluster.paradigm);
  const computeSeconds = rank.factor * own + rank.fixedSeconds;
  const { hops, byteFactor } = collectiveShape(cluster.paradigm, workers);
  const link = effectiveLink(cluster, calibration);
  const communicationSeconds =
    work.collectives === 0
      ? 0
      : (link.fixedSeconds ?? 0) + work.collectives * (hops * link.latencySeconds + byteFactor * work.payloadBytes * link.secondsPerByte);
  const startup = startupOf(calibration, cluster.paradigm);
  const startupSeconds =
    cluster.paradigm === 'sequential'
      ? startup.fixedSeconds
      : startup.fixedSeconds + startup.perWorkerSeconds * workers + shippingSeconds(work, cluster, calibration);
  return { startupSeconds, computeSeconds, communicationSeconds, totalSeconds: startupSeconds + computeSeconds + communicationSeconds };
}

/** predict(...).totalSeconds. */
export function predictSeconds(work: Workload, cluster: ClusterSpec, calibration: Calibration, model: string): number {
  return predict(work, cluster, calibration, model).totalSeconds;
}

/**
 * Parse a bandwidth: '1Gbit', '100Mbit', '10mbps', '1e9' (bits per second when a bit unit or a bare
 * number is given; 'MB/s' / 'GB/s' are bytes) → bytes per second; null when unreadable.
 */
export function parseBandwidth(text: string): number | null {
  const match = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([kmgt]?)(bit|bps|b\/s|B\/s|bit\/s)?\s*$/i.exec(text);
  if (match === null) return null;
  const value = Number(match[1]);
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const unit = match[3] ?? 'bit';
  const bytes = unit === 'B/s';
  const result = (value * scale) / (bytes ? 1 : 8);
  return Number.isFinite(result) && result > 0 ? result : null;
}
