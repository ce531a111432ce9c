/**
 * The metrics a fitted model is reported with, by kind: classifiers accuracy and F1 (binary or
 * macro), regressors R² and MSE, clusterers inertia, decompositions the explained-variance ratios
 * and the fraction of the data's variance the components reconstruct; RL agents the mean return of
 * seeded greedy episodes (evalReturn), their success rate, steps to target and env steps/s. The CLI's `--json`, the
 * comparison harness and the report all use this one function.
 */
import type { Dataset } from '../data/dataset.js';
import { accuracy, f1Score, meanSquaredError, r2Score } from './metrics.js';
import type { AnyEstimator } from './registry.js';
import { assertUnreachable } from '../core/errors.js';
import { Agent } from './rl/agent.js';

export type Metrics = Record<string, number | number[]>;

export function evaluate(model: AnyEstimator, data: Dataset): Metrics {
  switch (model.kind) {
    case 'classifier': {
      const truth = data.labels();
      const predicted = model.predict(data);
      return { accuracy: accuracy(truth, predicted), f1: f1Score(truth, predicted) };
    }
    case 'regressor': {
      const truth = data.labels();
      const predicted = model.predict(data);
      return { r2: r2Score(truth, predicted), mse: meanSquaredError(truth, predicted) };
    }
    case 'clusterer':
      return { inertia: -model.score(data) };
    case 'decomposition': {
      const ratios = (model.state as { explainedVarianceRatio?: ArrayLike<number> }).explainedVarianceRatio;
      return { explainedVarianceRatio: ratios === undefined ? [] : Array.from(ratios), varianceExplained: model.score(data) };
    }
    case 'agent':
      // An agent is evaluated on its environment (seeded greedy episodes), not on `data`.
      if (!(model instanceof Agent)) throw new TypeError(`model '${model.name}' says it is an agent but does not extend Agent`);
      return model.metrics();
    default:
      return assertUnreachable(model.kind, 'model kind');
  }
}

/** The single number a comparison ranks runs by (higher is better). */
export function primaryMetric(model: AnyEstimator): { name: string; higherIsBetter: boolean } {
  switch (model.kind) {
    case 'classifier':
      return { name: 'accuracy', higherIsBetter: true };
    case 'regressor':
      return { name: 'r2', higherIsBetter: true };
    case 'clusterer':
      return { name: 'inertia', higherIsBetter: false };
    case 'decomposition':
      return { name: 'varianceExplained', higherIsBetter: true };
    case 'agent':
      return { name: 'evalReturn', higherIsBetter: true };
    default:
      return assertUnreachable(model.kind, 'model kind');
  }
}
