/**
 * A `Dataset`: dense features in one row-major typed array (float64 or float32), numeric labels,
 * feature names. Shards are views (`slice`) over the same memory — no copy — so worker threads
 * given a shared-memory dataset all read the one buffer.
 *
 * Labels are numbers: regression targets, or class values for classifiers (string classes in a
 * file are encoded as 0..C-1 by the loader, the names kept in `labelNames`).
 *
 * @example
 * const data = new Dataset({ x: Float64Array.of(1, 2, 3, 4), rows: 2, cols: 2, y: Float64Array.of(0, 1) });
 * const firstRow = data.slice(0, 1);
 */
import { DataError } from '../core/errors.js';
import type { DType, FloatArray, Placement } from '../core/storage.js';
import { allocate, dtypeOf, isShared, toShared } from '../core/storage.js';

export interface DatasetInit {
  x: FloatArray;
  rows: number;
  cols: number;
  y?: Float64Array | null;
  featureNames?: readonly string[];
  labelNames?: readonly string[] | null;
  /** Where the data came from, for error messages and reports (a path or `builtin:…`). */
  source?: string;
  /**
   * A stable key per row for seeded per-row decisions (the train/test split, dropout masks): the
   * 0-based ordinal of the row's record in its source (for CSV/LibSVM counted after the header,
   * blank lines included, so dropped rows leave gaps). `null` (the default) means row i's key is
   * `rowKeyBase + i`.
   */
  rowKeys?: Float64Array | null;
  /** Key of row 0 when `rowKeys` is null (a contiguous shard's first global row index). Default 0. */
  rowKeyBase?: number;
}

export class Dataset {
  readonly x: FloatArray;
  readonly rows: number;
  readonly cols: number;
  readonly y: Float64Array | null;
  readonly featureNames: readonly string[];
  readonly labelNames: readonly string[] | null;
  readonly source: string;
  readonly rowKeys: Float64Array | null;
  readonly rowKeyBase: number;

