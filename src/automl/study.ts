/**
 * A study runs a searcher's trials, up to `concurrency` at a time. A trial is an ordinary
 * cross-validated fit (each fold's fit with the study's FitOptions, so on threads or processes the
 * trials really run side by side); a trial that throws is recorded with its error code and message
 * and the study goes on (Flower's "partial failure is data").
 *
 * Objectives: the CV score first (higher is better), optionally `fitSeconds` (lower is better). The
 * Pareto front is the set of successful trials no other trial beats on every objective.
 *
 * @example
 * const result = await runStudy(searcher, (request) => crossValidate(data, { ... }), { concurrency: 2 });
 * result.trials; // every trial, in the order they finished
 */
import { ConfigError, ShardlearnError } from '../core/errors.js';
import { paretoFront } from './pareto.js';
import type { Searcher, TrialRequest } from './searchers.js';
import type { Params } from './space.js';

export const OBJECTIVES = ['score', 'fitSeconds'] as const;
export type ObjectiveName = (typeof OBJECTIVES)[number];

export interface TrialRecord {
  /** Trials are numbered in the order they started, from 0. */
  id: number;
  configId: number;
  params: Params;
  rung: number;
  bracket: number;
  /** The budget the trial trained with (epochs, maxIter or rows), or null. */
  resource: number | null;
  status: 'ok' | 'failed';
  /** Mean CV score (null when failed). */
  score: number | null;
  /** Per-fold scores. */
  foldScores: number[] | null;
  std: number | null;
  /** Seconds spent fitting (pipelines and models, all folds). */
  fitSeconds: number | null;
  /** Wall seconds of the trial, start to end. */
  seconds: number;
  /** Seconds from the study's start to this trial's start. */
  startedAt: number;
  /** The objective values as measured (score, then fit seconds if asked), null when failed. */
  objectives: number[] | null;
  error: { code: string; message: string } | null;
  /** True when the result was taken from an earlier attempt of the study (resumed), not run again. */
  reused: boolean;
}

export interface TrialResult {
  scores: number[];
  mean: number;
  std: number;
  fitSeconds: number;
}

export interface StudyOptions {
  concurrency?: number;
  objectives?: readonly ObjectiveName[];
  /** Called on the caller's thread as each trial ends. */
  onTrial?: (trial: TrialRecord) => void;
  /** A finished trial of an earlier attempt that answers `request`, to reuse instead of running it (resuming). */
  reuse?: (request: TrialRequest) => TrialRecord | undefined;
}

export interface StudyRun {
  trials: TrialRecord[];
  /** Successful trials on the Pareto front of the objectives (the best trial alone for one objective). */
  paretoFront: TrialRecord[];
  seconds: number;
}

/** Objectives oriented larger-is-better, for dominance and ranking. */
export function oriented(objectives: readonly ObjectiveName[], values: readonly number[]): number[] {
  return values.map((v, i) => (objectives[i] === 'fitSeconds' ? -v : v));
}

export function checkObjectives(objectives: readonly string[]): ObjectiveName[] {
  if (objectives[0] !== 'score')
    throw new ConfigError(`the first objective must be 'score' (the CV metric), found ${JSON.stringify(objectives)}`, {
      field: 'objectives',
    });
  for (const name of objectives) {
    if (!(OBJECTIVES as readonly string[]).includes(name))
      throw new ConfigError(`unknown objective '${name}'; expected ${OBJECTIVES.join(', ')}`, { field: 'objectives' });
  }
  return [...new Set(objectives)] as ObjectiveName[];
}

export async function runStudy(
  searcher: Searcher,
  runTrial: (request: TrialRequest) => Promise<TrialResult>,
  options: StudyOptions = {},
): Promise<StudyRun> {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ConfigError(`concurrency must be a whole number ≥ 1, found ${concurrency}`, { field: 'concurrency' });
  const objectives = checkObjectives(options.objectives ?? ['score']);
  const started = performance.now();
  const trials: TrialRecord[] = [];
  const running = new Map<number, Promise<TrialRecord>>();
  let nextId = 0;

  const start = (request: TrialRequest): void => {
    const id = nextId++;
    const startedMs = performance.now();
    const base = {
      id,
      configId: request.configId,
      params: request.params,
      rung: request.rung,
      bracket: request.bracket,
      resource: request.resource,
      startedAt: (startedMs - started) / 1000,
    };
    const earlier = options.reuse?.(request);
    if (earlier !== undefined) {
      running.set(id, Promise.resolve({ ...earlier, ...base, reused: true }));
      return;
    }
    const settle = async (): Promise<TrialRecord> => {
      try {
        const result = await runTrial(request);
        const measured = objectives.map((name) => (name === 'score' ? result.mean : result.fitSeconds));
        const failed = !Number.isFinite(result.mean);
        return {
          ...base,
          status: failed ? 'failed' : 'ok',
          score: result.mean,
          foldScores: result.scores,
          std: result.std,
          fitSeconds: result.fitSeconds,
          seconds: (performance.now() - startedMs) / 1000,
          objectives: failed ? null : measured,
          error: failed ? { code: 'NUMERIC', message: `the CV score is ${result.mean}` } : null,
          reused: false,
        };
      } catch (error: unknown) {
        const code = error instanceof ShardlearnError ? error.code : error instanceof Error ? error.name : 'ERROR';
        const message = error instanceof Error ? error.message : String(error);
        return {
          ...base,
          status: 'failed',
          score: null,
          foldScores: null,
          std: null,
          fitSeconds: null,
          seconds: (performance.now() - startedMs) / 1000,
          objectives: null,
          error: { code, message },
          reused: false,
        };
      }
    };
    running.set(id, settle());
  };

  for (;;) {
    let waiting = false;
    while (running.size < concurrency) {
      const request = searcher.ask();
      if (request === null) break;
      if (request === 'wait') {
        waiting = true;
        break;
      }
      start(request);
    }
    if (running.size === 0) {
      if (waiting) throw new ShardlearnError('CONFIG', 'the searcher waits for results but no trial is running (a searcher bug)');
      break;
    }
    const done = await Promise.race(running.values());
    running.delete(done.id);
    trials.push(done);
    const request: TrialRequest = {
      configId: done.configId,
      params: done.params,
      rung: done.rung,
      resource: done.resource,
      bracket: done.bracket,
    };
    searcher.tell({ request, objectives: done.objectives === null ? null : oriented(objectives, done.objectives) });
    options.onTrial?.(done);
  }
  const ok = trials.filter((t) => t.status === 'ok');
  const front = paretoFront(ok.map((t) => oriented(objectives, t.objectives!))).map((i) => ok[i]!);
  return { trials, paretoFront: front, seconds: (performance.now() - started) / 1000 };
}
