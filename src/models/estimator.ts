/**
 * The Estimator contract (scikit-learn's, in TypeScript): the constructor stores hyperparameters
 * (defaults merged once, in `resolveParams`); `fit` returns the estimator; learned state is kept
 * apart in `state` and is all that `save` writes besides the hyperparameters.
 *
 * Every model's training is one SPMD function, `train(shard, context)`: it runs on every worker
 * with that worker's shard and a `Communicator`, combines statistics or gradients through it, and
 * returns the learned state (identical on every rank). `fit` hands the model to the launcher of the
 * chosen paradigm; launchers are registered by `runtime/` (models never know the paradigm).
 *
 * @example
 * const model = await new KMeans({ k: 10 }).fit(data, { paradigm: 'threads', workers: 2 });
 * model.predict(test);
 */
import { ConfigError, NotFittedError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { TrainContext, Trainable } from './context.js';
import type { FitInfo, FitOptions } from './paradigm.js';
import { getLauncher } from './paradigm.js';

export type ModelKind = 'regressor' | 'classifier' | 'clusterer' | 'decomposition' | 'agent';

export abstract class Estimator<Params extends object, State extends object> implements Trainable<State> {
  /** The registry name; also the tag checked when a saved model is loaded. */
  abstract readonly name: string;
  abstract readonly kind: ModelKind;
  readonly params: Readonly<Params>;
  /** How the last fit ran (paradigm, workers, time, communication), or null before fit. */
  fitInfo: FitInfo | null = null;
  private learned: State | null = null;

  constructor(params: Params) {
    this.params = Object.freeze({ ...params });
  }

  /** The SPMD trainer: same code on every worker, whatever the paradigm. */
  abstract train(shard: Dataset, context: TrainContext): Promise<State>;

  /** Train on `data` with the chosen paradigm (default: sequential). Returns this estimator. */
  async fit(data: Dataset, options: FitOptions = {}): Promise<this> {
    const launch = getLauncher(options.paradigm ?? 'sequential');
    const result = await launch<State>({ model: this, data, options });
    this.learned = result.state;
    this.fitInfo = result.info;
    return this;
  }

  get fitted(): boolean {
    return this.learned !== null;
  }

  /** The learned state; throws NotFittedError before fit/load. */
  get state(): State {
    if (this.learned === null) throw new NotFittedError(this.constructor.name);
    return this.learned;
  }

  /** Install learned state (used by load and by launchers). */
  setState(state: State): this {
    this.learned = state;
    return this;
  }

  abstract predict(data: Dataset): Float64Array;

  /** The default score: accuracy for classifiers, R² for regressors, see each model. */
  abstract score(data: Dataset): number;
}

/** Merge user options over defaults, once, rejecting unknown keys (a typo is a bug, not a no-op). */
export function resolveParams<P extends object>(modelName: string, defaults: P, given: Partial<P> | undefined): P {
  const merged = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (!(key in defaults)) {
      throw new NotAnOptionError(modelName, key, Object.keys(defaults));
    }
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}


class NotAnOptionError extends ConfigError {
  constructor(modelName: string, key: string, known: string[]) {
    super(`${modelName} has no option '${key}'; its options are: ${known.join(', ')}`, { field: key });
  }
}
