/**
 * How long a comparison still needs, from what it has measured so far. Runs go repeat by repeat over
 * the same cells in the same order (runner.ts), so run k (1-based) is cell (k − 1) mod cells; each
 * run still to come is estimated at its own cell's mean measured seconds — a CNN cell costs more
 * than a linear one, and a processes cell pays its start-up every time — or, before its cell has
 * run once, at the mean over every run measured.
 *
 * @example
 * remainingSeconds(['a', 'b'], 4, 3, new Map([['a', [1]], ['b', [3]]])); // 1 + 3 = 4
 */
export function remainingSeconds(
  cellIds: readonly string[],
  totalRuns: number,
  nextRun: number,
  measured: ReadonlyMap<string, readonly number[]>,
): number | null {
  const all = [...measured.values()].flat();
  if (all.length === 0 || cellIds.length === 0) return null;
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const overall = mean(all);
  let seconds = 0;
  for (let run = Math.max(1, nextRun); run <= totalRuns; run++) {
    const own = measured.get(cellIds[(run - 1) % cellIds.length]!);
    seconds += own === undefined || own.length === 0 ? overall : mean(own);
  }
  return seconds;
}

/** '42 s', '3 min 05 s', '1 h 02 min'. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
