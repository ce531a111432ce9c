/**
 * Byzantine-robust aggregation rules: what the server does when some clients may send arbitrary
 * updates (a flipped and scaled delta, NaN, a crafted vector). Each is a pure function of one round's
 * deltas, wrapped as an `Aggregator`:
 *
 * - `median`: the coordinate-wise median (Yin et al., ICML 2018).
 * - `trimmed-mean:<β>`: per coordinate, drop the ⌊βn⌋ smallest and ⌊βn⌋ largest values and average the
 *   rest (Yin et al., ICML 2018).
 * - `krum:<f>`: the one update whose n − f − 2 nearest neighbours are closest (sum of squared distances),
 *   tolerating f Byzantine clients when n > 2f + 2 (Blanchard et al., NeurIPS 2017).
 * - `multi-krum:<f>:<m>`: the mean of the m updates with the best Krum scores (same paper, §4).
 *
 * All four ignore the clients' example counts: a Byzantine client could claim any weight, so a robust
 * rule that trusted weights would not be robust (Flower's FedMedian and FedTrimmedAvg do the same).
 * Non-finite values are ordered as +∞ (NaN last), so a NaN coordinate counts as an extreme value that
 * the median and trimming discard, and a NaN distance makes an update the farthest; `finiteOnly` drops
 * such updates before any rule sees them, and `guardFinite` wraps any aggregator with it.
 *
 * @example
 * const rule = createRobustAggregator('trimmed-mean:0.1'); // null for names this module does not own
 * const step = rule!.aggregate(finiteOnly(updates), global, round);
 */
import { ConfigError } from '../core/errors.js';
import type { Aggregator, ClientUpdate } from './aggregator.js';

/** The updates whose deltas and weights are all finite (and weights non-negative): the rest never reach the model. */
export function finiteOnly(updates: readonly ClientUpdate[]): ClientUpdate[] {
  return updates.filter((update) => isFiniteUpdate(update));
}

/** The clients whose updates `finiteOnly` would drop, for the round's log. */
export function nonFiniteClients(updates: readonly ClientUpdate[]): number[] {
  return updates.filter((update) => !isFiniteUpdate(update)).map((update) => update.client);
}

function isFiniteUpdate(update: ClientUpdate): boolean {
  if (!Number.isFinite(update.weight) || update.weight < 0) return false;
  const delta = update.delta;
  for (let i = 0; i < delta.length; i++) if (!Number.isFinite(delta[i]!)) return false;
  return true;
}

/**
 * `inner` behind the `finiteOnly` filter: non-finite updates are dropped first; a round left with no
 * update gives a zero step (the global model stays as it was).
 */
export function guardFinite(inner: Aggregator): Aggregator {
  return {
    name: inner.name,
    aggregate(updates, global, round) {
      const kept = finiteOnly(updates);
      return kept.length === 0 ? new Float64Array(global.length) : inner.aggregate(kept, global, round);
    },
  };
}

/** Ascending, with NaN after +∞ (Float64Array's sort order), so NaN counts as the largest value. */
function sortColumn(column: Float64Array): Float64Array {
  return column.sort();
}

function checkShapes(updates: readonly ClientUpdate[], global: Float64Array, rule: string): void {
  if (updates.length === 0) throw new ConfigError(`${rule} needs at least one client update, got none`, { field: 'aggregator' });
  for (const update of updates)
    if (update.delta.length !== global.length)
      throw new ConfigError(
        `${rule}: client ${update.client} sent a delta of ${update.delta.length} values, expected ${global.length} (the model's size)`,
        { field: 'aggregator' },
      );
}

/** The coordinate-wise median of the deltas (the mean of the two middle values for an even count). */
export function coordinateMedian(updates: readonly ClientUpdate[], dimension: number): Float64Array {
  const n = updates.length;
  const out = new Float64Array(dimension);
  const column = new Float64Array(n);
  for (let j = 0; j < dimension; j++) {
    for (let i = 0; i < n; i++) column[i] = updates[i]!.delta[j]!;
    sortColumn(column);
    out[j] = n % 2 === 1 ? column[(n - 1) / 2]! : (column[n / 2 - 1]! + column[n / 2]!) / 2;
  }
  return out;
}

/** Per coordinate, the mean of the values left after dropping the `trim` smallest and `trim` largest. */
export function coordinateTrimmedMean(updates: readonly ClientUpdate[], dimension: number, trim: number): Float64Array {
  const n = updates.length;
  const kept = n - 2 * trim;
  const out = new Float64Array(dimension);
  const column = new Float64Array(n);
  for (let j = 0; j < dimension; j++) {
    for (let i = 0; i < n; i++) column[i] = updates[i]!.delta[j]!;
    sortColumn(column);
    let sum = 0;
    for (let i = trim; i < n - trim; i++) sum += column[i]!;
    out[j] = sum / kept;
  }
  return out;
}

/**
 * Krum scores (Blanchard et al. 2017, §4): for each update, the sum of squared L2 distances to its
 * n − f − 2 nearest other updates. A non-finite distance counts as +∞.
 */
