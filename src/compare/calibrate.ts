/**
 * Calibration: the cost model's parameters fitted to measured runs by non-negative least squares,
 * one small regression per concern, each on the part of the run it explains:
 *
 * - compute, per model and paradigm (fitCompute):
 *     computeMs ≈ factor_p · (rate · workUnits / min(N, cores) + stepCost · stepsPerRank · oversubscription + fixed) + fixed_p
 *   the model's three on every paradigm's runs, the paradigm's two on every model's runs, in turn
 *   (factor 1 and fixed_p 0 for sequential: the model's rates are the sequential fit's)
 * - communication, per paradigm: commMs ≈ c + α · collectives · hops + s · collectives · byteFactor · payloadBytes
 *   (c per fit: the first collective waits for the last rank to start; fitted when the runs made
 *   different numbers of collectives)
 * - start-up, per paradigm:  wall − compute − comm ≈ fixed + perWorker · N (+ perDataByte · rows · cols · 8 for processes, cluster)
 * - run-to-run spread, per paradigm (repeatSpread): a cell's median absolute deviation ≈ fixed + relative · its median,
 *   over cells of ≥ 3 repeats (what `advise` calls too close to call)
 *
 * Each cell (one configuration, all its repeats) is fitted once, at the medians of its repeats'
 * wall, compute and communication times (cellMedians): the advisor predicts a cell's typical time,
 * and repeats on a shared machine are skewed (a cold first repeat several times the others).
 * Residuals are weighted by 1 / measured value (relative least squares), because cells span three
 * decades (a 5 ms sequential fit beside a 2 s one) and the advisor is judged on relative error; on
 * single runs that weighting let the fastest repeat of a cell decide its fit.
 * Parameters with no run to fit them keep DEFAULT_CALIBRATION's values, and `notes` says which.
 *
 * @example
 * const calibration = calibrate(await listRuns('results.duckdb'), { algorithmOf, cores: 2 });
 */
import type { Paradigm } from '../models/paradigm.js';
import type {
  Algorithm,
  Calibration,
  ComputeParameters,
  LinkParameters,
  RankComputeParameters,
  RepeatSpread,
  StartupParameters,
} from './cost-model.js';
import { DEFAULT_CALIBRATION, collectiveShape, computeKey, parallelism, workloadOf } from './cost-model.js';
import type { RunRecord } from './record.js';
import { runsByCell } from './record.js';
import { median } from './stats.js';

/**
 * Minimise Σ ((x_i · β − y_i) / w_i)² over β ≥ 0. Tries every set of free coefficients (2^k, k ≤ 4
 * here) and keeps the feasible solution of least error — exact for the handful of columns we fit.
 */
export function nonNegativeLeastSquares(xs: readonly number[][], ys: readonly number[], weights?: readonly number[]): number[] {
  const k = xs[0]?.length ?? 0;
  // The unconstrained minimum, when it is ≥ 0, is the constrained one (the error is convex): the
  // common case, and one solve instead of 2^k (calibration runs this thousands of times per report).
  const all = [...Array(k).keys()];
  const unconstrained = k === 0 ? null : solveNormal(xs, ys, weights, all);
  if (unconstrained !== null && unconstrained.every((v) => v >= 0)) return unconstrained;
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

/**
 * The median, and of an even count the lower of the two middle values: a cell's first repeat is
 * often still cold (V8 optimising a fresh isolate's code: 19 ms against 2 ms for the next repeat of
 * threads×2 logistic SGD on 2,000 rows), and of two repeats their mean let it count half.
 */
function lowerMedian(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1]!;
}

/**
 * One run per cell: its first run with wall, compute and communication times replaced by the
 * (lower) medians over the cell's runs, each part its own.
 */
