/**
 * `loadData(spec, options)`: one entry point for every source, used by the CLI's `--data`.
 *
 * spec is
 * - a path: format by extension — .csv .tsv .txt (CSV), .libsvm .svm .svmlight (LibSVM),
 *   .parquet .pq (Parquet), .idx / *-ubyte[.gz] (one IDX images file), or a directory of
 *   MNIST-style IDX files;
 * - `builtin:mnist` or `builtin:fashion-mnist`;
 * - `synthetic:<kind>?rows=…&cols=…&seed=…` with kind regression | classification | blobs |
 *   lowrank and the keys of `SyntheticSpec` (unknown keys are refused).
 *
 * It returns `{ train, test }`: `test` is the source's own test part (MNIST, Fashion-MNIST, an IDX
 * directory with t10k files) or null — then split with `trainTestSplit`. With `shard`, each part
 * holds only that worker's rows (CSV/LibSVM by byte range, Parquet/synthetic by row range, IDX and
 * built-ins by slicing), and the shards of all ranks together equal the whole, in order.
 *
 * @example
 * const { train } = await loadData('synthetic:regression?rows=1000000&cols=50&seed=1', { shard: { rank, worldSize } });
 * const { train: iris } = await loadData('iris.csv', { target: 'species' });
 */
import { stat } from 'node:fs/promises';
import { ConfigError, DataError } from '../core/errors.js';
import type { DType, Placement } from '../core/storage.js';
import type { MissingPolicy } from './csv.js';
import { loadCsv } from './csv.js';
import type { Dataset } from './dataset.js';
import { loadFashionMnist, loadMnist } from './builtin.js';
import { loadIdx, loadIdxDirectory } from './idx.js';
import { loadLibsvm } from './libsvm.js';
import { loadParquet } from './parquet.js';
import type { SyntheticKind, SyntheticSpec } from './synthetic.js';
import { syntheticGenerator } from './synthetic.js';
import type { ShardSpec } from './text.js';
import { rowRange } from './text.js';

export interface LoadOptions {
  /** Label column (CSV, Parquet): header name or 0-based index, negative from the end. */
  target?: string | number | null;
  /** CSV delimiter: one character or 'auto' (default; .tsv files default to tab). */
  delimiter?: string;
  /** CSV: does the first line name the columns? Default 'auto'. */
  header?: boolean | 'auto';
  /** Empty cell, NA, NaN, N/A, null, ?: 'error' (default), 'drop' the row, fill with column 'mean' or 'zero'. */
  missing?: MissingPolicy;
  /** Feature element type (default float64; labels are always float64). */
  dtype?: DType;
  /** 'shared' puts features and labels in SharedArrayBuffers for worker threads. Default 'heap'. */
  placement?: Placement;
  /** Load only worker `rank`'s part of `worldSize`. */
  shard?: ShardSpec;
  /** Fixed coding of text labels (class i is code i). */
  classes?: readonly string[] | null;
  /** CSV, LibSVM: longest record (line) accepted, in bytes; longer is an error naming the line. Default 64 MiB. */
  maxRecordBytes?: number;
  /** LibSVM: number of features (default: the largest index). */
  cols?: number;
  /** IDX: scale unsigned-byte values to [0, 1] (default true). */
  scale?: boolean;
}

/** A loaded source: its training rows, and its own test rows when it has them. */
export interface LoadedData {
  train: Dataset;
  test: Dataset | null;
}

export const SUPPORTED_FORMATS =
  'CSV (.csv .tsv .txt), LibSVM (.libsvm .svm .svmlight), Parquet (.parquet .pq), IDX (.idx, *-ubyte[.gz], or a directory of MNIST-style files), builtin:mnist, builtin:fashion-mnist, synthetic:<regression|classification|blobs|lowrank>?rows=…';