export function krumScores(updates: readonly ClientUpdate[], f: number): Float64Array {
  const n = updates.length;
  const neighbours = n - f - 2;
  const distance = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = a + 1; b < n; b++) {
      const x = updates[a]!.delta;
      const y = updates[b]!.delta;
      let sum = 0;
      for (let j = 0; j < x.length; j++) {
        const d = x[j]! - y[j]!;
        sum += d * d;
      }
      const value = Number.isFinite(sum) ? sum : Infinity;
      distance[a * n + b] = value;
      distance[b * n + a] = value;
    }
  const scores = new Float64Array(n);
  const row = new Float64Array(n - 1);
  for (let a = 0; a < n; a++) {
    let k = 0;
    for (let b = 0; b < n; b++) if (b !== a) row[k++] = distance[a * n + b]!;
    row.sort();
    let score = 0;
    for (let i = 0; i < neighbours; i++) score += row[i]!;
    scores[a] = score;
  }
  return scores;
}

/** The indices (into `updates`) of the `m` best Krum scores, best first; ties go to the earlier update. */
export function multiKrumSelect(updates: readonly ClientUpdate[], f: number, m: number): number[] {
  const scores = krumScores(updates, f);
  const order = Array.from({ length: updates.length }, (_, i) => i);
  order.sort((a, b) => scores[a]! - scores[b]! || a - b);
  return order.slice(0, m);
}

function mean(updates: readonly ClientUpdate[], indices: readonly number[], dimension: number): Float64Array {
  const out = new Float64Array(dimension);
  for (const i of indices) {
    const delta = updates[i]!.delta;
    for (let j = 0; j < dimension; j++) out[j]! += delta[j]!;
  }
  for (let j = 0; j < dimension; j++) out[j]! /= indices.length;
  return out;
}

function parseNumber(text: string | undefined, spec: string, what: string): number {
  const value = text === undefined || text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(value))
    throw new ConfigError(`aggregator '${spec}': ${what} must be a number, found '${text ?? ''}'`, { field: 'aggregator' });
  return value;
}

function parseCount(text: string | undefined, spec: string, what: string, minimum: number): number {
  const value = parseNumber(text, spec, what);
  if (!Number.isInteger(value) || value < minimum)
    throw new ConfigError(`aggregator '${spec}': ${what} must be an integer >= ${minimum}, found '${text ?? ''}'`, { field: 'aggregator' });
  return value;
}

function arity(parts: readonly string[], spec: string, expected: number, usage: string): void {
  if (parts.length !== expected + 1)
    throw new ConfigError(
      `aggregator '${spec}' takes ${expected} parameter${expected === 1 ? '' : 's'}, found ${parts.length - 1}; write it as '${usage}'`,
      { field: 'aggregator' },
    );
}

/** Names this module owns, for a registry that combines several (fedcore's fedavg family, these). */
export const ROBUST_AGGREGATORS = ['median', 'trimmed-mean', 'krum', 'multi-krum'] as const;

/**
 * The robust aggregator a spec names (`median`, `trimmed-mean:<β>` with 0 ≤ β < 0.5, `krum:<f>`,
 * `multi-krum:<f>:<m>`), or null when the name is not one of them. Bad parameters throw a ConfigError
 * (field `aggregator`); so does a round with too few updates for the rule (Krum needs n > 2f + 2,
 * trimming must leave at least one value per coordinate).
 */
export function createRobustAggregator(spec: string): Aggregator | null {
  const parts = spec.trim().split(':');
  const name = parts[0]!;
  switch (name) {
    case 'median':
      arity(parts, spec, 0, 'median');
      return {
        name: 'median',
        aggregate(updates, global) {
          checkShapes(updates, global, 'median');
          return coordinateMedian(updates, global.length);
        },
      };
    case 'trimmed-mean': {
      arity(parts, spec, 1, 'trimmed-mean:<β>, e.g. trimmed-mean:0.1');
      const beta = parseNumber(parts[1], spec, 'β (the fraction trimmed at each end)');
      if (beta < 0 || beta >= 0.5)
        throw new ConfigError(`aggregator '${spec}': β must be in [0, 0.5) (the fraction dropped at each end), found ${beta}`, {
          field: 'aggregator',
        });
      return {
        name: `trimmed-mean:${beta}`,
        aggregate(updates, global) {
          checkShapes(updates, global, spec);
          const trim = Math.floor(beta * updates.length);
          return coordinateTrimmedMean(updates, global.length, trim);
        },
      };
    }
    case 'krum':
    case 'multi-krum': {
      if (name === 'krum') arity(parts, spec, 1, 'krum:<f>, e.g. krum:2');
      else arity(parts, spec, 2, 'multi-krum:<f>:<m>, e.g. multi-krum:2:5');
      const f = parseCount(parts[1], spec, 'f (the number of Byzantine clients tolerated)', 0);
      const m = name === 'krum' ? 1 : parseCount(parts[2], spec, 'm (the number of updates averaged)', 1);
      return {
        name: name === 'krum' ? `krum:${f}` : `multi-krum:${f}:${m}`,
        aggregate(updates, global) {
          checkShapes(updates, global, spec);
          const n = updates.length;
          if (n <= 2 * f + 2)
            throw new ConfigError(
              `${spec} needs more than 2f + 2 = ${2 * f + 2} client updates (Blanchard et al. 2017), got ${n}; sample more clients or lower f`,
              { field: 'aggregator' },
            );
          if (m > n) throw new ConfigError(`${spec} averages m = ${m} updates but only ${n} arrived; lower m`, { field: 'aggregator' });
          return mean(updates, multiKrumSelect(updates, f, m), global.length);
        },
      };
    }
    default:
      return null;
  }
}
