/**
 * Linear regression (ordinary least squares, ridge with `l2 > 0`) in summation form (Chu et al.,
 * NIPS 2006): each rank computes the Gram matrix XᵀX and Xᵀy of its shard (about a shift near the
 * mean, centred afterwards), one all-reduce sums them, and every rank solves the same d×d system by
 * Cholesky — one pass over the data, O(d²) numbers on the wire whatever the row count.
 * `solver: 'sgd'` trains the same objective by mini-batch SGD through `runSgd` (any gradient strategy).
 *
 * Objective: ‖y − Xw − b‖² + l2·‖w‖² (scikit-learn's Ridge with alpha = l2; the intercept is never
 * penalised). SGD minimises the same objective divided by the row count n, so both solvers head
 * for the same weights.
 *
 * @example
 * const model = await new LinearRegression({ l2: 0.1 }).fit(train);
 * model.state.weights; model.predict(test); model.score(test); // R²
 */
import { DataError } from '../../core/errors.js';
import { kernels } from '../../core/kernels.js';
import { choleskySolve } from '../../core/linalg.js';
import type { FloatArray } from '../../core/storage.js';
import type { Dataset } from '../../data/dataset.js';
import type { TrainContext } from '../context.js';
import { Estimator } from '../estimator.js';
import type { OptionSchema } from '../option-schema.js';
import { resolveOptions } from '../option-schema.js';
import type { StateSchema } from '../state-schema.js';
import { r2Score } from '../metrics.js';
import { runSgd, sgdData } from '../solvers/sgd.js';
import type { SgdProblem } from '../solvers/sgd.js';
import { sumOverRows } from '../row-sums.js';
import { centreGram, shiftOf } from '../shifted-moments.js';
import { globalLayout } from '../spmd.js';
import { LinearBatch } from './batch.js';
import type { RowLoss } from './batch.js';
import { FIT_INTERCEPT_OPTION, SGD_OPTIONS, checkFeatures, linearScores } from './shared.js';

export type LinearRegressionSolver = 'exact' | 'sgd';

export interface LinearRegressionParams {
  /** 'exact': normal equations by Cholesky; 'sgd': mini-batch SGD. */
  solver: LinearRegressionSolver;
  /** Ridge penalty on the weights (scikit-learn's Ridge alpha); 0 is ordinary least squares. */
  l2: number;
  fitIntercept: boolean;
  /** SGD only: passes over the data. */
  epochs: number;
  /** SGD only: constant learning rate. */
  lr: number;
  /** SGD only: rows per global mini-batch. */
  batchSize: number;
  /** SGD only: seed of the batch order. */
  seed: number;
}

export interface LinearRegressionState {
  weights: Float64Array;
  intercept: number;
}

export const LINEAR_REGRESSION_STATE: StateSchema<LinearRegressionState> = {
  weights: { type: 'floats' },
  intercept: { type: 'number' },
};

const NAME = 'linear-regression';
export const LINEAR_REGRESSION_OPTIONS: OptionSchema<LinearRegressionParams> = {
  solver: {
    type: 'choice',
    choices: ['exact', 'sgd'],
    default: 'exact',
    doc: "'exact': normal equations by Cholesky (one all-reduce); 'sgd': mini-batch SGD",
  },
  l2: { type: 'number', min: 0, default: 0, doc: 'ridge penalty on the weights (scikit-learn Ridge alpha); 0 is ordinary least squares' },
  fitIntercept: FIT_INTERCEPT_OPTION,
  ...SGD_OPTIONS,
};
/** Rows centred into a float64 scratch block at a time: 1024×d doubles stay in L2 for syrk. */
const BLOCK_ROWS = 1024;

export class LinearRegression extends Estimator<LinearRegressionParams, LinearRegressionState> {
  readonly name = NAME;
  readonly kind = 'regressor' as const;

  constructor(params: Partial<LinearRegressionParams> = {}) {
    super(resolveOptions(NAME, LINEAR_REGRESSION_OPTIONS, params));
  }

  async train(shard: Dataset, context: TrainContext): Promise<LinearRegressionState> {
    shard.labels(); // an unlabelled dataset is refused here, before any rank waits for another
    const solver = this.params.solver;
    if (solver === 'exact') return trainExact(shard, this.params, context);
    return trainSgd(shard, this.params, context);
  }

  predict(data: Dataset): Float64Array {
    const { weights, intercept } = this.state;
    checkFeatures(NAME, data, weights.length);
    return linearScores(data, weights, Float64Array.of(intercept), 1);
  }

