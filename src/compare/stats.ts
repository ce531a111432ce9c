/**
 * The arithmetic of a comparison: order statistics over repeats, speedup, parallel efficiency,
 * time to target. Pure functions; the runner and the summary call them.
 *
 * @example
 * spread([3, 1, 2, 10]);          // { n: 4, median: 2.5, min: 1, max: 10, q1: 1.75, q3: 4.75, iqr: 3 }
 * speedup(10, 4);                 // 2.5  (baseline seconds / parallel seconds)
 * efficiency(2.5, 4);             // 0.625 (speedup / workers)
 */

export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
  /** First and third quartiles (linear interpolation between order statistics, numpy's default). */
  q1: number;
  q3: number;
  /** Interquartile range q3 − q1. */
  iqr: number;
  /** Median absolute deviation from the median: how far one value typically lands from the middle (robust to one cold repeat). */
  mad: number;
}

/** The q-quantile of sorted values, interpolating linearly (numpy.quantile's 'linear' method). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below]!;
  return low + (sorted[above]! - low) * (position - below);
}

/** Median of the finite values; NaN when there is none. */
export function median(values: readonly number[]): number {
  return quantileSorted(finiteSorted(values), 0.5);
}

function finiteSorted(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
}

/** Median, min, max and quartiles of the finite values (non-finite ones are left out); null when none. */
export function spread(values: readonly number[]): Spread | null {
  const sorted = finiteSorted(values);
  if (sorted.length === 0) return null;
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const median = quantileSorted(sorted, 0.5);
  const deviations = sorted.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
  return {
    n: sorted.length,
    median,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    q1,
    q3,
    iqr: q3 - q1,
    mad: quantileSorted(deviations, 0.5),
  };
}

/** Baseline seconds over measured seconds (> 1 is faster than the baseline); null when either is unusable. */
export function speedup(baselineSeconds: number | null, seconds: number | null): number | null {
  if (baselineSeconds === null || seconds === null || !(baselineSeconds > 0) || !(seconds > 0)) return null;
  return baselineSeconds / seconds;
}

/** Parallel efficiency: speedup per worker (1 = perfect linear scaling). */
export function efficiency(speedupValue: number | null, workers: number): number | null {
  if (speedupValue === null || !(workers >= 1)) return null;
  return speedupValue / workers;
}

export interface HistoryPoint {
  elapsedMs: number;
  iteration: number;
  total: number;
  loss: number | null;
}

/**
 * Milliseconds from the start of training to the first history point whose loss is at or below
 * `targetLoss`; null when no point reaches it (or none reports a loss).
 */
export function timeToTargetLoss(history: readonly HistoryPoint[], targetLoss: number): number | null {
  for (const point of history) {
    if (point.loss !== null && Number.isFinite(point.loss) && point.loss <= targetLoss) return point.elapsedMs;
  }
  return null;
}

/**
 * The x at which two piecewise-linear curves (same x grid, ascending) cross — where `b` stops being
 * slower than `a` — interpolated between the two grid points around the sign change; null when the
 * order never flips. Used for the crossover data size (parallel vs distributed seconds per rows).
 */
export function crossover(xs: readonly number[], a: readonly number[], b: readonly number[]): number | null {
  for (let i = 1; i < xs.length; i++) {
    const before = b[i - 1]! - a[i - 1]!;
    const after = b[i]! - a[i]!;
    if (before > 0 && after <= 0) {
      const x0 = xs[i - 1]!;
      const x1 = xs[i]!;
      return x0 + ((x1 - x0) * before) / (before - after);
    }
  }
  return null;
}
