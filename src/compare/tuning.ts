/**
 * The comparison's tuning checks (the seed's §6: AutoML's hyperparameter tuning with cross-validation
 * makes models generalise better): for a model and data set, tune the options in `space` by
 * cross-validation on the training rows only, then fit the model with the best options and with its
 * defaults on all training rows and score both on the held-out rows, which the search never saw.
 * The claim 'automl-tuning' (claims.ts) reads the two held-out scores.
 *
 * A matrix file declares them beside its models:
 *
 *   "tuning": [{ "model": "logistic-regression", "params": { "epochs": 3 },
 *                "data": "synthetic:classification?rows=20000&cols=20&seed=1",
 *                "space": { "lr": { "type": "log-uniform", "low": 0.0001, "high": 1 } },
 *                "searcher": "random", "trials": 8, "cv": 3 }]
 *
 * @example
 * const spec = parseTuningList('tuning', matrixJson.tuning)[0]!;
 * const result = await runTuningCheck(spec, { train, test });
 * console.log(result.defaultScore, '→', result.tunedScore);
 */
import { heldOutScore, parsePipeline, tune } from '../automl/index.js';
import type { Params, SearcherName } from '../automl/index.js';
import type { Dataset } from '../data/dataset.js';
import { createModel, modelNames } from '../models/registry.js';
import { checkKeys, describe, fail, isRecord } from './matrix-fields.js';

/** One tuning check: `params` are fixed in both fits; `space` lists what the search varies. */
export interface TuningSpec {
  model: string;
  params: Record<string, unknown>;
  data: string;
  space: Record<string, unknown>;
  searcher: SearcherName;
  trials: number;
  cv: number;
  /** Seeds the search's draws and the shuffled folds. */
  seed: number;
  /** Preprocessing fitted inside each fold and before both held-out fits ('standardize', …); '' = none. */
  pipeline: string;
}

export interface TuningResult {
  model: string;
  data: string;
  searcher: SearcherName;
  trials: number;
  cv: number;
  pipeline: string;
  /** 'accuracy' for classifiers, 'r2' for regressors (higher is better for both). */
  metric: string;
  trainRows: number;
  testRows: number;
  /** Held-out score of the model with its default options (and `params`). */
  defaultScore: number | null;
  /** Held-out score with the best options the search found. */
  tunedScore: number | null;
  /** The best trial's cross-validated score on the training rows. */
  cvScore: number | null;
  bestParams: Record<string, unknown>;
  /** Wall seconds of the search and the two held-out fits. */
  seconds: number;
  /** Why the check failed, or null. */
  error: string | null;
}

const TUNING_KEYS = ['model', 'params', 'data', 'space', 'searcher', 'trials', 'cv', 'seed', 'pipeline'];
/** The searchers a tuning check may use: those that need no resource budget. */
const TUNING_SEARCHERS: readonly SearcherName[] = ['random', 'tpe', 'grid'];

/** Stable key of a check, for resuming an interrupted comparison. */
export function tuningKey(spec: Pick<TuningSpec, 'model' | 'data' | 'searcher' | 'trials' | 'cv'>): string {
  return [spec.model, spec.data, spec.searcher, spec.trials, spec.cv].join('|');
}

function count(field: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(field, `an integer >= ${min}`, value);
  return value;
}