  /** R² on `data` (1 is perfect; 0 is no better than predicting the mean). */
  score(data: Dataset): number {
    return r2Score(data.labels(), this.predict(data));
  }
}

// The row pass's loop lives in a module-level function below, not in the callback a fit creates: a
// loop in a per-fit closure is compiled on stack replacement again in every fit (OSR code is
// specialised to the closure's context), 20–55 ms of TurboFan per loop and worker on the two cores
// the ranks train on (--trace-opt, OLS 1M×50 threads×2, fits 1–5). Module functions are compiled once.

/** Where the pass's sums sit in its output, for d columns: the Gram matrix first (syrk adds into it in place). */
function momentLayout(d: number): { xty: number; yty: number; sumX: number; sumY: number; count: number; width: number } {
  const xty = d * d;
  return { xty, yty: xty + d, sumX: xty + d + 1, sumY: xty + 2 * d + 1, count: xty + 2 * d + 2, width: xty + 2 * d + 3 };
}

/**
 * The pass's terms over rows [first, first + count), on the rows shifted by (s, sy): adds
 * (X−s)ᵀ(X−s), (X−s)ᵀ(y−sy), Σ(y−sy)², Σ(X−s), Σ(y−sy) and the row count into `out` (momentLayout).
 * `block`, `blockY` and `ones` are BLOCK_ROWS rows of scratch in kernel memory.
 */
function addShiftedMoments(
  x: FloatArray,
  y: Float64Array,
  d: number,
  first: number,
  count: number,
  shift: Float64Array,
  shiftY: number,
  block: Float64Array,
  blockY: Float64Array,
  ones: Float64Array,
  out: Float64Array,
): void {
  const k = kernels();
  const at = momentLayout(d);
  for (let start = first; start < first + count; start += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, first + count - start);
    // The rows shifted by the subtractRow kernel (WASM), as PCA's covariance does: in a JavaScript
    // loop this was the largest share of a threads rank's time (--cpu-prof, 1M×50: ~90 ms per fit).
    k.subtractRow(rows, d, x, start * d, shift, block, 0);
    let squares = 0;
    let sumY = 0;
    for (let i = 0; i < rows; i++) {
      const shifted = y[start + i]! - shiftY;
      blockY[i] = shifted;
      sumY += shifted;
      squares += shifted * shifted;
    }
    // Every block adds its own sums, so these statements have run (and left type feedback) before
    // the loop is compiled on stack replacement: added once after the loop, they were reached only
    // by OSR code compiled without feedback for them, which bailed out there at the end of every
    // call (--trace-deopt: "Insufficient type feedback for generic named access", 13 in 12 fits).
    out[at.yty]! += squares;
    out[at.sumY]! += sumY;
    out[at.count]! += rows;
    k.syrk(rows, d, block, 0, d, out, 0);
    k.gemv(true, rows, d, 1, block, 0, d, blockY, 0, 1, out, at.xty);
    // Σ(x − s) from the block while it is in cache: the pass reads X once.
    k.gemv(true, rows, d, 1, block, 0, d, ones, 0, 1, out, at.sumX);
  }
}

/**
 * The normal equations on centred data: with column means μ and ȳ over all ranks,
 * (X−μ)ᵀ(X−μ)·w = (X−μ)ᵀ(y−ȳ) and b = ȳ − μ·w. This is the augmented system [X 1] with an
 * unpenalised intercept after eliminating b (its Schur complement), but centring keeps the Gram
 * matrix's condition number that of the features, not of features plus a constant column.
 *
 * One pass over the rows: the moments of the rows shifted by s (the mean of the data's or the ranks' first rows),
 * centred exactly afterwards (shifted-moments.ts: at most log10(n / 1024) digits lost, whatever the data).
 */
