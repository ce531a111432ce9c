/**
 * A `processes` rank's shard shipped through a file in the job's 0700 folder (comm/zmq/local.ts)
 * instead of the IPC channel: the launcher writes the rows straight from the caller's arrays (no
 * copy of the shard, no serialisation), the rank maps the file (or, without the mapping addon, reads
 * it into arrays of its own, one read per array) and removes it. The start order carries only this
 * descriptor.
 *
 * Why: Node's advanced-serialisation IPC moved a 40 MB Float32Array to a child in 565–632 ms here;
 * written to a file and read back by the child, 131–233 ms. The CNN benchmark's processes×2 fit
 * (12,800 Fashion-MNIST images, 40 MB) spent 620–670 ms of its 3.5 s before its ranks could start,
 * and compare's processes cells pay the same per byte.
 *
 * Layout: x (rows × cols of `dtype`), then y (rows float64) when present, then the row keys (rows
 * float64) when present; nothing else. The reader checks the file's size against the descriptor
 * before it reads, and names the file when they differ.
 *
 * @example
 * const file = writeShardFile(local.dir, 1, data, 500, 1000);  // launcher: rows [500, 1000)
 * const init = readShardFile(file);                             // rank 1: a DatasetInit; the file is gone
 */
import { closeSync, fstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import { canMapFiles, mapFile } from '../core/mapped-file.js';
import type { Dataset, DatasetInit } from '../data/index.js';

/** What a rank needs to read its shard back: where it is, and the shape and names of its rows. */
export interface ShardFile {
  path: string;
  rows: number;
  cols: number;
  dtype: 'float32' | 'float64';
  hasY: boolean;
  hasRowKeys: boolean;
  rowKeyBase: number;
  featureNames: readonly string[];
  labelNames: readonly string[] | null;
  source: string;
}

/** A rank's data when its shard waits in a file (the start order of runtime/processes.ts). */
export interface ShardFileData {
  kind: 'file';
  file: ShardFile;
}

/** Where `readShardFile` puts a shard's features: an array of `length` values of `dtype` (e.g. in kernel memory). */
export type FeatureAllocator = (dtype: 'float32' | 'float64', length: number) => Float32Array | Float64Array;

/** The bytes a shard file holds. */
export function shardFileBytes(file: ShardFile): number {
  const element = file.dtype === 'float32' ? 4 : 8;
  return file.rows * file.cols * element + (file.hasY ? file.rows * 8 : 0) + (file.hasRowKeys ? file.rows * 8 : 0);
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.byteLength;) done += writeSync(fd, bytes, done, bytes.byteLength - done);
}

/** Write rows [start, end) of `data` to `shard-<rank>.bin` in `dir` (created anew, mode 0600). */
export function writeShardFile(dir: string, rank: number, data: Dataset, start: number, end: number): ShardFile {
  const shard = data.slice(start, end);
  const path = join(dir, `shard-${rank}.bin`);
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeAll(fd, bytesOf(shard.x));
    if (shard.y !== null) writeAll(fd, bytesOf(shard.y));
    if (shard.rowKeys !== null) writeAll(fd, bytesOf(shard.rowKeys));
  } finally {
    closeSync(fd);
  }
  return {
    path,
    rows: shard.rows,
    cols: shard.cols,
    dtype: shard.x instanceof Float32Array ? 'float32' : 'float64',
    hasY: shard.y !== null,
    hasRowKeys: shard.rowKeys !== null,
    rowKeyBase: shard.rowKeyBase,
    featureNames: shard.featureNames,
    labelNames: shard.labelNames,
    source: shard.source,
  };
}

function readAll(fd: number, into: Uint8Array, position: number, path: string): void {
  for (let done = 0; done < into.byteLength;) {
    const read = readSync(fd, into, done, into.byteLength - done, position + done);
    if (read === 0)
      throw new DataError('DATA_FORMAT', { file: path }, `the shard file ended at byte ${position + done}, before its rows did`);
    done += read;
  }
}

