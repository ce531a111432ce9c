/**
 * Preprocessing pipelines (scikit-learn's `Pipeline` of transformers before the model): scaling,
 * one-hot coding and feature selection, each step fitted on the rows it is given — in cross-
 * validation, a fold's training rows only, then applied unchanged to its test rows, so no test row
 * shapes the features it is scored on (fitting on all rows leaks; test/automl/cross-validate.test.ts
 * shows the score moves when it does).
 *
 * Steps, as JSON or as the CLI's comma-separated text (`standardize,kbest:f:5`):
 * | step                                            | text                   | scikit-learn            |
 * |-------------------------------------------------|------------------------|-------------------------|
 * | `{ step: 'standardize' }`                       | `standardize`          | StandardScaler          |
 * | `{ step: 'minmax' }`                            | `minmax`               | MinMaxScaler            |
 * | `{ step: 'one-hot', columns: [0, 'colour'] }`   | `one-hot:0:colour`     | OneHotEncoder(handle_unknown='ignore') |
 * | `{ step: 'variance', threshold: 0.01 }`         | `variance:0.01`        | VarianceThreshold       |
 * | `{ step: 'kbest', score: 'f', k: 5 }`           | `kbest:f:5`            | SelectKBest (f_classif / f_regression, chi2, mutual_info_classif) |
 * | `{ step: 'l1', alpha: 0.01 }`                   | `l1:0.01`              | SelectFromModel(Lasso(alpha)) |
 *
 * One-hot replaces each named column, in place, by one 0/1 column per category seen in training
 * (sorted); a category unseen in training codes as all zeros. L1 selection keeps the features whose
 * Lasso weight exceeds 1e-5 in magnitude (SelectFromModel's threshold for L1 models); for a
 * classifier, a Lasso per class on its 0/1 indicator, keeping a feature any class uses.
 *
 * @example
 * const steps = parsePipeline('standardize,kbest:f:3');
 * const fitted = fitPipeline(steps, train, 'classifier');
 * const testReady = fitted.transform(test);
 */
import { ConfigError, DataError } from '../core/errors.js';
import { allocate } from '../core/storage.js';
import type { Dataset } from '../data/dataset.js';
import { MinMaxScaler, StandardScaler } from '../data/preprocess.js';
import type { ModelKind } from '../models/estimator.js';
import { chi2, fClassif, fRegression, lasso, mutualInfoClassif } from './feature-scores.js';

export type UnivariateScore = 'f' | 'chi2' | 'mutual-info';

export type PipelineStep =
  | { step: 'standardize' }
  | { step: 'minmax' }
  | { step: 'one-hot'; columns: readonly (number | string)[] }
  | { step: 'variance'; threshold: number }
  | { step: 'kbest'; score: UnivariateScore; k: number }
  | { step: 'l1'; alpha: number };

export const STEP_NAMES = ['standardize', 'minmax', 'one-hot', 'variance', 'kbest', 'l1'] as const;
const SCORES: readonly UnivariateScore[] = ['f', 'chi2', 'mutual-info'];
/** SelectFromModel's default threshold for an L1-penalised model. */
const L1_THRESHOLD = 1e-5;

export interface FittedStep {
  readonly step: PipelineStep;
  transform(data: Dataset): Dataset;
}

export interface FittedPipeline {
  readonly steps: readonly FittedStep[];
  transform(data: Dataset): Dataset;
}

function bad(field: string, expected: string, found: unknown): never {
  throw new ConfigError(`pipeline: '${field}' must be ${expected}, found ${JSON.stringify(found) ?? String(found)}`, { field });
}

/** Steps from the CLI text form (`standardize,variance:0,kbest:f:5`) or from JSON (an array of step objects). */
export function parsePipeline(raw: unknown): PipelineStep[] {
  if (typeof raw === 'string')
    return raw
      .split(',')
      .filter((part) => part.trim() !== '')
      .map((part, i) => stepFromText(part.trim(), i));
  if (!Array.isArray(raw)) bad('pipeline', 'an array of steps or text like "standardize,kbest:f:5"', raw);
  return raw.map((entry, i) => checkStep(entry, `pipeline[${i}]`));
}

function stepFromText(text: string, index: number): PipelineStep {
  const [name, ...rest] = text.split(':');
  const field = `pipeline[${index}]`;
  const number = (value: string | undefined, what: string): number => {
    const n = Number(value);
    if (value === undefined || value.trim() === '' || !Number.isFinite(n)) bad(`${field}.${what}`, 'a number', value);
    return n;
  };
  switch (name) {
    case 'standardize':
    case 'minmax':
      return checkStep({ step: name }, field);
    case 'one-hot':
      return checkStep({ step: 'one-hot', columns: rest.map((c) => (/^\d+$/.test(c) ? Number(c) : c)) }, field);
    case 'variance':
      return checkStep({ step: 'variance', threshold: rest[0] === undefined ? 0 : number(rest[0], 'threshold') }, field);
    case 'kbest':
      return checkStep({ step: 'kbest', score: rest[0], k: number(rest[1], 'k') }, field);
    case 'l1':
      return checkStep({ step: 'l1', alpha: number(rest[0], 'alpha') }, field);
    default:
      return bad(`${field}.step`, `one of ${STEP_NAMES.join(', ')}`, name);
  }
}

