/**
 * LibSVM / SVMlight loader: one row per line, `label index:value index:value ... # comment`, indices
 * 1-based, omitted features 0, `qid:n` (ranking groups) ignored. Rows are densified into the
 * row-major feature array. The feature count is `cols` when given, else the largest index seen in
 * the whole file (a sharded load without `cols` first scans the file for it, so shards agree;
 * pass `cols` to skip that pass). Row keys are the 0-based line ordinals (blank and comment lines
 * count), so LF and CRLF copies and every sharding key a row alike; a shard counts the lines
 * before its byte range to learn its first ordinal (a newline scan, no parsing).
 *
 * @example
 * const data = await loadLibsvm('a9a.libsvm', { cols: 123 });
 */
import { ConfigError, DataError } from '../core/errors.js';
import type { DType, Placement } from '../core/storage.js';
import { allocate } from '../core/storage.js';
import { Dataset } from './dataset.js';
import { GrowableArray } from './growable.js';
import { DEFAULT_MAX_RECORD_BYTES, RecordFinder, forEachRecords, locateRecord, recordTooLong } from './records.js';
import type { ShardSpec } from './text.js';
import { ParseProblem, byteRange, classifyCell, fileSize, parseDecimal, showCell, toDataError } from './text.js';

export interface LibsvmOptions {
  /** Number of features; default: the largest feature index in the file. */
  cols?: number;
  dtype?: DType;
  placement?: Placement;
  shard?: ShardSpec;
  /** Longest line accepted, in bytes; a longer one is an error naming its line. Default 64 MiB. */
  maxRecordBytes?: number;
}

interface Sparse {
  keys: GrowableArray;
  labels: GrowableArray;
  rowEnds: GrowableArray;
  indices: GrowableArray;
  values: GrowableArray;
  maxIndex: number;
  /** Only find the largest index (the pre-pass of a sharded load without `cols`). */
  maxOnly: boolean;
  cols: number | undefined;
  maxRecordBytes: number;
}

/** Load a LibSVM file (or one shard of it) as a dense Dataset. */
export async function loadLibsvm(path: string, options: LibsvmOptions = {}): Promise<Dataset> {
  const size = await fileSize(path);
  if (size === 0)
    throw new DataError(
      'DATA_FORMAT',
      { file: path, line: 1 },
      'the file is empty: expected lines of "label index:value ...", found 0 bytes',
    );
  if (options.cols !== undefined && !(Number.isInteger(options.cols) && options.cols >= 1)) {
    throw new DataError('DATA_FORMAT', { file: path }, `expected cols to be a positive integer, found ${options.cols}`);
  }
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (!(Number.isInteger(maxRecordBytes) && maxRecordBytes >= 1)) {
    throw new ConfigError(`expected maxRecordBytes to be a positive whole number of bytes, found ${maxRecordBytes}`, {
      field: 'maxRecordBytes',
    });
  }
  try {
    const { start, end } = byteRange(size, options.shard);
    const sparse = emptySparse(false, options.cols, maxRecordBytes);
    const first = await locateRecord(path, 0, start, new RecordFinder(10, false), maxRecordBytes);
    if (first.offset >= 0 && first.offset < end) await parseLines(path, first.offset, first.ordinal, end, sparse);
    const rows = sparse.keys.length;
    if (options.shard === undefined && rows === 0)
      throw new DataError('DATA_FORMAT', { file: path }, 'expected at least one data line, found only blank or comment lines');
    let cols = options.cols ?? sparse.maxIndex;
    if (options.cols === undefined && options.shard !== undefined) {
      const whole = emptySparse(true, undefined, maxRecordBytes);
      await parseLines(path, 0, 0, size, whole);
      cols = whole.maxIndex;
    }
    const x = allocate(options.dtype ?? 'float64', rows * cols, options.placement ?? 'heap');
    const rowEnds = sparse.rowEnds.buffer;
    const indices = sparse.indices.buffer;
    const values = sparse.values.buffer;
    let k = 0;
    for (let i = 0; i < rows; i++) {
      for (const stop = rowEnds[i]!; k < stop; k++) x[i * cols + indices[k]!] = values[k]!;
    }
    const y = allocate('float64', rows, options.placement ?? 'heap') as Float64Array;
    y.set(sparse.labels.buffer.subarray(0, rows));
    return new Dataset({ x, rows, cols, y, source: path, rowKeys: sparse.keys.finish('heap') as Float64Array });
  } catch (error: unknown) {
    throw await toDataError(error, path);
  }
}

