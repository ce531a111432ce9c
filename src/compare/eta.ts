/**
 * How long a comparison still needs, from what it has measured so far. Runs go repeat by repeat over
 * the same cells in the same order (runner.ts), so run k (1-based) is cell (k − 1) mod cells; each
 * run still to come is estimated at its own cell's mean measured seconds — a CNN cell costs more
 * than a linear one, and a processes cell pays its start-up every time — or, before its cell has
 * run once, at the mean over every run measured.
 *
 * @example
 * remainingSeconds(['a', 'b'], 4, 3, new Map([['a', [1]], ['b', [3]]])); // 1 + 3 = 4
 *
 * The fault cells are cells like any other here (each faulted cell's own mean once it has run); the
 * federated fits that follow the runs are estimated by `remainingFederatedSeconds`.
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

/**
 * The federated fits still to come after the runs (runner.ts: each cell's repeats in turn, after
 * every run), `done` of `keys` finished: each at its own cell's mean measured seconds, else at the
 * mean over every federated fit measured. Null before any federated fit has been timed: a fit of
 * rounds × clients has nothing in common with a run's seconds, so a run's mean would not estimate it.
 *
 * @example
 * remainingFederatedSeconds(['a', 'a', 'b'], 1, new Map([['a', [4]]])); // 4 + 4
 */
export function remainingFederatedSeconds(
  keys: readonly string[],
  done: number,
  measured: ReadonlyMap<string, readonly number[]>,
): number | null {
  const all = [...measured.values()].flat();
  if (all.length === 0) return null;
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const overall = mean(all);
  return keys.slice(Math.max(0, done)).reduce((seconds, key) => {
    const own = measured.get(key);
    return seconds + (own === undefined || own.length === 0 ? overall : mean(own));
  }, 0);
}

/**
 * The ETA shown beside progress: the runs still to come and the federated fits after them, e.g.
 * ' · about 1 min 05 s left', or ' · about 40 s left + 6 federated fits not timed yet' while no
 * federated fit has been measured; '' when nothing is left or nothing can be estimated.
 */
export function etaText(runsSeconds: number | null, federated: { left: number; seconds: number | null }): string {
  const fits = `${federated.left} federated fit${federated.left === 1 ? '' : 's'}`;
  if (federated.left > 0 && federated.seconds === null)
    return runsSeconds !== null && runsSeconds >= 0.5
      ? ` · about ${formatDuration(runsSeconds)} left + ${fits} (not timed yet)`
      : ` · ${fits} left (not timed yet)`;
  const seconds = (runsSeconds ?? 0) + (federated.left > 0 ? (federated.seconds ?? 0) : 0);
  return seconds >= 0.5 ? ` · about ${formatDuration(seconds)} left` : '';
}

/** '42 s', '3 min 05 s', '1 h 02 min'. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
