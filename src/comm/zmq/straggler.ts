/**
 * The straggler warning (Horovod's stall warning): a collective that has waited `warnMs` on one peer
 * logs a line naming it, once, while the wait goes on. Shared by the ZeroMQ transport and the
 * collective lane, which both carry collectives.
 *
 * @example
 * return warnWhileWaiting(waiting, { warnMs: 60_000, timeoutMs, log, what: 'allReduce', rank: 1, host: '10.0.0.2' });
 */

export interface StragglerWatch {
  /** Milliseconds before the warning; 0, or ≥ timeoutMs, turns it off. */
  warnMs: number;
  timeoutMs: number;
  log: (line: string) => void;
  /** The collective waiting, and the peer it waits for. */
  what: string;
  rank: number;
  host: string;
}

/** The warning's line, after `waitedMs` (zmq/deadlines.ts logs it for the collective lane). */
export function stragglerLine(watch: Pick<StragglerWatch, 'what' | 'rank' | 'host' | 'timeoutMs'>, waitedMs: number): string {
  return `straggler: ${watch.what} has waited ${(waitedMs / 1000).toFixed(1)} s for rank ${watch.rank} (${watch.host}); it is stopped, overloaded or much slower than the others (failing after ${watch.timeoutMs} ms)`;
}

/** `waiting`, with a warning logged if it is still pending after `watch.warnMs`. */
export function warnWhileWaiting<T>(waiting: Promise<T>, watch: StragglerWatch): Promise<T> {
  const { warnMs, timeoutMs } = watch;
  if (!(warnMs > 0) || warnMs >= timeoutMs) return waiting;
  const started = performance.now();
  let timer: NodeJS.Timeout;
  const arm = (due: number): void => {
    timer = setTimeout(() => {
      const now = performance.now();
      // Fired far past its time: this process itself was frozen (SIGSTOP, swapped out), not the
      // peer; the peer's message may be waiting to be read. Look again after another delay.
      if (now - due > warnMs) return arm(now + warnMs);
      watch.log(stragglerLine(watch, now - started));
    }, due - performance.now());
  };
  arm(started + warnMs);
  return waiting.finally(() => clearTimeout(timer));
}
