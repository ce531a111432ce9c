/**
 * k-means clustering by Lloyd's algorithm in summation form (Chu et al., NIPS 2006): each rank
 * assigns its rows to the nearest centre and sums them per cluster; one all-reduce of
 * [sums (k·d) | counts (k) | inertia | changed labels] per iteration; every rank then computes the
 * same new centres. Stopping follows scikit-learn exactly (strict convergence when no label
 * changes, else Σ‖centre shift‖² ≤ tol · mean feature variance), so from the same initial centres
 * it reproduces scikit-learn's KMeans (checked against fixtures). By default each iteration skips the
 * rows whose Hamerly bounds (hamerly.ts, Kernels.lloydStep) prove their label: the same result, bit for
 * bit, with fewer distances computed (`algorithm: 'lloyd'` compares every row with every centre).
 * On threads the assignment passes go through the row board instead (lloyd-rows.ts): the ranks claim
 * chunks of every rank's rows, whose per-row state is shared, and meet at the board's barrier.
 *
 * @example
 * const model = await new KMeans({ k: 3, seed: 1 }).fit(data);
 * model.predict(data);        // cluster index per row
 * model.state.centers;        // k × cols, row-major
 * model.score(data);          // −inertia, as scikit-learn
 */
import { ConfigError, DataError } from '../../core/errors.js';
import { kernels } from '../../core/kernels.js';
import { Rng } from '../../core/rng.js';
import type { Dataset } from '../../data/dataset.js';
import type { TrainContext } from '../context.js';
import { Estimator } from '../estimator.js';
import type { OptionSchema } from '../option-schema.js';
import { resolveOptions } from '../option-schema.js';
import type { StateSchema } from '../state-schema.js';
import { centreBoundsUpdate } from './hamerly.js';
import { lloydRows } from './lloyd-rows.js';
import { initParallel, initPlusPlus, initRandom } from './init.js';
import type { ShardView } from './shard.js';
import { rowNorms } from './shard.js';
import { globalLayout } from '../spmd.js';

export type KMeansInitName = 'k-means++' | 'k-means||' | 'random';
export const KMEANS_INITS: readonly KMeansInitName[] = ['k-means++', 'k-means||', 'random'];
export type KMeansAlgorithm = 'hamerly' | 'lloyd';
export const KMEANS_ALGORITHMS: readonly KMeansAlgorithm[] = ['hamerly', 'lloyd'];

export interface KMeansParams {
  /** Number of clusters. */
  k: number;
  /** How to choose the initial centres, or (library API) the k·cols initial centres themselves, row-major. */
  init: KMeansInitName | readonly number[] | Float64Array;
  /**
   * How each iteration assigns rows: 'lloyd' compares every row with every centre; 'hamerly' skips
   * the rows whose distance bounds prove their label (Hamerly 2010), with the same labels, centres
   * and inertia, bit for bit.
   */
  algorithm: KMeansAlgorithm;
  /** Upper bound on Lloyd iterations. */
  maxIter: number;
  /** Stop when Σ‖centre shift‖² ≤ tol · (mean over features of the feature variance), as scikit-learn. */
  tol: number;
  seed: number;
  /** k-means||: ℓ = oversampling · k candidates are sampled per round in expectation. */
  oversampling: number;
  /** k-means||: sampling rounds. */
  rounds: number;
}

export interface KMeansState {
  /** k × cols centres, row-major. */
  centers: Float64Array;
  cols: number;
  /** Σ squared distance of each training row to its centre. */
  inertia: number;
  /** Lloyd iterations run. */
  iterations: number;
}

export const KMEANS_STATE: StateSchema<KMeansState, KMeansParams> = {
  cols: { type: 'int', min: 1 },
  centers: { type: 'floats', length: { as: 'k·cols', is: (s, p) => p.k * s.cols } },
  inertia: { type: 'number', min: 0 },
  iterations: { type: 'int', min: 0 },
};

export const KMEANS_OPTIONS: OptionSchema<KMeansParams> = {
  k: { type: 'integer', min: 1, default: 8, doc: 'number of clusters' },
  init: {
    type: 'choice-or-numbers',
    choices: KMEANS_INITS,
    multipleOf: 'k',
    default: 'k-means++',
    doc: 'initial centres: k-means++, k-means|| (parallel), random, or (library API) k·cols numbers',
  },
  algorithm: {
    type: 'choice',
    choices: KMEANS_ALGORITHMS,
    default: 'hamerly',
    doc: "'hamerly': Lloyd's iterations, skipping rows whose distance bounds prove their label (same result); 'lloyd': every row against every centre",
  },
  maxIter: { type: 'integer', min: 1, default: 300, doc: 'upper bound on Lloyd iterations' },
  tol: { type: 'number', min: 0, default: 1e-4, doc: 'stop when Σ‖centre shift‖² ≤ tol · mean feature variance (scikit-learn)' },
  seed: { type: 'integer', min: 0, default: 0, doc: 'seed of the initialisation' },
  oversampling: {
    type: 'number',
    min: 0,
    minExclusive: true,
    default: 2,
    doc: 'k-means||: oversampling·k candidates sampled per round in expectation',
  },
  rounds: { type: 'integer', min: 1, default: 5, doc: 'k-means||: sampling rounds' },
};

