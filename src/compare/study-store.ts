/**
 * Tuning studies in the results database (the DuckDB file `compare` writes): one row per study (its
 * configuration as JSON) and one per finished trial, written as each trial ends, so a study cut short
 * can be resumed — its finished trials are read back and reused instead of run again.
 *
 * The two tables are created on first use (`CREATE TABLE IF NOT EXISTS`) beside the comparison's
 * tables, without touching their schema version: older files gain them, older shardlearn ignores them.
 * A trial is kept whole as JSON (the automl TrialRecord), with the columns a query filters on.
 *
 * @example
 * const store = await StudyStore.open('shardlearn-results/results.duckdb');
 * const previous = await store.begin('mlp-lr', { model: 'mlp', ... }); // trials of earlier attempts
 * await store.writeTrial('mlp-lr', attempt, trial);
 * store.close();
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ConfigError } from '../core/errors.js';
import { DUCKDB_SETTINGS } from '../core/duckdb-settings.js';

const TABLES = `
CREATE TABLE IF NOT EXISTS tune_studies (
  study VARCHAR PRIMARY KEY, created_at TIMESTAMP, model VARCHAR, config JSON, attempts INTEGER);
CREATE TABLE IF NOT EXISTS tune_trials (
  study VARCHAR, attempt INTEGER, trial_id INTEGER, status VARCHAR, score DOUBLE, resource DOUBLE,
  params JSON, record JSON, written_at TIMESTAMP);
`;

/** The fields of a trial this store reads (automl's TrialRecord has them). */
export interface StoredTrial {
  id: number;
  status: string;
  score: number | null;
  resource: number | null;
  params: Record<string, unknown>;
}

export interface StudySummary {
  study: string;
  model: string;
  createdAt: string;
  attempts: number;
  trials: number;
  failed: number;
  bestScore: number | null;
}

export class StudyStore {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<StudyStore> {
    let instance: DuckDBInstance;
    try {
      if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
      const { DuckDBInstance: Instance } = await import('@duckdb/node-api'); // on first use, as compare/store.ts
      instance = await Instance.create(path, { ...DUCKDB_SETTINGS }); // no extension fetched or loaded behind our back
    } catch (error) {
      throw new ConfigError(
        `cannot open the results database '${path}': ${(error as Error).message}; is another shardlearn process using it?`,
        { field: 'db', cause: error },
      );
    }
    const connection = await instance.connect();
    await connection.run(TABLES);
    return new StudyStore(instance, connection, path);
  }

  /**
   * Start an attempt of `study`: a new study is recorded with `config`; an existing one must have
   * the same config (else resuming would mix trials of different searches). Returns the attempt
   * number (1 for a new study) and the trials earlier attempts finished, oldest first.
   */
  async begin<T extends StoredTrial>(
    study: string,
    model: string,
    config: Record<string, unknown>,
  ): Promise<{ attempt: number; previous: T[] }> {
    const rows = (
      await this.connection.runAndReadAll('SELECT config, attempts FROM tune_studies WHERE study = ?', [study])
    ).getRowObjectsJS();
    const wanted = JSON.stringify(config);
    if (rows.length === 0) {
      await this.connection.run('INSERT INTO tune_studies VALUES (?, current_timestamp, ?, ?, 1)', [study, model, wanted]);
      return { attempt: 1, previous: [] };
    }
    const stored = JSON.parse(String(rows[0]!.config)) as Record<string, unknown>;
    const differing = [...new Set([...Object.keys(stored), ...Object.keys(config)])].filter(
      (key) => JSON.stringify(stored[key]) !== JSON.stringify(config[key]),
    );
    if (differing.length > 0) {
      const key = differing[0]!;
      throw new ConfigError(
        `study '${study}' in ${this.path} was run with ${key} = ${JSON.stringify(stored[key])}, now ${JSON.stringify(config[key])}; resume it with the same settings or name a new --study`,
        { field: key },
      );
    }
    const attempt = Number(rows[0]!.attempts) + 1;
    await this.connection.run('UPDATE tune_studies SET attempts = ? WHERE study = ?', [attempt, study]);
    return { attempt, previous: await this.trials<T>(study) };
  }

  async writeTrial(study: string, attempt: number, trial: StoredTrial): Promise<void> {
    await this.connection.run('INSERT INTO tune_trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)', [
      study,
      attempt,
      trial.id,
      trial.status,
      trial.score,
      trial.resource,
      JSON.stringify(trial.params),
      JSON.stringify(trial),
    ]);
  }

  /** Every trial stored for `study`, by attempt then trial id. */
  async trials<T extends StoredTrial>(study: string): Promise<T[]> {
    const rows = (
      await this.connection.runAndReadAll('SELECT record FROM tune_trials WHERE study = ? ORDER BY attempt, trial_id', [study])
    ).getRowObjectsJS();
    return rows.map((row) => JSON.parse(String(row.record)) as T);
  }

  async studies(): Promise<StudySummary[]> {
    const rows = (
      await this.connection.runAndReadAll(
        `SELECT s.study, s.model, strftime(s.created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at, s.attempts,
              count(t.trial_id) AS trials, count(t.trial_id) FILTER (WHERE t.status = 'failed') AS failed, max(t.score) AS best
       FROM tune_studies s LEFT JOIN tune_trials t ON t.study = s.study
       GROUP BY s.study, s.model, s.created_at, s.attempts ORDER BY s.created_at, s.study`,
      )
    ).getRowObjectsJS();
    return rows.map((row) => ({
      study: String(row.study),
      model: String(row.model),
      createdAt: String(row.created_at),
      attempts: Number(row.attempts),
      trials: Number(row.trials),
      failed: Number(row.failed),
      bestScore: row.best === null ? null : Number(row.best),
    }));
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
