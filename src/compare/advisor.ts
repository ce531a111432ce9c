/**
 * The advisor behind `shardlearn advise`: for a model, a data size and a cluster, the predicted
 * wall time of every paradigm × worker count × strategy, ranked, each with its reasoning (start-up
 * vs compute vs communication seconds), from the cost model calibrated on measured runs; and its
 * validation — every measured cell predicted from the other cells' runs (leave one cell out).
 *
 * @example
 * const calibration = calibrateFromRuns(await listRuns('results.duckdb'));
 * const advice = advise({ model: 'kmeans', rows: 1_000_000, cols: 20, workers: [2, 4, 8], calibration });
 * console.log(advice.best.label, advice.best.reasoning);
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../core/errors.js';
import type { Paradigm } from '../models/paradigm.js';
import { createModel } from '../models/registry.js';
import { calibrate, observedPasses } from './calibrate.js';
import type { Algorithm, Calibration, ClusterSpec, Prediction } from './cost-model.js';
import {
  DEFAULT_CALIBRATION,
  collectiveShape,
  computeKey,
  effectiveLink,
  parallelism,
  predict,
  rankComputeOf,
  shippingSeconds,
  spreadAt,
  workloadOf,
} from './cost-model.js';
import type { RunRecord } from './record.js';
import { median } from './stats.js';

/** Iterations assumed for data-dependent trainers before any run of them is measured. */
const DEFAULT_PASSES: Record<string, number> = { kmeans: 20, 'logistic-regression': 50 };

/**
 * How a model trains, from its resolved hyperparameters: SGD models (a `batchSize`, solver 'sgd' if
 * any) step per batch; the others are summation form — one statistic all-reduced per pass.
 * `passes` overrides the iteration count of data-dependent trainers (k-means, L-BFGS).
 */
export function algorithmFor(model: string, params: Record<string, unknown>, cols: number, passes?: number | null): Algorithm {
  const resolved = createModel(model, params).params as Record<string, unknown>;
  const num = (key: string, fallback: number): number => (typeof resolved[key] === 'number' ? (resolved[key] as number) : fallback);
  const iterative = (fallback: number): number => passes ?? Math.min(num('maxIter', fallback), DEFAULT_PASSES[model] ?? fallback);
  if ('batchSize' in resolved && (!('solver' in resolved) || resolved.solver === 'sgd')) {
    // Binary linear models exchange cols weights + 1 intercept; neural models more (their size is
    // not modelled here: calibration folds the difference into the link latency).
    return {
      form: 'sgd',
      passes: num('epochs', 5),
      workPerCell: 1,
      batchSize: num('batchSize', 64),
      payloadValues: cols + 1,
      collectivesPerPass: 1,
    };
  }
  switch (model) {
    case 'kmeans': {
      const k = num('k', 8);
      return {
        form: 'summation',
        passes: iterative(20),
        workPerCell: k,
        batchSize: null,
        payloadValues: k * cols + k + 2,
        collectivesPerPass: 1,
      };
    }
    case 'logistic-regression':
      return { form: 'summation', passes: iterative(50), workPerCell: 2, batchSize: null, payloadValues: cols + 2, collectivesPerPass: 1 };
    case 'linear-regression':
    case 'pca':
      // X^T X (or the covariance): cols multiply-adds per cell, one (cols+1)² statistic, once.
      return {
        form: 'summation',
        passes: 1,
        workPerCell: cols,
        batchSize: null,
        payloadValues: (cols + 1) * (cols + 1) + cols + 1,
        collectivesPerPass: 1,
      };
    default:
      return { form: 'summation', passes: iterative(20), workPerCell: 1, batchSize: null, payloadValues: cols + 1, collectivesPerPass: 1 };
  }
}

/** The algorithm a measured run executed (its own iteration count where the history gives one). */
export function algorithmOfRun(run: RunRecord): Algorithm {
  const passes = algorithmFor(run.model, run.params, run.cols).form === 'sgd' ? null : observedPasses(run);
  return algorithmFor(run.model, run.params, run.cols, passes);
}

