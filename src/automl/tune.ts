/**
 * `tune`: hyperparameter search by cross-validation — the library form of `shardlearn tune`.
 * The folds are made once, so every trial is scored on the same rows; each trial fits the pipeline
 * and the model inside each fold (cross-validate.ts) with `fit` as its FitOptions.
 *
 * @example
 * const study = await tune(data, {
 *   model: 'logistic-regression',
 *   space: { l2: { type: 'log-uniform', low: 1e-5, high: 1 } },
 *   searcher: 'random', trials: 20, cv: 5, stratified: true, pipeline: 'standardize',
 *   concurrency: 2, fit: { paradigm: 'threads', workers: 1 },
 * });
 * study.best?.params; study.best?.score; study.paretoFront;
 */
import { ConfigError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { FitOptions } from '../models/index.js';
import { createModel } from '../models/index.js';
import type { MetricName, ResourceKind } from './cross-validate.js';
import { RESOURCE_KINDS, checkMetric, crossValidate, makeFolds, scoreWith } from './cross-validate.js';
import type { Fold } from './folds.js';
import type { PipelineStep } from './pipeline.js';
import { fitPipeline, parsePipeline } from './pipeline.js';
import type { Searcher, SearcherName } from './searchers.js';
import { AsyncSuccessiveHalving, GridSearcher, HyperBand, RandomSearcher, SEARCHERS, SuccessiveHalving, checkBudget } from './searchers.js';
import type { Params, SearchSpace } from './space.js';
import { TpeSearcher } from './tpe.js';
import { paramsKey, parseSpace, sampleSpace } from './space.js';
import { Rng } from '../core/rng.js';
import type { ObjectiveName, TrialRecord } from './study.js';
import { checkObjectives, runStudy } from './study.js';

export interface TuneOptions {
  model: string;
  /** A parsed space, or its JSON (see space.ts). */
  space: SearchSpace | Record<string, unknown>;
  /** Default 'random'. */
  searcher?: SearcherName;
  /** Configurations to try (grid: at most this many of the grid; default 20, grid: all). */
  trials?: number;
  /** Folds: a count (default 5), or the folds themselves. */
  cv?: number | readonly Fold[];
  stratified?: boolean;
  /** Shuffle rows before making folds (seeded by `seed`). */
  shuffle?: boolean;
  metric?: MetricName;
  /** Preprocessing fitted inside each fold: steps or the CLI's text ('standardize,kbest:f:5'). */
  pipeline?: string | readonly PipelineStep[];
  /** Trials run at once (default 1). */
  concurrency?: number;
  /**
   * FitOptions of every fold's fit (paradigm, workers, …). Without a paradigm, and with more than one
   * trial at a time, each fit runs on `threads` with one worker, so concurrent trials use separate
   * cores (in the caller's thread they would only take turns).
   */
  fit?: FitOptions;
  /** The budget of sha / asha / hyperband: which model option or the training rows, and its range. */
  resource?: { kind: ResourceKind; min: number; max: number };
  /** Keep the best 1/eta at each rung (default 3). */
  eta?: number;
  /** Default ['score']; ['score', 'fitSeconds'] for a score-vs-time Pareto front. */
  objectives?: readonly ObjectiveName[];
  /** Seeds the searcher's draws and shuffled folds (default 0). */
  seed?: number;
  onTrial?: (trial: TrialRecord) => void;
  /**
   * Trials an earlier attempt of this same study finished (read back from the runs database): a
   * request with the same configuration, rung and budget takes the recorded result instead of
   * running again. Failed trials are run again (their failure may have been transient).
   */
  previous?: readonly TrialRecord[];
}

export interface TuneResult {
  model: string;
  searcher: SearcherName;
  metric: MetricName;
  objectives: ObjectiveName[];
  folds: number;
  concurrency: number;
  /** The fit options every fold's fit used (see TuneOptions.fit). */
  fit: FitOptions;
  /** Every trial, in the order they finished; failed ones carry their error. */
  trials: TrialRecord[];
  /**
   * The best successful trial; with a `rows` budget, the best among those trained at the largest
   * budget any trial finished at (an epochs or maxIter budget is an ordinary model option).
   */
  best: TrialRecord | null;
  paretoFront: TrialRecord[];
  /** Σ budget over the trials (trial-epochs for an epochs budget), each trial counted once whatever the folds. */
  resourceSpent: number;
  seconds: number;
}

function makeSearcher(name: SearcherName, space: SearchSpace, options: TuneOptions, seed: number): Searcher {
  const trials = options.trials ?? (name === 'grid' ? Number.MAX_SAFE_INTEGER : 20);
  if (!Number.isInteger(trials) || trials < 1)
    throw new ConfigError(`trials must be a whole number ≥ 1, found ${trials}`, { field: 'trials' });
  const budget = (): { min: number; max: number; eta: number } =>
    checkBudget(
      options.resource === undefined ? undefined : { ...options.resource, ...(options.eta === undefined ? {} : { eta: options.eta }) },
      name,
    );
  switch (name) {
    case 'grid':
      return new GridSearcher(space, trials);
    case 'random':
      return new RandomSearcher(space, trials, seed);
    case 'tpe':
      return new TpeSearcher(space, trials, seed);
    case 'sha': {
      const { min, max, eta } = budget();
      const rng = new Rng(seed);
      return new SuccessiveHalving(
        Array.from({ length: trials }, (_, configId) => ({ configId, params: sampleSpace(space, rng) })),
        min,
        max,
        eta,
      );
    }
    case 'asha':
      return new AsyncSuccessiveHalving(space, trials, budget(), seed);
    case 'hyperband':
      return new HyperBand(space, trials, budget(), seed);
    default:
      throw new ConfigError(`unknown searcher '${String(name)}'; expected one of ${SEARCHERS.join(', ')}`, { field: 'searcher' });
  }
}

export interface HeldOutOptions {
  model: string;
  params?: Params;
  pipeline?: string | readonly PipelineStep[];
  metric?: MetricName;
  fit?: FitOptions;
}

/**
 * Fit the pipeline and the model with `params` on all of `train`, score `test` — how a tuned
 * configuration (and the default one, for comparison) is judged on rows the search never saw.
 */
export async function heldOutScore(train: Dataset, test: Dataset, options: HeldOutOptions): Promise<{ score: number; metric: MetricName }> {
  const steps =
    options.pipeline === undefined ? [] : typeof options.pipeline === 'string' ? parsePipeline(options.pipeline) : options.pipeline;
  const model = createModel(options.model, options.params ?? {});
  if (model.kind !== 'classifier' && model.kind !== 'regressor')
    throw new ConfigError(`'${options.model}' is a ${model.kind}; tuning scores classifiers and regressors`, { field: 'model' });
  const metric = options.metric ?? (model.kind === 'classifier' ? 'accuracy' : 'r2');
  const pipeline = fitPipeline(steps, train, model.kind);
  await model.fit(pipeline.transform(train), options.fit ?? {});
  return { score: scoreWith(metric, test.labels(), model.predict(pipeline.transform(test))), metric };
}

/** A SearchSpace from parseSpace, rather than JSON that happens to have an option called 'params'. */
function isParsedSpace(space: TuneOptions['space']): space is SearchSpace {
  const params = (space as { params?: unknown }).params;
  return (
    Array.isArray(params) &&
    typeof (space as { source?: unknown }).source === 'string' &&
    params.every((p: unknown) => typeof p === 'object' && p !== null && 'domain' in p && 'name' in p)
  );
}

/** Search `options.space` for the model options with the best cross-validated score on `data`. */
export async function tune(data: Dataset, options: TuneOptions): Promise<TuneResult> {
  const searcherName = options.searcher ?? 'random';
  if (!(SEARCHERS as readonly string[]).includes(searcherName))
    throw new ConfigError(`unknown searcher '${searcherName}'; expected one of ${SEARCHERS.join(', ')}`, { field: 'searcher' });
  const space = isParsedSpace(options.space) ? options.space : parseSpace(options.space);
  const resource = options.resource;
  if (resource !== undefined) {
    if (!RESOURCE_KINDS.includes(resource.kind))
      throw new ConfigError(`resource kind must be one of ${RESOURCE_KINDS.join(', ')}, found '${String(resource.kind)}'`, {
        field: 'resource.kind',
      });
    if (space.params.some((p) => p.name === resource.kind))
      throw new ConfigError(`'${resource.kind}' is the budget the searcher sets; remove it from the search space`, {
        field: resource.kind,
      });
  }
  const usesBudget = searcherName === 'sha' || searcherName === 'asha' || searcherName === 'hyperband';
  const seed = options.seed ?? 0;
  const metric = options.metric === undefined ? undefined : checkMetric(options.metric);
  const objectives = checkObjectives(options.objectives ?? ['score']);
  const cv = options.cv ?? 5;
  const folds =
    typeof cv === 'number'
      ? makeFolds(data, { k: cv, stratified: options.stratified ?? false, shuffle: options.shuffle ?? false, seed })
      : [...cv];
  const pipeline =
    options.pipeline === undefined ? [] : typeof options.pipeline === 'string' ? parsePipeline(options.pipeline) : [...options.pipeline];
  const searcher = makeSearcher(searcherName, space, options, seed);
  const concurrency = options.concurrency ?? 1;
  const fit: FitOptions =
    options.fit?.paradigm === undefined && concurrency > 1 ? { ...options.fit, paradigm: 'threads', workers: 1 } : { ...options.fit };
  const reusable = new Map<string, TrialRecord[]>();
  const keyOf = (t: { configId: number; rung: number; resource: number | null; params: Params }): string =>
    `${t.configId}|${t.rung}|${t.resource}|${paramsKey(t.params)}`;
  for (const trial of options.previous ?? []) {
    if (trial.status !== 'ok') continue;
    reusable.set(keyOf(trial), [...(reusable.get(keyOf(trial)) ?? []), trial]);
  }
  const kind = createModel(options.model).kind;
  if (kind !== 'classifier' && kind !== 'regressor')
    throw new ConfigError(`tuning scores predictions against labels; '${options.model}' is a ${kind}, choose a classifier or regressor`, {
      field: 'model',
    });
  const resolvedMetric: MetricName = metric ?? (kind === 'classifier' ? 'accuracy' : 'r2');
  const run = await runStudy(
    searcher,
    async (request) => {
      return crossValidate(data, {
        model: options.model,
        params: request.params,
        folds,
        pipeline,
        metric: resolvedMetric,
        fit,
        ...(usesBudget && resource !== undefined && request.resource !== null
          ? { resource: { kind: resource.kind, amount: request.resource } }
          : {}),
      });
    },
    {
      concurrency,
      objectives,
      ...(options.onTrial === undefined ? {} : { onTrial: options.onTrial }),
      reuse: (request) => reusable.get(keyOf(request))?.shift(),
    },
  );
  // An epochs or maxIter budget is a model option, so a trial at any budget is a whole configuration
  // (more epochs can overfit: it may score best at a low budget). A rows budget is not: a trial on
  // fewer rows says little about a fit on all of them, so only the largest budget reached counts.
  const ok = run.trials.filter((t) => t.status === 'ok');
  const top = Math.max(-Infinity, ...ok.map((t) => t.resource ?? 0));
  const eligible = usesBudget && resource?.kind === 'rows' ? ok.filter((t) => (t.resource ?? 0) === top) : ok;
  const best = eligible.reduce<TrialRecord | null>((b, t) => (b === null || t.score! > b.score! ? t : b), null);
  return {
    model: options.model,
    searcher: searcherName,
    metric: resolvedMetric,
    objectives,
    folds: folds.length,
    concurrency,
    fit,
    trials: run.trials,
    best,
    paretoFront: run.paretoFront,
    resourceSpent: run.trials.reduce((s, t) => s + (t.resource ?? 0), 0),
    seconds: run.seconds,
  };
}
