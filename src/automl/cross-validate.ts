/**
 * Cross-validation (scikit-learn's `cross_val_score`): for each fold, fit the pipeline and then the
 * model on the fold's training rows only, score the fold's test rows. Each fit is an ordinary
 * `Estimator.fit` with the caller's FitOptions, so a fold's model may itself train on threads or
 * processes.
 *
 * A `resource` caps the work of every fold's fit, for the early-stopping searchers: `epochs` or
 * `maxIter` set that model option, `rows` trains on that many of the fold's training rows (a
 * seeded subset, the same rows first at every budget).
 *
 * @example
 * const result = await crossValidate(data, { model: 'logistic-regression', params: { l2: 0.01 },
 *   folds: { k: 5, stratified: true }, pipeline: parsePipeline('standardize'), metric: 'accuracy' });
 * result.scores; // one per fold; result.mean
 */
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import type { AnyEstimator, FitOptions } from '../models/index.js';
import { accuracy, createModel, f1Score, meanSquaredError, r2Score } from '../models/index.js';
import '../core/index.js'; // registers the kernel backends the models compute with
import '../runtime/index.js'; // registers the paradigms' launchers that Estimator.fit looks up
import type { Fold } from './folds.js';
import { kFold, stratifiedKFold } from './folds.js';
import type { PipelineStep } from './pipeline.js';
import { fitPipeline } from './pipeline.js';
import type { Params } from './space.js';

/** Scores where higher is better (`neg-mse` is minus the mean squared error, as scikit-learn's 'neg_mean_squared_error'). */
export const METRICS = ['accuracy', 'f1', 'r2', 'neg-mse'] as const;
export type MetricName = (typeof METRICS)[number];

export type ResourceKind = 'epochs' | 'maxIter' | 'rows';
export const RESOURCE_KINDS: readonly ResourceKind[] = ['epochs', 'maxIter', 'rows'];

export interface FoldSpec {
  k: number;
  stratified?: boolean;
  shuffle?: boolean;
  seed?: number;
}

export interface CrossValidateOptions {
  model: string;
  params?: Params;
  /** Explicit folds, or how to make them. */
  folds: readonly Fold[] | FoldSpec;
  pipeline?: readonly PipelineStep[];
  /** Default: accuracy for classifiers, r2 for regressors. */
  metric?: MetricName;
  fit?: FitOptions;
  resource?: { kind: ResourceKind; amount: number };
}

export interface CrossValidation {
  /** One score per fold, in fold order. */
  scores: number[];
  mean: number;
  /** Population standard deviation of the fold scores. */
  std: number;
  metric: MetricName;
  /** Wall seconds of the folds' fits (pipeline and model), summed. */
  fitSeconds: number;
}

/** A metric's value on true and predicted labels (higher is better). */
export function scoreWith(metric: MetricName, truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  switch (metric) {
    case 'accuracy':
      return accuracy(truth, predicted);
    case 'f1':
      return f1Score(truth, predicted);
    case 'r2':
      return r2Score(truth, predicted);
    case 'neg-mse':
      return -meanSquaredError(truth, predicted);
    default:
      throw new ConfigError(`unknown metric '${String(metric)}'; expected one of ${METRICS.join(', ')}`, { field: 'metric' });
  }
}

export function checkMetric(metric: string): MetricName {
  if (!(METRICS as readonly string[]).includes(metric))
    throw new ConfigError(`unknown metric '${metric}'; expected one of ${METRICS.join(', ')}`, { field: 'metric' });
  return metric as MetricName;
}

/** The folds a FoldSpec names, for `data`. */
export function makeFolds(data: Dataset, spec: FoldSpec): Fold[] {
  const options = {
    k: spec.k,
    ...(spec.shuffle === undefined ? {} : { shuffle: spec.shuffle }),
    ...(spec.seed === undefined ? {} : { seed: spec.seed }),
  };
  return spec.stratified === true ? stratifiedKFold(data.labels(), options) : kFold(data.rows, options);
}

function withResource(params: Params, resource: CrossValidateOptions['resource']): Params {
  if (resource === undefined || resource.kind === 'rows') return params;
  return { ...params, [resource.kind]: Math.max(1, Math.round(resource.amount)) };
}

/** Score `options.model` with `options.params` by cross-validation on `data`. */
export async function crossValidate(data: Dataset, options: CrossValidateOptions): Promise<CrossValidation> {
  const folds = Array.isArray(options.folds) ? (options.folds as readonly Fold[]) : makeFolds(data, options.folds as FoldSpec);
  const params = withResource(options.params ?? {}, options.resource);
  const probe: AnyEstimator = createModel(options.model, params);
  if (probe.kind !== 'classifier' && probe.kind !== 'regressor') {
    throw new ConfigError(
      `cross-validation scores predictions against labels; '${options.model}' is a ${probe.kind}, choose a classifier or regressor`,
      { field: 'model' },
    );
  }
  const metric = options.metric ?? (probe.kind === 'classifier' ? 'accuracy' : 'r2');
  const scores: number[] = [];
  let fitSeconds = 0;
  for (const [f, fold] of folds.entries()) {
    let trainRows: ArrayLike<number> = fold.train;
    if (options.resource?.kind === 'rows') {
      const amount = Math.max(1, Math.min(fold.train.length, Math.round(options.resource.amount)));
      const order = new Rng(f + 1).permutation(fold.train.length).subarray(0, amount).sort();
      trainRows = Array.from(order, (i) => fold.train[i]!);
    }
    const started = performance.now();
    const train = data.take(trainRows);
    const test = data.take(fold.test);
    const pipeline = fitPipeline(options.pipeline ?? [], train, probe.kind);
    const model = createModel(options.model, params);
    await model.fit(pipeline.transform(train), options.fit ?? {});
    fitSeconds += (performance.now() - started) / 1000;
    scores.push(scoreWith(metric, test.labels(), model.predict(pipeline.transform(test))));
  }
  const mean = scores.reduce((s, v) => s + v, 0) / scores.length;
  const std = Math.sqrt(scores.reduce((s, v) => s + (v - mean) ** 2, 0) / scores.length);
  return { scores, mean, std, metric, fitSeconds };
}