/** Fit the cost model to runs (the CLI's and the report's entry point). `cores`: of the machine that ran them. */
export function calibrateFromRuns(runs: readonly RunRecord[], cores = availableParallelism()): Calibration {
  // The cost model describes this host's loopback; runs behind a network-profile proxy would skew it.
  // Agents' cells have no rows to scale with (their work is an env-step budget): not modelled.
  // A fault cell's run (fault-cells.ts) times a fault, not the paradigm: left out.
  return calibrate(
    runs.filter((r) => r.network === 'loopback' && r.modelKind !== 'agent' && r.fault === undefined),
    { algorithmOf: algorithmOfRun, cores },
  );
}

export interface AdviseRequest {
  model: string;
  params?: Record<string, unknown>;
  rows: number;
  cols: number;
  /** Default: sequential, threads, processes. */
  paradigms?: Paradigm[];
  /** Worker counts for the parallel paradigms (default 2, 4, 8). */
  workers?: number[];
  /** Default for SGD models: allreduce (and hogwild on threads); others ignore the strategy. */
  strategies?: string[];
  /** Cores per host (default: this machine's). */
  cores?: number;
  bandwidthBytesPerSecond?: number;
  latencyMs?: number;
  /** Default: DEFAULT_CALIBRATION (the advice then says its numbers are defaults). */
  calibration?: Calibration;
}

export interface AdviceOption extends Prediction {
  paradigm: Paradigm;
  workers: number;
  strategy: string;
  label: string;
  /** Slowdown against the best option (1 for the best). */
  relativeToBest: number;
  reasoning: string;
}

export interface Advice {
  request: Omit<AdviseRequest, 'calibration'>;
  /** Fastest first. */
  options: AdviceOption[];
  best: AdviceOption;
  /** Why the best wins against the best option of each other paradigm. */
  summary: string;
  calibration: Calibration;
}

const SHARED_MEMORY_ONLY = ['hogwild'];

function positive(field: string, value: number, integer: boolean): void {
  if (!(Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value)))) {
    throw new ConfigError(`advise: '${field}' must be ${integer ? 'a whole number' : 'a number'} > 0, found ${String(value)}`, { field });
  }
}

const seconds = (s: number): string => (s >= 10 ? `${s.toFixed(1)} s` : s >= 0.01 ? `${s.toFixed(3)} s` : `${(s * 1000).toFixed(2)} ms`);

function labelOf(paradigm: Paradigm, workers: number, strategy: string, sgd: boolean): string {
  if (paradigm === 'sequential') return 'sequential';
  return sgd ? `${paradigm}×${workers} ${strategy}` : `${paradigm}×${workers}`;
}