export class KMeans extends Estimator<KMeansParams, KMeansState> {
  readonly name = 'kmeans';
  readonly kind = 'clusterer';

  constructor(params: Partial<KMeansParams> = {}) {
    // Centres given as a Float64Array are stored as a plain array (params travel to workers and into saved models as JSON).
    super(resolveOptions('kmeans', KMEANS_OPTIONS, params));
  }

  async train(shard: Dataset, context: TrainContext): Promise<KMeansState> {
    const { comm } = context;
    const { k, maxIter } = this.params;
    const d = shard.cols;
    const layout = await globalLayout(comm, shard.rows);
    if (k > layout.total) {
      throw new ConfigError(`k = ${k} clusters needs at least ${k} rows, found ${layout.total}; lower k`, { field: 'k' });
    }
    const view: ShardView = { comm, shard, layout };
    // tol = 0 (run every iteration, as the foundation benchmark does) needs no variance: two passes over X saved.
    const tolerance = this.params.tol === 0 ? 0 : this.params.tol * (await meanFeatureVariance(view));
    let centers: Float64Array = await initialCenters(view, this.params);

    const rows = await lloydRows(shard, context, k, this.params.algorithm === 'hamerly');
    try {
      const stats = new Float64Array(k * d + k + 2); // sums | counts | inertia | changed labels
      const norms = new Float64Array(k);
      let next: Float64Array = new Float64Array(k * d);
      let strict = false;
      let inertia = NaN;
      let iteration = 0;
      while (iteration < maxIter) {
        iteration++;
        rowNorms(centers, k, d, norms);
        await rows.assign(centers, norms, stats);
        inertia = stats[k * d + k]!;
        const relocated = await relocateEmptyClusters(view, stats, k, rows.labels, rows.distances);
        let shift = 0;
        for (let j = 0; j < k; j++) {
          const count = stats[k * d + j]!;
          if (count === 0) {
            next.set(centers.subarray(j * d, (j + 1) * d), j * d); // nothing left to move here: keep it
            continue;
          }
          for (let c = 0; c < d; c++) {
            const value = stats[j * d + c]! / count;
            const delta = value - centers[j * d + c]!;
            shift += delta * delta;
            next[j * d + c] = value;
          }
        }
        if (rows.bounds !== null) centreBoundsUpdate(centers, next, k, d, rows.bounds.shifts, rows.bounds.halfSeparation);
        [centers, next] = [next, centers];
        context.report({ iteration, total: maxIter, loss: inertia });
        if (stats[k * d + k + 1] === 0 && !relocated) {
          strict = true; // labels unchanged: the new centres equal the old ones bit for bit
          break;
        }
        if (shift <= tolerance) break;
      }
      if (!strict) {
        // As scikit-learn: one more assignment so the reported inertia belongs to the final centres.
        rowNorms(centers, k, d, norms);
        await rows.assign(centers, norms, stats);
        inertia = stats[k * d + k]!;
      }
      return { centers: Float64Array.from(centers), cols: d, inertia, iterations: iteration };
    } finally {
      rows.release();
    }
  }

  /** The index of the nearest centre for each row (as float64, like every model's predict). */
  predict(data: Dataset): Float64Array {
    const { labels } = this.nearest(data);
    return Float64Array.from(labels);
  }

  /** −inertia on `data`, as scikit-learn's KMeans.score: larger is better. */
  score(data: Dataset): number {
    return -this.inertia(data);
  }

  /** Σ over rows of the squared distance to the nearest centre. */
  inertia(data: Dataset): number {
    const { distances } = this.nearest(data);
    let total = 0;
    for (let i = 0; i < distances.length; i++) total += distances[i]!;
    return total;
  }

  /** Euclidean distance of each row to every centre: rows × k, row-major (scikit-learn's transform). */
  transform(data: Dataset): Float64Array {
    const { centers } = this.checkedState(data);
    const { k } = this.params;
    const d = data.cols;
    const kern = kernels();
    const norms = rowNorms(centers, k, d);
    const out = new Float64Array(data.rows * k);
    // ‖x‖² − 2·x·c + ‖c‖², the cross terms for all rows and centres at once by gemm.
    kern.gemm(false, true, data.rows, k, d, -2, data.x, 0, d, centers, 0, d, 0, out, 0, k);
    for (let i = 0; i < data.rows; i++) {
      const rowNorm = kern.dot(d, data.x, i * d, data.x, i * d);
      for (let j = 0; j < k; j++) out[i * k + j] = Math.sqrt(Math.max(0, out[i * k + j]! + rowNorm + norms[j]!));
    }
    return out;
  }

