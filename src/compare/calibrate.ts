/**
 * Calibration: the cost model's parameters fitted to measured runs by non-negative least squares,
 * one small regression per concern, each on the part of the run it explains:
 *
 * - compute, per model:      computeMs ≈ rate · workUnits / min(N, cores) + stepCost · stepsPerRank · oversubscription
 * - communication, per paradigm: commMs ≈ α · collectives · hops + s · collectives · byteFactor · payloadBytes
 * - start-up, per paradigm:  wall − compute − comm ≈ fixed + perWorker · N
 *
 * Residuals are weighted by 1 / measured value (relative least squares), because runs span three
 * decades (a 5 ms sequential fit beside a 2 s one) and the advisor is judged on relative error.
 * Parameters with no run to fit them keep DEFAULT_CALIBRATION's values, and `notes` says which.
 *
 * @example
 * const calibration = calibrate(await listRuns('results.duckdb'), { algorithmOf, cores: 2 });
 */
import type { Paradigm } from '../models/paradigm.js';
import type { Algorithm, Calibration, ComputeParameters, LinkParameters, StartupParameters } from './cost-model.js';
import { DEFAULT_CALIBRATION, collectiveShape, computeKey, parallelism, workloadOf } from './cost-model.js';
import type { RunRecord } from './record.js';
import { median } from './stats.js';

/**
 * Minimise Σ ((x_i · β − y_i) / w_i)² over β ≥ 0. Tries every set of free coefficients (2^k, k ≤ 4
 * here) and keeps the feasible solution of least error — exact for the handful of columns we fit.
 */
export function nonNegativeLeastSquares(xs: readonly number[][], ys: readonly number[], weights?: readonly number[]): number[] {
  const k = xs[0]?.length ?? 0;
  let best: number[] = new Array<number>(k).fill(0);
  let bestError = sumSquares(xs, ys, weights, best);
  for (let mask = 1; mask < 1 << k; mask++) {
    const free = [...Array(k).keys()].filter((j) => (mask >> j) & 1);
    const solved = solveNormal(xs, ys, weights, free);
    if (solved === null || solved.some((v) => !(v >= 0))) continue;
    const beta = new Array<number>(k).fill(0);
    free.forEach((j, i) => (beta[j] = solved[i]!));
    const error = sumSquares(xs, ys, weights, beta);
    if (error < bestError) {
      bestError = error;
      best = beta;
    }
  }
  return best;
}

function sumSquares(
  xs: readonly number[][],
  ys: readonly number[],
  weights: readonly number[] | undefined,
  beta: readonly number[],
): number {
  let total = 0;
  xs.forEach((row, i) => {
    const fit = row.reduce((s, x, j) => s + x * beta[j]!, 0);
    const r = (fit - ys[i]!) / (weights?.[i] ?? 1);
    total += r * r;
  });
  return total;
}

/** Weighted normal equations on the `free` columns, by Gaussian elimination with partial pivoting; null if singular. */
function solveNormal(
  xs: readonly number[][],
  ys: readonly number[],
  weights: readonly number[] | undefined,
  free: number[],
): number[] | null {
  const m = free.length;
  const a = Array.from({ length: m }, () => new Array<number>(m + 1).fill(0));
  xs.forEach((row, i) => {
    const w = 1 / (weights?.[i] ?? 1) ** 2;
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < m; c++) a[r]![c]! += w * row[free[r]!]! * row[free[c]!]!;
      a[r]![m]! += w * row[free[r]!]! * ys[i]!;
    }
  });
  for (let c = 0; c < m; c++) {
    let pivot = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
    const scale = Math.max(...a.map((row) => Math.abs(row[c]!)));
    if (!(Math.abs(a[pivot]![c]!) > 1e-12 * scale) || scale === 0) return null;
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let j = c; j <= m; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((row, i) => row[m]! / row[i]!);
}

export interface CalibrateOptions {
  /** How a run's model trained (advisor.ts resolves it from the model's parameters and history). */
  algorithmOf: (run: RunRecord) => Algorithm;
  /** Cores of the machine the runs were measured on (default: 2 is wrong for most; pass it). */
  cores: number;
}

/** Relative weights, floored at a millisecond so near-zero measurements do not dominate. */
const weightOf = (y: number): number => Math.max(Math.abs(y), 1e-3);