function emptySparse(maxOnly: boolean, cols: number | undefined, maxRecordBytes: number): Sparse {
  const make = (): GrowableArray => new GrowableArray('float64');
  return { keys: make(), labels: make(), rowEnds: make(), indices: make(), values: make(), maxIndex: 0, maxOnly, cols, maxRecordBytes };
}

/** Parse the lines whose first byte lies in [begin, end); the line at `begin` has ordinal `ordinal`. */
async function parseLines(path: string, begin: number, ordinal: number, end: number, sparse: Sparse): Promise<void> {
  const max = sparse.maxRecordBytes;
  let key = ordinal;
  await forEachRecords(path, begin, new RecordFinder(10, false), max, (bytes, offset, final) => {
    let position = 0;
    while (position < bytes.length) {
      if (offset + position >= end) return 'stop';
      const newline = bytes.indexOf(10, position);
      if (newline < 0 && !final) break;
      const stop = newline < 0 ? bytes.length : newline;
      if (stop - position > max) throw recordTooLong(offset + position, stop - position, max);
      parseLine(bytes, position, stop, offset + position, key, sparse);
      key++;
      position = stop + 1;
    }
    return Math.min(position, bytes.length);
  });
}

function isSpace(c: number | undefined): boolean {
  return c === 32 || c === 9 || c === 13;
}

function parseLine(bytes: Buffer, start: number, stop: number, offset: number, key: number, sparse: Sparse): void {
  // a comment runs to the line's end; searched within the line (indexOf would scan the whole chunk per line)
  let end = start;
  while (end < stop && bytes[end] !== 35) end++;
  let p = start;
  while (p < end && isSpace(bytes[p])) p++;
  if (p >= end) return; // blank or comment-only line
  let q = p;
  while (q < end && !isSpace(bytes[q])) q++;
  const label = numberAt(bytes, p, q, offset, 'label');
  let column = 1;
  for (;;) {
    p = q;
    while (p < end && isSpace(bytes[p])) p++;
    if (p >= end) break;
    q = p;
    while (q < end && !isSpace(bytes[q])) q++;
    column++;
    const colon = bytes.indexOf(58, p);
    if (colon < 0 || colon >= q) {
      throw new ParseProblem('DATA_FORMAT', offset, column, `expected index:value, found ${showCell(bytes.toString('utf8', p, q))}`);
    }
    if (colon - p === 3 && bytes.toString('latin1', p, colon) === 'qid') continue;
    const index = parseDecimal(bytes, p, colon);
    if (!(Number.isInteger(index) && index >= 1)) {
      throw new ParseProblem(
        'DATA_FORMAT',
        offset,
        column,
        `expected a feature index ≥ 1 (LibSVM indices are 1-based), found ${showCell(bytes.toString('utf8', p, colon))}`,
      );
    }
    if (sparse.cols !== undefined && index > sparse.cols) {
      throw new ParseProblem(
        'DATA_FORMAT',
        offset,
        column,
        `expected feature indices ≤ cols = ${sparse.cols}, found ${index}; raise cols or leave it out`,
      );
    }
    if (index > sparse.maxIndex) sparse.maxIndex = index;
    if (sparse.maxOnly) continue;
    const value = numberAt(bytes, colon + 1, q, offset, column);
    sparse.indices.push(index - 1);
    sparse.values.push(value);
  }
  if (sparse.maxOnly) return;
  sparse.labels.push(label);
  sparse.rowEnds.push(sparse.indices.length);
  sparse.keys.push(key);
}

function numberAt(bytes: Buffer, start: number, end: number, offset: number, column: number | string): number {
  const fast = parseDecimal(bytes, start, end);
  if (!Number.isNaN(fast)) return fast;
  const text = bytes.toString('utf8', start, end);
  const cell = classifyCell(text);
  if (cell.kind === 'number') return cell.value;
  const what = column === 'label' ? 'a numeric label (multi-label lines are not supported)' : 'a finite number';
  throw new ParseProblem(
    cell.kind === 'missing' ? 'DATA_MISSING' : 'DATA_VALUE',
    offset,
    column,
    `expected ${what}, found ${showCell(text)}`,
  );
}
