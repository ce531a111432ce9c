/**
 * The fault cells in the report (issue 15): each faulted cell against its undisturbed twin — time
 * lost per fault as the ranks timed it (detect + re-form + reload, FitInfo.faults) and as the wall
 * clock saw it (faulted − undisturbed median wall seconds), the test score against the twin's, and
 * what completed on how many workers — and the evidence for the seed's claim that distributed ML
 * "excels in fault tolerance". The matrix side (the `faults` list, the injection) is fault-cells.ts.
 *
 * @example
 * const html = faultSection(records, escapeHtml);
 * const { verdict, evidence } = faultToleranceVerdict(records);
 */
import type { FaultKind } from './fault-cells.js';
import type { RunRecord } from './record.js';
import { median } from './stats.js';

/** A faulted run scoring within this of its twin is "within 1 point" (accuracy, r²). */
export const SCORE_TOLERANCE = 0.01;
/** The time lost per fault #15 aims at on loopback. */
export const LOST_GOAL_MS = 5000;

/** One faulted cell (all its repeats) against its undisturbed twin. */
export interface FaultComparison {
  model: string;
  data: string;
  paradigm: string;
  workers: number;
  strategy: string;
  kind: Exclude<FaultKind, 'none'>;
  runs: number;
  /** Runs that finished (status ok). */
  completed: number;
  /** The workers each finished run ended on. */
  finalWorkers: number[];
  /** The ranks signalled, one per run (as at launch). */
  victims: number[];
  /** detect + re-form + reload, ms, one per re-form over all runs. */
  lostMs: number[];
  detectedMs: number[];
  reformMs: number[];
  reloadMs: number[];
  /** Median wall seconds, faulted (finished runs) and undisturbed; null without finished runs. */
  wallSeconds: number | null;
  twinWallSeconds: number | null;
  /** Median score, faulted and undisturbed, and the metric's name. */
  score: number | null;
  twinScore: number | null;
  scoreName: string;
}

/** A record's cell without its fault: the key its twin shares. */
const twinKey = (record: RunRecord): string =>
  [
    record.model,
    JSON.stringify(record.params),
    record.data,
    record.paradigm,
    record.workers,
    record.strategy,
    record.network,
    record.compression,
  ].join('|');

const medianOrNull = (values: readonly number[]): number | null => (values.length === 0 ? null : median(values));

