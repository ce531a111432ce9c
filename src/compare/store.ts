/**
 * The results store: an embedded DuckDB file, one row per run (full config as JSON, code version,
 * host, every metric), its loss history in a table keyed by run id, and one row per session (the
 * matrix, what was skipped). Opening an existing file appends; the schema carries a version, and a
 * file written by a newer shardlearn is refused rather than misread.
 *
 * Only local files: a spec with a scheme (`md:`, `s3://`, `http://`) is refused, and every
 * connection is opened with DuckDB's extension auto-install and auto-load off — `--db md:x` used to
 * make DuckDB download the MotherDuck extension from the network. Readers (`runs`, `report`,
 * `advise`) open with `create: false`, so a mistyped path is an error naming it, not a new empty file.
 *
 * @example
 * const store = await ResultsStore.open('results.duckdb');
 * await store.writeSession(session);
 * await store.writeRun(record);
 * const runs = await store.listRuns({ sessionId: session.sessionId });
 * store.close();
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import { DUCKDB_SETTINGS } from '../core/duckdb-settings.js';
import { ConfigError, FileError } from '../core/errors.js';
import type { HostInfo } from './environment.js';
import type { SkippedCell } from './matrix.js';
import type { RunRecord, Session } from './record.js';
import type { HistoryPoint } from './stats.js';
import type { TuningResult } from './tuning.js';
import type { FederatedResult } from './federated-run.js';
import type { FaultOutcome } from './fault-cells.js';

export const SCHEMA_VERSION = 9;

/**
 * The federated cells (federated-run.ts), one row per fit: the figures the report and claim C10
 * query as columns (NULL = the target was not reached within the round cap), the whole result as JSON.
 */
const FEDERATED_TABLE = `CREATE TABLE IF NOT EXISTS compare_federated (
  session_id VARCHAR, seq INTEGER, cell_key VARCHAR, repeat INTEGER, model VARCHAR, data VARCHAR,
  aggregator VARCHAR, partition VARCHAR, clients INTEGER, fraction DOUBLE, local_epochs INTEGER, target DOUBLE,
  rounds_to_target INTEGER, bytes_up_to_target DOUBLE, bytes_down_to_target DOUBLE, bytes_up DOUBLE, bytes_down DOUBLE,
  wall_seconds DOUBLE, final_score DOUBLE, dropped INTEGER, result JSON, written_at TIMESTAMP)`;

/** Fault cells' runs (compare/fault-cells.ts), one row per run on the fault axis; schema version 8. */
const FAULT_RUNS_TABLE = `CREATE TABLE IF NOT EXISTS fault_runs (
  run_id VARCHAR PRIMARY KEY, kind VARCHAR, victim INTEGER, at_fraction DOUBLE, fired_at_ms DOUBLE, held_ms DOUBLE,
  final_workers INTEGER, lost_ms DOUBLE, faults JSON)`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS sessions (
  session_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, name VARCHAR, matrix JSON,
  package_version VARCHAR, git_commit VARCHAR, host JSON, skipped JSON, aborted BOOLEAN);
CREATE TABLE IF NOT EXISTS runs (
  run_id VARCHAR PRIMARY KEY, session_id VARCHAR, started_at TIMESTAMP, cell_id VARCHAR,
  model VARCHAR, model_kind VARCHAR, params JSON, data VARCHAR, paradigm VARCHAR, workers INTEGER,
  strategy VARCHAR, repeat INTEGER, status VARCHAR, error VARCHAR,
  train_rows BIGINT, test_rows BIGINT, cols INTEGER,
  wall_seconds DOUBLE, train_seconds DOUBLE, cpu_seconds DOUBLE, peak_rss_bytes DOUBLE,
  bytes_sent DOUBLE, bytes_received DOUBLE, messages_sent DOUBLE, comm_ms DOUBLE, compute_ms DOUBLE,
  score DOUBLE, score_name VARCHAR, higher_is_better BOOLEAN, metrics JSON, final_loss DOUBLE,
  time_to_target_ms DOUBLE, reached_score_target BOOLEAN, speedup DOUBLE, efficiency DOUBLE,
  config JSON, package_version VARCHAR, git_commit VARCHAR, host JSON, setup_bytes DOUBLE, network VARCHAR, rank_peak_rss_bytes DOUBLE, compression VARCHAR, stage_memory JSON, startup_ms DOUBLE);
