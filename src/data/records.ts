/**
 * Record boundaries of the line-oriented text formats (CSV, LibSVM), found in one linear pass.
 *
 * A CSV record ends at a newline outside double quotes, and a quote opens a quoted field only at a
 * field start (as in `CsvScanner`), so whether a byte begins a record depends on every byte before
 * it: a byte range of the file cannot tell on its own whether it starts inside a quoted field.
 * `RecordFinder` tracks that state and is resumable across chunks, which gives
 * - a shard its first record and that record's ordinal, by scanning the file from the first data
 *   record (`locateRecord`): sound with quoted newlines, and the ordinal keys the train/test split.
 *   Cost: one pass over the bytes before the shard, at `indexOf` speed (newlines, and quotes only
 *   where there are any), no number parsing;
 * - the end of a record longer than a chunk, so it is assembled with one copy instead of being
 *   re-scanned and re-copied each time a chunk arrives (that was quadratic in the line length).
 * LibSVM has no quoting: its finder (`quoting: false`) only looks for newlines.
 *
 * @example
 * const finder = new RecordFinder(44, true); // ','
 * finder.findEnd(Buffer.from('"a\nb",1\n2\n'), 0, 10, 0); // 8: the first newline is quoted
 */
import { ParseProblem, readChunks } from './text.js';

const QUOTE = 34;
const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/** Default cap on one record's (line's) length in bytes: 64 MiB, far above any sane row (a million numbers). */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

type State =
  | 'unquoted' // in an unquoted field (or at a field start, see `fieldStart`)
  | 'quoted' // inside a quoted field
  | 'quote-at-end' // inside quotes, the last byte seen was a quote: closing, or the first of ""
  | 'closed' // just after a closing quote: a delimiter or a line end must follow
  | 'closed-cr'; // after a closing quote and \r: \n must follow

/** Resumable finder of record ends; one record at a time, bytes fed in any chunking. */
export class RecordFinder {
  private state: State = 'unquoted';
  private fieldStart = true;
  // The next quote and newline, each searched once per occurrence: searching again from every field
  // start would make a line of many quoted fields quadratic in its length.
  private readonly quotes = new NextByte(QUOTE);
  private readonly newlines = new NextByte(NEWLINE);

  /** `delimiter` is the CSV field delimiter byte; `quoting: false` (LibSVM) ignores quotes. */
  constructor(
    readonly delimiter: number,
    readonly quoting: boolean,
  ) {}

  /**
   * Look for the end of the current record in `bytes[from, to)` (`fileOffset` is the file offset of
   * `bytes[0]`, for errors). Returns the index just after the record's newline, the finder then
   * being at the start of the next record; or -1 when the record goes on past `to` (state kept:
   * feed the following bytes next). Throws a ParseProblem on text after a closing quote, as the
   * parser would.
   */
  findEnd(bytes: Uint8Array, from: number, to: number, fileOffset: number): number {
    let p = from;
    while (p < to) {
      switch (this.state) {
        case 'unquoted': {
          const newline = this.newlines.find(bytes, p);
          const lineEnd = newline < 0 || newline >= to ? to : newline;
          const quote = this.quoting ? this.quotes.find(bytes, p) : -1;
          if (quote >= 0 && quote < lineEnd) {
            const atFieldStart = quote === p ? this.fieldStart : bytes[quote - 1] === this.delimiter;
            if (atFieldStart) this.state = 'quoted';
            this.fieldStart = false;
            p = quote + 1;
            continue;
          }
          if (lineEnd < to) return this.recordEnd(lineEnd + 1);
          this.fieldStart = to > p ? bytes[to - 1] === this.delimiter : this.fieldStart;
          return -1;
        }
        case 'quoted': {
          const quote = bytes.indexOf(QUOTE, p);
          if (quote < 0 || quote >= to) return -1;
          this.state = 'quote-at-end';
          p = quote + 1;
          continue;
        }
        case 'quote-at-end':
          // "" is a quote inside the field; any other byte follows a closing quote
          if (bytes[p] === QUOTE) {
            this.state = 'quoted';
            p++;
          } else this.state = 'closed';
          continue;
        case 'closed': {
          const next = bytes[p]!;
          if (next === this.delimiter) {
            this.state = 'unquoted';
            this.fieldStart = true;
            p++;
          } else if (next === NEWLINE) return this.recordEnd(p + 1);
          else if (next === CARRIAGE_RETURN) {
            this.state = 'closed-cr';
            p++;
          } else throw afterQuote(fileOffset + p, next);
          continue;
        }
        case 'closed-cr':
          if (bytes[p] !== NEWLINE) throw afterQuote(fileOffset + p - 1, CARRIAGE_RETURN);
          return this.recordEnd(p + 1);
      }
    }
    return -1;
  }

  private recordEnd(position: number): number {
    this.state = 'unquoted';
    this.fieldStart = true;
    return position;
  }
}

/** The next occurrence of one byte at or after a position, remembered until passed. */
class NextByte {
  private buffer: Uint8Array | null = null;
  private from = 0;
  private at = -1;

  constructor(private readonly value: number) {}