function checkStep(entry: unknown, field: string): PipelineStep {
  if (typeof entry !== 'object' || entry === null) bad(field, 'a step object { step: … }', entry);
  const s = entry as Record<string, unknown>;
  switch (s['step']) {
    case 'standardize':
    case 'minmax':
      return { step: s['step'] };
    case 'one-hot': {
      const columns = s['columns'];
      if (
        !Array.isArray(columns) ||
        columns.length === 0 ||
        !columns.every((c) => (typeof c === 'number' && Number.isInteger(c) && c >= 0) || typeof c === 'string')
      ) {
        bad(`${field}.columns`, 'a non-empty array of column indices or names', columns);
      }
      return { step: 'one-hot', columns: columns as (number | string)[] };
    }
    case 'variance': {
      const threshold = s['threshold'] ?? 0;
      if (typeof threshold !== 'number' || !(threshold >= 0)) bad(`${field}.threshold`, 'a number ≥ 0', threshold);
      return { step: 'variance', threshold };
    }
    case 'kbest': {
      const score = s['score'];
      if (typeof score !== 'string' || !(SCORES as readonly string[]).includes(score))
        bad(`${field}.score`, `one of ${SCORES.join(', ')}`, score);
      const k = s['k'];
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) bad(`${field}.k`, 'a whole number ≥ 1', k);
      return { step: 'kbest', score: score as UnivariateScore, k };
    }
    case 'l1': {
      const alpha = s['alpha'];
      if (typeof alpha !== 'number' || !(alpha > 0)) bad(`${field}.alpha`, 'a number > 0', alpha);
      return { step: 'l1', alpha };
    }
    default:
      return bad(`${field}.step`, `one of ${STEP_NAMES.join(', ')}`, s['step']);
  }
}

/** The steps as the CLI's text form (for reports). */
export function formatPipeline(steps: readonly PipelineStep[]): string {
  return steps
    .map((s) => {
      switch (s.step) {
        case 'standardize':
        case 'minmax':
          return s.step;
        case 'one-hot':
          return `one-hot:${s.columns.join(':')}`;
        case 'variance':
          return `variance:${s.threshold}`;
        case 'kbest':
          return `kbest:${s.score}:${s.k}`;
        case 'l1':
          return `l1:${s.alpha}`;
        default:
          return bad('step', 'a known step', s);
      }
    })
    .join(',');
}

/** Fit every step in turn on `train` (each on the previous step's output). */
export function fitPipeline(steps: readonly PipelineStep[], train: Dataset, kind: ModelKind): FittedPipeline {
  const fitted: FittedStep[] = [];
  let current = train;
  for (const step of steps) {
    const one = fitStep(step, current, kind);
    fitted.push(one);
    current = one.transform(current);
  }
  return {
    steps: fitted,
    transform: (data) => fitted.reduce((d, one) => one.transform(d), data),
  };
}

function fitStep(step: PipelineStep, train: Dataset, kind: ModelKind): FittedStep {
  switch (step.step) {
    case 'standardize': {
      const scaler = new StandardScaler().fit(train);
      return { step, transform: (data) => scaler.transform(data) };
    }
    case 'minmax': {
      const scaler = new MinMaxScaler().fit(train);
      return { step, transform: (data) => scaler.transform(data) };
    }
    case 'one-hot':
      return fitOneHot(step, train);
    case 'variance': {
      const variances = columnVariances(train);
      const keep = [...variances.keys()].filter((j) => variances[j]! > step.threshold);
      if (keep.length === 0)
        throw new DataError(
          'DATA_VALUE',
          { file: train.source },
          `no feature has variance above ${step.threshold} in these training rows; lower the variance threshold`,
        );
      return { step, transform: (data) => selectColumns(data, keep, train.cols) };
    }
    case 'kbest': {
      const scores = univariateScores(step.score, train, kind);
      if (step.k > train.cols)
        throw new ConfigError(`pipeline: kbest k = ${step.k} exceeds the ${train.cols} features reaching it`, { field: 'k' });
      // scikit-learn's SelectKBest: a stable ascending sort (NaN lowest), the last k, in column order.
      const order = [...scores.keys()].sort((a, b) => rank(scores[a]!) - rank(scores[b]!) || a - b);
      const keep = order.slice(order.length - step.k).sort((a, b) => a - b);
      return { step, transform: (data) => selectColumns(data, keep, train.cols) };
    }
    case 'l1': {
      const keep = l1Selected(train, step.alpha, kind);
      if (keep.length === 0)
        throw new DataError('DATA_VALUE', { file: train.source }, `L1 selection with alpha ${step.alpha} keeps no feature; lower alpha`);
      return { step, transform: (data) => selectColumns(data, keep, train.cols) };
    }
    default:
      return bad('step', 'a known step', step);
  }
}