/** Rank every option by predicted wall seconds. */
export function advise(request: AdviseRequest): Advice {
  positive('rows', request.rows, true);
  positive('cols', request.cols, true);
  const calibration = request.calibration ?? DEFAULT_CALIBRATION;
  const cores = request.cores ?? availableParallelism();
  positive('cores', cores, true);
  const workerCounts = request.workers ?? [2, 4, 8];
  workerCounts.forEach((w) => positive('workers', w, true));
  if (request.bandwidthBytesPerSecond !== undefined) positive('bandwidth', request.bandwidthBytesPerSecond, false);
  if (request.latencyMs !== undefined && !(request.latencyMs >= 0))
    throw new ConfigError(`advise: 'latencyMs' must be ≥ 0, found ${request.latencyMs}`, { field: 'latencyMs' });
  const params = request.params ?? {};
  const base = algorithmFor(request.model, params, request.cols);
  const sgd = base.form === 'sgd';
  const algorithm =
    !sgd && calibration.passes[request.model] !== undefined && base.passes !== 1
      ? algorithmFor(request.model, params, request.cols, calibration.passes[request.model]!)
      : base;
  const strategies = request.strategies ?? (sgd ? ['allreduce', 'hogwild'] : ['allreduce']);
  const options: Omit<AdviceOption, 'relativeToBest'>[] = [];
  for (const paradigm of request.paradigms ?? (['sequential', 'threads', 'processes'] as Paradigm[])) {
    for (const workers of paradigm === 'sequential' ? [1] : workerCounts) {
      for (const strategy of paradigm === 'sequential' || !sgd ? [strategies[0] ?? 'allreduce'] : strategies) {
        if (SHARED_MEMORY_ONLY.includes(strategy) && paradigm !== 'threads') continue;
        const cluster: ClusterSpec = { paradigm, workers, cores };
        if (request.bandwidthBytesPerSecond !== undefined) cluster.bandwidthBytesPerSecond = request.bandwidthBytesPerSecond;
        if (request.latencyMs !== undefined) cluster.latencySeconds = request.latencyMs / 1000;
        const work = workloadOf(algorithm, {
          rows: request.rows,
          cols: request.cols,
          workers: paradigm === 'sequential' ? 1 : workers,
          strategy,
        });
        const prediction = predict(work, cluster, calibration, computeKey(request.model, algorithm.form));
        const link = effectiveLink(cluster, calibration);
        const { hops } = collectiveShape(paradigm, work.workers);
        const shipping = shippingSeconds(work, cluster, calibration);
        const rank = rankComputeOf(calibration, paradigm);
        const parts = [
          `start-up ${seconds(prediction.startupSeconds)}${shipping > 0 ? ` (${seconds(shipping)} shipping ${((work.rows * work.cols * 8) / 1e6).toFixed(1)} MB of rows)` : ''}`,
          `compute ${seconds(prediction.computeSeconds)} (${work.workUnits.toExponential(2)} work units on ${parallelism(cluster)} core${parallelism(cluster) === 1 ? '' : 's'}, ${work.stepsPerRank} steps per rank${rank.factor !== 1 ? `, ${paradigm} ranks at ${rank.factor.toFixed(2)}× the sequential time` : ''})`,
          work.collectives === 0
            ? 'no communication'
            : `communication ${seconds(prediction.communicationSeconds)} (${work.collectives} all-reduces of ${work.payloadBytes} B, ${hops} hop${hops === 1 ? '' : 's'} each at ${(link.latencySeconds * 1000).toFixed(3)} ms${link.secondsPerByte > 0 ? `, ${(1 / link.secondsPerByte / 1e6).toFixed(0)} MB/s` : ''}${(link.fixedSeconds ?? 0) > 0 ? `, ${seconds(link.fixedSeconds!)} per fit` : ''})`,
        ];
        const shares = {
          'start-up': prediction.startupSeconds,
          compute: prediction.computeSeconds,
          communication: prediction.communicationSeconds,
        };
        const dominant = Object.entries(shares).sort((a, b) => b[1] - a[1])[0]!;
        const reasoning = `${seconds(prediction.totalSeconds)} = ${parts.join(' + ')}; ${dominant[0]} dominates (${((dominant[1] / prediction.totalSeconds) * 100).toFixed(0)}%)`;
        options.push({
          ...prediction,
          paradigm,
          workers: work.workers,
          strategy,
          label: labelOf(paradigm, work.workers, strategy, sgd),
          reasoning,
        });
      }
    }
  }
  if (options.length === 0)
    throw new ConfigError('advise: no option to rank; give at least one paradigm and one worker count', { field: 'paradigms' });
  options.sort((a, b) => a.totalSeconds - b.totalSeconds);
  const bestSeconds = options[0]!.totalSeconds;
  const ranked = options.map((o) => ({ ...o, relativeToBest: bestSeconds > 0 ? o.totalSeconds / bestSeconds : 1 }));
  const best = ranked[0]!;
  const shown: Omit<AdviseRequest, 'calibration'> = { ...request };
  delete (shown as AdviseRequest).calibration;
  return { request: shown, options: ranked, best, summary: summarise(best, ranked, calibration), calibration };
}

