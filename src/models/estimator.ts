/**
 * The Estimator contract (scikit-learn's, in TypeScript): the constructor stores hyperparameters
 * (checked and merged over the defaults once, by `resolveOptions` from the model's option schema); `fit` returns the estimator; learned state is kept
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
import type { PipelineOptions, PipelineSettings } from './neural/pipeline/settings.js';
import { resolvePipeline } from './neural/pipeline/settings.js';
import type { FitInfo, FitOptions } from './paradigm.js';
import { getLauncher } from './paradigm.js';
import { NotAnOptionError } from './option-schema.js';

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
    const pipeline = options.pipeline === undefined ? undefined : this.checkPipeline(options.pipeline, options);
    const result = await launch<State>({ model: this, data, options });
    this.learned = result.state;
    this.fitInfo = pipeline === undefined ? result.info : { ...result.info, pipeline };
    return this;
  }

  /** Whether `train` honours `TrainContext.pipeline`; the neural classifiers override it. */
  get pipelineParallel(): boolean {
    return false;
  }

  /** `options.pipeline` resolved, or the ConfigError a rank would throw, before any worker starts. */
  private checkPipeline(pipeline: PipelineOptions, options: FitOptions): PipelineSettings {
    if (!this.pipelineParallel) {
      throw new ConfigError(
        `${this.name} has no pipeline trainer: the fit option 'pipeline' splits a neural network's layers over the workers, so only the neural models (mlp, cnn, rnn) take it; leave it out for this model`,
        { field: 'pipeline' },
      );
    }
    if (options.strategy !== undefined && options.strategy !== 'allreduce') {
      throw new ConfigError(
        `the fit option 'pipeline' sums each stage's gradient over its replicas by all-reduce, so it takes no strategy '${options.strategy}'; leave 'strategy' out (or 'allreduce')`,
        { field: 'strategy' },
      );
    }
    const workers = options.workers ?? ((options.paradigm ?? 'sequential') === 'sequential' ? 1 : undefined);
    return resolvePipeline(pipeline, workers);
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

/**
 * Merge user options over defaults, rejecting unknown keys (a typo is a bug, not a no-op). Models
 * declare an `OptionSchema` and call `resolveOptions` (option-schema.ts), which also checks types
 * and ranges; this is for a model without a schema yet. Keys are own properties of `defaults` only,
 * so `__proto__` or `constructor` is refused like any unknown option.
 */
export function resolveParams<P extends object>(modelName: string, defaults: P, given: Partial<P> | undefined): P {
  const merged = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (!Object.hasOwn(defaults, key)) {
      throw new NotAnOptionError(modelName, key, Object.keys(defaults));
    }
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}