function rank(score: number): number {
  return Number.isNaN(score) ? -Number.MAX_VALUE : score;
}

function univariateScores(score: UnivariateScore, train: Dataset, kind: ModelKind): Float64Array {
  const y = train.labels();
  if (score === 'f') return kind === 'classifier' ? fClassif(train, y) : fRegression(train, y);
  if (kind !== 'classifier')
    throw new ConfigError(`pipeline: kbest score '${score}' scores features against classes; for a ${kind} use 'f'`, { field: 'score' });
  return score === 'chi2' ? chi2(train, y) : mutualInfoClassif(train, y);
}

function l1Selected(train: Dataset, alpha: number, kind: ModelKind): number[] {
  const y = train.labels();
  const targets: Float64Array[] =
    kind === 'classifier' ? [...new Set(y)].sort((a, b) => a - b).map((c) => y.map((v) => (v === c ? 1 : 0))) : [y];
  const used = new Uint8Array(train.cols);
  for (const target of targets) {
    const weights = lasso(train, target, { alpha });
    weights.forEach((w, j) => {
      if (Math.abs(w) > L1_THRESHOLD) used[j] = 1;
    });
  }
  return [...used.keys()].filter((j) => used[j] === 1);
}

function columnVariances({ x, rows, cols }: Dataset): Float64Array {
  const mean = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j]! += x[i * cols + j]!;
  for (let j = 0; j < cols; j++) mean[j]! /= rows;
  const variance = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) variance[j]! += (x[i * cols + j]! - mean[j]!) ** 2;
  return variance.map((v) => v / rows);
}

function checkWidth(data: Dataset, cols: number): void {
  if (data.cols !== cols)
    throw new DataError(
      'DATA_FORMAT',
      { file: data.source },
      `the pipeline was fitted on ${cols} columns, found ${data.cols}; transform data shaped like the training data`,
    );
}

/** The listed columns of `data`, in that order (a copy). */
export function selectColumns(data: Dataset, keep: readonly number[], fittedCols: number): Dataset {
  checkWidth(data, fittedCols);
  const { rows, cols } = data;
  const x = allocate(data.dtype, rows * keep.length, 'heap');
  for (let i = 0; i < rows; i++) for (let c = 0; c < keep.length; c++) x[i * keep.length + c] = data.x[i * cols + keep[c]!]!;
  return data.with({ x, cols: keep.length, featureNames: keep.map((j) => data.featureNames[j]!) });
}

function fitOneHot(step: { step: 'one-hot'; columns: readonly (number | string)[] }, train: Dataset): FittedStep {
  const indices = step.columns.map((column) => {
    const j = typeof column === 'number' ? column : train.featureNames.indexOf(column);
    if (j < 0 || j >= train.cols)
      throw new ConfigError(
        `pipeline: one-hot column ${JSON.stringify(column)} is not among the ${train.cols} columns (${train.featureNames.slice(0, 8).join(', ')}${train.cols > 8 ? ', …' : ''})`,
        { field: 'columns' },
      );
    return j;
  });
  const categories = new Map<number, number[]>();
  for (const j of indices) {
    const seen = new Set<number>();
    for (let i = 0; i < train.rows; i++) seen.add(train.x[i * train.cols + j]!);
    categories.set(
      j,
      [...seen].sort((a, b) => a - b),
    );
  }
  const names: string[] = [];
  for (let j = 0; j < train.cols; j++) {
    const values = categories.get(j);
    if (values === undefined) names.push(train.featureNames[j]!);
    else for (const value of values) names.push(`${train.featureNames[j]!}=${value}`);
  }
  const fittedCols = train.cols;
  return {
    step,
    transform(data) {
      checkWidth(data, fittedCols);
      const { rows, cols } = data;
      const width = names.length;
      const x = allocate(data.dtype, rows * width, 'heap');
      for (let i = 0; i < rows; i++) {
        let out = i * width;
        for (let j = 0; j < cols; j++) {
          const v = data.x[i * cols + j]!;
          const values = categories.get(j);
          if (values === undefined) {
            x[out++] = v;
          } else {
            const at = values.indexOf(v);
            if (at >= 0) x[out + at] = 1;
            out += values.length;
          }
        }
      }
      return data.with({ x, cols: width, featureNames: names });
    },
  };
}
