/**
 * CSV/TSV loader. Streams the file in 1 MiB chunks and parses numbers from the bytes into a growing
 * typed array, so a file larger than the JS string limit loads, and memory is the dataset itself.
 *
 * Sharding: worker `rank` of `worldSize` parses only its byte range; a record belongs to the shard
 * its first byte lies in, so the shards' rows together are the file's rows in order. Every shard
 * reads the first record for the delimiter, the header and the column count, and finds its first
 * record by scanning the bytes before its range for record ends (quote-aware, no number parsing;
 * see records.ts): so quoted fields may hold newlines, and each row's key is its record's ordinal.
 * Limits of sharding: `missing: 'mean'` fills with the shard's own means; text labels without
 * `classes` make each shard scan the whole file's label column once, so all shards code alike.
 *
 * Row keys (`Dataset.rowKeys`, which the train/test split and dropout masks hash) are the 0-based
 * ordinals of the rows' records after the header, blank lines included: the same for LF and CRLF
 * copies of a file, for every sharding, and for the same table in Parquet (its row numbers).
 *
 * @example
 * const iris = await loadCsv('iris.csv', { target: 'species' });
 * const part = await loadCsv('big.csv', { target: -1, shard: { rank: 1, worldSize: 4 } });
 */
import { ConfigError, DataError } from '../core/errors.js';
import type { DType, FloatArray, Placement } from '../core/storage.js';
import { allocate } from '../core/storage.js';
import { Dataset } from './dataset.js';
import { CsvScanner, detectDelimiter } from './csv-scanner.js';
import { GrowableArray } from './growable.js';
import { LabelCollector } from './labels.js';
import { DEFAULT_MAX_RECORD_BYTES, RecordFinder, forEachRecords, locateRecord, recordTooLong } from './records.js';
import type { ShardSpec } from './text.js';
import { ParseProblem, byteRange, classifyCell, fileSize, parseDecimal, readChunks, showCell, toDataError } from './text.js';

/** What to do with an empty cell, NA, NaN, N/A, null or ?: refuse, skip the row, or fill it. */
export type MissingPolicy = 'error' | 'drop' | 'mean' | 'zero';

export interface CsvOptions {
  /** The label column: its header name, or its 0-based index (negative counts from the end). None: unlabelled. */
  target?: string | number | null;
  /** One character, or 'auto' (default: the most frequent of , ; tab | in the first line). */
  delimiter?: string;
  /** Whether the first line names the columns. 'auto' (default): yes when none of its cells is a number. */
  header?: boolean | 'auto';
  missing?: MissingPolicy;
  dtype?: DType;
  placement?: Placement;
  shard?: ShardSpec;
  /** Fix the coding of text labels (class i is code i); labels outside it are an error. */
  classes?: readonly string[] | null;
  /** Longest record (line) accepted, in bytes; a longer one is an error naming its line. Default 64 MiB. */
  maxRecordBytes?: number;
}

interface Layout {
  path: string;
  delimiter: number;
  fields: number;
  names: string[];
  target: number;
  header: boolean;
  dataStart: number;
  missing: MissingPolicy;
  maxRecordBytes: number;
}

/** Load a CSV file (or one shard of it) as a Dataset. */
export async function loadCsv(path: string, options: CsvOptions = {}): Promise<Dataset> {
  const size = await fileSize(path);
  if (size === 0)
    throw new DataError('DATA_FORMAT', { file: path, line: 1 }, 'the file is empty: expected a header line or data rows, found 0 bytes');
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (!(Number.isInteger(maxRecordBytes) && maxRecordBytes >= 1)) {
    throw new ConfigError(`expected maxRecordBytes to be a positive whole number of bytes, found ${maxRecordBytes}`, {
      field: 'maxRecordBytes',
    });
  }
  try {
    const layout = await readLayout(path, options, maxRecordBytes);
    const { start, end } = byteRange(size, options.shard);
    const first = await locateRecord(path, layout.dataStart, start, new RecordFinder(layout.delimiter, true), maxRecordBytes);
    const features = new GrowableArray(options.dtype ?? 'float64');
    const keys = new GrowableArray('float64');
    const labels = new LabelCollector(options.classes ?? null);
    const featureCount = layout.fields - (layout.target >= 0 ? 1 : 0);
    const sums = new Float64Array(featureCount);
    const counts = new Float64Array(featureCount);
    if (first.offset >= 0 && first.offset < end)
      await parseRows(layout, first.offset, first.ordinal, end, { features, keys, labels, sums, counts, labelsOnly: false });
    const rows = keys.length;
    if (options.shard === undefined && rows === 0) {
      throw new DataError(
        'DATA_FORMAT',
        { file: path, line: layout.header ? 2 : 1 },
        `expected at least one data row${layout.header ? ' after the header' : ''}, found none`,
      );
    }
    const x = features.buffer;
    if (layout.missing === 'mean') fillMeans(x, rows, featureCount, sums, counts, layout);
    let allClasses: string[] | null = null;
    if (layout.target >= 0 && labels.textual && options.shard !== undefined && (options.classes ?? null) === null) {
      allClasses = await scanAllLabels(layout, size);
    }
    const encoded = layout.target >= 0 ? labels.finish(allClasses, path) : null;
    const placement = options.placement ?? 'heap';
    return new Dataset({
      x: features.finish(placement),
      rows,
      cols: featureCount,
      y: encoded === null ? null : placeLabels(encoded.y, placement),
      featureNames: layout.names.filter((_, j) => j !== layout.target),
      labelNames: encoded?.labelNames ?? null,
      source: path,
      rowKeys: keys.finish('heap') as Float64Array,
    });
  } catch (error: unknown) {
    throw await toDataError(error, path);
  }
}