export function cellMedians(runs: readonly RunRecord[]): RunRecord[] {
  return runsByCell(runs).map((mine) =>
    mine.length === 1
      ? mine[0]!
      : {
          ...mine[0]!,
          wallSeconds: lowerMedian(mine.map((r) => r.wallSeconds)),
          computeMs: lowerMedian(mine.map((r) => r.computeMs)),
          commMs: lowerMedian(mine.map((r) => r.commMs)),
        },
  );
}

/** Fit the cost model to measured runs (failed runs are ignored), at each cell's medians. */
export function calibrate(runs: readonly RunRecord[], options: CalibrateOptions): Calibration {
  const ok = runs.filter(
    (r) => r.status === 'ok' && Number.isFinite(r.wallSeconds) && Number.isFinite(r.computeMs) && Number.isFinite(r.commMs),
  );
  if (ok.length === 0) return { ...DEFAULT_CALIBRATION, notes: [...DEFAULT_CALIBRATION.notes] };
  const notes: string[] = [];
  const rows = cellMedians(ok).map((run) => {
    const algorithm = options.algorithmOf(run);
    const work = workloadOf(algorithm, { rows: run.trainRows, cols: run.cols, workers: run.workers, strategy: run.strategy });
    const cluster = { paradigm: run.paradigm, workers: run.workers, cores: options.cores };
    return { run, algorithm, work, p: parallelism(cluster), shape: collectiveShape(run.paradigm, run.workers) };
  });

  const { compute, rankCompute } = fitCompute(rows, notes);

  const links: Partial<Record<Paradigm, LinkParameters>> = {};
  const startup: Partial<Record<Paradigm, StartupParameters>> = {};
  for (const paradigm of ['sequential', 'threads', 'processes', 'cluster'] as const) {
    const mine = rows.filter((r) => r.run.paradigm === paradigm);
    if (mine.length === 0) {
      if (paradigm !== 'sequential' && paradigm !== 'cluster')
        notes.push(`no ${paradigm} runs: its link, start-up and rank compute speed are defaults`);
      continue;
    }
    const communicating = mine.filter((r) => r.work.collectives > 0);
    if (communicating.length > 0) {
      links[paradigm] = fitLink(paradigm, communicating, notes);
    }
    const ys = mine.map((r) => Math.max(0, r.run.wallSeconds - (r.run.computeMs + r.run.commMs) / 1000));
    if (paradigm === 'sequential') {
      startup[paradigm] = { fixedSeconds: median(ys), perWorkerSeconds: 0 };
      continue;
    }
    startup[paradigm] = fitStartup(paradigm, mine, ys, notes);
  }
  if (links.cluster === undefined && links.processes !== undefined) {
    links.cluster = links.processes;
    startup.cluster ??= startup.processes!;
    notes.push('cluster: not measured; uses the processes calibration (same ZeroMQ transport) with the network you give');
  }

  const passes: Record<string, number> = {};
  // Every repeat's history, of the cells whose algorithm (one per cell) is summation form.
  const summationCells = new Set(rows.filter((r) => r.algorithm.form === 'summation').map((r) => r.run.cellId));
  const iterative = ok.filter((r) => summationCells.has(r.cellId));
  for (const model of new Set(iterative.map((r) => r.model))) {
    const observed = iterative
      .filter((r) => r.model === model)
      .map(observedPasses)
      .filter((p): p is number => p !== null);
    if (observed.length > 0) passes[model] = median(observed);
  }
  const spread = repeatSpread(ok);
  return {
    source: 'runs',
    compute,
    rankCompute,
    links,
    startup,
    passes,
    ...(Object.keys(spread).length > 0 ? { spread } : {}),
    runs: ok.length,
    notes,
  };
}

/** Repeats a cell needs before its spread counts: of two, the first is usually cold and the spread is its warm-up. */
const SPREAD_REPEATS = 3;