  constructor(init: DatasetInit) {
    const { x, rows, cols } = init;
    if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
      throw new RangeError(`Dataset: rows and cols must be non-negative integers, got ${rows}×${cols}`);
    }
    if (x.length !== rows * cols) {
      throw new DataError(
        'DATA_FORMAT',
        { file: init.source },
        `expected ${rows}×${cols} = ${rows * cols} feature values, found ${x.length}`,
      );
    }
    const y = init.y ?? null;
    if (y !== null && y.length !== rows) {
      throw new DataError('DATA_FORMAT', { file: init.source }, `expected ${rows} labels (one per row), found ${y.length}`);
    }
    const names = init.featureNames ?? Array.from({ length: cols }, (_, j) => `x${j}`);
    if (names.length !== cols) {
      throw new DataError('DATA_FORMAT', { file: init.source }, `expected ${cols} feature names, found ${names.length}`);
    }
    this.x = x;
    this.rows = rows;
    this.cols = cols;
    this.y = y;
    this.featureNames = names;
    this.labelNames = init.labelNames ?? null;
    this.source = init.source ?? 'memory';
    const rowKeys = init.rowKeys ?? null;
    if (rowKeys !== null && rowKeys.length !== rows) {
      throw new DataError('DATA_FORMAT', { file: init.source }, `expected ${rows} row keys (one per row), found ${rowKeys.length}`);
    }
    this.rowKeys = rowKeys;
    this.rowKeyBase = init.rowKeyBase ?? 0;
  }

  /** Row `i`'s stable key (see `DatasetInit.rowKeys`). */
  rowKey(i: number): number {
    return this.rowKeys === null ? this.rowKeyBase + i : this.rowKeys[i]!;
  }

  get dtype(): DType {
    return dtypeOf(this.x);
  }

  get shared(): boolean {
    return isShared(this.x) && (this.y === null || isShared(this.y)) && (this.rowKeys === null || isShared(this.rowKeys));
  }

  /** Labels, or a clear error when this dataset has none. */
  labels(): Float64Array {
    if (this.y === null) {
      throw new DataError(
        'DATA_MISSING',
        { file: this.source },
        'this dataset has no labels; name the label column (--target) or use an unsupervised model',
      );
    }
    return this.y;
  }

  /** Row `i`'s features, a view. */
  row(i: number): FloatArray {
    return this.x.subarray(i * this.cols, (i + 1) * this.cols);
  }

  /** Rows [start, end) as a view over the same memory. */
  slice(start: number, end: number): Dataset {
    if (!(start >= 0 && start <= end && end <= this.rows)) throw new RangeError(`slice [${start}, ${end}) is outside 0..${this.rows}`);
    return this.with({
      x: this.x.subarray(start * this.cols, end * this.cols),
      rows: end - start,
      y: this.y === null ? null : this.y.subarray(start, end),
      rowKeys: this.rowKeys === null ? null : this.rowKeys.subarray(start, end),
      rowKeyBase: this.rowKeyBase + start,
    });
  }

  /** The given rows, copied, in the given order. */
  take(indices: ArrayLike<number>, placement: Placement = 'heap'): Dataset {
    const x = allocate(this.dtype, indices.length * this.cols, placement);
    const y = this.y === null ? null : (allocate('float64', indices.length, placement) as Float64Array);
    const rowKeys = new Float64Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const source = indices[i]!;
      x.set(this.x.subarray(source * this.cols, (source + 1) * this.cols), i * this.cols);
      if (y !== null) y[i] = this.y![source]!;
      rowKeys[i] = this.rowKey(source);
    }
    return this.with({ x, rows: indices.length, y, rowKeys });
  }

  /** This dataset in shared memory (itself if it already is), for worker threads. */
  toShared(): Dataset {
    if (this.shared) return this;
    return this.with({
      x: toShared(this.x),
      y: this.y === null ? null : toShared(this.y),
      rowKeys: this.rowKeys === null ? null : toShared(this.rowKeys),
    });
  }

  /** The features converted to another float type (a copy; itself if already that type). */
  as(dtype: DType): Dataset {
    if (dtype === this.dtype) return this;
    const x = allocate(dtype, this.x.length, isShared(this.x) ? 'shared' : 'heap');
    x.set(this.x);
    return this.with({ x });
  }

  /**
   * The fields this dataset is made of, as the DatasetInit a worker rebuilds it from (posted to a
   * thread, shared buffers are shared, not copied).
   */
  init(): DatasetInit {
    return {
      x: this.x,
      y: this.y,
      rows: this.rows,
      cols: this.cols,
      featureNames: this.featureNames,
      labelNames: this.labelNames,
      source: this.source,
      rowKeys: this.rowKeys,
      rowKeyBase: this.rowKeyBase,
    };
  }

  /**
   * A dataset like this one with some fields replaced. Changing `rows` without giving `rowKeys`
   * drops the row keys (the new rows are keyed 0..rows-1), since the old keys no longer line up.
   */
  with(changes: Partial<DatasetInit>): Dataset {
    const rowsChanged = changes.rows !== undefined && changes.rows !== this.rows;
    const keepKeys = changes.rowKeys === undefined && !rowsChanged;
    return new Dataset({
      x: changes.x ?? this.x,
      rows: changes.rows ?? this.rows,
      cols: changes.cols ?? this.cols,
      y: changes.y === undefined ? this.y : changes.y,
      featureNames: changes.featureNames ?? this.featureNames,
      labelNames: changes.labelNames === undefined ? this.labelNames : changes.labelNames,
      source: changes.source ?? this.source,
      rowKeys: keepKeys ? this.rowKeys : (changes.rowKeys ?? null),
      rowKeyBase: changes.rowKeyBase ?? (keepKeys ? this.rowKeyBase : 0),
    });
  }
}
