/**
 * Helpers shared by the line-oriented text loaders (CSV, LibSVM): reading a byte range of a file in
 * chunks, parsing numbers straight from bytes, and turning a byte offset into a line number for
 * error messages (computed only when an error is thrown, so the happy path never counts lines).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DataError } from '../core/errors.js';
import type { DataLocation } from '../core/errors.js';

/** Which part of a source a worker loads: shard `rank` of `worldSize` equal parts. */
export interface ShardSpec {
  rank: number;
  worldSize: number;
}

const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * Parse a decimal number in `bytes[start, end)` without making a string. Returns NaN when the text
 * is not a plain decimal this fast path handles exactly (more than 15 significant digits, exponent
 * beyond ±22, whitespace, words): the caller then falls back to `Number(text)`. Within those bounds
 * mantissa and power of ten are both exact doubles, so one multiplication or division rounds
 * correctly (Clinger 1990) and the result equals `Number(text)` bit for bit.
 */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && (bytes[i] === 45 || bytes[i] === 43)) {
    negative = bytes[i] === 45;
    i++;
  }
  let mantissa = 0;
  let significant = 0;
  let digits = 0;
  let exponent = 0;
  while (i < end) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
    if (mantissa !== 0) significant++;
    digits++;
    i++;
  }
  if (i < end && bytes[i] === 46) {
    i++;
    while (i < end) {
      const d = bytes[i]! - 48;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      if (mantissa !== 0) significant++;
      digits++;
      exponent--;
      i++;
    }
  }
  if (digits === 0 || significant > 15) return NaN;
  if (i < end && (bytes[i] === 101 || bytes[i] === 69)) {
    i++;
    let negativeExponent = false;
    if (i < end && (bytes[i] === 45 || bytes[i] === 43)) {
      negativeExponent = bytes[i] === 45;
      i++;
    }
    let value = 0;
    let exponentDigits = 0;
    while (i < end && exponentDigits < 4) {
      const d = bytes[i]! - 48;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      exponentDigits++;
      i++;
    }
    if (exponentDigits === 0) return NaN;
    exponent += negativeExponent ? -value : value;
  }
  if (i !== end) return NaN;
  if (mantissa === 0) return negative ? -0 : 0;
  if (exponent < -22 || exponent > 22) return NaN;
  const magnitude = exponent >= 0 ? mantissa * POW10[exponent]! : mantissa / POW10[-exponent]!;
  return negative ? -magnitude : magnitude;
}

/** Cell texts read as a missing value. */
export const MISSING_TOKENS: ReadonlySet<string> = new Set(['', 'NA', 'N/A', 'na', 'NaN', 'nan', 'NAN', '?', 'null', 'NULL']);

/** What a cell's text means: a finite number, a missing value, or something else (an error to report). */
export type CellValue = { kind: 'number'; value: number } | { kind: 'missing' } | { kind: 'infinite' } | { kind: 'text' };

/** Classify a cell's text (already unquoted) the slow way, after `parseDecimal` gave up. */
export function classifyCell(text: string): CellValue {
  const trimmed = text.trim();
  if (MISSING_TOKENS.has(trimmed)) return { kind: 'missing' };
  const value = Number(trimmed);
  if (Number.isFinite(value)) return { kind: 'number', value };
  if (value === Infinity || value === -Infinity || /^[+-]?inf(inity)?$/i.test(trimmed)) return { kind: 'infinite' };
  return { kind: 'text' };
}

/** Show a cell in an error message: quoted, shortened. */
export function showCell(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** The byte range [start, end) of shard `rank` of `worldSize` in a file of `size` bytes. */
export function byteRange(size: number, shard: ShardSpec | undefined): { start: number; end: number } {
  if (shard === undefined) return { start: 0, end: size };
  return { start: Math.floor((shard.rank * size) / shard.worldSize), end: Math.floor(((shard.rank + 1) * size) / shard.worldSize) };
}

/** The contiguous row range [start, end) of shard `rank` of `worldSize` over `rows` rows. */
export function rowRange(rows: number, shard: ShardSpec | undefined): { start: number; end: number } {
  if (shard === undefined) return { start: 0, end: rows };
  return { start: Math.floor((shard.rank * rows) / shard.worldSize), end: Math.floor(((shard.rank + 1) * rows) / shard.worldSize) };
}

/**
 * Chunks of `path` from byte `start` to the end of the file, each with the file offset of its first
 * byte. The caller stops iterating once it has passed its shard (the stream is then closed).
 */
export async function* readChunks(path: string, start: number, chunkBytes = 1 << 20): AsyncGenerator<{ offset: number; bytes: Buffer }> {
  let offset = start;
  const stream = createReadStream(path, { start, highWaterMark: chunkBytes });
  try {
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      yield { offset, bytes };
      offset += bytes.length;
    }
  } finally {
    stream.destroy();
  }
}

/** The 1-based line number of the byte at `offset` (counts newlines before it; used only on errors). */
export async function lineAt(path: string, offset: number): Promise<number> {
  let line = 1;
  for await (const { offset: chunkOffset, bytes } of readChunks(path, 0)) {
    const limit = Math.min(bytes.length, offset - chunkOffset);
    let at = bytes.indexOf(10);
    while (at >= 0 && at < limit) {
      line++;
      at = bytes.indexOf(10, at + 1);
    }
    if (chunkOffset + bytes.length >= offset) break;
  }
  return line;
}

/** File size in bytes, or a DataError saying the file is missing. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error: unknown) {
    throw new DataError(
      'DATA_MISSING',
      { file: path },
      'cannot read the file: expected an existing, readable file, found none. Check the path.',
      { cause: error },
    );
  }
}

/**
 * A problem found by a synchronous parser at a byte offset; the async loader turns it into a
 * DataError with the line number (which costs a pass over the file, so only errors pay it).
 */
export class ParseProblem extends Error {
  constructor(
    readonly code: 'DATA_FORMAT' | 'DATA_VALUE' | 'DATA_MISSING',
    readonly offset: number,
    readonly column: string | number | undefined,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Convert a ParseProblem into the DataError users see; other errors pass through. */
export async function toDataError(error: unknown, path: string): Promise<unknown> {
  if (!(error instanceof ParseProblem)) return error;
  const where: DataLocation = { file: path, line: await lineAt(path, error.offset), column: error.column };
  return new DataError(error.code, where, error.detail);
}