function placeLabels(y: Float64Array, placement: Placement): Float64Array {
  // through `allocate`, so an installed shared allocator (WASM memory) holds the labels too
  if (placement === 'heap') return y;
  const shared = allocate('float64', y.length, 'shared');
  shared.set(y);
  return shared as Float64Array;
}

/**
 * Read the first record: delimiter, header, names, field count, and where data starts. The first
 * newline gives the delimiter; the record may run past it (a quoted newline in the header), so its
 * end is found by a RecordFinder. Each byte is searched once and copied once (linear).
 */
async function readLayout(path: string, options: CsvOptions, maxRecordBytes: number): Promise<Layout> {
  const pieces: Buffer[] = [];
  let length = 0;
  let scanner: CsvScanner | null = null;
  let finder: RecordFinder | null = null;
  let recordEnd = -1;
  for await (const { offset, bytes } of readChunks(path, 0, 1 << 16)) {
    pieces.push(bytes);
    length += bytes.length;
    if (finder === null) {
      const newline = bytes.indexOf(10);
      if (newline >= 0) {
        const head = Buffer.concat(pieces, length);
        pieces.splice(0, pieces.length, head);
        scanner = makeScanner(options, path, head, offset + newline);
        finder = new RecordFinder(scanner.delimiter, true);
        recordEnd = finder.findEnd(head, 0, head.length, 0);
      }
    } else {
      const end = finder.findEnd(bytes, 0, bytes.length, offset);
      if (end >= 0) recordEnd = offset + end;
    }
    if (recordEnd >= 0) break;
    if (length > maxRecordBytes) throw recordTooLong(0, length, maxRecordBytes);
  }
  if (recordEnd > maxRecordBytes || (recordEnd < 0 && length > maxRecordBytes))
    throw recordTooLong(0, recordEnd < 0 ? length : recordEnd, maxRecordBytes);
  const bytes = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, length);
  scanner ??= makeScanner(options, path, bytes, bytes.length);
  const firstEnd = scanner.scan(bytes, 0, recordEnd < 0);
  const cell = (i: number): string => scanner.text(bytes, i).trim();
  const header = options.header === 'auto' || options.header === undefined ? looksLikeHeader(cell, scanner.count) : options.header;
  const names = Array.from({ length: scanner.count }, (_, j) => {
    const name = header ? cell(j) : '';
    return name === '' ? `col${j}` : name;
  });
  const target = resolveTarget(options.target ?? null, names, header, path);
  return {
    path,
    delimiter: scanner.delimiter,
    fields: scanner.count,
    names,
    target,
    header,
    dataStart: header ? firstEnd : 0,
    missing: options.missing ?? 'error',
    maxRecordBytes,
  };
}

function makeScanner(options: CsvOptions, path: string, bytes: Uint8Array, firstLineEnd: number): CsvScanner {
  const delimiter =
    options.delimiter === undefined || options.delimiter === 'auto' ? detectDelimiter(bytes, firstLineEnd) : options.delimiter;
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n') {
    throw new DataError(
      'DATA_FORMAT',
      { file: path },
      `expected a one-character delimiter (not a quote or newline), found ${JSON.stringify(delimiter)}`,
    );
  }
  return new CsvScanner(delimiter.charCodeAt(0));
}

