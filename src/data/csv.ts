/**
 * CSV/TSV loader. Streams the file in 1 MiB chunks and parses numbers from the bytes into a growing
 * typed array, so a file larger than the JS string limit loads, and memory is the dataset itself.
 *
 * Sharding: worker `rank` of `worldSize` reads only its byte range; a line belongs to the shard its
 * first byte lies in (see `firstLineStart`), so the shards' rows together are the file's rows in
 * order. Every shard reads the first line for the delimiter, the header and the column count.
 * Limits of sharding: quoted fields must not hold newlines (a byte range cannot know it starts
 * inside quotes); `missing: 'mean'` fills with the shard's own means; text labels without
 * `classes` make each shard scan the whole file's label column once, so all shards code alike.
 *
 * @example
 * const iris = await loadCsv('iris.csv', { target: 'species' });
 * const part = await loadCsv('big.csv', { target: -1, shard: { rank: 1, worldSize: 4 } });
 */
import { DataError } from '../core/errors.js';
import type { DType, FloatArray, Placement } from '../core/storage.js';
import { allocate } from '../core/storage.js';
import { Dataset } from './dataset.js';
import { CsvScanner, detectDelimiter } from './csv-scanner.js';
import { GrowableArray } from './growable.js';
import { LabelCollector } from './labels.js';
import type { ShardSpec } from './text.js';
import { ParseProblem, byteRange, classifyCell, fileSize, firstLineStart, parseDecimal, readChunks, showCell, toDataError } from './text.js';

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
}

