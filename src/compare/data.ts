/**
 * The data a comparison trains and scores on: each spec loaded once and split once, by the data
 * module's per-row hash split (`splitRows`, the split `shardlearn train` uses), so every cell of a
 * data set sees the very same rows, and `train --split-seed s` holds out the rows a comparison
 * with seed s holds out.
 *
 * @example
 * const { train, test } = splitTrainTest(data, 0.2, 1);
 */
import { DataError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import { loadData } from '../data/load.js';
import { splitRows } from '../data/split.js';

/**
 * Loads a data spec (`synthetic:…`, `builtin:…`, a path): its rows, and its own test rows when the
 * source has them (MNIST). The default is the data module's `loadData`.
 */
export type DataLoader = (spec: string) => Promise<{ train: Dataset; test: Dataset | null }>;

/** The data module's loader, features in shared memory so threads read them without a copy. */
export const defaultLoader: DataLoader = (spec) => loadData(spec, { placement: 'shared' });

export interface Split {
  train: Dataset;
  test: Dataset;
}

/**
 * Hold out about `testFraction` of the rows (the hash split of `splitRows` with `seed`; each side
 * must get a row). The training rows go to shared memory, so the threads paradigm reads them
 * without a copy.
 */
export function splitTrainTest(data: Dataset, testFraction: number, seed: number): Split {
  const { train, test } = splitRows(data, testFraction, seed);
  if (train.length === 0 || test.length === 0) {
    throw new DataError(
      'DATA_FORMAT',
      { file: data.source },
      `expected training and test rows after the split (test fraction ${testFraction}, seed ${seed}), found ${train.length} training and ${test.length} test rows of ${data.rows}; use more rows or another test fraction`,
    );
  }
  return { train: data.take(train, 'shared'), test: data.take(test, 'heap') };
}

/** A source's own test rows when it has them, else a seeded split of its rows. */
export function trainAndTest(loaded: { train: Dataset; test: Dataset | null }, testFraction: number, seed: number): Split {
  if (loaded.test !== null) return { train: loaded.train.toShared(), test: loaded.test };
  return splitTrainTest(loaded.train, testFraction, seed);
}

/** The first `rows` rows (a view), for warm-up fits. */
export function headRows(data: Dataset, rows: number): Dataset {
  return data.slice(0, Math.min(rows, data.rows));
}
