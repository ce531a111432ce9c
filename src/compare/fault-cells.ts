/**
 * The comparison's fault axis (issue 15): a matrix's `faults` list (`['kill']`, `['kill', 'stop']`)
 * runs each processes or cluster cell of ≥ 2 workers once undisturbed (the twin, fault 'none') and
 * once per listed fault, injected by the launcher (FitOptions.inject, runtime/fault-injection.ts):
 * - 'kill': SIGKILL of one rank at a seeded point of the run, under the restart policy minWorkers =
 *   workers − 1, so the others re-form without it (allreduce, ps-sync, ps-async; others refuse it);
 * - 'stop': SIGSTOP of one rank for STOP_HOLD_MS, then SIGCONT: a straggler, not a loss; what a
 *   synchronous strategy loses waiting on it, and what the bounded-staleness parameter server does.
 * The twin runs under the same policy, so the wall-time difference is the fault's alone. The victim
 * and the point come from the matrix seed and the repeat, so a re-run injects the same faults.
 * Each run's record keeps what was injected and what it cost (FaultOutcome); the report's fault
 * section and the claim 'fault-tolerance' read them (fault-report.ts).
 *
 * @example
 * parseMatrix({ models: ['logistic-regression'], paradigms: ['processes'], workers: [3], faults: ['kill'] });
 */
import type { FaultInjection, FaultRecord, FitInfo, Paradigm } from '../models/paradigm.js';
import { reformable } from '../runtime/elastic.js';
import { planFault } from '../runtime/fault-injection.js';
import { fail, nonEmptyList } from './matrix-fields.js';

export type FaultKind = 'none' | 'kill' | 'stop';
export const FAULT_KINDS: readonly FaultKind[] = ['none', 'kill', 'stop'];
/** How long a 'stop' cell's rank stays stopped: long enough to matter, short of any timeout. */
export const STOP_HOLD_MS = 2000;

const SIGNALS = { kill: 'SIGKILL', stop: 'SIGSTOP' } as const;

/** What a fault cell's run injected and what it cost (RunRecord.fault). */
export interface FaultOutcome {
  kind: FaultKind;
  /** The rank the plan chose (numbered as at launch); null for the undisturbed twin. */
  victim: number | null;
  /** The planned point: fraction of rank 0's iterations. */
  atFraction: number | null;
  /** Milliseconds from launch to the signal; null when not sent (the twin, or a run that ended first or failed). */
  firedAtMs: number | null;
  /** 'stop': how long the rank was held. */
  heldMs: number | null;
  /** Workers at the end (the launch count minus the ranks lost); null for a failed run. */
  finalWorkers: number | null;
  /** The re-forms the run survived (FitInfo.faults): detect + re-form + reload per fault. */
  faults: FaultRecord[];
}

/** A matrix `faults` list, each entry one of FAULT_KINDS (a ConfigError naming the entry). */
export function faultList(field: string, value: unknown): FaultKind[] {
  const kinds = nonEmptyList(field, value).map((kind, i) => {
    if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind))
      fail(`${field}[${i}]`, `one of ${FAULT_KINDS.join(', ')}`, kind);
    return kind as FaultKind;
  });
  return [...new Set(kinds)];
}

/**
 * The fault variants of a cell: none (undefined: not on the fault axis) when nothing but 'none' is
 * listed or the cell has no rank processes to signal (sequential, threads, 1 worker, a pipeline);
 * else the undisturbed twin 'none' and every listed fault the cell's strategy can take; `refused`
 * says why a listed fault was left out, for the skipped list.
 */
export function cellFaults(
  listed: readonly FaultKind[],
  cell: { paradigm: Paradigm; workers: number; strategy: string },
): { faults: (FaultKind | undefined)[]; refused: { fault: FaultKind; reason: string }[] } {
  const injected = listed.filter((kind) => kind !== 'none');
  if (injected.length === 0 || !(cell.paradigm === 'processes' || cell.paradigm === 'cluster') || cell.workers < 2)
    return { faults: [undefined], refused: [] };
  if (cell.strategy === 'pipeline')
    return { faults: [undefined], refused: injected.map((fault) => ({ fault, reason: 'a pipeline stage cannot be re-formed without' })) };
  const refused: { fault: FaultKind; reason: string }[] = [];
  const faults: FaultKind[] = ['none'];
  for (const kind of injected) {
    if (kind === 'kill' && !reformable(cell.strategy))
      refused.push({
        fault: kind,
        reason: `the ranks re-form without a lost one under allreduce, ps-sync and ps-async, not '${cell.strategy}'`,
      });
    else faults.push(kind);
  }
  return { faults, refused };
}

/** The injection seed of a repeat: the matrix seed and the repeat, so repeats lose different ranks at different points. */
export function faultSeed(matrixSeed: number, repeat: number): number {
  return matrixSeed * 1000 + repeat;
}

/** The fit options of a fault cell: the restart policy (where the strategy re-forms) and the injection ({} off the axis). */
export function faultFitOptions(
  cell: { fault?: FaultKind; workers: number; strategy: string },
  seed: number,
): { minWorkers?: number; inject?: FaultInjection } {
  if (cell.fault === undefined) return {};
  const policy = reformable(cell.strategy) ? { minWorkers: cell.workers - 1 } : {};
  if (cell.fault === 'none') return policy;
  return { ...policy, inject: { signal: SIGNALS[cell.fault], seed, ...(cell.fault === 'stop' ? { holdMs: STOP_HOLD_MS } : {}) } };
}

/** The record of what a fault cell's run injected and cost; `info` null for a failed run. */
export function faultOutcome(cell: { fault: FaultKind; workers: number }, seed: number, info: FitInfo | null): FaultOutcome {
  const plan = cell.fault === 'none' ? null : planFault({ signal: SIGNALS[cell.fault], seed }, cell.workers);
  return {
    kind: cell.fault,
    victim: plan?.rank ?? null,
    atFraction: plan?.atFraction ?? null,
    firedAtMs: info?.injected?.firedAtMs ?? null,
    heldMs: info?.injected?.heldMs ?? null,
    finalWorkers: info === null ? null : info.workers,
    faults: info?.faults ?? [],
  };
}

/**
 * The fault cells of the default matrix: one pair, logistic regression by SGD (8 epochs, so a
 * seeded point in the middle half of the run falls between epochs 2 and 6) on a tenth of the
 * default rows, processes×3 under allreduce, undisturbed and with one rank SIGKILLed (the survivors
 * re-form as 2). ~6–7 s a run under load, 6 runs: well inside the default's 5 minutes. None under
 * `--quick` (rows ≤ 20,000): three process start-ups per run take seconds under load, and its
 * budget is 30 s for every family.
 */
export function faultDefaultModels(rows: number): Record<string, unknown>[] {
  if (rows <= 20_000) return [];
  return [
    {
      name: 'logistic-regression',
      params: { solver: 'sgd', epochs: 8 },
      // syntheticSpecFor's classification spec (matrix.ts), at a tenth of the rows.
      data: [`synthetic:classification?rows=${Math.round(rows / 10)}&cols=20&seed=1`],
      paradigms: ['processes'],
      workers: [3],
      strategies: ['allreduce'],
      faults: ['kill'],
    },
  ];
}