/** Every faulted cell with its twin's medians, in the records' order. */
export function faultComparisons(records: readonly RunRecord[]): FaultComparison[] {
  const onAxis = records.filter((record) => record.fault !== undefined);
  const finished = (runs: readonly RunRecord[]): RunRecord[] => runs.filter((run) => run.status === 'ok');
  const groups = new Map<string, RunRecord[]>();
  for (const record of onAxis) {
    const key = `${twinKey(record)}|${record.fault!.kind}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  const out: FaultComparison[] = [];
  for (const runs of groups.values()) {
    const first = runs[0]!;
    const kind = first.fault!.kind;
    if (kind === 'none') continue;
    const twin = finished(groups.get(`${twinKey(first)}|none`) ?? []);
    const ok = finished(runs);
    const faults = runs.flatMap((run) => run.fault!.faults);
    const scores = (list: readonly RunRecord[]): number[] => list.flatMap((run) => (run.score === null ? [] : [run.score]));
    out.push({
      model: first.model,
      data: first.data,
      paradigm: first.paradigm,
      workers: first.workers,
      strategy: first.strategy,
      kind,
      runs: runs.length,
      completed: ok.length,
      finalWorkers: ok.flatMap((run) => (run.fault!.finalWorkers === null ? [] : [run.fault!.finalWorkers])),
      victims: runs.flatMap((run) => (run.fault!.victim === null ? [] : [run.fault!.victim])),
      lostMs: faults.map((fault) => fault.lostMs),
      detectedMs: faults.map((fault) => fault.detectedMs),
      reformMs: faults.map((fault) => fault.reformMs),
      reloadMs: faults.map((fault) => fault.reloadMs),
      wallSeconds: medianOrNull(ok.map((run) => run.wallSeconds)),
      twinWallSeconds: medianOrNull(twin.map((run) => run.wallSeconds)),
      score: medianOrNull(scores(ok)),
      twinScore: medianOrNull(scores(twin)),
      scoreName: first.scoreName,
    });
  }
  return out;
}

/** Faulted median score − undisturbed median score, or null when either is missing. */
export function scoreDelta(comparison: FaultComparison): number | null {
  return comparison.score === null || comparison.twinScore === null ? null : comparison.score - comparison.twinScore;
}

/** Faulted median wall seconds − undisturbed median, or null when either is missing. */
export function wallDelta(comparison: FaultComparison): number | null {
  return comparison.wallSeconds === null || comparison.twinWallSeconds === null
    ? null
    : comparison.wallSeconds - comparison.twinWallSeconds;
}

/** Whether a faulted cell held up: every run finished, within SCORE_TOLERANCE of its twin. */
export function toleratedFault(comparison: FaultComparison): boolean {
  const delta = scoreDelta(comparison);
  return comparison.completed === comparison.runs && delta !== null && Math.abs(delta) <= SCORE_TOLERANCE;
}

const msSpread = (values: readonly number[]): string =>
  values.length === 0
    ? '–'
    : `${(median(values) / 1000).toFixed(2)} s [${(Math.min(...values) / 1000).toFixed(2)}–${(Math.max(...values) / 1000).toFixed(2)}]`;
const signed = (value: number | null, digits: number): string =>
  value === null ? '–' : `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}`;

/**
 * How many workers the completed runs ended on: '2 workers' when they agree, else each count with
 * its runs, most workers first ('3 workers in 2 runs, 2 workers in 1 run'); `of` adds 'of N'.
 * The old '3/2 of 3 workers' read as a fraction.
 */
function endedOn(finalWorkers: readonly number[], of?: number): string {
  const runs = new Map<number, number>();
  for (const count of finalWorkers) runs.set(count, (runs.get(count) ?? 0) + 1);
  const workers = (count: number): string => `${count}${of === undefined ? '' : ` of ${of}`} workers`;
  const counts = [...runs].sort((a, b) => b[0] - a[0]);
  if (counts.length === 1) return workers(counts[0]![0]);
  return counts.map(([count, n]) => `${workers(count)} in ${n} run${n === 1 ? '' : 's'}`).join(', ');
}

/** One line per faulted cell, for the claim's evidence and the terminal. */
export function faultLine(comparison: FaultComparison): string {
  const { model, paradigm, workers, strategy, kind, runs, completed, finalWorkers } = comparison;
  const what = kind === 'kill' ? 'SIGKILL of one rank' : 'SIGSTOP of one rank';
  const ended = finalWorkers.length === 0 ? '' : ` on ${endedOn(finalWorkers)}`;
  const lost = comparison.lostMs.length === 0 ? '' : `, time lost per fault (detect + re-form + reload) ${msSpread(comparison.lostMs)}`;
  return `${model} ${paradigm}×${workers} ${strategy}, ${what}: ${completed}/${runs} runs completed${ended}${lost}, wall ${signed(wallDelta(comparison), 2)} s and ${comparison.scoreName} ${signed(scoreDelta(comparison), 4)} against the undisturbed twin`;
}

/**
 * The claim 'fault-tolerance': for it, a faulted cell whose every run completed within 1 point of
 * its undisturbed twin; against it, one that failed or lost more. On one machine a fault here is a
 * rank's process killed or stopped, not a host, disk or link lost: the evidence says so.
 */
export function faultToleranceVerdict(records: readonly RunRecord[]): {
  forCount: number;
  againstCount: number;
  evidence: string;
} {
  const comparisons = faultComparisons(records);
  if (comparisons.length === 0)
    return {
      forCount: 0,
      againstCount: 0,
      evidence:
        'no fault cell was measured (matrix field `faults`: ["kill"] or ["kill", "stop"], on processes or cluster cells of ≥ 2 workers); the restart policy is tested in the runtime suites',
    };
  const tolerated = comparisons.filter(toleratedFault);
  const lost = comparisons.flatMap((c) => c.lostMs);
  const goal =
    lost.length === 0
      ? ''
      : ` Median time lost per fault ${(median(lost) / 1000).toFixed(2)} s (goal ≤ ${LOST_GOAL_MS / 1000} s on loopback).`;
  return {
    forCount: tolerated.length,
    againstCount: comparisons.length - tolerated.length,
    evidence: `On one machine: each fault is one rank's process killed (SIGKILL) or frozen (SIGSTOP) at a seeded point, the others on the same host; a lost machine, disk or link is not exercised, and threads (parallel) have no rank to lose apart from their process. ${comparisons.map(faultLine).join('; ')}.${goal}`,
  };
}

