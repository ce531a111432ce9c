/**
 * Progress events from rank 0, timestamped where they happen and kept for the fit's history (loss
 * over time — the comparison report's time-to-accuracy curves). Every paradigm passes them the same
 * way: the rank batches them (`batchedProgress`), its launcher re-stamps them (`progressHistory`).
 */
import type { ProgressEvent } from '../models/context.js';
import type { FitOptions } from '../models/paradigm.js';

/** A progress event stamped with the wall-clock time (ms since the epoch) it happened in a worker. */
export type StampedEvent = ProgressEvent & { at: number };

/**
 * A worker's side of progress reporting: rank 0 (which speaks for the run) batches its events and
 * posts them at most every `intervalMs`, so a fast loop does not flood the launcher; `flush` sends
 * what is left. Other ranks report nothing.
 */
export function batchedProgress(
  rank: number,
  intervalMs: number,
  post: (events: StampedEvent[]) => void,
): { report(event: ProgressEvent): void; flush(): void } {
  let pending: StampedEvent[] = [];
  let lastFlush = -Infinity;
  const flush = (): void => {
    if (pending.length === 0) return;
    post(pending);
    pending = [];
    lastFlush = performance.now();
  };
  return {
    flush,
    report(event: ProgressEvent): void {
      if (rank !== 0) return;
      pending.push({ ...event, at: performance.timeOrigin + performance.now() });
      if (performance.now() - lastFlush >= intervalMs) flush();
    },
  };
}

/**
 * The launcher's side: events arriving from a worker, re-stamped relative to `startedAt` (ms since
 * the epoch) into the fit's history and forwarded to the caller's `onProgress`.
 */
export function progressHistory(
  onProgress: FitOptions['onProgress'],
  startedAt: number,
): { history: (ProgressEvent & { elapsedMs: number })[]; onEvents(events: StampedEvent[]): void } {
  const history: (ProgressEvent & { elapsedMs: number })[] = [];
  return {
    history,
    onEvents(events: StampedEvent[]): void {
      for (const { at, ...event } of events) {
        const stamped = { ...event, elapsedMs: at - startedAt };
        history.push(stamped);
        onProgress?.(stamped);
      }
    },
  };
}