/**
 * Per paradigm, one run's typical distance from its cell's median: the median absolute deviation of
 * the wall times of each cell of ≥ SPREAD_REPEATS repeats, fitted as fixed + relative × the cell's
 * median (relative least squares, both ≥ 0). Measured on a stored comparison of 3,276 runs (93
 * cells), the deviation was a median 21% of the cell's median (quartiles 14–30%) over the 56 cells
 * under 50 ms, and 9% (6–15%) over the 15 cells of 100 ms or more: one ratio for every size
 * overstated the spread of the larger fits. Cells at one median only: relative alone.
 */
export function repeatSpread(runs: readonly RunRecord[]): Partial<Record<Paradigm, RepeatSpread>> {
  const perParadigm = new Map<Paradigm, { median: number; deviation: number }[]>();
  for (const mine of runsByCell(runs)) {
    if (mine.length < SPREAD_REPEATS) continue;
    const walls = mine.map((r) => r.wallSeconds);
    const median = lowerMedian(walls);
    if (!(median > 0)) continue;
    const paradigm = mine[0]!.paradigm;
    const cells = perParadigm.get(paradigm) ?? [];
    cells.push({ median, deviation: lowerMedian(walls.map((w) => Math.abs(w - median))) });
    perParadigm.set(paradigm, cells);
  }
  const spreads: Partial<Record<Paradigm, RepeatSpread>> = {};
  for (const [paradigm, cells] of perParadigm) {
    // A fixed part is told from a relative one only by cells of different medians.
    const both = new Set(cells.map((c) => c.median)).size > 1;
    const beta = nonNegativeLeastSquares(
      cells.map((c) => (both ? [1, c.median] : [c.median])),
      cells.map((c) => c.deviation),
      cells.map((c) => c.median),
    );
    spreads[paradigm] = both ? { fixedSeconds: beta[0]!, relative: beta[1]! } : { fixedSeconds: 0, relative: beta[0]! };
  }
  return spreads;
}

interface ComputeRow {
  run: RunRecord;
  algorithm: Algorithm;
  work: { workUnits: number; stepsPerRank: number };
  p: number;
}

/** Paradigms whose ranks run the model's code as process ranks do (cluster hosts run the processes rank body). */
const rankFamily = (paradigm: Paradigm): Paradigm => (paradigm === 'cluster' ? 'processes' : paradigm);

/**
 * The alternating compute fit stops when no factor moved by more than FACTOR_TOLERANCE (relative) in
 * a round, or after COMPUTE_ROUNDS. Measured on the default compare's runs: the factor's change
 * shrinks ~0.8× per round, 4 digits after ~40 rounds and 1e-7 after ~60.
 */
const COMPUTE_ROUNDS = 200;
const FACTOR_TOLERANCE = 1e-7;

/**
 * The models' own compute parameters and the paradigms' rank factors, by alternating least squares:
 * with the factors fixed each model's fit is linear (in rate, step cost, fixed), with the models'
 * fixed each paradigm's is (in factor, fixed_p); each turn lowers the same weighted squared error.
 */
