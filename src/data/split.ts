/**
 * Train/test split decided per row by a stateless hash: row with key k is test when
 * `hashUniform(seed, k) < testFraction`. The key is the row's global index (or, for CSV/LibSVM, its
 * line's byte offset; see `Dataset.rowKey`), so a worker holding only its shard splits its rows
 * locally and agrees exactly with the split of the whole data — no coordination, no data moved.
 * The test share is testFraction in expectation (binomial), not exactly.
 *
 * @example
 * const { train, test } = trainTestSplit(data, { testFraction: 0.2, seed: 7 });
 */
import { ConfigError } from '../core/errors.js';
import { hashUniform } from '../core/rng.js';
import type { Placement } from '../core/storage.js';
import type { Dataset } from './dataset.js';

export interface SplitOptions {
  /** Expected share of rows in the test part, in [0, 1]. Default 0.2. */
  testFraction?: number;
  seed?: number;
  placement?: Placement;
}

/** Whether the row with key `rowKey` falls in the test part. */
export function isTestRow(rowKey: number, testFraction: number, seed: number): boolean {
  return hashUniform(seed, rowKey) < testFraction;
}

/** Split `data` into train and test rows (copies, each in row order). */
export function trainTestSplit(data: Dataset, options: SplitOptions = {}): { train: Dataset; test: Dataset } {
  const testFraction = options.testFraction ?? 0.2;
  const seed = options.seed ?? 0;
  if (!(testFraction >= 0 && testFraction <= 1)) throw new ConfigError(`expected testFraction in [0, 1], found ${testFraction}`, { field: 'testFraction' });
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < data.rows; i++) (isTestRow(data.rowKey(i), testFraction, seed) ? test : train).push(i);
  return { train: data.take(train, options.placement), test: data.take(test, options.placement) };
}