async function trainExact(shard: Dataset, params: LinearRegressionParams, context: TrainContext): Promise<LinearRegressionState> {
  const d = shard.cols;
  const k = kernels();
  const at = momentLayout(d);
  // Without an intercept the raw moments XᵀX and Xᵀy are the system: no shift, no centring.
  const shifts = params.fitIntercept ? await shiftOf(shard, context, true) : new Float64Array(d + 1);
  const shift = shifts.subarray(0, d);
  const shiftY = shifts[d]!;
  // The shifted block, the targets and the ones for Σ(x − s) live where the kernels read them (WASM
  // memory), as do the chunk's sums (sumOverRows): syrk and gemv copy nothing in or out per block.
  const placedBlock = k.zeros('float64', BLOCK_ROWS * d);
  const placedY = k.zeros('float64', BLOCK_ROWS);
  const placedOnes = k.zeros('float64', BLOCK_ROWS);
  let stats: Float64Array;
  try {
    const block = placedBlock.array;
    const blockY = placedY.array;
    const ones = placedOnes.array.fill(1);
    stats = await sumOverRows(context, shard, at.width, (data, first, count, out) => {
      addShiftedMoments(data.x, data.labels(), d, first, count, shift, shiftY, block, blockY, ones, out);
    });
  } finally {
    placedBlock.release();
    placedY.release();
    placedOnes.release();
  }
  const total = stats[at.count]!;
  if (total === 0) throw new DataError('DATA_MISSING', { file: shard.source }, `${NAME}: no rows to train on`);

  const mean = new Float64Array(d);
  let meanY = 0;
  if (params.fitIntercept) {
    // m = μ − s and ȳ − sy from the shifted sums; then centre the moments in place, exactly (see above).
    const m = Float64Array.from(stats.subarray(at.sumX, at.sumX + d), (sum) => sum / total);
    const mY = stats[at.sumY]! / total;
    centreGram(stats.subarray(0, d * d), d, total, m);
    for (let j = 0; j < d; j++) {
      stats[at.xty + j]! -= total * m[j]! * mY;
      mean[j] = shift[j]! + m[j]!;
    }
    stats[at.yty]! -= total * mY * mY;
    meanY = shiftY + mY;
  }
  const gram = stats.slice(0, d * d);
  const xty = stats.slice(at.xty, at.xty + d);
  for (let j = 0; j < d; j++) gram[j * d + j]! += params.l2;
  const weights = d === 0 ? new Float64Array(0) : choleskySolve(gram, d, xty);
  const intercept = params.fitIntercept ? meanY - k.dot(d, mean, 0, weights, 0) : 0;
  // Training mean squared error from the reduced sums: (yᵀy − 2wᵀXᵀy + wᵀXᵀXw) / n, no extra pass.
  const gramNoRidge = stats.subarray(0, d * d);
  const gw = new Float64Array(d);
  k.gemv(false, d, d, 1, gramNoRidge, 0, d, weights, 0, 0, gw, 0);
  const residual = stats[at.yty]! - 2 * k.dot(d, weights, 0, xty, 0) + k.dot(d, weights, 0, gw, 0);
  context.report({ iteration: 1, total: 1, loss: Math.max(0, residual) / total });
  return { weights, intercept };
}

/** Squared loss ½(x·w + b − y)² per row; the ridge term is applied in the update. */
async function trainSgd(shard: Dataset, params: LinearRegressionParams, context: TrainContext): Promise<LinearRegressionState> {
  const d = shard.cols;
  const data = sgdData(shard, context);
  const x = data.x;
  const y = data.labels();
  const { total } = await globalLayout(context.comm, shard.rows);
  if (total === 0) throw new DataError('DATA_MISSING', { file: shard.source }, `${NAME}: no rows to train on`);
  // The per-row share of the ridge penalty, so SGD's objective is the exact solver's divided by n.
  const decay = params.l2 / total;
  const { lr, fitIntercept } = params;
  const batch = new LinearBatch(d, 1);
  const squared = new SquaredLoss(y);
  const problem: SgdProblem = {
    dim: d + 1,
    accumulate: (w, rows, count, gradient) => batch.sumRows(x, rows, count, w, gradient, squared),
    apply(w, meanGradient) {
      for (let j = 0; j < d; j++) w[j]! -= lr * (meanGradient[j]! + decay * w[j]!);
      if (fitIntercept) w[d]! -= lr * meanGradient[d]!;
    },
  };
  let result: Awaited<ReturnType<typeof runSgd>>;
  try {
    result = await runSgd(shard, context, problem, new Float64Array(d + 1), params);
  } finally {
    batch.release();
  }
  return { weights: result.params.slice(0, d), intercept: result.params[d]! };
}

/** Half the squared error of each row's score; the residual is the error (a class: see RowLoss). */
class SquaredLoss implements RowLoss {
  constructor(private readonly y: Float64Array) {}

  residual(scores: Float64Array, at: number, row: number): number {
    const error = scores[at]! - this.y[row]!;
    scores[at] = error;
    return 0.5 * error * error;
  }
}
