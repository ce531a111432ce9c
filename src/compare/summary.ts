/**
 * Per-cell summaries over repeats — median and spread (min/max, IQR) of every metric — and the
 * summary table printed in the terminal. Speedups are computed from medians: sequential median
 * wall seconds over the cell's median wall seconds (a ratio of medians, not a median of ratios,
 * so one slow baseline repeat does not skew every cell).
 *
 * @example
 * const cells = summarize(result.records);
 * console.log(summaryTable(cells));
 */
import type { Paradigm } from '../models/paradigm.js';
import { createModel, modelNames } from '../models/registry.js';
import type { StrategyName } from './matrix.js';
import type { RunRecord } from './record.js';
import { runsByCell } from './record.js';
import { baselineKey, sequentialMedians } from './baseline.js';
import type { Spread } from './stats.js';
import { efficiency, median, speedup, spread } from './stats.js';
import type { RlFigures } from './rl-figures.js';
import { rlFigures } from './rl-figures.js';

export interface CellSummary {
  cellId: string;
  model: string;
  params: Record<string, unknown>;
  data: string;
  trainRows: number;
  paradigm: Paradigm;
  workers: number;
  strategy: StrategyName;
  /** The network profile's name ('loopback' unless a processes or cluster cell ran under another). */
  network: string;
  /** The gradient codec ('none' = uncompressed; codec-axis.ts). */
  compression: string;
  /** Repeats that finished ok / that failed. */
  runs: number;
  failures: number;
  wallSeconds: Spread | null;
  trainSeconds: Spread | null;
  cpuSeconds: Spread | null;
  bytesSent: Spread | null;
  messagesSent: Spread | null;
  commMs: Spread | null;
  computeMs: Spread | null;
  /** Start-up as the paradigm timed it (RunRecord.startupMs); null when no run reported it. */
  startupMs: Spread | null;
  score: Spread | null;
  scoreName: string;
  higherIsBetter: boolean;
  finalLoss: Spread | null;
  timeToTargetMs: Spread | null;
  peakRssBytes: number | null;
  /** The largest per-rank peak RSS over the cell's runs (RunRecord.rankPeakRssBytes); null if none reported it. */
  rankPeakRssBytes: number | null;
  /** Training data as float64 values: trainRows × cols × 8 bytes (what the ranks split between them). */
  dataBytes: number;
  /** Sequential median wall seconds / this cell's median wall seconds. */
  speedup: number | null;
  efficiency: number | null;
  /** Fraction of training time spent communicating (median commMs / median train ms). */
  commFraction: number | null;
  /** A reinforcement-learning cell's figures (env steps/s, learner utilisation, time to target); null for other models. */
  rl: RlFigures | null;
}

function pick(records: readonly RunRecord[], field: (r: RunRecord) => number | null): Spread | null {
  return spread(records.map(field).filter((v): v is number => v !== null));
}

function maxOrNull(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length === 0 ? null : Math.max(...known);
}

/** One summary per cell, in first-run order. */
export function summarize(records: readonly RunRecord[]): CellSummary[] {
  const baselines = sequentialMedians(records);
  return runsByCell(records).map((group) => {
    const first = group[0]!;
    const ok = group.filter((r) => r.status === 'ok');
    const wallSeconds = pick(ok, (r) => r.wallSeconds);
    const trainSeconds = pick(ok, (r) => r.trainSeconds);
    const commMs = pick(ok, (r) => r.commMs);
    const cellSpeedup = speedup(baselines.get(baselineKey(first)) ?? null, wallSeconds?.median ?? null);
    const trainMs = trainSeconds === null ? null : trainSeconds.median * 1000;
    return {
      cellId: first.cellId,
      model: first.model,
      params: first.params,
      data: first.data,
      trainRows: first.trainRows,
      paradigm: first.paradigm,
      workers: first.workers,
      strategy: first.strategy,
      network: first.network,
      compression: first.compression,
      runs: ok.length,
      failures: group.length - ok.length,
      wallSeconds,
      trainSeconds,
      cpuSeconds: pick(ok, (r) => r.cpuSeconds),
      bytesSent: pick(ok, (r) => r.bytesSent),
      messagesSent: pick(ok, (r) => r.messagesSent),
      commMs,
      computeMs: pick(ok, (r) => r.computeMs),
      startupMs: pick(ok, (r) => r.startupMs ?? null),
      score: pick(ok, (r) => r.score),
      scoreName: first.scoreName,
      higherIsBetter: first.higherIsBetter,
      finalLoss: pick(ok, (r) => r.finalLoss),
      timeToTargetMs: pick(ok, (r) => r.timeToTargetMs),
      peakRssBytes: ok.length === 0 ? null : Math.max(...ok.map((r) => r.peakRssBytes)),
      rankPeakRssBytes: maxOrNull(ok.map((r) => r.rankPeakRssBytes ?? null)),
      dataBytes: first.trainRows * first.cols * 8,
      speedup: cellSpeedup,
      efficiency: efficiency(cellSpeedup, first.workers),
      commFraction: commMs === null || trainMs === null || !(trainMs > 0) ? null : Math.min(1, commMs.median / trainMs),
      rl: rlFigures(ok),
    };
  });
}

