/**
 * Feature scaling fitted on training rows and applied unchanged to test rows (fitting on test data
 * would leak it), one-hot label coding. Scalers follow scikit-learn's contract: the constructor
 * takes no data, `fit` learns state and returns the scaler, `transform` returns a new Dataset, and
 * the learned state is a plain JSON-able object tagged with the scaler's name, checked on load.
 *
 * For sharded data the fit is in summation form: `columnStatistics` on each shard, all-reduce the
 * sums (and min/max), then `fitStatistics` gives every worker the same scaler.
 *
 * @example
 * const scaler = new StandardScaler().fit(train);
 * const testScaled = scaler.transform(test);
 * const again = StandardScaler.fromJSON(JSON.parse(JSON.stringify(scaler.toJSON())));
 */
import { DataError, NotFittedError, ShardlearnError } from '../core/errors.js';
import { allocate, isShared } from '../core/storage.js';
import type { Dataset } from './dataset.js';

/** Per-column count, sum, sum of squares, min and max: all-reducible (sum, sum, sum, min, max). */
export interface ColumnStatistics {
  count: number;
  sum: Float64Array;
  sumOfSquares: Float64Array;
  min: Float64Array;
  max: Float64Array;
}

/** One pass over the rows; shards' statistics combine by summing (min/max by min/max). */
export function columnStatistics(data: Dataset): ColumnStatistics {
  const { rows, cols, x } = data;
  const stats: ColumnStatistics = {
    count: rows,
    sum: new Float64Array(cols),
    sumOfSquares: new Float64Array(cols),
    min: new Float64Array(cols).fill(Infinity),
    max: new Float64Array(cols).fill(-Infinity),
  };
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = x[i * cols + j]!;
      stats.sum[j]! += v;
      stats.sumOfSquares[j]! += v * v;
      if (v < stats.min[j]!) stats.min[j] = v;
      if (v > stats.max[j]!) stats.max[j] = v;
    }
  }
  return stats;
}

/** What a scaler does to column j: (x - offset[j]) / scale[j]. */
abstract class AffineScaler {
  protected offset: Float64Array | null = null;
  protected scale: Float64Array | null = null;
  abstract readonly name: 'StandardScaler' | 'MinMaxScaler';

  /** Learn the per-column offset and scale from `data` (the training rows). */
  abstract fit(data: Dataset): this;

  /** Learn from all-reduced statistics (see `columnStatistics`). */
  abstract fitStatistics(stats: ColumnStatistics): this;

  /** The rows scaled with the fitted state (a new Dataset; same dtype and placement). */
  transform(data: Dataset): Dataset {
    if (this.offset === null || this.scale === null) throw new NotFittedError(this.name);
    if (data.cols !== this.offset.length) {
      throw new DataError(
        'DATA_FORMAT',
        { file: data.source },
        `${this.name} was fitted on ${this.offset.length} columns, found ${data.cols}; transform data shaped like the training data`,
      );
    }
    const { rows, cols } = data;
    const x = allocate(data.dtype, rows * cols, isShared(data.x) ? 'shared' : 'heap');
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) x[i * cols + j] = (data.x[i * cols + j]! - this.offset[j]!) / this.scale[j]!;
    }
    return data.with({ x });
  }

  /** Undo `transform` on a row-major array of `cols`-wide rows (e.g. fitted centers). */
  inverse(values: Float64Array): Float64Array {
    if (this.offset === null || this.scale === null) throw new NotFittedError(this.name);
    const cols = this.offset.length;
    return values.map((v, k) => v * this.scale![k % cols]! + this.offset![k % cols]!);
  }

  protected setState(offset: Float64Array, scale: Float64Array): this {
    // A constant column has nothing to scale: keep it (scale 1), as scikit-learn does.
    this.offset = offset;
    this.scale = scale.map((s) => (s > 0 && Number.isFinite(s) ? s : 1));
    return this;
  }

  toJSON(): { name: string; offset: number[]; scale: number[] } {
    if (this.offset === null || this.scale === null) throw new NotFittedError(this.name);
    return { name: this.name, offset: [...this.offset], scale: [...this.scale] };
  }

  protected load(state: unknown): this {
    const s = state as { name?: unknown; offset?: unknown; scale?: unknown };
    if (s?.name !== this.name || !Array.isArray(s.offset) || !Array.isArray(s.scale) || s.offset.length !== s.scale.length) {
      throw new ShardlearnError(
        'MODEL_FORMAT',
        `expected a saved ${this.name} state { name: '${this.name}', offset: number[], scale: number[] }, found ${JSON.stringify(state)?.slice(0, 80)}`,
      );
    }
    return this.setState(Float64Array.from(s.offset as number[]), Float64Array.from(s.scale as number[]));
  }
}

/** Zero mean, unit variance per column (population standard deviation, as scikit-learn). */
export class StandardScaler extends AffineScaler {
  readonly name = 'StandardScaler' as const;

  get mean(): Float64Array | null {
    return this.offset;
  }

  get std(): Float64Array | null {
    return this.scale;
  }

  fit(data: Dataset): this {
    // Two passes (mean, then squared deviations): exact for data far from zero, unlike Σx² - n·mean².
    const { rows, cols, x } = data;
    const mean = new Float64Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j]! += x[i * cols + j]!;
    for (let j = 0; j < cols; j++) mean[j]! /= Math.max(rows, 1);
    const variance = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const d = x[i * cols + j]! - mean[j]!;
        variance[j]! += d * d;
      }
    }
    return this.setState(
      mean,
      variance.map((v) => Math.sqrt(v / Math.max(rows, 1))),
    );
  }

  fitStatistics(stats: ColumnStatistics): this {
    const n = Math.max(stats.count, 1);
    const mean = stats.sum.map((s) => s / n);
    return this.setState(
      mean,
      stats.sumOfSquares.map((s, j) => Math.sqrt(Math.max(s / n - mean[j]! * mean[j]!, 0))),
    );
  }

  static fromJSON(state: unknown): StandardScaler {
    return new StandardScaler().load(state);
  }
}

/** Each column mapped to [0, 1] by the training minimum and maximum. */
export class MinMaxScaler extends AffineScaler {
  readonly name = 'MinMaxScaler' as const;

  fit(data: Dataset): this {
    return this.fitStatistics(columnStatistics(data));
  }

  fitStatistics(stats: ColumnStatistics): this {
    return this.setState(
      Float64Array.from(stats.min),
      stats.max.map((max, j) => max - stats.min[j]!),
    );
  }

  static fromJSON(state: unknown): MinMaxScaler {
    return new MinMaxScaler().load(state);
  }
}

/**
 * Labels 0..classes-1 as a rows×classes row-major 0/1 matrix.
 *
 * @example
 * oneHot(Float64Array.of(2, 0), 3); // [0,0,1, 1,0,0]
 */
export function oneHot(labels: ArrayLike<number>, classes?: number): Float64Array {
  let count = classes ?? 0;
  if (classes === undefined) for (let i = 0; i < labels.length; i++) count = Math.max(count, labels[i]! + 1);
  const out = new Float64Array(labels.length * count);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!(Number.isInteger(label) && label >= 0 && label < count)) {
      throw new DataError(
        'DATA_VALUE',
        { row: i + 1 },
        `expected a class label in 0..${count - 1}, found ${label}; code classes as 0..C-1 first`,
      );
    }
    out[i * count + label] = 1;
  }
  return out;
}
