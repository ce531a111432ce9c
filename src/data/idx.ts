/**
 * IDX loader (the MNIST file format, LeCun et al.): a big-endian header — two zero bytes, a type
 * byte, the number of dimensions — then one uint32 size per dimension, then the values. The first
 * dimension is the row count; the rest are flattened into features (28×28 images → 784). Files may
 * be gzipped (detected by the gzip magic bytes, not the name). Unsigned-byte pixels are scaled to
 * [0, 1] by default.
 *
 * A directory holding the MNIST file names (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) loads as a train and a test part.
 *
 * @example
 * const { train, test } = await loadIdxDirectory('/usr/share/datasets/fashion-mnist');
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../core/errors.js';
import type { DType, Placement } from '../core/storage.js';
import { allocate } from '../core/storage.js';
import { Dataset } from './dataset.js';
import type { ShardSpec } from './text.js';
import { rowRange } from './text.js';

export interface IdxOptions {
  /** Divide unsigned-byte values by 255 (default true). */
  scale?: boolean;
  dtype?: DType;
  placement?: Placement;
  shard?: ShardSpec;
  /** Names for the label values (Fashion-MNIST's classes); default none. */
  labelNames?: readonly string[] | null;
}

/** A decoded IDX file: `rows` items of `itemSize` values each. */
export interface IdxArray {
  rows: number;
  itemSize: number;
  dims: number[];
  /** Values of rows [rowStart, rowStart + rows) only. */
  values: Float64Array | Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array;
  unsignedBytes: boolean;
}

const TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
};

async function readMaybeGzip(path: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (error: unknown) {
    throw new DataError(
      'DATA_MISSING',
      { file: path },
      'cannot read the IDX file: expected an existing, readable file, found none. Check the path.',
      { cause: error },
    );
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (error: unknown) {
      throw new DataError(
        'DATA_FORMAT',
        { file: path },
        `expected a complete gzip stream, found a damaged one (${(error as Error).message}); the file may be truncated`,
        { cause: error },
      );
    }
  }
  return raw;
}

/** Decode an IDX file, keeping only rows [start, end) (default all). */
export async function readIdx(path: string, shard?: ShardSpec): Promise<IdxArray> {
  const bytes = await readMaybeGzip(path);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(
      'DATA_FORMAT',
      { file: path },
      `expected an IDX file starting with bytes 00 00 <type> <dims>, found ${bytes.length < 4 ? `${bytes.length} bytes` : bytes.subarray(0, 4).toString('hex')}`,
    );
  }
  const type = TYPES[bytes[2]!];
  if (type === undefined)
    throw new DataError(
      'DATA_FORMAT',
      { file: path },
      `expected an IDX type code among 08 09 0b 0c 0d 0e, found ${bytes[2]!.toString(16).padStart(2, '0')}`,
    );
  const dimCount = bytes[3]!;
  if (dimCount < 1 || bytes.length < 4 + 4 * dimCount) {
    throw new DataError(
      'DATA_FORMAT',
      { file: path },
      `expected a header of ${4 + 4 * dimCount} bytes with ${dimCount} dimension sizes, found ${bytes.length} bytes in the file; it may be truncated`,
    );
  }
  const dims = Array.from({ length: dimCount }, (_, d) => bytes.readUInt32BE(4 + 4 * d));
  const total = dims[0]!;
  const itemSize = dims.slice(1).reduce((a, b) => a * b, 1);
  const headerBytes = 4 + 4 * dimCount;
  const expectedBytes = headerBytes + total * itemSize * type.bytes;
  if (bytes.length < expectedBytes) {
    const completeRows = Math.floor((bytes.length - headerBytes) / (itemSize * type.bytes));
    throw new DataError(
      'DATA_FORMAT',
      { file: path, row: completeRows + 1 },
      `expected ${dims.join('×')} ${type.name} values (${expectedBytes} bytes) as the header says, found ${bytes.length} bytes; the file is truncated`,
    );
  }
  const { start, end } = rowRange(total, shard);
  const from = headerBytes + start * itemSize * type.bytes;
  const count = (end - start) * itemSize;
  const values = decode(bytes, from, count, type.name);
  return { rows: end - start, itemSize, dims, values, unsignedBytes: type.name === 'uint8' };
}

