/**
 * The data a comparison trains and scores on: each spec loaded once and split once into train and
 * test rows by a seeded permutation, so every cell of a data set sees the very same rows.
 *
 * @example
 * const { train, test } = splitTrainTest(data, 0.2, 1);
 */
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import { loadData } from '../data/load.js';

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
 * Shuffle rows with `seed` and hold out `testFraction` of them (at least one row each side). The
 * training rows go to shared memory, so the threads paradigm reads them without a copy.
 */
export function splitTrainTest(data: Dataset, testFraction: number, seed: number): Split {
  if (data.rows < 2) throw new RangeError(`splitTrainTest: needs at least 2 rows, got ${data.rows}`);
  const testRows = Math.min(data.rows - 1, Math.max(1, Math.round(data.rows * testFraction)));
  const order = new Rng(seed).permutation(data.rows);
  const trainRows = data.rows - testRows;
  return { train: data.take(order.subarray(0, trainRows), 'shared'), test: data.take(order.subarray(trainRows), 'heap') };
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
