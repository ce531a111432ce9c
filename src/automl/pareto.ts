/**
 * Pareto dominance for multi-objective studies (e.g. CV score against fit seconds): a point
 * dominates another when it is no worse in every objective and better in one. Objectives are given
 * already oriented so that larger is better (a time is negated).
 *
 * @example
 * paretoFront([[0.9, -2], [0.8, -1], [0.7, -3]]); // [0, 1]: the third is beaten by the first on both
 */

export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return false;
    if (a[i]! > b[i]!) better = true;
  }
  return better;
}

/** Indices of the non-dominated points, in input order. */
export function paretoFront(points: readonly (readonly number[])[]): number[] {
  return points.flatMap((p, i) => (points.some((q, j) => j !== i && dominates(q, p)) ? [] : [i]));
}

/**
 * Non-dominated sorting (NSGA-II's fronts): rank 0 is the Pareto front, rank 1 the front of the
 * rest, and so on. Used to promote trials of a multi-objective study past a rung.
 */
export function paretoRanks(points: readonly (readonly number[])[]): number[] {
  const ranks = new Array<number>(points.length).fill(-1);
  let remaining = points.map((_, i) => i);
  for (let rank = 0; remaining.length > 0; rank++) {
    const front = remaining.filter((i) => !remaining.some((j) => j !== i && dominates(points[j]!, points[i]!)));
    for (const i of front) ranks[i] = rank;
    remaining = remaining.filter((i) => ranks[i] === -1);
  }
  return ranks;
}