/** The ok record of a cell whose wall time is the cell's median (the one a curve is drawn from). */
export function medianRun(records: readonly RunRecord[], cellId: string): RunRecord | null {
  const ok = records.filter((r) => r.cellId === cellId && r.status === 'ok').sort((a, b) => a.wallSeconds - b.wallSeconds);
  return ok.length === 0 ? null : ok[Math.floor((ok.length - 1) / 2)]!;
}

const solvers = new Map<string, string | null>();

/**
 * The solver a model trains with when it is not mini-batch SGD ('lbfgs', 'exact'), resolved with the
 * model's defaults: the matrix's strategies do not apply to it (matrix.ts `trainsBySgd`: it
 * all-reduces whole-shard statistics), so its cells are labelled by the solver. Null for SGD-trained
 * models and for models without a `solver` option.
 */
export function nonSgdSolver(model: string, params: Record<string, unknown>): string | null {
  const key = `${model}${JSON.stringify(params)}`;
  if (!solvers.has(key)) {
    let solver: string | null = null;
    try {
      const resolved = modelNames().includes(model) ? (createModel(model, params).params as Record<string, unknown>) : {};
      if (typeof resolved.solver === 'string' && resolved.solver !== 'sgd') solver = resolved.solver;
    } catch {
      // A stored run whose options this version no longer takes: label it by its strategy, as stored.
    }
    solvers.set(key, solver);
  }
  return solvers.get(key)!;
}

/**
 * A short label for a cell: 'threads×2 hogwild', 'sequential', 'processes×2 allreduce @wan'; a model
 * trained by another solver than SGD names the solver instead of the strategy: 'threads×2 lbfgs'.
 */
export function cellLabel(cell: {
  paradigm: Paradigm;
  workers: number;
  strategy: string;
  network?: string;
  compression?: string;
  model?: string;
  params?: Record<string, unknown>;
}): string {
  const network = cell.network === undefined || cell.network === 'loopback' ? '' : ` @${cell.network}`;
  const codec = cell.compression === undefined || cell.compression === 'none' ? '' : ` ${cell.compression}`;
  const how = (cell.model === undefined || cell.params === undefined ? null : nonSgdSolver(cell.model, cell.params)) ?? cell.strategy;
  return cell.paradigm === 'sequential' ? 'sequential' : `${cell.paradigm}×${cell.workers} ${how}${codec}${network}`;
}

/** Human-readable byte count (decimal units, as network tools count). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  if (bytes < 1e3) return `${Math.round(bytes)} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(2)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** Rows of strings for the summary table (terminal and HTML share them). */
export function summaryRows(cells: readonly CellSummary[]): { header: string[]; rows: string[][] } {
  const header = [
    'model',
    'rows',
    'paradigm',
    'n',
    'wall s median [min–max]',
    'IQR s',
    'train s',
    'speedup',
    'efficiency',
    'sent',
    'comm %',
    'score',
    'final loss',
  ];
  const rows = cells.map((c) => [
    c.model,
    String(c.trainRows),
    cellLabel(c),
    c.failures === 0 ? String(c.runs) : `${c.runs} (+${c.failures} failed)`,
    c.wallSeconds === null ? '–' : `${fixed(c.wallSeconds.median, 3)} [${fixed(c.wallSeconds.min, 3)}–${fixed(c.wallSeconds.max, 3)}]`,
    fixed(c.wallSeconds?.iqr, 3),
    fixed(c.trainSeconds?.median, 3),
    c.speedup === null ? '–' : `${fixed(c.speedup, 2)}×`,
    fixed(c.efficiency, 2),
    c.bytesSent === null ? '–' : formatBytes(c.bytesSent.median),
    c.commFraction === null ? '–' : `${(c.commFraction * 100).toFixed(1)}%`,
    c.score === null ? '–' : `${c.scoreName} ${c.score.median.toPrecision(4)}`,
    c.finalLoss === null ? '–' : c.finalLoss.median.toPrecision(4),
  ]);
  return { header, rows };
}

/** The summary as an aligned plain-text table for the terminal. */
export function summaryTable(cells: readonly CellSummary[]): string {
  const { header, rows } = summaryRows(cells);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: string[]): string =>
    cols
      .map((c, i) => (i <= 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Median of a metric over the cells matching `where` (used by claims and the crossover). */
export function medianOver(
  cells: readonly CellSummary[],
  where: (c: CellSummary) => boolean,
  value: (c: CellSummary) => number | null,
): number | null {
  const values = cells
    .filter(where)
    .map(value)
    .filter((v): v is number => v !== null && Number.isFinite(v));
  return values.length === 0 ? null : median(values);
}