function parseTuning(field: string, value: unknown): TuningSpec {
  if (!isRecord(value)) fail(field, 'an object such as { "model": "mlp", "data": "…", "space": { … } }', value);
  checkKeys(field, value, TUNING_KEYS);
  const model = value.model;
  if (typeof model !== 'string' || !modelNames().includes(model)) fail(`${field}.model`, `one of ${modelNames().join(', ')}`, model);
  const kind = createModel(model, {}).kind;
  if (kind !== 'classifier' && kind !== 'regressor')
    fail(`${field}.model`, 'a classifier or a regressor (tuning scores held-out rows)', model);
  const params = value.params ?? {};
  if (!isRecord(params)) fail(`${field}.params`, 'an object of model options', params);
  const data = value.data;
  if (typeof data !== 'string' || data.trim() === '') fail(`${field}.data`, 'a data spec', data);
  const space = value.space;
  if (!isRecord(space) || Object.keys(space).length === 0)
    fail(`${field}.space`, 'a non-empty search space object (docs/automl.md)', space);
  const searcher = value.searcher ?? 'random';
  if (typeof searcher !== 'string' || !(TUNING_SEARCHERS as readonly string[]).includes(searcher))
    fail(`${field}.searcher`, `one of ${TUNING_SEARCHERS.join(', ')}`, searcher);
  const pipeline = value.pipeline ?? '';
  if (typeof pipeline !== 'string') fail(`${field}.pipeline`, "a pipeline such as 'standardize,kbest:f:5' (docs/automl.md)", pipeline);
  if (pipeline !== '') parsePipeline(pipeline);
  return {
    model,
    params,
    data,
    space,
    searcher: searcher as SearcherName,
    trials: count(`${field}.trials`, value.trials, 10, 1),
    cv: count(`${field}.cv`, value.cv, 3, 2),
    seed: count(`${field}.seed`, value.seed, 0, 0),
    pipeline,
  };
}

/** The matrix's `tuning` list, validated (absent = none). */
export function parseTuningList(field: string, value: unknown): TuningSpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(field, 'a list of tuning checks', value);
  return value.map((entry, i) => parseTuning(`${field}[${i}]`, entry));
}

/** Describe a check in one line, for progress output. */
export function tuningLine(result: TuningResult): string {
  const head = `tuning ${result.model} (${result.searcher}, ${result.trials} trials, ${result.cv}-fold CV) on ${result.trainRows} rows`;
  if (result.error !== null) return `${head}: failed: ${result.error}`;
  const f = (v: number | null): string => (v === null ? '–' : v.toFixed(4));
  return `${head}: held-out ${result.metric} ${f(result.defaultScore)} default → ${f(result.tunedScore)} tuned (${result.seconds.toFixed(1)} s)`;
}

/**
 * Run one check on a train/test split: cross-validated search on `train`, then the default and the
 * tuned model each fitted on all of `train` and scored on `test`. A failure is recorded, not thrown.
 */
export async function runTuningCheck(spec: TuningSpec, split: { train: Dataset; test: Dataset }): Promise<TuningResult> {
  const started = performance.now();
  const kind = createModel(spec.model, spec.params).kind;
  const result: TuningResult = {
    model: spec.model,
    data: spec.data,
    searcher: spec.searcher,
    trials: spec.trials,
    cv: spec.cv,
    pipeline: spec.pipeline,
    metric: kind === 'classifier' ? 'accuracy' : 'r2',
    trainRows: split.train.rows,
    testRows: split.test.rows,
    defaultScore: null,
    tunedScore: null,
    cvScore: null,
    bestParams: {},
    seconds: 0,
    error: null,
  };
  try {
    // The fixed params join the space as one-value choices, so every trial fits with them.
    const fixed = Object.fromEntries(Object.entries(spec.params).map(([k, v]) => [k, { type: 'choice', values: [v] }]));
    const search = await tune(split.train, {
      model: spec.model,
      space: { ...fixed, ...spec.space },
      searcher: spec.searcher,
      trials: spec.trials,
      cv: spec.cv,
      stratified: kind === 'classifier',
      shuffle: true,
      seed: spec.seed,
      ...(spec.pipeline === '' ? {} : { pipeline: spec.pipeline }),
    });
    if (search.best === null)
      throw new Error(`every trial failed: ${search.trials.find((t) => t.error !== null)?.error?.message ?? 'no trial ran'}`);
    result.cvScore = search.best.score;
    result.bestParams = { ...spec.params, ...search.best.params };
    const pipeline = spec.pipeline === '' ? {} : { pipeline: spec.pipeline };
    result.defaultScore = (
      await heldOutScore(split.train, split.test, { model: spec.model, params: spec.params as Params, ...pipeline })
    ).score;
    result.tunedScore = (
      await heldOutScore(split.train, split.test, { model: spec.model, params: result.bestParams as Params, ...pipeline })
    ).score;
  } catch (error) {
    result.error = error instanceof Error ? error.message : describe(error);
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
