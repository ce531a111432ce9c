/**
 * What one measured fit leaves behind (a row of the results store) and the session it belongs to.
 */
import type { Paradigm } from '../models/paradigm.js';
import type { CodeVersion, HostInfo } from './environment.js';
import type { Matrix, SkippedCell, StrategyName } from './matrix.js';
import type { StageMemory } from './stage-memory.js';
import type { HistoryPoint } from './stats.js';
import type { FederatedResult } from './federated-run.js';
import type { TuningResult } from './tuning.js';
import type { FaultOutcome } from './fault-cells.js';

export interface RunRecord {
  runId: string;
  sessionId: string;
  /** ISO-8601 UTC time the fit started. */
  startedAt: string;
  cellId: string;
  model: string;
  modelKind: string;
  params: Record<string, unknown>;
  data: string;
  paradigm: Paradigm;
  workers: number;
  strategy: StrategyName;
  /** Name of the network profile (matrix `networks`); 'loopback' for sequential and threads, and for processes/cluster unshaped. */
  network: string;
  /** The gradient codec ('none' = uncompressed; matrix `compression`). */
  compression: string;
  /** 0-based repeat index. */
  repeat: number;
  status: 'ok' | 'failed';
  /** The error message of a failed fit. */
  error: string | null;
  trainRows: number;
  testRows: number;
  cols: number;
  /** Wall seconds of the `fit` call (worker start-up included, data loading and scoring excluded). */
  wallSeconds: number;
  /** Training seconds as the launcher timed them (`fitInfo.seconds`: start-up excluded). */
  trainSeconds: number;
  /** CPU seconds (user + system) of this process during the fit — worker threads included, child processes not. */
  cpuSeconds: number;
  /** Peak resident set size of this process so far (VmHWM, runtime/peak-rss.ts), bytes. */
  peakRssBytes: number;
  /**
   * The largest per-rank peak RSS, bytes (FitInfo.peakRssBytes): for processes and cluster each rank's
   * own process, so memory per rank against total data; for sequential and threads the shared
   * process (= peakRssBytes). Null when the paradigm did not report it (failed runs, older rows).
   */
  rankPeakRssBytes: number | null;
  /**
   * Pipeline cells: each stage's parameter and activation memory (stage-memory.ts), counted from the
   * network and schedule the fit trained with; null for data-parallel cells and older rows.
   */
  stageMemory: StageMemory[] | null;
  /**
   * Start-up as the paradigm timed it (FitInfo.startupMs: until every rank was ready to train —
   * threads started, processes forked and joined, rows shipped); null when the paradigm does not
   * report it (sequential, failed runs, rows from before schema version 9).
   */
  startupMs: number | null;
  /** Bytes and messages sent, summed over ranks. */
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  /** Training data the launcher shipped to workers before training (processes with in-memory data); not in bytesSent. */
  setupBytes: number;
  /** Milliseconds inside communication calls, mean over ranks. */
  commMs: number;
  /** Training milliseconds not spent communicating, mean over ranks (the launcher's per-rank figure when it gives one). */
  computeMs: number;
  /** The model's primary test metric (evaluate.ts: accuracy, r2, inertia, varianceExplained). */
  score: number | null;
  scoreName: string;
  higherIsBetter: boolean;
  /** Every test metric evaluate() reports. */
  metrics: Record<string, number | number[]>;
  /** Last training loss reported in the history. */
  finalLoss: number | null;
  /** Milliseconds to the first history point at or below the target loss; null if never or no target. */
  timeToTargetMs: number | null;
  /** Whether the final test score met the score target; null without one. */
  reachedScoreTarget: boolean | null;
  /** Sequential median wall seconds of the same model and data over this run's wall seconds. */
  speedup: number | null;
  /** speedup / workers. */
  efficiency: number | null;
  history: HistoryPoint[];
  /** A fault cell's run (fault-cells.ts): what was injected and what it cost; absent off the fault axis. */
  fault?: FaultOutcome;
}

export interface Session {
  sessionId: string;
  startedAt: string;
  matrix: Matrix;
  code: CodeVersion;
  host: HostInfo;
}

export interface CompareResult {
  session: Session;
  records: RunRecord[];
  skipped: SkippedCell[];
  /** True when the signal stopped the comparison early; `records` keeps what was measured. */
  aborted: boolean;
  /** The matrix's tuning checks (tuning.ts), in the order they ran. */
  tuning: TuningResult[];
  /** The matrix's federated cells (federated-run.ts), in the order they ran; absent = none. */
  federated?: FederatedResult[];
}

/** The runs of each cell (by cellId), cells in the order of their first run, runs in their order. */
export function runsByCell(runs: readonly RunRecord[]): RunRecord[][] {
  const byCell = new Map<string, RunRecord[]>();
  for (const run of runs) {
    const mine = byCell.get(run.cellId);
    if (mine === undefined) byCell.set(run.cellId, [run]);
    else mine.push(run);
  }
  return [...byCell.values()];
}