/** A header has no numeric cell and at least one word (stops at the first number: a wide data line is not read twice). */
function looksLikeHeader(cell: (i: number) => string, count: number): boolean {
  let words = 0;
  for (let i = 0; i < count; i++) {
    const kind = classifyCell(cell(i)).kind;
    if (kind === 'number') return false;
    if (kind === 'text') words++;
  }
  return words > 0;
}

function resolveTarget(target: string | number | null, names: string[], header: boolean, path: string): number {
  if (target === null) return -1;
  if (typeof target === 'number') {
    const index = target < 0 ? names.length + target : target;
    if (!Number.isInteger(target) || index < 0 || index >= names.length) {
      throw new DataError(
        'DATA_MISSING',
        { file: path, column: target },
        `expected a label column index in -${names.length}..${names.length - 1} (0-based), found ${target}`,
      );
    }
    return index;
  }
  const index = names.indexOf(target);
  const others = names.flatMap((name, j) => (name === target && j !== index ? [j] : []));
  if (index >= 0 && others.length > 0) {
    const columns = [index, ...others].map((j) => j + 1).join(' and ');
    throw new DataError(
      'DATA_FORMAT',
      { file: path, line: 1, column: target },
      `expected one label column named ${JSON.stringify(target)}, found ${others.length + 1}: columns ${columns} (1-based) share that name, so the label column is ambiguous; rename the duplicates, or give the label column by 0-based index (--target ${index})`,
    );
  }
  if (index < 0) {
    const found = header
      ? `the header has columns ${names.map((n) => JSON.stringify(n)).join(', ')}`
      : 'the file has no header line (give the label column by 0-based index)';
    throw new DataError(
      'DATA_MISSING',
      { file: path, line: 1, column: target },
      `expected a label column named ${JSON.stringify(target)}, found none: ${found}`,
    );
  }
  return index;
}

interface Sinks {
  features: GrowableArray;
  keys: GrowableArray;
  labels: LabelCollector;
  sums: Float64Array;
  counts: Float64Array;
  labelsOnly: boolean;
}

/**
 * Parse the records whose first byte lies in [begin, end) into the sinks; the record at `begin`
 * has ordinal `ordinal` (its row key).
 */
async function parseRows(layout: Layout, begin: number, ordinal: number, end: number, sinks: Sinks): Promise<void> {
  const scanner = new CsvScanner(layout.delimiter);
  const maxRecordBytes = layout.maxRecordBytes;
  let key = ordinal;
  let sized = false;
  await forEachRecords(layout.path, begin, new RecordFinder(layout.delimiter, true), maxRecordBytes, (bytes, offset, final) => {
    let position = 0;
    while (position < bytes.length) {
      if (offset + position >= end) return 'stop';
      const next = scanner.scan(bytes, position, final, offset);
      if (next < 0) break;
      if (next - position > maxRecordBytes) throw recordTooLong(offset + position, next - position, maxRecordBytes);
      if (!scanner.blank) {
        const unterminated = final && next === bytes.length && bytes[next - 1] !== 10;
        addRecord(scanner, bytes, offset + position, key, unterminated, layout, sinks);
      }
      key++;
      position = next;
    }
    if (!sized && sinks.keys.length > 0) {
      // Size the arrays once from the first chunk's bytes per row (+5 %): the doubling copies were
      // 8 % of a 100 MB load's CPU profile.
      sized = true;
      const estimatedRows = Math.ceil(((end - begin) / (offset + position - begin)) * sinks.keys.length * 1.05);
      const perRow = sinks.features.length / sinks.keys.length;
      sinks.features.reserve(Math.max(0, Math.ceil(estimatedRows * perRow) - sinks.features.length));
      sinks.keys.reserve(Math.max(0, estimatedRows - sinks.keys.length));
    }
    return position;
  });
}

function columnLabel(layout: Layout, j: number): string | number {
  return layout.header ? layout.names[j]! : j + 1;
}

