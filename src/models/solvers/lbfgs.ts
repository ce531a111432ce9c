/**
 * Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4–7.5) with a
 * strong-Wolfe line search (their Alg. 3.5–3.6), for an objective that is *async*: in SPMD training
 * each evaluation sums loss and gradient over every rank's shard with one all-reduce.
 *
 * Lock-step: the all-reduce gives every rank bitwise the same loss and gradient, and everything
 * here is a deterministic function of them, so every rank takes the same steps, evaluates at the
 * same points and stops at the same iteration — no extra coordination is needed.
 *
 * Stopping follows scipy's L-BFGS-B as scikit-learn calls it: max |gradient| ≤ `tol`, or a relative
 * decrease of the objective ≤ `ftol` (64·ε by default), or `maxIter` iterations.
 *
 * @example
 * const result = await minimizeLbfgs(async (x, g) => { g[0] = 2 * (x[0]! - 3); return (x[0]! - 3) ** 2; },
 *   new Float64Array(1), { maxIter: 50, tol: 1e-8 });
 * result.x; // ≈ [3]
 */

/** Writes the gradient at `x` into `gradient` and resolves to the objective's value at `x`. */
export type AsyncObjective = (x: Float64Array, gradient: Float64Array) => Promise<number>;

export interface LbfgsOptions {
  maxIter: number;
  /** Stop when max |gradient| ≤ tol. */
  tol: number;
  /** Stop when (f_prev − f) / max(|f_prev|, |f|, 1) ≤ ftol. Default 64·ε, as scikit-learn. */
  ftol?: number;
  /** Correction pairs kept. Default 10 (scipy's maxcor). */
  memory?: number;
  /** Objective evaluations allowed per line search. Default 50 (scikit-learn's maxls). */
  maxLineSearch?: number;
  /** Called after each iteration with the iteration count (from 1) and the objective. */
  onIteration?: (iteration: number, loss: number) => void;
}

export type LbfgsStop = 'gradient' | 'function' | 'maxIter' | 'lineSearch';

export interface LbfgsResult {
  x: Float64Array;
  loss: number;
  iterations: number;
  evaluations: number;
  stop: LbfgsStop;
}

const C1 = 1e-4; // sufficient decrease (Armijo)
const C2 = 0.9; // curvature: 0.9 is the usual choice for quasi-Newton directions (N&W §3.1)

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Minimiser of the cubic through (a, fa, da) and (b, fb, db), kept inside the safeguard interval. */
function cubicStep(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const low = Math.min(a, b);
  const high = Math.max(a, b);
  const margin = 0.1 * (high - low);
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const radicand = d1 * d1 - da * db;
  let step = NaN;
  if (radicand >= 0) {
    const d2 = Math.sign(b - a) * Math.sqrt(radicand);
    step = b - (b - a) * ((db + d2 - d1) / (db - da + 2 * d2));
  }
  if (!Number.isFinite(step) || step < low + margin || step > high - margin) return (low + high) / 2;
  return step;
}