function fitCompute(
  rows: readonly ComputeRow[],
  notes: string[],
): { compute: Record<string, ComputeParameters>; rankCompute: Partial<Record<Paradigm, RankComputeParameters>> } {
  const keyOf = (r: ComputeRow): string => computeKey(r.run.model, r.algorithm.form);
  // Per rank: units of work on min(N, cores) cores, steps time-shared beyond the cores, one fit.
  const features = new Map<ComputeRow, number[]>(
    rows.map((r) => [r, [r.work.workUnits / r.p, r.work.stepsPerRank * Math.max(1, r.run.workers / r.p), 1]]),
  );
  const rankCompute: Partial<Record<Paradigm, RankComputeParameters>> = {};
  const rankOf = (r: ComputeRow): RankComputeParameters => rankCompute[rankFamily(r.run.paradigm)] ?? { factor: 1, fixedSeconds: 0 };
  const compute: Record<string, ComputeParameters> = {};
  const own = (r: ComputeRow): number => {
    const c = compute[keyOf(r)]!;
    const [units, steps] = features.get(r)!;
    return c.secondsPerUnit * units! + c.secondsPerStep * steps! + (c.fixedSeconds ?? 0);
  };
  const families = [...new Set(rows.map((r) => rankFamily(r.run.paradigm)))].filter((p) => p !== 'sequential');
  // Without sequential runs the models' rates and the factors are the same unknown: keep factor 1.
  const anchored = rows.some((r) => r.run.paradigm === 'sequential');
  const byModel = [...new Set(rows.map(keyOf))].map((key) => [key, rows.filter((r) => keyOf(r) === key)] as const);
  const byFamily = families.map((family) => rows.filter((r) => rankFamily(r.run.paradigm) === family));
  for (let round = 0; round < (anchored ? COMPUTE_ROUNDS : 1); round++) {
    for (const [key, mine] of byModel) {
      // computeMs = factor · (x · β) + fixed_p  ⇔  (computeMs − fixed_p) / factor = x · β, weights scaled alike.
      const ys = mine.map((r) => (r.run.computeMs / 1000 - rankOf(r).fixedSeconds) / rankOf(r).factor);
      const weights = mine.map((r) => weightOf(r.run.computeMs / 1000) / rankOf(r).factor);
      const [secondsPerUnit, secondsPerStep, fixedSeconds] = nonNegativeLeastSquares(
        mine.map((r) => features.get(r)!),
        ys,
        weights,
      );
      compute[key] = { secondsPerUnit: secondsPerUnit!, secondsPerStep: secondsPerStep!, fixedSeconds: fixedSeconds! };
    }
    if (!anchored) break;
    let moved = 0;
    for (const [i, family] of families.entries()) {
      const mine = byFamily[i]!;
      const ys = mine.map((r) => r.run.computeMs / 1000);
      const [factor, fixedSeconds] = nonNegativeLeastSquares(
        mine.map((r) => [own(r), 1]),
        ys,
        ys.map(weightOf),
      );
      // A zero factor would say the model's work costs nothing on this paradigm: keep the last one.
      const before = rankOf(mine[0]!).factor;
      rankCompute[family] = factor! > 0 ? { factor: factor!, fixedSeconds: fixedSeconds! } : rankOf(mine[0]!);
      moved = Math.max(moved, Math.abs(rankCompute[family]!.factor - before) / before);
    }
    if (moved < FACTOR_TOLERANCE) break;
  }
  if (!anchored && families.length > 0)
    notes.push('no sequential runs: every paradigm is taken to run the model code at one rate (factor 1)');
  // Models never measured get the median parameters of those that were: the same JS engine and kernels.
  const fitted = Object.values(compute);
  compute.default = {
    secondsPerUnit: median(fitted.map((c) => c.secondsPerUnit)),
    secondsPerStep: median(fitted.map((c) => c.secondsPerStep)),
    fixedSeconds: median(fitted.map((c) => c.fixedSeconds ?? 0)),
  };
  return { compute, rankCompute };
}

/**
 * A parallel paradigm's start-up: fixed + per worker, plus per byte of the feature matrix where the
 * ranks are shipped their rows (processes, cluster) and the runs span more than one data size. With
 * one worker count the fixed part cannot be told from the per-worker one: start-up is then taken as
 * proportional to workers.
 */
function fitStartup(paradigm: Paradigm, mine: readonly { run: RunRecord }[], ys: readonly number[], notes: string[]): StartupParameters {
  const distinctWorkers = new Set(mine.map((r) => r.run.workers)).size > 1;
  const ships = (paradigm === 'processes' || paradigm === 'cluster') && new Set(mine.map((r) => r.run.trainRows * r.run.cols)).size > 1;
  if (!distinctWorkers) notes.push(`${paradigm}: runs at one worker count only, so start-up is taken as proportional to workers`);
  const columns = (r: { run: RunRecord }): number[] => [
    ...(distinctWorkers ? [1] : []),
    r.run.workers,
    ...(ships ? [r.run.trainRows * r.run.cols * 8] : []),
  ];
  const beta = nonNegativeLeastSquares(mine.map(columns), ys, ys.map(weightOf));
  const fixedSeconds = distinctWorkers ? beta.shift()! : 0;
  const perWorkerSeconds = beta.shift()!;
  return ships ? { fixedSeconds, perWorkerSeconds, perDataByteSeconds: beta.shift()! } : { fixedSeconds, perWorkerSeconds };
}