  private nearest(data: Dataset): { labels: Int32Array; distances: Float64Array } {
    const { centers } = this.checkedState(data);
    const { k } = this.params;
    const labels = new Int32Array(data.rows);
    const distances = new Float64Array(data.rows);
    kernels().nearestCenter(data.rows, data.cols, data.x, 0, k, centers, rowNorms(centers, k, data.cols), labels, distances);
    return { labels, distances };
  }

  private checkedState(data: Dataset): KMeansState {
    const state = this.state;
    if (data.cols !== state.cols) {
      throw new DataError(
        'DATA_FORMAT',
        { file: data.source },
        `this k-means model was trained on ${state.cols} columns, found ${data.cols}; use data with the training columns`,
      );
    }
    return state;
  }
}

async function initialCenters(view: ShardView, params: KMeansParams): Promise<Float64Array> {
  const { k, init } = params;
  const rng = new Rng(params.seed);
  if (typeof init !== 'string') {
    if (init.length !== k * view.shard.cols) {
      throw new ConfigError(
        `kmeans option 'init' gives ${init.length} values; k·cols = ${k}·${view.shard.cols} = ${k * view.shard.cols} expected`,
        { field: 'init' },
      );
    }
    return Float64Array.from(init);
  }
  switch (init) {
    case 'k-means++':
      return initPlusPlus(view, k, rng);
    case 'k-means||':
      return initParallel(view, k, rng, { oversampling: params.oversampling, rounds: params.rounds });
    case 'random':
      return initRandom(view, k, rng);
  }
}

/**
 * Mean over features of the population variance (numpy's np.var, ddof = 0), which scales `tol`.
 * Two passes (mean, then squared deviations) rather than Σx² − nμ², which cancels badly when the
 * mean is large next to the spread; each pass is O(n·d), small next to one Lloyd iteration.
 */
async function meanFeatureVariance(view: ShardView): Promise<number> {
  const { comm, shard, layout } = view;
  const d = shard.cols;
  const x = shard.x;
  const mean = new Float64Array(d);
  for (let i = 0; i < shard.rows; i++) for (let c = 0; c < d; c++) mean[c]! += x[i * d + c]!;
  if (comm.size > 1) await comm.allReduce(mean, 'sum');
  for (let c = 0; c < d; c++) mean[c]! /= layout.total;
  const squares = new Float64Array(1);
  let local = 0;
  for (let i = 0; i < shard.rows; i++) {
    for (let c = 0; c < d; c++) {
      const deviation = x[i * d + c]! - mean[c]!;
      local += deviation * deviation;
    }
  }
  squares[0] = local;
  if (comm.size > 1) await comm.allReduce(squares, 'sum');
  return squares[0]! / (layout.total * d);
}

/**
 * scikit-learn's empty-cluster rule, over all ranks: each empty cluster (ascending) takes the row
 * farthest from its centre among all ranks (ties: lowest rank, then lowest row), which leaves its
 * old cluster. Two tiny collectives per empty cluster, and only when one is empty, which is rare.
 * Edits the all-reduced `stats` identically on every rank; returns whether anything moved.
 */
async function relocateEmptyClusters(
  view: ShardView,
  stats: Float64Array,
  k: number,
  labels: Int32Array,
  distances: Float64Array,
): Promise<boolean> {
  const { comm, shard } = view;
  const d = shard.cols;
  const countsAt = k * d;
  let relocated = false;
  for (let j = 0; j < k; j++) {
    if (stats[countsAt + j]! > 0) continue;
    let localBest = -1;
    for (let i = 0; i < shard.rows; i++) if (distances[i]! >= 0 && (localBest < 0 || distances[i]! > distances[localBest]!)) localBest = i;
    const farthest = new Float64Array(comm.size).fill(-1);
    farthest[comm.rank] = localBest < 0 ? -1 : distances[localBest]!;
    if (comm.size > 1) await comm.allReduce(farthest, 'max');
    let owner = 0;
    for (let r = 1; r < comm.size; r++) if (farthest[r]! > farthest[owner]!) owner = r;
    if (farthest[owner]! < 0) break; // no row left to move (cannot happen when k ≤ rows)
    const moved = new Float64Array(d + 1); // the row, then its old label
    if (comm.rank === owner) {
      moved.set(shard.x.subarray(localBest * d, (localBest + 1) * d), 0);
      moved[d] = labels[localBest]!;
      distances[localBest] = -1; // taken: never chosen twice
    }
    if (comm.size > 1) await comm.broadcast(moved, owner);
    const old = moved[d]!;
    for (let c = 0; c < d; c++) {
      stats[old * d + c]! -= moved[c]!;
      stats[j * d + c] = moved[c]!;
    }
    stats[countsAt + old]! -= 1;
    stats[countsAt + j] = 1;
    relocated = true;
  }
  return relocated;
}