export async function minimizeLbfgs(objective: AsyncObjective, initial: Float64Array, options: LbfgsOptions): Promise<LbfgsResult> {
  const n = initial.length;
  const memory = options.memory ?? 10;
  const maxLineSearch = options.maxLineSearch ?? 50;
  const ftol = options.ftol ?? 64 * Number.EPSILON;
  const x = Float64Array.from(initial);
  const g = new Float64Array(n);
  const direction = new Float64Array(n);
  const trialX = new Float64Array(n);
  const trialG = new Float64Array(n);
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(memory);
  let evaluations = 0;

  const evaluateAt = async (step: number): Promise<{ f: number; slope: number }> => {
    for (let i = 0; i < n; i++) trialX[i] = x[i]! + step * direction[i]!;
    const f = await objective(trialX, trialG);
    evaluations++;
    return { f, slope: dot(trialG, direction) };
  };

  let f = await objective(x, g);
  evaluations++;
  if (!Number.isFinite(f)) throw new RangeError(`L-BFGS: the objective is ${f} at the starting point`);
  let iterations = 0;
  let stop: LbfgsStop = 'maxIter';
  if (maxAbs(g) <= options.tol) stop = 'gradient';

  while (stop === 'maxIter' && iterations < options.maxIter) {
    // Two-loop recursion: direction = −H·g with H₀ = (sᵀy / yᵀy)·I from the newest pair.
    for (let i = 0; i < n; i++) direction[i] = -g[i]!;
    for (let j = sList.length - 1; j >= 0; j--) {
      const a = rho[j]! * dot(sList[j]!, direction);
      alpha[j] = a;
      const yj = yList[j]!;
      for (let i = 0; i < n; i++) direction[i]! -= a * yj[i]!;
    }
    if (sList.length > 0) {
      const last = sList.length - 1;
      const scale = 1 / (rho[last]! * dot(yList[last]!, yList[last]!));
      for (let i = 0; i < n; i++) direction[i]! *= scale;
    }
    for (let j = 0; j < sList.length; j++) {
      const b = rho[j]! * dot(yList[j]!, direction);
      const sj = sList[j]!;
      const coefficient = alpha[j]! - b;
      for (let i = 0; i < n; i++) direction[i]! += coefficient * sj[i]!;
    }
    let slope0 = dot(g, direction);
    if (!(slope0 < 0)) {
      // Not a descent direction (round-off in the memory): restart from steepest descent.
      sList.length = 0;
      yList.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) direction[i] = -g[i]!;
      slope0 = dot(g, direction);
    }
    // First iteration: a unit step along −g can be wildly off scale, so start at 1/‖g‖ (as scipy).
    const firstStep = sList.length === 0 ? Math.min(1, 1 / Math.sqrt(-slope0)) : 1;
    const accepted = await lineSearch(evaluateAt, f, slope0, firstStep, maxLineSearch);
    if (accepted === null) {
      stop = 'lineSearch';
      break;
    }
    // trialX/trialG hold the accepted point: the line search's last evaluation is the accepted one.
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = trialX[i]! - x[i]!;
      y[i] = trialG[i]! - g[i]!;
    }
    const previous = f;
    x.set(trialX);
    g.set(trialG);
    f = accepted;
    iterations++;
    const curvature = dot(s, y);
    if (curvature > 1e-10 * dot(y, y)) {
      if (sList.length === memory) {
        sList.shift();
        yList.shift();
        rho.shift();
      }
      sList.push(s);
      yList.push(y);
      rho.push(1 / curvature);
    }
    options.onIteration?.(iterations, f);
    if (maxAbs(g) <= options.tol) stop = 'gradient';
    else if ((previous - f) / Math.max(Math.abs(previous), Math.abs(f), 1) <= ftol) stop = 'function';
  }
  return { x, loss: f, iterations, evaluations, stop };
}

/**
 * Strong-Wolfe line search; resolves to the accepted objective value (the point is the last one
 * evaluated) or null when no acceptable step was found within `maxEvaluations`.
 */
async function lineSearch(
  evaluateAt: (step: number) => Promise<{ f: number; slope: number }>,
  f0: number,
  slope0: number,
  firstStep: number,
  maxEvaluations: number,
): Promise<number | null> {
  let previousStep = 0;
  let previousF = f0;
  let previousSlope = slope0;
  let step = firstStep;
  let used = 0;

  // Bracketing phase (Alg. 3.5).
  for (;;) {
    const { f, slope } = await evaluateAt(step);
    used++;
    if (!Number.isFinite(f) || f > f0 + C1 * step * slope0 || (used > 1 && f >= previousF)) {
      return zoom(previousStep, previousF, previousSlope, step, Number.isFinite(f) ? f : Infinity, slope);
    }
    if (Math.abs(slope) <= -C2 * slope0) return f;
    if (slope >= 0) return zoom(step, f, slope, previousStep, previousF, previousSlope);
    if (used >= maxEvaluations) return null;
    previousStep = step;
    previousF = f;
    previousSlope = slope;
    step *= 2;
  }

  // Zoom phase (Alg. 3.6): [low, high] brackets a step satisfying the strong Wolfe conditions.
  async function zoom(low: number, fLow: number, slopeLow: number, high: number, fHigh: number, slopeHigh: number): Promise<number | null> {
    while (used < maxEvaluations) {
      const step =
        Number.isFinite(fHigh) && Number.isFinite(slopeHigh) ? cubicStep(low, fLow, slopeLow, high, fHigh, slopeHigh) : (low + high) / 2;
      const { f, slope } = await evaluateAt(step);
      used++;
      if (!Number.isFinite(f) || f > f0 + C1 * step * slope0 || f >= fLow) {
        high = step;
        fHigh = Number.isFinite(f) ? f : Infinity;
        slopeHigh = slope;
      } else {
        if (Math.abs(slope) <= -C2 * slope0) return f;
        if (slope * (high - low) >= 0) {
          high = low;
          fHigh = fLow;
          slopeHigh = slopeLow;
        }
        low = step;
        fLow = f;
        slopeLow = slope;
      }
      if (Math.abs(high - low) <= 1e-16 * Math.max(1, Math.abs(low))) break;
    }
    // No strong-Wolfe point found: accept the best sufficient-decrease point if it is the last one
    // evaluated; otherwise report failure (the caller stops with the current iterate).
    return null;
  }
}