  /** The first `value` in bytes[p, end of bytes), or -1. */
  find(bytes: Uint8Array, p: number): number {
    if (bytes !== this.buffer || p < this.from || (this.at >= 0 && p > this.at)) {
      this.buffer = bytes;
      this.from = p;
      this.at = bytes.indexOf(this.value, p);
    }
    return this.at;
  }
}

function afterQuote(offset: number, found: number): ParseProblem {
  return new ParseProblem(
    'DATA_FORMAT',
    offset,
    undefined,
    `expected a delimiter or the end of the line after a closing quote, found ${JSON.stringify(String.fromCharCode(found))}; inside quotes, write a quote as ""`,
  );
}

/** The error for a record longer than the cap; `offset` is where the record starts. */
export function recordTooLong(offset: number, length: number, maxRecordBytes: number): ParseProblem {
  return new ParseProblem(
    'DATA_FORMAT',
    offset,
    undefined,
    `expected a record (line) of at most maxRecordBytes = ${maxRecordBytes} bytes, found one of ${length > maxRecordBytes ? `more than ${maxRecordBytes}` : length} bytes; raise maxRecordBytes (--max-record-bytes) if the file really has lines this long, or check for an unclosed quote`,
  );
}

/** Where a shard's reading begins: the first record starting at or after byte `start`, and its ordinal. */
export interface RecordPosition {
  /** File offset of the record, or -1 when no record starts in [start, end of file). */
  offset: number;
  /** 0-based ordinal of that record among the records from `dataStart` (blank lines count). */
  ordinal: number;
}

/**
 * The first record starting at or after `start`, scanning from `dataStart` (a record start: the
 * first data record) so quoted newlines are never taken for record ends. A record belongs to the
 * shard its first byte lies in, so the shards' records together are the file's, each once.
 */
export async function locateRecord(
  path: string,
  dataStart: number,
  start: number,
  finder: RecordFinder,
  maxRecordBytes: number,
): Promise<RecordPosition> {
  if (start <= dataStart) return { offset: dataStart, ordinal: 0 };
  let ordinal = 0;
  let recordStart = dataStart;
  for await (const { offset, bytes } of readChunks(path, dataStart)) {
    let p = 0;
    for (;;) {
      const end = finder.findEnd(bytes, p, bytes.length, offset);
      if (end < 0) break;
      const next = offset + end;
      if (next - recordStart > maxRecordBytes) throw recordTooLong(recordStart, next - recordStart, maxRecordBytes);
      ordinal++;
      recordStart = next;
      if (recordStart >= start) return { offset: recordStart, ordinal };
      p = end;
    }
    if (offset + bytes.length - recordStart > maxRecordBytes)
      throw recordTooLong(recordStart, offset + bytes.length - recordStart, maxRecordBytes);
  }
  return { offset: -1, ordinal };
}

/**
 * Parses whole records out of a buffer starting at a record start: returns the index after the
 * last complete record it took (`final`: the buffer ends at the end of the file), or 'stop' once it
 * has passed its shard.
 */
export type RecordConsumer = (bytes: Buffer, fileOffset: number, final: boolean) => number | 'stop';

/**
 * Feed `consume` the file from `begin` (a record start) in chunks, each call given whole records:
 * the partial record at a chunk's end is completed by the following chunks — found by a
 * `RecordFinder` that sees each byte once, then copied once — so loading is linear in the file
 * size whatever the line lengths. A record longer than `maxRecordBytes` is an error at its start.
 */
export async function forEachRecords(
  path: string,
  begin: number,
  finder: RecordFinder,
  maxRecordBytes: number,
  consume: RecordConsumer,
): Promise<void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingOffset = begin; // file offset of pending[0][0], a record start
  let searching = false; // the finder has seen the pending bytes and looks for the record's end
  for await (const { offset, bytes } of readChunks(path, begin)) {
    if (pendingBytes > 0) {
      const end = finder.findEnd(bytes, 0, bytes.length, offset);
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (end < 0) {
        if (pendingBytes > maxRecordBytes) throw recordTooLong(pendingOffset, pendingBytes, maxRecordBytes);
        continue;
      }
      if (offset + end - pendingOffset > maxRecordBytes) throw recordTooLong(pendingOffset, offset + end - pendingOffset, maxRecordBytes);
    } else pending = [bytes];
    const buffer = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    const used = consume(buffer, pendingOffset, false);
    if (used === 'stop') return;
    if (searching && used === 0) throw new Error(`internal: the record at byte ${pendingOffset} of ${path} was complete but not parsed`);
    const rest = buffer.subarray(used);
    pendingOffset += used;
    pending = rest.length === 0 ? [] : [rest];
    pendingBytes = rest.length;
    searching = false;
    if (rest.length > 0) {
      // the consumer stopped at a partial record: find its end from here on, each byte once
      if (finder.findEnd(rest, 0, rest.length, pendingOffset) >= 0)
        throw new Error(`internal: the consumer left a complete record at byte ${pendingOffset} of ${path}`);
      if (rest.length > maxRecordBytes) throw recordTooLong(pendingOffset, rest.length, maxRecordBytes);
      searching = true;
    }
  }
  if (pendingBytes > 0) consume(pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes), pendingOffset, true);
}
