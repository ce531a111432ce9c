/**
 * `shardlearn compare` end to end: run the matrix, write every run to the results database as it
 * finishes (so Ctrl-C keeps what was measured), summarize, write the HTML report.
 *
 * @example
 * const controller = new AbortController();
 * process.once('SIGINT', () => controller.abort());
 * const { summary, reportPath } = await runCompare(defaultMatrix(), {
 *   dbPath: 'shardlearn-results.duckdb', reportPath: 'compare-report.html', signal: controller.signal,
 *   onProgress: (event) => { if (event.type === 'run-end') console.log(event.line); },
 * });
 */
import { writeFileAtomic } from '../core/atomic-file.js';
import { ConfigError } from '../core/errors.js';
import type { Matrix, SkippedCell } from './matrix.js';
import type { CompareResult, RunRecord, Session } from './record.js';
import { renderReport } from './report.js';
import type { RunOptions } from './runner.js';
import { runMatrix } from './runner.js';
import { ResultsStore, withStore } from './store.js';
import type { CellSummary } from './summary.js';
import { summarize, summaryTable } from './summary.js';
import type { TuningResult } from './tuning.js';
import type { FederatedResult } from './federated-run.js';
import { answers, otherAnswers } from './verdict.js';

export interface CompareOptions extends Omit<RunOptions, 'onRecord'> {
  /** The DuckDB results file (created, or appended to); null = keep results in memory only. */
  dbPath?: string | null;
  /** Where to write the HTML report; null = no report. */
  reportPath?: string | null;
}

export interface CompareOutcome extends CompareResult {
  summary: CellSummary[];
  /** The summary as a terminal table. */
  table: string;
  /** The answer in plain words, one line per model (verdict.ts): who wins at which size; then a line per federated setting and per fault cell. */
  answer: string;
  reportPath: string | null;
}

/** The report's folder is created when missing (the default is shardlearn-results/). */
function writeText(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, text, { createFolder: true });
}

export async function runCompare(matrix: Matrix, options: CompareOptions): Promise<CompareOutcome> {
  const store = options.dbPath === undefined || options.dbPath === null ? null : await ResultsStore.open(options.dbPath);
  try {
    let session: Session | null = null;
    const onProgress: RunOptions['onProgress'] = (event) => {
      if (event.type === 'start') session = event.session;
      options.onProgress?.(event);
    };
    let sessionWritten = false;
    // Runs and tuning checks are stored as they finish, after their session's row.
    const storeWith = async (write: (store: ResultsStore, session: Session) => Promise<void>): Promise<void> => {
      if (store === null || session === null) return;
      if (!sessionWritten) {
        await store.writeSession(session);
        sessionWritten = true;
      }
      await write(store, session);
    };
    const onRecord = (record: RunRecord): Promise<void> => storeWith((s, current) => s.writeRun(record, current));
    const onTuning = (result: TuningResult): Promise<void> => storeWith((s, current) => s.writeTuning(result, current));
    const onFederated = (result: FederatedResult): Promise<void> => storeWith((s, current) => s.writeFederated(result, current));
    const runOptions: RunOptions = { onProgress, onRecord, onTuning, onFederated };
    if (options.resume !== undefined) runOptions.resume = options.resume;
    if (options.loadData !== undefined) runOptions.loadData = options.loadData;
    if (options.signal !== undefined) runOptions.signal = options.signal;
    if (options.warmupRows !== undefined) runOptions.warmupRows = options.warmupRows;
    const result = await runMatrix(matrix, runOptions);
    if (store !== null) {
      await store.writeSession(result.session, result.skipped, result.aborted);
      await store.updateSpeedups(result.records);
    }
    // Fault cells (fault-report.ts) are measured against their twins in the report, not in the paradigm table.
    const summary = summarize(result.records.filter((record) => record.fault === undefined));
    let reportPath: string | null = null;
    if (options.reportPath !== undefined && options.reportPath !== null) {
      await writeText(options.reportPath, await renderReport(result));
      reportPath = options.reportPath;
    }
    const answer = [
      ...answers(summary).map((f) => `${f.model}: ${f.headline}`),
      ...otherAnswers(result).map((o) => `${o.topic}: ${o.line}`),
    ].join('\n');
    return { ...result, summary, table: summaryTable(summary), answer, reportPath };
  } finally {
    store?.close();
  }
}

/**
 * Continue an interrupted comparison stored in `dbPath` (default: its latest session): the same
 * session and matrix, every (cell, repeat) already stored skipped, the rest run and appended.
 *
 * @example
 * const outcome = await resumeCompare('results.duckdb', { reportPath: 'report.html' });
 */
export async function resumeCompare(
  dbPath: string,
  options: Omit<CompareOptions, 'dbPath' | 'resume'> & { sessionId?: string } = {},
): Promise<CompareOutcome> {
  const { sessionId, ...rest } = options;
  const stored = await loadSession(dbPath, sessionId);
  return runCompare(stored.session.matrix, {
    ...rest,
    dbPath,
    resume: { session: stored.session, records: stored.records, tuning: stored.tuning, federated: stored.federated ?? [] },
  });
}

/**
 * A stored session back as a CompareResult — for `shardlearn report`, which re-renders the report
 * of an earlier comparison (default: the latest session in the file).
 */
export async function loadSession(dbPath: string, sessionId?: string): Promise<CompareResult> {
  return withStore(dbPath, async (store) => {
    const sessions = await store.sessions();
    const chosen = sessionId === undefined ? sessions[sessions.length - 1] : sessions.find((s) => s.sessionId === sessionId);
    if (chosen === undefined) {
      throw new ConfigError(
        sessions.length === 0
          ? `results database '${dbPath}' holds no comparison yet; run 'shardlearn compare' first`
          : `no session '${sessionId ?? ''}' in '${dbPath}'; sessions: ${sessions.map((s) => s.sessionId).join(', ')}`,
        { field: 'session' },
      );
    }
    const records = await store.listRuns({ sessionId: chosen.sessionId });
    const tuning = await store.listTuning(chosen.sessionId);
    const federated = await store.listFederated(chosen.sessionId);
    const session: Session = {
      sessionId: chosen.sessionId,
      startedAt: chosen.startedAt,
      matrix: chosen.matrix as Matrix,
      code: { packageVersion: chosen.packageVersion, gitCommit: chosen.gitCommit },
      host: chosen.host,
    };
    return {
      session,
      records,
      skipped: chosen.skipped as SkippedCell[],
      aborted: chosen.aborted,
      tuning,
      ...(federated.length === 0 ? {} : { federated }),
    };
  });
}

/** Re-render the report of a stored session to `reportPath`. */
export async function reportFromStore(dbPath: string, reportPath: string, sessionId?: string): Promise<string> {
  const result = await loadSession(dbPath, sessionId);
  await writeText(reportPath, await renderReport(result));
  return reportPath;
}
