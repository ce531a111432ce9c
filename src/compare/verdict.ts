/**
 * The answer a comparison gives, in plain words: per model and data size, which paradigm was
 * fastest on this machine, by how much, and why the others were slower — split into start-up
 * (wall seconds the ranks did not spend training: spawning threads or processes, loading code,
 * shipping data), communication (time inside communicator calls) and compute (the ranks' training
 * time outside those calls), from the medians each cell stored.
 *
 * The report opens with these sentences; the tables and plots after them are the evidence.
 *
 * @example
 * for (const family of answers(summarize(records))) for (const size of family.sizes) console.log(size.sentence);
 */
import type { Paradigm } from '../models/paradigm.js';
import { faultAnswers } from './fault-report.js';
import { federatedAnswers } from './federated-report.js';
import type { FederatedResult } from './federated-run.js';
import type { RunRecord } from './record.js';
import type { CellSummary } from './summary.js';
import { cellLabel } from './summary.js';

/** Where a slower cell's extra seconds went, against the winner (seconds; negative = the loser spent less). */
export interface TimeGap {
  startupSeconds: number;
  commSeconds: number;
  computeSeconds: number;
  /** Wall time outside the measured start-up, communication and compute (0 when start-up was not measured: then it is the rest). */
  otherSeconds: number;
}

export interface Rival {
  cell: CellSummary;
  /** The rival's median wall seconds ÷ the winner's (≥ 1). */
  slower: number;
  gap: TimeGap;
  /** The largest positive part of the gap: what mostly made the rival slower. */
  mainCause: keyof TimeGap | null;
  /**
   * One run's spread: the larger median absolute deviation of the two cells' wall times over their
   * repeats; null unless both cells have ≥ TIE_REPEATS finished runs.
   */
  spreadSeconds: number | null;
  /** The gap between the medians is within spreadSeconds: the repeats do not say which is faster. */
  tooCloseToCall: boolean;
}

export interface SizeAnswer {
  model: string;
  trainRows: number;
  winner: CellSummary;
  /** The fastest cell of every other paradigm at this size, slowest last. */
  rivals: Rival[];
  sentence: string;
}

export interface FamilyAnswer {
  model: string;
  sizes: SizeAnswer[];
  /** One line over all sizes: 'threads wins at 20000 and 200000 rows', where the winner changes, and where the runner-up is too close to call. */
  headline: string;
}

const CAUSE_WORDS: Record<keyof TimeGap, string> = {
  startupSeconds: 'start-up',
  commSeconds: 'communication',
  computeSeconds: 'compute',
  otherSeconds: 'the rest of the fit (handing back results, stopping ranks)',
};

/**
 * Start-up, communication, compute and other seconds of a cell's medians (null parts read as 0).
 * Compute and communication are what the ranks measured inside their training loop (mean over
 * ranks). Start-up is the paradigm's own clock (FitInfo.startupMs: until every rank was ready to
 * train) when the cell's runs reported it, and what is left of the wall time after that is `other`;
 * otherwise start-up is the rest of the wall time — the launcher's own `trainSeconds` starts its
 * clock before the worker threads have loaded their code, which would charge that start-up to compute.
 */
function parts(cell: CellSummary): TimeGap {
  const wall = cell.wallSeconds?.median ?? 0;
  const comm = (cell.commMs?.median ?? 0) / 1000;
  const measured = cell.startupMs === null ? null : Math.max(0, Math.min(wall - comm, cell.startupMs.median / 1000));
  const compute = Math.max(0, Math.min(wall - comm - (measured ?? 0), (cell.computeMs?.median ?? 0) / 1000));
  const rest = Math.max(0, wall - comm - compute);
  return measured === null
    ? { startupSeconds: rest, commSeconds: comm, computeSeconds: compute, otherSeconds: 0 }
    : { startupSeconds: measured, commSeconds: comm, computeSeconds: compute, otherSeconds: Math.max(0, rest - measured) };
}

function gapOf(rival: CellSummary, winner: CellSummary): { gap: TimeGap; mainCause: keyof TimeGap | null } {
  const r = parts(rival);
  const w = parts(winner);
  const gap = {
    startupSeconds: r.startupSeconds - w.startupSeconds,
    commSeconds: r.commSeconds - w.commSeconds,
    computeSeconds: r.computeSeconds - w.computeSeconds,
    otherSeconds: r.otherSeconds - w.otherSeconds,
  };
  let mainCause: keyof TimeGap | null = null;
  for (const key of Object.keys(gap) as (keyof TimeGap)[])
    if (gap[key] > 0 && (mainCause === null || gap[key] > gap[mainCause])) mainCause = key;
  return { gap, mainCause };
}

/** Finished runs a cell needs before its spread says anything (of two, one is usually a cold first run). */
const TIE_REPEATS = 3;

/** One run's spread of the two cells (the larger MAD of their repeats); null when either has too few runs. */
function spreadOf(rival: CellSummary, winner: CellSummary): number | null {
  const r = rival.wallSeconds;
  const w = winner.wallSeconds;
  return r === null || w === null || r.n < TIE_REPEATS || w.n < TIE_REPEATS ? null : Math.max(r.mad, w.mad);
}

const seconds = (s: number): string => (Math.abs(s) < 0.01 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);
const signed = (s: number): string => `${s >= 0 ? '+' : '−'}${seconds(Math.abs(s))}`;