CREATE TABLE IF NOT EXISTS history (
  run_id VARCHAR, seq INTEGER, elapsed_ms DOUBLE, iteration INTEGER, total INTEGER, loss DOUBLE);
${FEDERATED_TABLE};
${FAULT_RUNS_TABLE};
`;

/**
 * Schema changes, one per version: MIGRATIONS[v] takes a file from version v to v + 1. Columns are
 * only ever added at the end, and inserts name their columns, so old rows stay readable.
 */
const MIGRATIONS: Record<number, string> = {
  1: 'ALTER TABLE runs ADD COLUMN setup_bytes DOUBLE',
  2: 'ALTER TABLE runs ADD COLUMN network VARCHAR',
  3: 'ALTER TABLE runs ADD COLUMN rank_peak_rss_bytes DOUBLE',
  4: 'ALTER TABLE runs ADD COLUMN compression VARCHAR',
  5: 'ALTER TABLE runs ADD COLUMN stage_memory JSON',
  6: FEDERATED_TABLE,
  7: FAULT_RUNS_TABLE,
  8: 'ALTER TABLE runs ADD COLUMN startup_ms DOUBLE',
};

/** Column name in `runs` → RunRecord field (the export's column order too). */
const RUN_COLUMNS: [string, keyof RunRecord][] = [
  ['run_id', 'runId'],
  ['session_id', 'sessionId'],
  ['started_at', 'startedAt'],
  ['cell_id', 'cellId'],
  ['model', 'model'],
  ['model_kind', 'modelKind'],
  ['params', 'params'],
  ['data', 'data'],
  ['paradigm', 'paradigm'],
  ['workers', 'workers'],
  ['strategy', 'strategy'],
  ['repeat', 'repeat'],
  ['status', 'status'],
  ['error', 'error'],
  ['train_rows', 'trainRows'],
  ['test_rows', 'testRows'],
  ['cols', 'cols'],
  ['wall_seconds', 'wallSeconds'],
  ['train_seconds', 'trainSeconds'],
  ['cpu_seconds', 'cpuSeconds'],
  ['peak_rss_bytes', 'peakRssBytes'],
  ['bytes_sent', 'bytesSent'],
  ['bytes_received', 'bytesReceived'],
  ['messages_sent', 'messagesSent'],
  ['comm_ms', 'commMs'],
  ['compute_ms', 'computeMs'],
  ['score', 'score'],
  ['score_name', 'scoreName'],
  ['higher_is_better', 'higherIsBetter'],
  ['metrics', 'metrics'],
  ['final_loss', 'finalLoss'],
  ['time_to_target_ms', 'timeToTargetMs'],
  ['reached_score_target', 'reachedScoreTarget'],
  ['speedup', 'speedup'],
  ['efficiency', 'efficiency'],
  ['setup_bytes', 'setupBytes'],
  ['network', 'network'],
  ['rank_peak_rss_bytes', 'rankPeakRssBytes'],
  ['compression', 'compression'],
  ['stage_memory', 'stageMemory'],
  ['startup_ms', 'startupMs'],
];
const JSON_FIELDS = new Set<keyof RunRecord>(['params', 'metrics', 'stageMemory']);

/** DuckDB's TIMESTAMP literal for an ISO time (UTC, no zone suffix). */
function timestamp(iso: string): string {
  return iso.replace('T', ' ').replace('Z', '');
}

/** A database spec DuckDB reads as something other than a local file: `md:…`, `s3://…`, `http://…`. */
function isRemoteSpec(path: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(path) && !/^[A-Za-z]:[\\/]/.test(path); // a Windows drive (C:\) is a file
}

export interface OpenOptions {
  /** Create the file (and its folder) when it does not exist. Default true; readers pass false. */
  create?: boolean;
}

export interface RunFilter {
  sessionId?: string;
  model?: string;
  paradigm?: string;
  /** Only the last `limit` runs by start time. */
  limit?: number;
}

/** A run as stored: the RunRecord plus the session's config, code version and host. */
export interface StoredRun extends RunRecord {
  config: Record<string, unknown>;
  packageVersion: string;
  gitCommit: string;
  host: Record<string, unknown>;
}

export interface StoredSession {
  sessionId: string;
  startedAt: string;
  name: string;
  /** The matrix as run (JSON). */
  matrix: unknown;
  skipped: SkippedCell[];
  aborted: boolean;
  /** Runs stored for this session. */
  runs: number;
  packageVersion: string;
  gitCommit: string;
  host: HostInfo;
}

