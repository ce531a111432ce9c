/**
 * The server's pure step: the round's updates, after every client transform, less the non-finite
 * ones (a NaN or ±∞ anywhere drops the whole update: it never reaches the model, and is counted),
 * aggregated, and the step added to the global weights. A step that is itself non-finite (an
 * aggregator overflowing) is refused the same way, so the global model stays finite.
 *
 * @example
 * const { global: next, nonFinite } = aggregateRound(aggregator, updates, global, round);
 */
import type { Aggregator, ClientUpdate } from './aggregator.js';

/** Whether every value of `values` is finite. */
export function allFinite(values: Float64Array): boolean {
  for (let j = 0; j < values.length; j++) if (!Number.isFinite(values[j]!)) return false;
  return true;
}

export interface RoundOutcome {
  /** The new global weights (the old array when nothing was applied). */
  global: Float64Array;
  /** Updates aggregated. */
  used: number;
  /** Clients whose update held a non-finite value (dropped). */
  nonFinite: number[];
  /** Whether a step was applied. */
  applied: boolean;
}

export function aggregateRound(
  aggregator: Aggregator,
  updates: readonly ClientUpdate[],
  global: Float64Array,
  round: number,
): RoundOutcome {
  const finite = updates.filter((update) => allFinite(update.delta) && Number.isFinite(update.weight));
  const nonFinite = updates.filter((update) => !finite.includes(update)).map((update) => update.client);
  if (finite.length === 0) return { global, used: 0, nonFinite, applied: false };
  const step = aggregator.aggregate(finite, global, round);
  if (!allFinite(step)) return { global, used: 0, nonFinite: [...nonFinite, ...finite.map((update) => update.client)], applied: false };
  const next = new Float64Array(global.length);
  for (let j = 0; j < next.length; j++) next[j] = global[j]! + step[j]!;
  return { global: next, used: finite.length, nonFinite, applied: true };
}
