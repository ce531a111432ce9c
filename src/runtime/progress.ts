/**
 * Progress events from rank 0, timestamped from the start of training and kept for the fit's
 * history (loss over time — the comparison report's time-to-accuracy curves).
 */
import type { ProgressEvent } from '../models/context.js';
import type { FitOptions } from '../models/launcher.js';

export interface ProgressRecorder {
  report(event: ProgressEvent): void;
  history: (ProgressEvent & { elapsedMs: number })[];
}

export function progressRecorder(onProgress: FitOptions['onProgress'], started = performance.now()): ProgressRecorder {
  const history: (ProgressEvent & { elapsedMs: number })[] = [];
  return {
    history,
    report(event: ProgressEvent): void {
      const stamped = { ...event, elapsedMs: performance.now() - started };
      history.push(stamped);
      onProgress?.(stamped);
    },
  };
}