function decode(bytes: Buffer, from: number, count: number, type: string): IdxArray['values'] {
  if (type === 'uint8') return Uint8Array.from(bytes.subarray(from, from + count));
  if (type === 'int8') return Int8Array.from(bytes.subarray(from, from + count), (b) => (b << 24) >> 24);
  const view = new DataView(bytes.buffer, bytes.byteOffset + from);
  switch (type) {
    case 'int16':
      return Int16Array.from({ length: count }, (_, i) => view.getInt16(2 * i));
    case 'int32':
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(4 * i));
    case 'float32':
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i));
    default:
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(8 * i));
  }
}

/**
 * Load an images file and (when given or found beside it, `-images-` → `-labels-`, idx3 → idx1)
 * its labels file as one Dataset.
 */
export async function loadIdx(imagesPath: string, labelsPath: string | null | undefined, options: IdxOptions = {}): Promise<Dataset> {
  const images = await readIdx(imagesPath, options.shard);
  const labelFile = labelsPath === undefined ? await siblingLabels(imagesPath) : labelsPath;
  let y: Float64Array | null = null;
  if (labelFile !== null) {
    const labels = await readIdx(labelFile, options.shard);
    if (labels.dims[0] !== images.dims[0] || labels.itemSize !== 1) {
      throw new DataError(
        'DATA_FORMAT',
        { file: labelFile },
        `expected ${images.dims[0]} labels (one per image in ${basename(imagesPath)}), found ${labels.dims.join('×')} values`,
      );
    }
    y = allocate('float64', labels.rows, options.placement ?? 'heap') as Float64Array;
    y.set(labels.values);
  }
  const x = allocate(options.dtype ?? 'float64', images.rows * images.itemSize, options.placement ?? 'heap');
  const divisor = images.unsignedBytes && (options.scale ?? true) ? 255 : 1;
  const values = images.values;
  for (let i = 0; i < values.length; i++) x[i] = values[i]! / divisor;
  const base = rowRange(images.dims[0]!, options.shard).start;
  return new Dataset({
    x,
    rows: images.rows,
    cols: images.itemSize,
    y,
    labelNames: options.labelNames ?? null,
    source: imagesPath,
    rowKeyBase: base,
  });
}

async function siblingLabels(imagesPath: string): Promise<string | null> {
  const name = basename(imagesPath);
  if (!name.includes('images')) return null;
  const wanted = name.replace('images', 'labels').replace('idx3', 'idx1');
  const candidates = [wanted, wanted.endsWith('.gz') ? wanted.slice(0, -3) : `${wanted}.gz`];
  const present = new Set(await readdir(dirname(imagesPath)));
  const found = candidates.find((candidate) => present.has(candidate));
  return found === undefined ? null : join(dirname(imagesPath), found);
}

/** The four MNIST-style files of a directory, or null when it does not hold them. */
export async function findIdxFiles(
  directory: string,
): Promise<{ trainImages: string; trainLabels: string; testImages: string | null; testLabels: string | null } | null> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return null;
  }
  const pick = (stem: string): string | null => {
    const found = names.find((n) => n === stem || n === `${stem}.gz`) ?? names.find((n) => n.startsWith(stem.replace('-idx', '.idx')));
    return found === undefined ? null : join(directory, found);
  };
  const trainImages = pick('train-images-idx3-ubyte');
  const trainLabels = pick('train-labels-idx1-ubyte');
  if (trainImages === null || trainLabels === null) return null;
  return { trainImages, trainLabels, testImages: pick('t10k-images-idx3-ubyte'), testLabels: pick('t10k-labels-idx1-ubyte') };
}

/** Load a directory of MNIST-style IDX files as train and (when present) test parts. */
export async function loadIdxDirectory(directory: string, options: IdxOptions = {}): Promise<{ train: Dataset; test: Dataset | null }> {
  const files = await findIdxFiles(directory);
  if (files === null) {
    throw new DataError(
      'DATA_MISSING',
      { file: directory },
      'expected a directory holding train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (and optionally t10k-images-idx3-ubyte / t10k-labels-idx1-ubyte), found neither',
    );
  }
  const train = await loadIdx(files.trainImages, files.trainLabels, options);
  const test = files.testImages !== null && files.testLabels !== null ? await loadIdx(files.testImages, files.testLabels, options) : null;
  return { train, test };
}