function summarise(best: AdviceOption, ranked: AdviceOption[], calibration: Calibration): string {
  const lines = [`${best.label} is predicted fastest: ${seconds(best.totalSeconds)}.`];
  for (const paradigm of new Set(ranked.map((o) => o.paradigm))) {
    if (paradigm === best.paradigm) continue;
    const rival = ranked.find((o) => o.paradigm === paradigm)!;
    const gaps = {
      'start-up': rival.startupSeconds - best.startupSeconds,
      compute: rival.computeSeconds - best.computeSeconds,
      communication: rival.communicationSeconds - best.communicationSeconds,
    };
    const worst = Object.entries(gaps).sort((a, b) => b[1] - a[1])[0]!;
    const noise = tieBand(best, rival, calibration);
    lines.push(
      `${paradigm}: best is ${rival.label} at ${seconds(rival.totalSeconds)} (${rival.relativeToBest.toFixed(2)}× slower), mostly ${worst[0]} (+${seconds(worst[1])})${
        noise !== null && rival.totalSeconds - best.totalSeconds <= noise
          ? `; too close to call: the gap is within one run's measured spread (±${seconds(noise)}, between repeats), so in a single run either may finish first`
          : ''
      }.`,
    );
  }
  lines.push(
    calibration.source === 'defaults'
      ? 'Parameters: DEFAULTS (no measured runs) — treat as an order of magnitude.'
      : `Parameters: calibrated on ${calibration.runs} measured runs.`,
  );
  return lines.join('\n');
}

/**
 * The gap under which two options are too close to call: the larger of the two options' typical
 * run-to-run spread at their predicted times (calibration.spread); null unless both paradigms'
 * spreads were measured.
 */
function tieBand(best: AdviceOption, rival: AdviceOption, calibration: Calibration): number | null {
  const a = calibration.spread?.[best.paradigm];
  const b = calibration.spread?.[rival.paradigm];
  return a === undefined || b === undefined ? null : Math.max(spreadAt(a, best.totalSeconds), spreadAt(b, rival.totalSeconds));
}

export interface ValidationCell {
  cellId: string;
  model: string;
  trainRows: number;
  label: string;
  measuredSeconds: number;
  predictedSeconds: number;
  /** |predicted − measured| / measured. */
  relativeError: number;
}

export interface Validation {
  cells: ValidationCell[];
  /** Median absolute relative error over cells; null when no cell could be predicted. */
  medianRelativeError: number | null;
  /** Share of comparisons (pairs of cells of one model and size) whose faster cell the model named. */
  rankAgreement: number | null;
}

/**
 * Leave one cell out: each cell's median wall seconds predicted by the cost model calibrated on
 * every other cell's runs — so a cell never helps predict itself.
 */
export function validateAdvisor(runs: readonly RunRecord[], cores = availableParallelism()): Validation {
  const ok = runs.filter((r) => r.status === 'ok' && Number.isFinite(r.wallSeconds) && r.network === 'loopback' && r.modelKind !== 'agent');
  const cells: ValidationCell[] = [];
  for (const cellId of new Set(ok.map((r) => r.cellId))) {
    const mine = ok.filter((r) => r.cellId === cellId);
    const first = mine[0]!;
    const calibration = calibrate(
      ok.filter((r) => r.cellId !== cellId),
      { algorithmOf: algorithmOfRun, cores },
    );
    const passes = median(mine.map((r) => observedPasses(r) ?? NaN).filter(Number.isFinite));
    const algorithm = algorithmFor(
      first.model,
      first.params,
      first.cols,
      algorithmFor(first.model, first.params, first.cols).form === 'sgd' || !Number.isFinite(passes) ? null : passes,
    );
    const work = workloadOf(algorithm, { rows: first.trainRows, cols: first.cols, workers: first.workers, strategy: first.strategy });
    const predictedSeconds = predict(
      work,
      { paradigm: first.paradigm, workers: first.workers, cores },
      calibration,
      computeKey(first.model, algorithm.form),
    ).totalSeconds;
    const measuredSeconds = median(mine.map((r) => r.wallSeconds));
    cells.push({
      cellId,
      model: first.model,
      trainRows: first.trainRows,
      label: labelOf(first.paradigm, first.workers, first.strategy, algorithm.form === 'sgd'),
      measuredSeconds,
      predictedSeconds,
      relativeError: Math.abs(predictedSeconds - measuredSeconds) / measuredSeconds,
    });
  }
  let agree = 0;
  let pairs = 0;
  cells.forEach((a, i) =>
    cells.slice(i + 1).forEach((b) => {
      if (a.model !== b.model || a.trainRows !== b.trainRows) return;
      pairs++;
      if (a.measuredSeconds < b.measuredSeconds === a.predictedSeconds < b.predictedSeconds) agree++;
    }),
  );
  return {
    cells,
    medianRelativeError: cells.length === 0 ? null : median(cells.map((c) => c.relativeError)),
    rankAgreement: pairs === 0 ? null : agree / pairs,
  };
}