/** Load `spec` (a path, `builtin:…` or `synthetic:…`); see the module comment. */
export async function loadData(spec: string, options: LoadOptions = {}): Promise<LoadedData> {
  checkShard(options.shard);
  const common = pick(options, ['dtype', 'placement', 'shard']);
  if (spec.startsWith('builtin:')) {
    const name = spec.slice('builtin:'.length);
    if (name === 'mnist') return loadMnist(common);
    if (name === 'fashion-mnist') return loadFashionMnist(common);
    throw new DataError('DATA_MISSING', { file: spec }, `expected builtin:mnist or builtin:fashion-mnist, found builtin:${name}`);
  }
  if (spec.startsWith('synthetic:')) {
    const generator = syntheticGenerator(parseSyntheticSpec(spec));
    const { start, end } = rowRange(generator.rows, options.shard);
    return { train: generator.generate(start, end, common), test: null };
  }
  let isDirectory = false;
  try {
    isDirectory = (await stat(spec)).isDirectory();
  } catch (error: unknown) {
    throw new DataError(
      'DATA_MISSING',
      { file: spec },
      `expected an existing file or directory (or builtin:…, synthetic:…), found nothing at this path`,
      { cause: error },
    );
  }
  if (isDirectory) return loadIdxDirectory(spec, { ...common, ...pick(options, ['scale']) });
  const lower = spec.toLowerCase();
  const tabular = pick(options, ['target', 'missing', 'classes']);
  if (/\.(csv|tsv|txt)$/.test(lower)) {
    const delimiter = options.delimiter ?? (lower.endsWith('.tsv') ? '\t' : 'auto');
    return { train: await loadCsv(spec, { ...common, ...tabular, ...pick(options, ['header', 'maxRecordBytes']), delimiter }), test: null };
  }
  if (/\.(libsvm|svm|svmlight)$/.test(lower))
    return { train: await loadLibsvm(spec, { ...common, ...pick(options, ['cols', 'maxRecordBytes']) }), test: null };
  if (/\.(parquet|pq)$/.test(lower)) return { train: await loadParquet(spec, { ...common, ...tabular }), test: null };
  if (/(\.idx|-ubyte)(\.gz)?$/.test(lower) || /\.idx\d-ubyte(\.gz)?$/.test(lower)) {
    return { train: await loadIdx(spec, undefined, { ...common, ...pick(options, ['scale']) }), test: null };
  }
  throw new DataError(
    'DATA_FORMAT',
    { file: spec },
    `expected a supported format, found an unknown file extension; supported: ${SUPPORTED_FORMATS}`,
  );
}

/** Copy the named keys that are set (exactOptionalPropertyTypes: never pass `undefined` on). */
function pick<T extends object, K extends keyof T>(from: T, keys: K[]): { [P in K]?: Exclude<T[P], undefined> } {
  const out: { [P in K]?: Exclude<T[P], undefined> } = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key] as Exclude<T[K], undefined>;
  return out;
}

function checkShard(shard: ShardSpec | undefined): void {
  if (shard === undefined) return;
  const { rank, worldSize } = shard;
  if (!(Number.isInteger(worldSize) && worldSize >= 1 && Number.isInteger(rank) && rank >= 0 && rank < worldSize)) {
    throw new ConfigError(`expected shard.rank in 0..worldSize-1 and worldSize ≥ 1, found rank ${rank} of ${worldSize}`, {
      field: 'shard',
    });
  }
}

const SYNTHETIC_KEYS: Record<SyntheticKind, readonly string[]> = {
  regression: ['rows', 'cols', 'seed', 'noise', 'intercept'],
  classification: ['rows', 'cols', 'seed', 'classes', 'separation'],
  blobs: ['rows', 'cols', 'seed', 'centers', 'std'],
  lowrank: ['rows', 'cols', 'seed', 'rank', 'noise'],
};

/**
 * Parse `synthetic:<kind>?key=value&…` into a SyntheticSpec; refuses unknown kinds, unknown keys
 * and non-numeric values (a typo must not silently give default data).
 *
 * @example
 * parseSyntheticSpec('synthetic:blobs?rows=500&centers=4'); // { kind: 'blobs', rows: 500, centers: 4 }
 */
export function parseSyntheticSpec(spec: string): SyntheticSpec {
  const body = spec.slice('synthetic:'.length);
  const [kindText = '', query = ''] = body.split('?', 2);
  if (!(kindText in SYNTHETIC_KEYS)) {
    throw new ConfigError(
      `expected synthetic:<kind> with kind ${Object.keys(SYNTHETIC_KEYS).join(', ')}, found ${JSON.stringify(kindText)} in ${spec}`,
      { field: 'data' },
    );
  }
  const kind = kindText as SyntheticKind;
  const allowed = SYNTHETIC_KEYS[kind];
  const out: Record<string, number> = {};
  for (const [key, value] of new URLSearchParams(query)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(`synthetic:${kind} accepts ${allowed.join(', ')}; found unknown key ${JSON.stringify(key)} in ${spec}`, {
        field: key,
      });
    }
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number))
      throw new ConfigError(`expected ${key} to be a number, found ${JSON.stringify(value)} in ${spec}`, { field: key });
    out[key] = number;
  }
  if (out.rows === undefined) throw new ConfigError(`expected rows=<count> in ${spec}, found none`, { field: 'rows' });
  return { kind, rows: out.rows, ...out };
}