/** Load a CSV file (or one shard of it) as a Dataset. */
export async function loadCsv(path: string, options: CsvOptions = {}): Promise<Dataset> {
  const size = await fileSize(path);
  if (size === 0) throw new DataError('DATA_FORMAT', { file: path, line: 1 }, 'the file is empty: expected a header line or data rows, found 0 bytes');
  try {
    const layout = await readLayout(path, options);
    const { start, end } = byteRange(size, options.shard);
    let begin = await firstLineStart(path, start);
    if (begin >= 0 && begin < layout.dataStart) begin = layout.dataStart;
    const features = new GrowableArray(options.dtype ?? 'float64');
    const keys = new GrowableArray('float64');
    const labels = new LabelCollector(options.classes ?? null);
    const featureCount = layout.fields - (layout.target >= 0 ? 1 : 0);
    const sums = new Float64Array(featureCount);
    const counts = new Float64Array(featureCount);
    if (begin >= 0 && begin < end) await parseRows(layout, begin, end, { features, keys, labels, sums, counts, labelsOnly: false });
    const rows = keys.length;
    if (options.shard === undefined && rows === 0) {
      throw new DataError('DATA_FORMAT', { file: path, line: layout.header ? 2 : 1 }, `expected at least one data row${layout.header ? ' after the header' : ''}, found none`);
    }
    const x = features.buffer;
    if (layout.missing === 'mean') fillMeans(x, rows, featureCount, sums, counts, layout);
    let allClasses: string[] | null = null;
    if (layout.target >= 0 && labels.textual && options.shard !== undefined && (options.classes ?? null) === null) {
      allClasses = await scanAllLabels(layout, size);
    }
    const encoded = layout.target >= 0 ? labels.finish(allClasses) : null;
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

/** Read the first record: delimiter, header, names, field count, and where data starts. */
async function readLayout(path: string, options: CsvOptions): Promise<Layout> {
  let bytes = Buffer.alloc(0);
  let recordEnd = -1;
  let scanner: CsvScanner | null = null;
  for await (const chunk of readChunks(path, 0, 1 << 16)) {
    bytes = Buffer.concat([bytes, chunk.bytes]);
    if (scanner === null) {
      const newline = bytes.indexOf(10);
      if (newline < 0) continue;
      scanner = makeScanner(options, path, bytes.toString('utf8', 0, newline));
    }
    recordEnd = scanner.scan(bytes, 0, false);
    if (recordEnd >= 0) break;
  }
  scanner ??= makeScanner(options, path, bytes.toString('utf8'));
  if (recordEnd < 0) recordEnd = scanner.scan(bytes, 0, true);
  const cells = Array.from({ length: scanner.count }, (_, i) => scanner.text(bytes, i).trim());
  const header = options.header === 'auto' || options.header === undefined ? looksLikeHeader(cells) : options.header;
  const names = header ? cells.map((name, j) => (name === '' ? `col${j}` : name)) : cells.map((_, j) => `col${j}`);
  const target = resolveTarget(options.target ?? null, names, header, path);
  return { path, delimiter: scanner.delimiter, fields: cells.length, names, target, header, dataStart: header ? recordEnd : 0, missing: options.missing ?? 'error' };
}

function makeScanner(options: CsvOptions, path: string, firstLine: string): CsvScanner {
  const delimiter = options.delimiter === undefined || options.delimiter === 'auto' ? detectDelimiter(firstLine) : options.delimiter;
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n') {
    throw new DataError('DATA_FORMAT', { file: path }, `expected a one-character delimiter (not a quote or newline), found ${JSON.stringify(delimiter)}`);
  }
  return new CsvScanner(delimiter.charCodeAt(0));
}

/** A header has no numeric cell and at least one word. */
function looksLikeHeader(cells: string[]): boolean {
  let words = 0;
  for (const cell of cells) {
    const kind = classifyCell(cell).kind;
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
      throw new DataError('DATA_MISSING', { file: path, column: target }, `expected a label column index in -${names.length}..${names.length - 1} (0-based), found ${target}`);
    }
    return index;
  }
  const index = names.indexOf(target);
  if (index < 0) {
    const found = header ? `the header has columns ${names.map((n) => JSON.stringify(n)).join(', ')}` : 'the file has no header line (give the label column by 0-based index)';
    throw new DataError('DATA_MISSING', { file: path, line: 1, column: target }, `expected a label column named ${JSON.stringify(target)}, found none: ${found}`);
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

/** Parse the records whose first byte lies in [begin, end) into the sinks. */
async function parseRows(layout: Layout, begin: number, end: number, sinks: Sinks): Promise<void> {
  const scanner = new CsvScanner(layout.delimiter);
  let carry: Buffer | null = null;
  let carryOffset = begin;
  let done = false;
  const consume = (bytes: Buffer, offset: number, final: boolean): number => {
    let position = 0;
    while (position < bytes.length) {
      if (offset + position >= end) {
        done = true;
        return position;
      }
      const next = scanner.scan(bytes, position, final, offset);
      if (next < 0) return position;
      if (!scanner.blank) {
        const unterminated = final && next === bytes.length && bytes[next - 1] !== 10;
        addRecord(scanner, bytes, offset + position, unterminated, layout, sinks);
      }
      position = next;
    }
    return position;
  };
  let sized = false;
  for await (const chunk of readChunks(layout.path, begin)) {
    const bytes: Buffer = carry === null ? chunk.bytes : Buffer.concat([carry, chunk.bytes]);
    const used = consume(bytes, carryOffset, false);
    if (done) return;
    if (!sized && sinks.keys.length > 0) {
      // Size the arrays once from the first chunk's bytes per row (+5 %): the doubling copies were
      // 8 % of a 100 MB load's CPU profile.
      sized = true;
      const estimatedRows = Math.ceil(((end - begin) / (carryOffset + used - begin)) * sinks.keys.length * 1.05);
      const perRow = sinks.features.length / sinks.keys.length;
      sinks.features.reserve(Math.max(0, Math.ceil(estimatedRows * perRow) - sinks.features.length));
      sinks.keys.reserve(Math.max(0, estimatedRows - sinks.keys.length));
    }
    carry = bytes.subarray(used);
    carryOffset += used;
  }
  if (carry !== null && carry.length > 0) consume(carry, carryOffset, true);
}

function columnLabel(layout: Layout, j: number): string | number {
  return layout.header ? layout.names[j]! : j + 1;
}

/** One record into the sinks; throws a ParseProblem on a bad row. */
function addRecord(scanner: CsvScanner, bytes: Buffer, offset: number, unterminated: boolean, layout: Layout, sinks: Sinks): void {
  if (scanner.count !== layout.fields) {
    const hint = unterminated ? ' — the last line ends without a newline; the file may be truncated' : '';
    throw new ParseProblem('DATA_FORMAT', offset, undefined, `expected ${layout.fields} fields (as in the first line), found ${scanner.count}${hint}`);
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
        throw new ParseProblem('DATA_VALUE', offset, columnLabel(layout, j), `expected a finite number, found ${showCell(text)}; remove or replace infinite values`);
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
        throw new ParseProblem('DATA_MISSING', offset, columnLabel(layout, j), `expected a label, found a missing value ${showCell(text)}; labels cannot be filled in, use --missing drop to skip such rows`);
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
      throw new ParseProblem('DATA_VALUE', offset, columnLabel(layout, layout.target), `expected one of the given classes, found ${showCell(labelText ?? String(label))}`);
    }
  }
  if (sinks.labelsOnly) return;
  sinks.keys.push(offset);
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
      throw new DataError('DATA_MISSING', { file: layout.path, column: columnLabel(layout, featureColumns[k]!) }, 'expected at least one value to take the mean of, found only missing values; drop this column');
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
  const sinks: Sinks = { features: new GrowableArray('float64'), keys: new GrowableArray('float64'), labels, sums: new Float64Array(0), counts: new Float64Array(0), labelsOnly: true };
  await parseRows({ ...layout, missing: layout.missing === 'drop' ? 'drop' : 'error' }, layout.dataStart, size, sinks);
  return labels.finish().labelNames!.filter((name) => name !== '');
}
