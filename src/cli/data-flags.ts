/**
 * The data flags shared by `train`, `predict` and `compare`: --data, --target, --delimiter,
 * --header, --missing, --dtype, --max-record-bytes, and the split/preprocessing flags --eval, --test-fraction,
 * --split-seed, --standardize, --minmax. Preprocessing is fitted on the training rows only and
 * applied to the test rows (no leakage).
 */
import { ConfigError } from '../core/errors.js';
import type { DType, Placement } from '../core/storage.js';
import type { Dataset, LoadOptions, MissingPolicy } from '../data/index.js';
import { MinMaxScaler, StandardScaler, loadData, trainTestSplit } from '../data/index.js';
import type { ParsedArgs } from './args.js';
import { takeNumber, takeString, takeSwitch } from './args.js';

export interface PreparedData {
  /** What was loaded, so workers of the processes paradigm can load their own shards of it. */
  spec: string;
  loadOptions: LoadOptions;
  /** The hash split applied to a source without its own test part (null: none applied). */
  split: { testFraction: number; seed: number } | null;
  /** Whether a scaler was fitted (workers loading their own shards would not apply it). */
  scaled: boolean;
  /**
   * The scaling the flags ask for. Not applied here when the ranks load their own shards (`shard`,
   * or `scaleInRanks`): they fit it by all-reduce (DataSource.scale), and the fit returns it in
   * FitInfo.preprocess, to apply to `evaluation` (applySavedPreprocess) and save with the model.
   */
  scale: 'standardize' | 'minmax' | null;
  train: Dataset;
  /** The rows metrics are computed on: the test part (default) or the training rows (`--eval train`). */
  evaluation: Dataset;
  evaluationName: 'train' | 'test';
  /** The fitted scaler's JSON, saved with the model so `predict` applies the same scaling. */
  preprocess: unknown;
  loadSeconds: number;
}

export function takeLoadOptions(args: ParsedArgs): { spec: string; options: LoadOptions } {
  const spec = takeString(args, 'data');
  if (spec === undefined)
    throw new ConfigError('--data is required: a file path, builtin:mnist, builtin:fashion-mnist or synthetic:<kind>?rows=…', {
      field: 'data',
    });
  const options: LoadOptions = {};
  const target = takeString(args, 'target');
  // A plain whole number (0, 3, -1) is a 0-based column index; anything else (y, 007, 3.0) is a name.
  if (target !== undefined) options.target = /^-?(0|[1-9]\d*)$/.test(target) ? Number(target) : target;
  const delimiter = takeString(args, 'delimiter');
  if (delimiter !== undefined) options.delimiter = delimiter === 'tab' ? '\t' : delimiter;
  const header = args.flags.get('header');
  args.flags.delete('header');
  if (header !== undefined) {
    if (header !== true && header !== 'true' && header !== 'false' && header !== 'auto')
      throw new ConfigError(`--header expects true, false or auto, got '${header}'`, { field: 'header' });
    options.header = header === 'auto' ? 'auto' : header !== 'false';
  }
  const missing = takeString(args, 'missing');
  if (missing !== undefined) {
    if (!['error', 'drop', 'mean', 'zero'].includes(missing))
      throw new ConfigError(`--missing expects error, drop, mean or zero, got '${missing}'`, { field: 'missing' });
    options.missing = missing as MissingPolicy;
  }
  const dtype = takeString(args, 'dtype');
  if (dtype !== undefined) {
    if (dtype !== 'float32' && dtype !== 'float64')
      throw new ConfigError(`--dtype expects float32 or float64, got '${dtype}'`, { field: 'dtype' });
    options.dtype = dtype as DType;
  }
  const maxRecordBytes = takeNumber(args, 'max-record-bytes', (n) => Number.isInteger(n) && n >= 1, 'a whole number of bytes ≥ 1');
  if (maxRecordBytes !== undefined) options.maxRecordBytes = maxRecordBytes;
  return { spec, options };
}

/**
 * Load, split and scale the data as the flags say. With `shard`, only that worker's rows are loaded
 * (and split by the same per-row hash, so the shards' splits add up to the whole-data split). With
 * `shard` or `scaleInRanks`, scaling is left to the ranks (see PreparedData.scale).
 */
export async function prepareData(
  args: ParsedArgs,
  shard?: { rank: number; worldSize: number },
  scaleInRanks = false,
  placement: Placement = 'heap',
): Promise<PreparedData> {
  const { spec, options } = takeLoadOptions(args);
  const evalName = takeString(args, 'eval') ?? 'test';
  if (evalName !== 'train' && evalName !== 'test')
    throw new ConfigError(`--eval expects train or test, got '${evalName}'`, { field: 'eval' });
  const testFraction = takeNumber(args, 'test-fraction', (n) => n > 0 && n < 1, 'a fraction between 0 and 1') ?? 0.2;
  const splitSeed = takeNumber(args, 'split-seed', Number.isInteger, 'an integer') ?? 0;
  const standardize = takeSwitch(args, 'standardize');
  const minmax = takeSwitch(args, 'minmax');
  if (standardize && minmax) throw new ConfigError('choose one of --standardize and --minmax', { field: 'standardize' });

  const scale = standardize ? 'standardize' : minmax ? 'minmax' : null;
  const started = performance.now();
  // 'shared': loaded, split and scaled straight into shared memory (the threads paradigm reads it in place).
  const loaded = await loadData(spec, { ...options, placement, ...(shard === undefined ? {} : { shard }) });
  let train = loaded.train;
  let test = loaded.test;
  let split: PreparedData['split'] = null;
  if (test === null && evalName === 'test') {
    ({ train, test } = trainTestSplit(train, { testFraction, seed: splitSeed, placement }));
    split = { testFraction, seed: splitSeed };
  }
  const loadSeconds = (performance.now() - started) / 1000;

  let preprocess: unknown;
  if (scale !== null && shard === undefined && !scaleInRanks) {
    const scaler = standardize ? new StandardScaler().fit(train) : new MinMaxScaler().fit(train);
    train = scaler.transform(train);
    if (test !== null) test = scaler.transform(test);
    preprocess = scaler.toJSON();
  }
  const evaluation = evalName === 'test' && test !== null ? test : train;
  return {
    spec,
    loadOptions: options,
    split,
    scaled: preprocess !== undefined,
    scale,
    train,
    evaluation,
    evaluationName: evalName,
    preprocess,
    loadSeconds,
  };
}

/** Re-apply preprocessing saved with a model. */
export function applySavedPreprocess(data: Dataset, preprocess: unknown): Dataset {
  if (preprocess === undefined || preprocess === null) return data;
  const name = (preprocess as { name?: unknown }).name;
  if (name === 'StandardScaler') return StandardScaler.fromJSON(preprocess).transform(data);
  if (name === 'MinMaxScaler') return MinMaxScaler.fromJSON(preprocess).transform(data);
  throw new ConfigError(`the model file names an unknown preprocessing step '${String(name)}'`);
}