/**
 * Read a shard written by `writeShardFile`, then remove the file. Where files can be mapped
 * (core/mapped-file.ts) the arrays are views of the file's own pages, shared and writable, which
 * outlive the file's removal: no copy, and no fresh pages to fault in — reading 12.8 MB into fresh
 * arrays took ~35 ms here, mapping it and touching every page ~15 ms. Elsewhere, one read per array.
 *
 * With `allocateX` the features are read into the array it returns instead (the others as above but
 * never mapped): a processes rank passes one in its kernels' WASM memory (core/kernels-wasm.ts
 * `kernelMemoryArray`), whose pages a pooled child has touched in earlier jobs. The models' kernels
 * read the rows there in place; from a mapping they first copied them in (`Kernels.resident`), and
 * that copy's first touch of the file's fresh pages cost ~11 ms per 6.4 MB, every fit.
 */
export function readShardFile(file: ShardFile, allocateX?: FeatureAllocator): DatasetInit {
  const fd = openSync(file.path, 'r+');
  try {
    const expected = shardFileBytes(file);
    const size = fstatSync(fd).size;
    if (size !== expected) {
      throw new DataError(
        'DATA_FORMAT',
        { file: file.path },
        `the shard file holds ${size} bytes where ${file.rows} rows × ${file.cols} ${file.dtype} columns` +
          `${file.hasY ? ' with labels' : ''}${file.hasRowKeys ? ' and row keys' : ''} need ${expected}`,
      );
    }
    const arrays =
      expected > 0 && canMapFiles() && allocateX === undefined
        ? mappedArrays(file, mapFile(fd, expected, true))
        : readArrays(file, fd, allocateX);
    return {
      ...arrays,
      rows: file.rows,
      cols: file.cols,
      featureNames: file.featureNames,
      labelNames: file.labelNames,
      source: file.source,
      rowKeyBase: file.rowKeyBase,
    };
  } finally {
    closeSync(fd);
    unlinkSync(file.path);
  }
}

interface ShardArrays {
  x: Float32Array | Float64Array;
  y: Float64Array | null;
  rowKeys: Float64Array | null;
}

/** The shard's arrays as views of its mapped file (a float64 array that would start off its 8-byte alignment is copied). */
function mappedArrays(file: ShardFile, mapped: ArrayBuffer): ShardArrays {
  const values = file.rows * file.cols;
  const x = file.dtype === 'float32' ? new Float32Array(mapped, 0, values) : new Float64Array(mapped, 0, values);
  let position = x.byteLength;
  const float64At = (at: number): Float64Array =>
    at % 8 === 0 ? new Float64Array(mapped, at, file.rows) : new Float64Array(mapped.slice(at, at + file.rows * 8));
  const y = file.hasY ? float64At(position) : null;
  if (y !== null) position += y.byteLength;
  const rowKeys = file.hasRowKeys ? float64At(position) : null;
  return { x, y, rowKeys };
}

/** The shard's arrays read from `fd` into fresh arrays (the features into `allocateX`'s, when given). */
function readArrays(file: ShardFile, fd: number, allocateX?: FeatureAllocator): ShardArrays {
  const values = file.rows * file.cols;
  const x = allocateX?.(file.dtype, values) ?? (file.dtype === 'float32' ? new Float32Array(values) : new Float64Array(values));
  if (x.length !== values || (file.dtype === 'float32') !== x instanceof Float32Array) {
    throw new RangeError(`readShardFile: allocateX returned ${x.constructor.name}(${x.length}) for ${values} ${file.dtype} values`);
  }
  let position = 0;
  readAll(fd, bytesOf(x), position, file.path);
  position += x.byteLength;
  let y: Float64Array | null = null;
  if (file.hasY) {
    y = new Float64Array(file.rows);
    readAll(fd, bytesOf(y), position, file.path);
    position += y.byteLength;
  }
  let rowKeys: Float64Array | null = null;
  if (file.hasRowKeys) {
    rowKeys = new Float64Array(file.rows);
    readAll(fd, bytesOf(rowKeys), position, file.path);
  }
  return { x, y, rowKeys };
}