/** Fit the cost model to measured runs (failed runs are ignored). */
export function calibrate(runs: readonly RunRecord[], options: CalibrateOptions): Calibration {
  const ok = runs.filter(
    (r) => r.status === 'ok' && Number.isFinite(r.wallSeconds) && Number.isFinite(r.computeMs) && Number.isFinite(r.commMs),
  );
  if (ok.length === 0) return { ...DEFAULT_CALIBRATION, notes: [...DEFAULT_CALIBRATION.notes] };
  const notes: string[] = [];
  const rows = ok.map((run) => {
    const algorithm = options.algorithmOf(run);
    const work = workloadOf(algorithm, { rows: run.trainRows, cols: run.cols, workers: run.workers, strategy: run.strategy });
    const cluster = { paradigm: run.paradigm, workers: run.workers, cores: options.cores };
    return { run, algorithm, work, p: parallelism(cluster), shape: collectiveShape(run.paradigm, run.workers) };
  });

  const compute: Record<string, ComputeParameters> = {};
  for (const key of new Set(rows.map((r) => computeKey(r.run.model, r.algorithm.form)))) {
    const mine = rows.filter((r) => computeKey(r.run.model, r.algorithm.form) === key);
    const ys = mine.map((r) => r.run.computeMs / 1000);
    const [secondsPerUnit, secondsPerStep] = nonNegativeLeastSquares(
      mine.map((r) => [r.work.workUnits / r.p, r.work.stepsPerRank * Math.max(1, r.run.workers / r.p)]),
      ys,
      ys.map(weightOf),
    );
    compute[key] = { secondsPerUnit: secondsPerUnit!, secondsPerStep: secondsPerStep! };
  }
  // Models never measured get the median rates of those that were: the same JS engine and kernels.
  const fitted = Object.values(compute);
  compute.default = {
    secondsPerUnit: median(fitted.map((c) => c.secondsPerUnit)),
    secondsPerStep: median(fitted.map((c) => c.secondsPerStep)),
  };

  const links: Partial<Record<Paradigm, LinkParameters>> = {};
  const startup: Partial<Record<Paradigm, StartupParameters>> = {};
  for (const paradigm of ['sequential', 'threads', 'processes', 'cluster'] as const) {
    const mine = rows.filter((r) => r.run.paradigm === paradigm);
    if (mine.length === 0) {
      if (paradigm !== 'sequential' && paradigm !== 'cluster') notes.push(`no ${paradigm} runs: its link and start-up are defaults`);
      continue;
    }
    const communicating = mine.filter((r) => r.work.collectives > 0);
    if (communicating.length > 0) {
      links[paradigm] = fitLink(paradigm, communicating, notes);
    }
    const ys = mine.map((r) => Math.max(0, r.run.wallSeconds - (r.run.computeMs + r.run.commMs) / 1000));
    const distinctWorkers = new Set(mine.map((r) => r.run.workers)).size;
    const [fixedSeconds, perWorkerSeconds] =
      paradigm === 'sequential' || distinctWorkers < 2
        ? [0, median(ys) / Math.max(1, median(mine.map((r) => r.run.workers)))]
        : nonNegativeLeastSquares(
            mine.map((r) => [1, r.run.workers]),
            ys,
            ys.map(weightOf),
          );
    startup[paradigm] =
      paradigm === 'sequential'
        ? { fixedSeconds: median(ys), perWorkerSeconds: 0 }
        : { fixedSeconds: fixedSeconds!, perWorkerSeconds: perWorkerSeconds! };
    if (paradigm !== 'sequential' && distinctWorkers < 2)
      notes.push(`${paradigm}: runs at one worker count only, so start-up is taken as proportional to workers`);
  }
  if (links.cluster === undefined && links.processes !== undefined) {
    links.cluster = links.processes;
    startup.cluster ??= startup.processes!;
    notes.push('cluster: not measured; uses the processes calibration (same ZeroMQ transport) with the network you give');
  }

  const passes: Record<string, number> = {};
  const iterative = rows.filter((r) => r.algorithm.form === 'summation').map((r) => r.run);
  for (const model of new Set(iterative.map((r) => r.model))) {
    const observed = iterative
      .filter((r) => r.model === model)
      .map(observedPasses)
      .filter((p): p is number => p !== null);
    if (observed.length > 0) passes[model] = median(observed);
  }
  return { source: 'runs', compute, links, startup, passes, runs: ok.length, notes };
}

interface LinkRow {
  run: RunRecord;
  work: { collectives: number; payloadBytes: number };
  shape: { hops: number; byteFactor: number };
}

/**
 * Latency and per-byte cost of a paradigm's collectives. Both are identified only when the runs
 * exchanged payloads of clearly different sizes (≥ 16× apart); otherwise the two columns are nearly
 * proportional and least squares puts everything on one of them — measured: with 88 B (logistic
 * SGD) and 368 B (k-means) payloads it fitted 0.6 MB/s and zero latency on loopback, because k-means'
 * time in all-reduce is mostly waiting for the slowest rank. So the per-byte cost stays at its
 * default and only the latency (which absorbs that waiting) is fitted.
 */
function fitLink(paradigm: Paradigm, rows: readonly LinkRow[], notes: string[]): LinkParameters {
  const ys = rows.map((r) => r.run.commMs / 1000);
  const hops = rows.map((r) => r.work.collectives * r.shape.hops);
  const bytes = rows.map((r) => r.work.collectives * r.shape.byteFactor * r.work.payloadBytes);
  const payloads = rows.map((r) => r.work.payloadBytes);
  if (Math.max(...payloads) >= 16 * Math.min(...payloads)) {
    const [latencySeconds, secondsPerByte] = nonNegativeLeastSquares(
      hops.map((h, i) => [h, bytes[i]!]),
      ys,
      ys.map(weightOf),
    );
    return { latencySeconds: latencySeconds!, secondsPerByte: secondsPerByte! };
  }
  const secondsPerByte = DEFAULT_CALIBRATION.links[paradigm]?.secondsPerByte ?? 0;
  const [latencySeconds] = nonNegativeLeastSquares(
    hops.map((h) => [h]),
    ys.map((y, i) => Math.max(0, y - bytes[i]! * secondsPerByte)),
    ys.map(weightOf),
  );
  notes.push(
    `${paradigm}: payload sizes less than 16× apart (${Math.min(...payloads)}–${Math.max(...payloads)} B), so bandwidth keeps its default (${(1 / secondsPerByte / 1e6).toFixed(0)} MB/s) and only latency is fitted`,
  );
  return { latencySeconds: latencySeconds!, secondsPerByte };
}

/** Iterations a run made, from its progress history (the last reported iteration); null without one. */
export function observedPasses(run: Pick<RunRecord, 'history'>): number | null {
  const last = run.history[run.history.length - 1];
  return last === undefined ? null : last.iteration;
}