function describeRival(rival: Rival): string {
  const { gap } = rival;
  const why =
    rival.mainCause === null
      ? 'no single part stands out'
      : `mostly ${CAUSE_WORDS[rival.mainCause]} (start-up ${signed(gap.startupSeconds)}, communication ${signed(gap.commSeconds)}, compute ${signed(gap.computeSeconds)}${gap.otherSeconds === 0 ? '' : `, other ${signed(gap.otherSeconds)}`})`;
  const close = rival.tooCloseToCall
    ? `; too close to call: within one run's spread between repeats (±${seconds(rival.spreadSeconds!)})`
    : '';
  return `${cellLabel(rival.cell)} ${rival.slower.toFixed(2)}× slower (${seconds(rival.cell.wallSeconds!.median)}): ${why}${close}`;
}

/**
 * The fastest finished cell of each paradigm among `cells`. A paradigm with workers stands for itself
 * only with 2 or more: threads×1 or processes×1 measures the paradigm's overhead on sequential work,
 * and 'threads wins' from a one-thread cell would say nothing about parallelism.
 */
function bestPerParadigm(cells: readonly CellSummary[]): CellSummary[] {
  const best = new Map<Paradigm, CellSummary>();
  for (const c of cells) {
    if (c.wallSeconds === null || (c.paradigm !== 'sequential' && c.workers < 2)) continue;
    const seen = best.get(c.paradigm);
    if (seen === undefined || c.wallSeconds.median < seen.wallSeconds!.median) best.set(c.paradigm, c);
  }
  return [...best.values()].sort((a, b) => a.wallSeconds!.median - b.wallSeconds!.median);
}

/** Per model, per training size: the winner, the other paradigms' best cells and why they lost. */
export function answers(cells: readonly CellSummary[]): FamilyAnswer[] {
  const out: FamilyAnswer[] = [];
  for (const model of [...new Set(cells.map((c) => c.model))]) {
    const mine = cells.filter((c) => c.model === model);
    const sizes: SizeAnswer[] = [];
    for (const trainRows of [...new Set(mine.map((c) => c.trainRows))].sort((a, b) => a - b)) {
      const ranked = bestPerParadigm(mine.filter((c) => c.trainRows === trainRows));
      const winner = ranked[0];
      if (winner === undefined) continue;
      const rivals = ranked.slice(1).map((cell) => {
        const spreadSeconds = spreadOf(cell, winner);
        return {
          cell,
          slower: cell.wallSeconds!.median / Math.max(winner.wallSeconds!.median, 1e-9),
          ...gapOf(cell, winner),
          spreadSeconds,
          tooCloseToCall: spreadSeconds !== null && cell.wallSeconds!.median - winner.wallSeconds!.median <= spreadSeconds,
        };
      });
      const against = rivals.length === 0 ? 'no other paradigm finished at this size' : rivals.map(describeRival).join('; ');
      sizes.push({
        model,
        trainRows,
        winner,
        rivals,
        // An agent's cells have no rows: its environment (rl-cells.ts) is where it was measured.
        sentence: `${winner.rl === null ? `At ${trainRows} training rows` : `On ${winner.data}`}, ${cellLabel(winner)} is fastest (${seconds(winner.wallSeconds!.median)}); ${against}.`,
      });
    }
    if (sizes.length > 0) out.push({ model, sizes, headline: headline(sizes) });
  }
  return out;
}

/**
 * 'threads wins at 20000 and 200000 rows', or where the winner changes, one clause per outcome; a size
 * whose runner-up is too close to call says so instead of naming a winner ('sequential and threads
 * are too close to call at 16069 rows').
 */
function headline(sizes: readonly SizeAnswer[]): string {
  const outcome = (s: SizeAnswer): string => {
    const runnerUp = s.rivals[0];
    return runnerUp?.tooCloseToCall === true
      ? `${s.winner.paradigm} and ${runnerUp.cell.paradigm} are too close to call`
      : `${s.winner.paradigm} wins`;
  };
  const rows = (list: readonly SizeAnswer[]): string =>
    (list[0]?.winner.rl ?? null) !== null
      ? `on ${list.map((s) => s.winner.data).join(' and ')}`
      : `at ${list.map((s) => s.trainRows).join(' and ')} rows`;
  return [...new Set(sizes.map(outcome))].map((o) => `${o} ${rows(sizes.filter((s) => outcome(s) === o))}`).join('; ');
}

/** One plain-words line beside the paradigm answers: a family that is not a race between paradigms. */
export interface OtherAnswer {
  topic: 'Federated' | 'Faults';
  line: string;
}

/**
 * The answers for the federated cells (federated-report.ts) and the fault cells (fault-report.ts),
 * computed from the stored results; none for a family the matrix did not have.
 *
 * @example
 * for (const { topic, line } of otherAnswers({ federated: result.federated, records: result.records })) console.log(`${topic}: ${line}`);
 */
export function otherAnswers(input: { federated?: readonly FederatedResult[]; records?: readonly RunRecord[] }): OtherAnswer[] {
  return [
    ...federatedAnswers(input.federated ?? []).map((line) => ({ topic: 'Federated' as const, line })),
    ...faultAnswers(input.records ?? []).map((line) => ({ topic: 'Faults' as const, line })),
  ];
}