/** The report's fault section (empty when the matrix had no fault cells); `escape` is the report's HTML escaper. */
export function faultSection(records: readonly RunRecord[], escape: (value: unknown) => string): string {
  const comparisons = faultComparisons(records);
  if (comparisons.length === 0) return '';
  const header = [
    'model',
    'cell',
    'fault',
    'completed',
    'workers at end',
    'ranks hit',
    'lost per fault',
    'detect',
    're-form',
    'reload',
    'wall s',
    'wall s undisturbed',
    'score',
    'score undisturbed',
  ];
  const rows = comparisons.map((c) => [
    c.model,
    `${c.paradigm}×${c.workers} ${c.strategy}`,
    c.kind === 'kill' ? 'SIGKILL' : 'SIGSTOP',
    `${c.completed}/${c.runs}`,
    c.finalWorkers.length === 0 ? '–' : [...new Set(c.finalWorkers)].join(', '),
    c.victims.join(', '),
    msSpread(c.lostMs),
    msSpread(c.detectedMs),
    msSpread(c.reformMs),
    msSpread(c.reloadMs),
    c.wallSeconds === null ? '–' : c.wallSeconds.toFixed(2),
    c.twinWallSeconds === null ? '–' : c.twinWallSeconds.toFixed(2),
    c.score === null ? '–' : `${c.scoreName} ${c.score.toFixed(4)}`,
    c.twinScore === null ? '–' : c.twinScore.toFixed(4),
  ]);
  return `<h2>Faults: one rank killed or stopped</h2>
<p class="note">Each faulted cell against the same cell undisturbed (same restart policy, minWorkers = workers − 1). Lost per fault = detect + re-form + reload as the surviving ranks timed them (median [min–max] over every fault); wall seconds and scores are medians over the repeats that completed. The rank and the point (a fraction of the run) are drawn from the matrix seed and the repeat.</p>
<table id="faults"><tr>${header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>
${rows.map((row) => `<tr>${row.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`).join('\n')}
</table>`;
}

/**
 * The report's opening line per faulted cell, in plain words, from the stored runs: what one fault
 * cost (time lost as the ranks timed it, wall and score against the undisturbed twin) and what
 * completed on how many workers. Empty when the matrix had no fault cells.
 *
 * @example
 * faultAnswers(records); // ['a SIGKILLed rank of logistic-regression processes×3 allreduce cost 0.35 s per fault …']
 */
export function faultAnswers(records: readonly RunRecord[]): string[] {
  return faultComparisons(records).map((c) => {
    const what = c.kind === 'kill' ? 'a SIGKILLed rank' : 'a SIGSTOPped rank';
    const lost =
      c.lostMs.length === 0 ? 'no re-form was timed' : `${(median(c.lostMs) / 1000).toFixed(2)} s per fault (detect + re-form + reload)`;
    const delta = scoreDelta(c);
    const score = delta === null ? `${c.scoreName} not compared` : delta === 0 ? `no ${c.scoreName}` : `${c.scoreName} ${signed(delta, 4)}`;
    const wall = wallDelta(c);
    const ended = c.finalWorkers.length === 0 ? '' : `, on ${endedOn(c.finalWorkers, c.workers)}`;
    return `${what} of ${c.model} ${c.paradigm}×${c.workers} ${c.strategy} cost ${lost}${wall === null ? '' : `, wall ${signed(wall, 2)} s`} and ${score} against the undisturbed run; ${c.completed}/${c.runs} runs completed${ended}`;
  });
}
