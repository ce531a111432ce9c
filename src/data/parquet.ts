/**
 * Parquet loader, through DuckDB (`read_parquet`): DuckDB reads the columnar file (row groups,
 * compression, types) and hands back vectors; we copy them into the row-major feature array.
 * Numeric and boolean columns are features; the label column may be numeric or text (coded 0..C-1
 * in sorted order over the whole file, so every shard codes alike). A shard is a range of row
 * numbers (`file_row_number`). Missing values are SQL NULLs and NaN; `missing: 'mean'` fills with
 * the whole file's column means (one aggregate query), so shards agree with the whole load.
 *
 * @example
 * const data = await loadParquet('trips.parquet', { target: 'fare', shard: { rank: 0, worldSize: 2 } });
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB_SETTINGS } from '../core/duckdb-settings.js';
import { DataError } from '../core/errors.js';
import type { DType, Placement } from '../core/storage.js';
import type { MissingPolicy } from './csv.js';
import { Dataset } from './dataset.js';
import { GrowableArray } from './growable.js';
import { compareText } from './labels.js';
import type { ShardSpec } from './text.js';
import { rowRange } from './text.js';

export interface ParquetOptions {
  target?: string | number | null;
  missing?: MissingPolicy;
  dtype?: DType;
  placement?: Placement;
  shard?: ShardSpec;
  classes?: readonly string[] | null;
}

const NUMERIC_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*|BOOLEAN)$/;

const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const identifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Load a Parquet file (or one shard of its rows) as a Dataset. */
export async function loadParquet(path: string, options: ParquetOptions = {}): Promise<Dataset> {
  // As every DuckDB instance shardlearn opens: no extension installed or loaded behind our back.
  // Imported here, not at the top: every rank imports this module (rank.ts -> load.ts), and loading
  // DuckDB's native library costs each rank ~0.5 s of CPU at start-up though few read Parquet.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { ...DUCKDB_SETTINGS });
  const connection = await instance.connect();
  try {
    return await loadWith(connection, path, options);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function rowsOf(connection: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await connection.runAndReadAll(sql)).getRowsJS() as unknown[][];
}

async function loadWith(connection: DuckDBConnection, path: string, options: ParquetOptions): Promise<Dataset> {
  const source = `read_parquet(${literal(path)}, file_row_number = true)`;
  let schema: unknown[][];
  try {
    schema = await rowsOf(connection, `DESCRIBE SELECT * FROM read_parquet(${literal(path)})`);
  } catch (error: unknown) {
    throw new DataError(
      'DATA_FORMAT',
      { file: path },
      `expected a readable Parquet file, found an error from DuckDB: ${(error as Error).message.split('\n')[0]}`,
      { cause: error },
    );
  }
  const names = schema.map((row) => String(row[0]));
  const types = schema.map((row) => String(row[1]));
  const target = resolveTarget(options.target ?? null, names, path);
  const featureIndices = names.map((_, j) => j).filter((j) => j !== target);
  for (const j of featureIndices) {
    if (!NUMERIC_TYPE.test(types[j]!)) {
      throw new DataError(
        'DATA_VALUE',
        { file: path, column: names[j] },
        `expected a numeric or boolean column, found type ${types[j]}; cast or encode it, or name it as the label (--target)`,
      );
    }
  }
  const total = Number((await rowsOf(connection, `SELECT count(*) FROM read_parquet(${literal(path)})`))[0]![0]);
  if (total === 0 && options.shard === undefined)
    throw new DataError('DATA_FORMAT', { file: path }, 'expected at least one row, found an empty table');
  const missing = options.missing ?? 'error';
  const asDouble = (j: number): string => `CAST(${identifier(names[j]!)} AS DOUBLE)`;
  let means: number[] = [];
  if (missing === 'mean' && featureIndices.length > 0) {
    const averages = featureIndices.map((j) => `avg(CASE WHEN isnan(${asDouble(j)}) THEN NULL ELSE ${asDouble(j)} END)`).join(', ');
    means = (await rowsOf(connection, `SELECT ${averages} FROM read_parquet(${literal(path)})`))[0]!.map((v) =>
      v === null ? Number.NaN : Number(v),
    );
    const empty = means.findIndex((mean) => Number.isNaN(mean));
    if (empty >= 0 && total > 0) {
      throw new DataError(
        'DATA_MISSING',
        { file: path, column: names[featureIndices[empty]!] },
        'expected at least one value to take the mean of, found only missing values; drop this column',
      );
    }
  }
  const textLabels = target >= 0 && !NUMERIC_TYPE.test(types[target]!);
  let classes: string[] | null = options.classes === undefined || options.classes === null ? null : [...options.classes];
  if (textLabels && classes === null) {
    const distinct = await rowsOf(
      connection,
      `SELECT DISTINCT CAST(${identifier(names[target]!)} AS VARCHAR) FROM read_parquet(${literal(path)}) WHERE ${identifier(names[target]!)} IS NOT NULL`,
    );
    classes = distinct.map((row) => String(row[0])).sort(compareText);
  }
  const classIndex = new Map((classes ?? []).map((name, i) => [name, i]));
  const { start, end } = rowRange(total, options.shard);
  const labelExpression =
    target < 0 ? '' : `, ${textLabels || classes !== null ? `CAST(${identifier(names[target]!)} AS VARCHAR)` : asDouble(target)}`;
  const sql = `SELECT CAST(file_row_number AS DOUBLE)${featureIndices.map((j) => `, ${asDouble(j)}`).join('')}${labelExpression} FROM ${source} WHERE file_row_number >= ${start} AND file_row_number < ${end} ORDER BY file_row_number`;
  const result = await connection.stream(sql);
  const cols = featureIndices.length;
  const features = new GrowableArray(options.dtype ?? 'float64');
  const labels = new GrowableArray('float64');
  const keys = new GrowableArray('float64');
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const vectors = Array.from({ length: chunk.columnCount }, (_, c) => chunk.getColumnVector(c));
    for (let i = 0; i < chunk.rowCount; i++) {
      const key = vectors[0]!.getItem(i) as number;
      const where = (j: number): { file: string; row: number; column: string } => ({ file: path, row: key + 1, column: names[j]! });
      const rowStart = features.length;
      features.reserve(cols);
      let dropped = false;
      for (let k = 0; k < cols && !dropped; k++) {
        let value = vectors[k + 1]!.getItem(i) as number | null;
        if (value === null || Number.isNaN(value)) {
          if (missing === 'error')
            throw new DataError(
              'DATA_MISSING',
              where(featureIndices[k]!),
              `expected a number, found a missing value (${value === null ? 'NULL' : 'NaN'}); choose --missing drop, mean or zero to accept missing values`,
            );
          if (missing === 'drop') dropped = true;
          value = missing === 'zero' ? 0 : means[k]!;
        } else if (!Number.isFinite(value)) {
          throw new DataError(
            'DATA_VALUE',
            where(featureIndices[k]!),
            `expected a finite number, found ${value}; remove or replace infinite values`,
          );
        }
        features.buffer[features.length++] = value;
      }
      let label = 0;
      if (!dropped && target >= 0) {
        const raw = vectors[cols + 1]!.getItem(i) as number | string | null;
        if (raw === null || (typeof raw === 'number' && Number.isNaN(raw))) {
          if (missing !== 'drop')
            throw new DataError(
              'DATA_MISSING',
              where(target),
              'expected a label, found a missing value; labels cannot be filled in, use --missing drop to skip such rows',
            );
          dropped = true;
        } else if (typeof raw === 'string') {
          const code = classIndex.get(raw);
          if (code === undefined)
            throw new DataError('DATA_VALUE', where(target), `expected one of the given classes, found ${JSON.stringify(raw)}`);
          label = code;
        } else if (!Number.isFinite(raw)) {
          throw new DataError('DATA_VALUE', where(target), `expected a finite label, found ${raw}`);
        } else label = raw;
      }
      if (dropped) {
        features.truncate(rowStart);
        continue;
      }
      if (target >= 0) labels.push(label);
      keys.push(key);
    }
  }
  const rows = keys.length;
  const placement = options.placement ?? 'heap';
  return new Dataset({
    x: features.finish(placement),
    rows,
    cols,
    y: target >= 0 ? (labels.finish(placement) as Float64Array) : null,
    featureNames: featureIndices.map((j) => names[j]!),
    labelNames: classes,
    source: path,
    rowKeys: keys.finish('heap') as Float64Array,
  });
}

function resolveTarget(target: string | number | null, names: string[], path: string): number {
  if (target === null) return -1;
  const index = typeof target === 'number' ? (target < 0 ? names.length + target : target) : names.indexOf(target);
  if (index < 0 || index >= names.length || !Number.isInteger(index)) {
    throw new DataError(
      'DATA_MISSING',
      { file: path, column: target },
      `expected a label column ${typeof target === 'number' ? `index in -${names.length}..${names.length - 1}` : `named ${JSON.stringify(target)}`}, found columns ${names.map((n) => JSON.stringify(n)).join(', ')}`,
    );
  }
  return index;
}