interface LinkRow {
  run: RunRecord;
  work: { collectives: number; payloadBytes: number };
  shape: { hops: number; byteFactor: number };
}

/**
 * Latency, per-byte and per-fit cost of a paradigm's collectives. The per-fit cost (the first
 * collective waiting for the last rank to start) is fitted when the runs made different numbers of
 * collectives; without it, relative least squares had to share that wait out per collective, and
 * predicted a 16,000-row SGD fit's communication at half what was measured after fitting 2,000 rows
 * (measured, processes×2: 13 ms for 32 collectives, 40 ms for 250).
 * Latency and per-byte cost are both identified only when the runs exchanged payloads of clearly
 * different sizes (≥ 16× apart); otherwise the two columns are nearly proportional and least squares
 * puts everything on one of them — measured: with 88 B (logistic SGD) and 368 B (k-means) payloads
 * it fitted 0.6 MB/s and zero latency on loopback, because k-means' time in all-reduce is mostly
 * waiting for the slowest rank. So the per-byte cost stays at its default and only the latency (which
 * absorbs that waiting) is fitted.
 */
function fitLink(paradigm: Paradigm, rows: readonly LinkRow[], notes: string[]): LinkParameters {
  const ys = rows.map((r) => r.run.commMs / 1000);
  const hops = rows.map((r) => r.work.collectives * r.shape.hops);
  const bytes = rows.map((r) => r.work.collectives * r.shape.byteFactor * r.work.payloadBytes);
  const payloads = rows.map((r) => r.work.payloadBytes);
  const perFit = new Set(rows.map((r) => r.work.collectives)).size > 1;
  const fixed = (beta: number[]): { fixedSeconds?: number } => (perFit ? { fixedSeconds: beta[0]! } : {});
  const withFixed = (columns: number[]): number[] => (perFit ? [1, ...columns] : columns);
  if (!perFit) notes.push(`${paradigm}: every run made the same number of collectives, so no per-fit communication cost is fitted`);
  if (Math.max(...payloads) >= 16 * Math.min(...payloads)) {
    const beta = nonNegativeLeastSquares(
      hops.map((h, i) => withFixed([h, bytes[i]!])),
      ys,
      ys.map(weightOf),
    );
    const [latencySeconds, secondsPerByte] = perFit ? beta.slice(1) : beta;
    return { latencySeconds: latencySeconds!, secondsPerByte: secondsPerByte!, ...fixed(beta) };
  }
  const secondsPerByte = DEFAULT_CALIBRATION.links[paradigm]?.secondsPerByte ?? 0;
  const beta = nonNegativeLeastSquares(
    hops.map((h) => withFixed([h])),
    ys.map((y, i) => Math.max(0, y - bytes[i]! * secondsPerByte)),
    ys.map(weightOf),
  );
  notes.push(
    `${paradigm}: payload sizes less than 16× apart (${Math.min(...payloads)}–${Math.max(...payloads)} B), so bandwidth keeps its default (${(1 / secondsPerByte / 1e6).toFixed(0)} MB/s) and only latency is fitted`,
  );
  return { latencySeconds: (perFit ? beta[1] : beta[0])!, secondsPerByte, ...fixed(beta) };
}

/** Iterations a run made, from its progress history (the last reported iteration); null without one. */
export function observedPasses(run: Pick<RunRecord, 'history'>): number | null {
  const last = run.history[run.history.length - 1];
  return last === undefined ? null : last.iteration;
}