/** One record into the sinks; throws a ParseProblem on a bad row. */
function addRecord(
  scanner: CsvScanner,
  bytes: Buffer,
  offset: number,
  key: number,
  unterminated: boolean,
  layout: Layout,
  sinks: Sinks,
): void {
  if (scanner.count !== layout.fields) {
    const hint = unterminated ? ' — the last line ends without a newline; the file may be truncated' : '';
    throw new ParseProblem(
      'DATA_FORMAT',
      offset,
      undefined,
      `expected ${layout.fields} fields (as in the first line), found ${scanner.count}${hint}`,
    );
  }
  const { features, labels } = sinks;
  const rowStart = features.length;
  let dropped = false;
  let label = Number.NaN;
  let labelText: string | null = null;
  for (let j = 0; j < scanner.count; j++) {
    const isTarget = j === layout.target;
    // The label scan still checks features for missing cells under 'drop', so it sees the same rows.
    if (sinks.labelsOnly && !isTarget && layout.missing !== 'drop') continue;
    let value = scanner.quoted[j] === 1 ? Number.NaN : parseDecimal(bytes, scanner.starts[j]!, scanner.ends[j]!);
    if (Number.isNaN(value)) {
      const text = scanner.text(bytes, j);
      const cell = classifyCell(text);
      if (cell.kind === 'number') value = cell.value;
      else if (cell.kind === 'text' && isTarget) labelText = text.trim();
      else if (cell.kind === 'infinite') {
        throw new ParseProblem(
          'DATA_VALUE',
          offset,
          columnLabel(layout, j),
          `expected a finite number, found ${showCell(text)}; remove or replace infinite values`,
        );
      } else if (cell.kind === 'text') {
        throw new ParseProblem(
          'DATA_VALUE',
          offset,
          columnLabel(layout, j),
          `expected a number, found ${showCell(text)}; encode text features as numbers first, or name this column as the label (--target)`,
        );
      } else if (layout.missing === 'error') {
        throw new ParseProblem(
          'DATA_MISSING',
          offset,
          columnLabel(layout, j),
          `expected a ${isTarget ? 'label' : 'number'}, found a missing value ${showCell(text)}; choose --missing drop${isTarget ? '' : ', mean or zero'} to accept missing values`,
        );
      } else if (layout.missing === 'drop') {
        dropped = true;
        break;
      } else if (isTarget) {
        throw new ParseProblem(
          'DATA_MISSING',
          offset,
          columnLabel(layout, j),
          `expected a label, found a missing value ${showCell(text)}; labels cannot be filled in, use --missing drop to skip such rows`,
        );
      } else {
        value = layout.missing === 'zero' ? 0 : Number.NaN;
      }
    }
    if (isTarget) label = value;
    else if (!sinks.labelsOnly) {
      if (features.length === rowStart) features.reserve(layout.fields);
      features.buffer[features.length++] = value;
    }
  }
  if (dropped) {
    features.truncate(rowStart);
    return;
  }
  if (layout.target >= 0) {
    const accepted = labelText !== null ? labels.addText(labelText) : labels.addNumber(label);
    if (!accepted) {
      throw new ParseProblem(
        'DATA_VALUE',
        offset,
        columnLabel(layout, layout.target),
        `expected one of the given classes, found ${showCell(labelText ?? String(label))}`,
      );
    }
  }
  if (sinks.labelsOnly) return;
  sinks.keys.push(key);
  if (layout.missing === 'mean') {
    const x = features.buffer;
    for (let k = 0; k < sinks.sums.length; k++) {
      const v = x[rowStart + k]!;
      if (!Number.isNaN(v)) {
        sinks.sums[k]! += v;
        sinks.counts[k]! += 1;
      }
    }
  }
}

function fillMeans(x: FloatArray, rows: number, cols: number, sums: Float64Array, counts: Float64Array, layout: Layout): void {
  const featureColumns = layout.names.map((_, j) => j).filter((j) => j !== layout.target);
  for (let k = 0; k < cols; k++) {
    if (counts[k] === 0 && rows > 0) {
      throw new DataError(
        'DATA_MISSING',
        { file: layout.path, column: columnLabel(layout, featureColumns[k]!) },
        'expected at least one value to take the mean of, found only missing values; drop this column',
      );
    }
  }
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < cols; k++) {
      if (Number.isNaN(x[i * cols + k]!)) x[i * cols + k] = sums[k]! / counts[k]!;
    }
  }
}

/** Every text label in the whole file, sorted: so all shards code text labels alike. */
async function scanAllLabels(layout: Layout, size: number): Promise<string[]> {
  const labels = new LabelCollector();
  labels.addText(''); // force text mode so numeric-looking labels are named too
  const sinks: Sinks = {
    features: new GrowableArray('float64'),
    keys: new GrowableArray('float64'),
    labels,
    sums: new Float64Array(0),
    counts: new Float64Array(0),
    labelsOnly: true,
  };
  await parseRows({ ...layout, missing: layout.missing === 'drop' ? 'drop' : 'error' }, layout.dataStart, 0, size, sinks);
  return labels.finish().labelNames!.filter((name) => name !== '');
}
