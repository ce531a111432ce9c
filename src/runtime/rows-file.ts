/**
 * A rank's shipped rows, handed over through a file in the job's 0700 local folder instead of the
 * start order's IPC message (the `processes` paradigm on the local path). Over Node's IPC pipe the
 * shard crosses a 64 KiB pipe buffer in dozens of writes, each waiting for the child to read: on this
 * 2-core machine under load 12–16 a 20k-row shard (2.8 MB for 2 ranks) took 50–250 ms of a pooled
 * processes×2 fit's start-up, and a 200k-row one ~530 ms, where the rest of the start-up took
 * ~70 ms. Written and read with one system call per array, the bytes cost a copy each way.
 *
 * The folder is the job's own (zmq/local.ts: mode 0700, owned by this user, checked before use, removed
 * with the job), as for the ranks' sockets; the file is created with mode 0600, and the rank unlinks
 * it once read. Only the arrays travel this way: the start order keeps the shard's other fields.
 *
 * @example
 * const file = writeRowsFile(join(dir, 'rows-1.bin'), init);   // launcher
 * child.send({ ...order, job: { ...job, data: { ...data, init: withoutRows(init) } }, rowsFile: file });
 * const init = readRowsFile(start.rowsFile, start.job.data.init); // rank
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { WorkerError } from '../core/errors.js';
import type { DatasetInit } from '../data/dataset.js';

/** Where a shard's arrays are in its file, in order x, y, row keys; a length of -1: the array is null. */
export interface RowsFile {
  path: string;
  xType: 'float32' | 'float64';
  xLength: number;
  yLength: number;
  rowKeysLength: number;
}

function bytesOf(array: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Write `init`'s arrays to a new file at `path` (mode 0600; it must not exist). */
export function writeRowsFile(path: string, init: DatasetInit): RowsFile {
  const fd = openSync(path, 'wx', 0o600);
  try {
    for (const array of [init.x, init.y, init.rowKeys]) {
      if (array === null || array === undefined) continue;
      const bytes = bytesOf(array);
      for (let written = 0; written < bytes.byteLength; ) written += writeSync(fd, bytes, written);
    }
  } finally {
    closeSync(fd);
  }
  return {
    path,
    xType: init.x instanceof Float32Array ? 'float32' : 'float64',
    xLength: init.x.length,
    yLength: init.y === null || init.y === undefined ? -1 : init.y.length,
    rowKeysLength: init.rowKeys === null || init.rowKeys === undefined ? -1 : init.rowKeys.length,
  };
}

/** `init` without its arrays (empty ones of the same types): what the start order carries beside a RowsFile. */
export function withoutRows(init: DatasetInit): DatasetInit {
  return {
    ...init,
    x: init.x instanceof Float32Array ? new Float32Array(0) : new Float64Array(0),
    y: init.y === null || init.y === undefined ? null : new Float64Array(0),
    rowKeys: init.rowKeys === null || init.rowKeys === undefined ? null : new Float64Array(0),
  };
}

/**
 * `init` with its arrays read back from `file`, which is then removed. A WorkerError naming the file
 * when it is missing or shorter than announced (the launcher's folder was removed, or another
 * process wrote there).
 */
export function readRowsFile(file: RowsFile, init: DatasetInit, rank: number): DatasetInit {
  const x = file.xType === 'float32' ? new Float32Array(file.xLength) : new Float64Array(file.xLength);
  const y = file.yLength < 0 ? null : new Float64Array(file.yLength);
  const rowKeys = file.rowKeysLength < 0 ? null : new Float64Array(file.rowKeysLength);
  let fd: number;
  try {
    fd = openSync(file.path, 'r');
  } catch (error) {
    throw new WorkerError(rank, `could not open its rows at ${file.path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    let position = 0;
    for (const array of [x, y, rowKeys]) {
      if (array === null) continue;
      const bytes = bytesOf(array);
      for (let read = 0; read < bytes.byteLength; ) {
        const got = readSync(fd, bytes, read, bytes.byteLength - read, position);
        if (got === 0) {
          throw new WorkerError(rank, `its rows at ${file.path} end after ${position} bytes, before the ${bytes.byteLength - read} more announced`);
        }
        read += got;
        position += got;
      }
    }
  } finally {
    closeSync(fd);
  }
  unlinkSync(file.path);
  return { ...init, x, y, rowKeys };
}
