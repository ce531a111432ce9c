/**
 * The train/test split, one for every command (`train`, `compare`, the workers of `processes` and
 * `cluster` that load their own shards): row with key k is test when
 * `hashUniform(seed, k) < testFraction`. The key is the row's 0-based record ordinal in its source
 * (`Dataset.rowKey`: a synthetic or Parquet row number, a CSV record or LibSVM line counted after the
 * header), so
 * - a worker holding only its shard splits its rows locally and agrees exactly with the split of
 *   the whole data (no coordination, no data moved);
 * - LF and CRLF copies of a file, and the same table as CSV or Parquet, split alike;
 * - each row is decided alone: the test share is testFraction in expectation (binomial), not exactly.
 * Why ordinals and not a hash of the row's values: equal rows would then all fall on one side
 * (a file of repeated rows could have no training rows at all), and dropout masks, keyed by the
 * same row keys, would repeat for duplicates. Ordinals cost a shard a scan of the bytes before it
 * (see records.ts), which finding record boundaries soundly needs anyway.
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

/** The indices of `data`'s train and test rows (each in row order): the split, before any copy. */
export function splitRows(data: Dataset, testFraction: number, seed: number): { train: number[]; test: number[] } {
  if (!(testFraction >= 0 && testFraction <= 1))
    throw new ConfigError(`expected testFraction in [0, 1], found ${testFraction}`, { field: 'testFraction' });
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < data.rows; i++) (isTestRow(data.rowKey(i), testFraction, seed) ? test : train).push(i);
  return { train, test };
}

/** Split `data` into train and test rows (copies, each in row order). */
export function trainTestSplit(data: Dataset, options: SplitOptions = {}): { train: Dataset; test: Dataset } {
  const { train, test } = splitRows(data, options.testFraction ?? 0.2, options.seed ?? 0);
  return { train: data.take(train, options.placement), test: data.take(test, options.placement) };
}