export class ResultsStore {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly path: string,
  ) {}

  /** Open (or create) the database file at `path` and bring its schema up to date. */
  static async open(path: string, options: OpenOptions = {}): Promise<ResultsStore> {
    if (isRemoteSpec(path)) {
      throw new ConfigError(
        `results database '${path}' is not a local file path; shardlearn stores results in a local DuckDB file only (e.g. --db results.duckdb)`,
        { field: 'db' },
      );
    }
    if (path !== ':memory:' && options.create === false) {
      const found = await stat(path).catch(() => null);
      if (found === null || !found.isFile()) {
        throw new ConfigError(
          found === null
            ? `results database '${path}' does not exist; check the path, or run 'shardlearn compare --db ${path}' first`
            : `results database '${path}' is not a file`,
          { field: 'db' },
        );
      }
    }
    let instance: DuckDBInstance;
    try {
      if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
      // Imported on first use (as data/parquet.ts does): DuckDB's native library and its ~180 modules
      // would otherwise load with every CLI command and every import of the library.
      const { DuckDBInstance: Instance } = await import('@duckdb/node-api');
      instance = await Instance.create(path, { ...DUCKDB_SETTINGS });
    } catch (error) {
      throw new ConfigError(
        `cannot open the results database '${path}': ${(error as Error).message}; is another shardlearn process using it?`,
        { field: 'db', cause: error },
      );
    }
    const store = new ResultsStore(instance, await instance.connect(), path);
    try {
      await store.migrate();
    } catch (error) {
      store.close();
      throw error;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.connection.run('CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)');
    const rows = (await this.connection.runAndReadAll(`SELECT value FROM meta WHERE key = 'schema_version'`)).getRowObjectsJS();
    const found = rows.length === 0 ? null : Number(rows[0]!.value);
    if (found !== null && found > SCHEMA_VERSION) {
      throw new ConfigError(
        `results database '${this.path}' has schema version ${found}, this shardlearn reads up to ${SCHEMA_VERSION}; upgrade shardlearn or use another --db file`,
        { field: 'db' },
      );
    }
    if (found === null) {
      await this.connection.run(SCHEMA);
      await this.connection.run(`INSERT INTO meta VALUES ('schema_version', ?)`, [String(SCHEMA_VERSION)]);
      return;
    }
    for (let version = found; version < SCHEMA_VERSION; version++) {
      await this.connection.run('BEGIN TRANSACTION');
      await this.connection.run(MIGRATIONS[version]!);
      await this.connection.run(`UPDATE meta SET value = ? WHERE key = 'schema_version'`, [String(version + 1)]);
      await this.connection.run('COMMIT');
    }
  }

  /**
   * The tuning checks' table is created on first open, beside the versioned tables and without
   * touching the schema version (like the tuning studies' tables): older files gain it, older
   * shardlearn ignores it. A check is kept whole as JSON.
   */
  private async ensureTuningTable(): Promise<void> {
    await this.connection.run(
      'CREATE TABLE IF NOT EXISTS compare_tuning (session_id VARCHAR, seq INTEGER, model VARCHAR, data VARCHAR, result JSON, written_at TIMESTAMP)',
    );
  }

  /** Store one finished tuning check of `session`. */
  async writeTuning(result: TuningResult, session: Session): Promise<void> {
    await this.ensureTuningTable();
    const rows = (
      await this.connection.runAndReadAll('SELECT count(*) AS n FROM compare_tuning WHERE session_id = ?', [session.sessionId])
    ).getRowObjectsJS();
    await this.connection.run('INSERT INTO compare_tuning VALUES (?, ?, ?, ?, ?, CAST(? AS TIMESTAMP))', [
      session.sessionId,
      Number(rows[0]?.n ?? 0),
      result.model,
      result.data,
      JSON.stringify(result),
      timestamp(new Date().toISOString()),
    ]);
  }

  /** A session's tuning checks, in the order they were stored. */
  async listTuning(sessionId: string): Promise<TuningResult[]> {
    await this.ensureTuningTable();
    const rows = (
      await this.connection.runAndReadAll('SELECT result FROM compare_tuning WHERE session_id = ? ORDER BY seq', [sessionId])
    ).getRowObjectsJS();
    return rows.map((row) => JSON.parse(String(row.result)) as TuningResult);
  }

  /** Store one federated fit of `session`. */
  async writeFederated(result: FederatedResult, session: Session): Promise<void> {
    const rows = (
      await this.connection.runAndReadAll('SELECT count(*) AS n FROM compare_federated WHERE session_id = ?', [session.sessionId])
    ).getRowObjectsJS();
    await this.connection.run(
      `INSERT INTO compare_federated VALUES (${Array.from({ length: 21 }, () => '?').join(', ')}, CAST(? AS TIMESTAMP))`,
      [
        session.sessionId,
        Number(rows[0]?.n ?? 0),
        result.key,
        result.repeat,
        result.model,
        result.data,
        result.aggregator,
        result.partition,
        result.clients,
        result.fraction,
        result.localEpochs,
        result.target,
        result.roundsToTarget,
        result.bytesUpToTarget,
        result.bytesDownToTarget,
        result.bytesUp,
        result.bytesDown,
        result.wallSeconds,
        result.finalScore,
        result.dropped,
        JSON.stringify(result),
        timestamp(new Date().toISOString()),
      ],
    );
  }

  /** A session's federated fits, in the order they were stored. */
  async listFederated(sessionId: string): Promise<FederatedResult[]> {
    const rows = (
      await this.connection.runAndReadAll('SELECT result FROM compare_federated WHERE session_id = ? ORDER BY seq', [sessionId])
    ).getRowObjectsJS();
    return rows.map((row) => JSON.parse(String(row.result)) as FederatedResult);
  }

  async schemaVersion(): Promise<number> {
    const rows = (await this.connection.runAndReadAll(`SELECT value FROM meta WHERE key = 'schema_version'`)).getRowObjectsJS();
    return Number(rows[0]?.value);
  }

  async writeSession(session: Session, skipped: readonly SkippedCell[] = [], aborted = false): Promise<void> {
    await this.connection.run(`INSERT OR REPLACE INTO sessions VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, ?, ?, ?, ?)`, [
      session.sessionId,
      timestamp(session.startedAt),
      session.matrix.name,
      JSON.stringify(session.matrix),
      session.code.packageVersion,
      session.code.gitCommit,
      JSON.stringify(session.host),
      JSON.stringify(skipped),
      aborted,
    ]);
  }

  /** Insert one run and its history in one transaction. */
  async writeRun(record: RunRecord, session: Session): Promise<void> {
    const values: DuckDBValue[] = RUN_COLUMNS.map(([, field]) => {
      const value = record[field];
      if (field === 'startedAt') return timestamp(value as string);
      if (JSON_FIELDS.has(field)) return JSON.stringify(value ?? null);
      return value as DuckDBValue;
    });
    const config = {
      model: record.model,
      params: record.params,
      data: record.data,
      paradigm: record.paradigm,
      workers: record.workers,
      strategy: record.strategy,
      repeat: record.repeat,
      matrix: session.matrix.name,
      testFraction: session.matrix.testFraction,
      seed: session.matrix.seed,
    };
    values.push(JSON.stringify(config), session.code.packageVersion, session.code.gitCommit, JSON.stringify(session.host));
    const placeholders = RUN_COLUMNS.map(([column]) => (column === 'started_at' ? 'CAST(? AS TIMESTAMP)' : '?')).join(', ');
    const columns = [...RUN_COLUMNS.map(([column]) => column), 'config', 'package_version', 'git_commit', 'host'].join(', ');
    await this.connection.run('BEGIN TRANSACTION');
    try {
      await this.connection.run(`INSERT INTO runs (${columns}) VALUES (${placeholders}, ?, ?, ?, ?)`, values);
      await this.writeHistory(record.runId, record.history);
      if (record.fault !== undefined) await this.writeFault(record.runId, record.fault);
      await this.connection.run('COMMIT');
    } catch (error) {
      await this.connection.run('ROLLBACK');
      throw error;
    }
  }

  private async writeFault(runId: string, fault: FaultOutcome): Promise<void> {
    const lostMs = fault.faults.length === 0 ? null : fault.faults.reduce((sum, f) => sum + f.lostMs, 0);
    await this.connection.run('INSERT INTO fault_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      runId,
      fault.kind,
      fault.victim,
      fault.atFraction,
      fault.firedAtMs,
      fault.heldMs,
      fault.finalWorkers,
      lostMs,
      JSON.stringify(fault.faults),
    ]);
  }

  /** Give each run on the fault axis its FaultOutcome back. */
  private async attachFaults(runs: StoredRun[]): Promise<void> {
    if (runs.length === 0) return;
    const byId = new Map(runs.map((r) => [r.runId, r]));
    const ids = [...byId.keys()];
    const rows = (
      await this.connection.runAndReadAll(
        `SELECT run_id, kind, victim, at_fraction, fired_at_ms, held_ms, final_workers, faults FROM fault_runs WHERE run_id IN (${ids.map(() => '?').join(', ')})`,
        ids,
      )
    ).getRowObjectsJS();
    const number = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
    for (const row of rows) {
      const run = byId.get(String(row.run_id));
      if (run === undefined) continue;
      run.fault = {
        kind: String(row.kind) as FaultOutcome['kind'],
        victim: number(row.victim),
        atFraction: number(row.at_fraction),
        firedAtMs: number(row.fired_at_ms),
        heldMs: number(row.held_ms),
        finalWorkers: number(row.final_workers),
        faults: JSON.parse(String(row.faults)) as FaultOutcome['faults'],
      };
    }
  }

  private async writeHistory(runId: string, history: readonly HistoryPoint[]): Promise<void> {
    const chunk = 200; // 6 values a row; keeps one statement's parameter list small
    for (let start = 0; start < history.length; start += chunk) {
      const part = history.slice(start, start + chunk);
      const values: DuckDBValue[] = part.flatMap((h, i) => [runId, start + i, h.elapsedMs, h.iteration, h.total, h.loss]);
      await this.connection.run(`INSERT INTO history VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`, values);
    }
  }

  /**
   * Write the runs matching `filter` (oldest first, the CSV's columns; params and metrics as JSON
   * text) to a Parquet file through DuckDB's built-in writer. The file appears whole or not at all:
   * DuckDB writes a temporary file beside it, renamed into place.
   */
  async exportParquet(outPath: string, filter: RunFilter = {}): Promise<void> {
    const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;
    const where = (
      [
        ['session_id', filter.sessionId],
        ['model', filter.model],
        ['paradigm', filter.paradigm],
      ] as const
    )
      .filter(([, value]) => value !== undefined)
      .map(([column, value]) => `${column} = ${literal(value!)}`);
    const columns = [...RUN_COLUMNS.map(([c]) => c), 'package_version', 'git_commit'].join(', ');
    let inner = `SELECT ${columns} FROM runs ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY started_at DESC, run_id`;
    if (filter.limit !== undefined) inner += ` LIMIT ${Math.max(0, Math.floor(filter.limit))}`;
    const temporary = `${outPath}.${process.pid}.tmp`;
    try {
      await this.connection.run(`COPY (SELECT * FROM (${inner}) ORDER BY started_at, run_id) TO ${literal(temporary)} (FORMAT parquet)`);
      await rename(temporary, outPath);
    } catch (error) {
      await rm(temporary, { force: true });
      // DuckDB's IO errors carry no errno: name the file and DuckDB's reason.
      throw new FileError(outPath, 'EIO', 'write', `DuckDB could not write Parquet there: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Store final speedups (known only once every sequential repeat has run). */
  async updateSpeedups(records: readonly RunRecord[]): Promise<void> {
    for (const record of records) {
      await this.connection.run(`UPDATE runs SET speedup = ?, efficiency = ? WHERE run_id = ?`, [
        record.speedup,
        record.efficiency,
        record.runId,
      ]);
    }
  }

  async listRuns(filter: RunFilter = {}): Promise<StoredRun[]> {
    const where: string[] = [];
    const values: DuckDBValue[] = [];
    for (const [column, value] of [
      ['session_id', filter.sessionId],
      ['model', filter.model],
      ['paradigm', filter.paradigm],
    ] as const) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      values.push(value);
    }
    const columns = [
      ...RUN_COLUMNS.map(([c]) => (c === 'started_at' ? `strftime(started_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS started_at` : c)),
      'config',
      'package_version',
      'git_commit',
      'host',
    ];
    let sql = `SELECT ${columns.join(', ')} FROM runs ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY runs.started_at DESC, run_id`;
    if (filter.limit !== undefined) sql += ` LIMIT ${Math.max(0, Math.floor(filter.limit))}`;
    const rows = (await this.connection.runAndReadAll(sql, values)).getRowObjectsJS();
    const runs = rows.reverse().map((row) => {
      const run: Record<string, unknown> = {};
      for (const [column, field] of RUN_COLUMNS) {
        const value = row[column];
        run[field] = JSON_FIELDS.has(field) ? JSON.parse(String(value)) : typeof value === 'bigint' ? Number(value) : value;
        if (field === 'setupBytes' && value === null) run[field] = 0; // rows from schema version 1
        if (field === 'network' && value === null) run[field] = 'loopback'; // rows from before version 3
        if (field === 'compression' && value === null) run[field] = 'none'; // rows from before version 5
      }
      run.config = JSON.parse(String(row.config));
      run.packageVersion = row.package_version;
      run.gitCommit = row.git_commit;
      run.host = JSON.parse(String(row.host));
      run.history = [];
      return run as unknown as StoredRun;
    });
    await this.attachHistory(runs);
    await this.attachFaults(runs);
    return runs;
  }

  private async attachHistory(runs: StoredRun[]): Promise<void> {
    if (runs.length === 0) return;
    const byId = new Map(runs.map((r) => [r.runId, r]));
    const ids = [...byId.keys()];
    const rows = (
      await this.connection.runAndReadAll(
        `SELECT run_id, elapsed_ms, iteration, total, loss FROM history WHERE run_id IN (${ids.map(() => '?').join(', ')}) ORDER BY run_id, seq`,
        ids,
      )
    ).getRowObjectsJS();
    for (const row of rows) {
      byId.get(String(row.run_id))?.history.push({
        elapsedMs: Number(row.elapsed_ms),
        iteration: Number(row.iteration),
        total: Number(row.total),
        loss: row.loss === null ? null : Number(row.loss),
      });
    }
  }

  async sessions(): Promise<StoredSession[]> {
    const rows = (
      await this.connection.runAndReadAll(
        `SELECT s.session_id, strftime(s.started_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS started_at, s.name, s.matrix, s.skipped, s.aborted,
              s.package_version, s.git_commit, s.host,
              (SELECT count(*) FROM runs r WHERE r.session_id = s.session_id) AS runs
       FROM sessions s ORDER BY s.started_at`,
      )
    ).getRowObjectsJS();
    return rows.map((row) => ({
      sessionId: String(row.session_id),
      startedAt: String(row.started_at),
      name: String(row.name),
      matrix: JSON.parse(String(row.matrix)),
      skipped: JSON.parse(String(row.skipped)) as SkippedCell[],
      aborted: row.aborted === true,
      runs: Number(row.runs),
      packageVersion: String(row.package_version),
      gitCommit: String(row.git_commit),
      host: JSON.parse(String(row.host)) as HostInfo,
    }));
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/**
 * Open an existing `dbPath`, run `body`, close — the shape of every one-shot query the CLI makes.
 * A missing file is a ConfigError naming it (never a new empty database).
 */
export async function withStore<T>(dbPath: string, body: (store: ResultsStore) => Promise<T>): Promise<T> {
  const store = await ResultsStore.open(dbPath, { create: false });
  try {
    return await body(store);
  } finally {
    store.close();
  }
}

/**
 * The runs in a database file, oldest first.
 *
 * @example
 * for (const run of await listRuns('results.duckdb', { limit: 20 })) console.log(run.model, run.wallSeconds);
 */
export function listRuns(dbPath: string, filter: RunFilter = {}): Promise<StoredRun[]> {
  return withStore(dbPath, (store) => store.listRuns(filter));
}

/**
 * The runs as CSV (one line per run, history left out) or JSON (an array, history included).
 *
 * @example
 * writeFileSync('runs.csv', await exportRuns('results.duckdb', 'csv'));
 */
/** Write the runs to a Parquet file at `outPath` (see ResultsStore.exportParquet). */
export async function exportRunsParquet(dbPath: string, outPath: string, filter: RunFilter = {}): Promise<void> {
  await withStore(dbPath, (store) => store.exportParquet(outPath, filter));
}

export async function exportRuns(dbPath: string, format: 'csv' | 'json', filter: RunFilter = {}): Promise<string> {
  const runs = await listRuns(dbPath, filter);
  if (format === 'json')
    return `${JSON.stringify(runs, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
  const fields: (keyof StoredRun)[] = [...RUN_COLUMNS.map(([, f]) => f), 'packageVersion', 'gitCommit'];
  const lines = [fields.join(',')];
  for (const run of runs) lines.push(fields.map((f) => csvCell(run[f])).join(','));
  return `${lines.join('\n')}\n`;
}

/** RFC 4180 quoting: fields with a comma, quote or newline are quoted, quotes doubled. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' && !Number.isFinite(value)) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
