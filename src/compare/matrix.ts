/**
 * The experiment matrix of `shardlearn compare`: models × data specs × paradigms × worker counts ×
 * strategies × repeats, declared in a JSON file (or built from CLI flags) and validated here, once,
 * with a ConfigError naming the field and the allowed values.
 *
 * @example
 * const matrix = parseMatrix({
 *   models: ['logistic-regression', { name: 'kmeans', params: { k: 8 }, data: ['synthetic:blobs?rows=50000&cols=20&centers=8&seed=1'] }],
 *   data: ['synthetic:classification?rows=50000&cols=20&seed=1'],
 *   paradigms: ['sequential', 'threads'], workers: [1, 2], strategies: ['allreduce', 'hogwild'], repeats: 3,
 * });
 * const { cells, skipped } = expandMatrix(matrix);
 */
import { ConfigError } from '../core/errors.js';
import type { TrainContext } from '../models/context.js';
import type { Paradigm } from '../models/paradigm.js';
import { PARADIGMS, availableParadigms } from '../models/paradigm.js';
import { createModel, modelEntry, modelNames } from '../models/registry.js';
import { namespacesUnavailable } from '../runtime/netns.js';
import { NO_COMPRESSION, cellCodecs, compressionList } from './codec-axis.js';
import { checkKeys, describe, fail, isRecord, nonEmptyList } from './matrix-fields.js';
import type { NetworkSpec } from './network-spec.js';
import { LOOPBACK, networkList, networksFor } from './network-spec.js';
import type { TuningSpec } from './tuning.js';
import { parseTuningList } from './tuning.js';
import { environmentSpec, isAgentModel, rlDefaultModels } from './rl-cells.js';
import type { FederatedSet } from './federated-cells.js';
import { defaultFederatedSets, parseFederatedList } from './federated-cells.js';
import type { FaultKind, FaultOutcome } from './fault-cells.js';
import { cellFaults, faultDefaultModels, faultList } from './fault-cells.js';

export { LOOPBACK, parseNetworksFlag } from './network-spec.js';
export type { NetworkSpec } from './network-spec.js';

/** Gradient strategy names, as `strategies/strategy.ts` declares them (compare may not import strategies/). */
type GradientStrategyName = TrainContext['strategy']['name'];
/**
 * What a matrix's `strategies` axis varies: how workers combine gradients, or 'pipeline' — pipeline
 * parallelism with its defaults (the fit option `pipeline: {}`, see `parallelismOptions`). Pipeline
 * parallelism is not a gradient strategy, but in a comparison it is one more way to use the same
 * workers, a column beside the strategies (and stored runs keep the name).
 */
export type StrategyName = GradientStrategyName | 'pipeline';
export const STRATEGIES = ['allreduce', 'hogwild', 'ps-sync', 'ps-async', 'pipeline'] as const satisfies readonly StrategyName[];
/** The bounded-staleness parameter server family: 'ps-ssp:<s>', s = the staleness bound in steps. */
const STALENESS_FAMILY = /^ps-ssp:\d+$/;
/** What the error messages list as allowed. */
const STRATEGY_CHOICES = [...STRATEGIES, 'ps-ssp:<s>'];
// Fails to compile when strategies/ adds a name this list lacks ('federated-client' is the federated
// paradigm's client seam, chosen by that paradigm, never by a matrix; 'ps-sync:<options>', backup
// workers and round deadlines, is not a matrix column yet).
const strategiesComplete: Exclude<
  GradientStrategyName,
  (typeof STRATEGIES)[number] | `ps-ssp:${number}` | `ps-sync:${string}` | 'federated-client'
> extends never
  ? true
  : never = true;
void strategiesComplete;

/**
 * The fit options that run a cell's `strategy`: `{ pipeline: {} }` for 'pipeline', else the strategy.
 *
 * @example
 * await model.fit(train, { paradigm: 'threads', workers: 2, ...parallelismOptions(cell.strategy) });
 */
export function parallelismOptions(strategy: StrategyName): { strategy: string } | { pipeline: Record<string, never> } {
  return strategy === 'pipeline' ? { pipeline: {} } : { strategy };
}

/** Hogwild writes one parameter vector in shared memory: only threads (and a world of one) have it. */
const SHARED_MEMORY_STRATEGIES: readonly string[] = ['hogwild'];
const SHARED_MEMORY_PARADIGMS: readonly Paradigm[] = ['sequential', 'threads'];

/** A goal a run may reach: a training loss at or below `loss`, a test score at or above `score`. */
export interface Target {
  loss?: number;
  score?: number;
}

export interface ModelSpec {
  name: string;
  params: Record<string, unknown>;
  /** Data specs for this model; null = the matrix's `data`. */
  data: string[] | null;
  /** Strategies for this model; null = the matrix's strategies if the model trains by SGD, else none. */
  strategies: StrategyName[] | null;
  /** Paradigms for this model; null = the matrix's. */
  paradigms: Paradigm[] | null;
  /** Worker counts for this model; null = the matrix's. */
  workers: number[] | null;
  /** Gradient codecs for this model; null = the matrix's. */
  compression: string[] | null;
  target: Target | null;
  /** Injected faults for this model (fault-cells.ts); null or absent = the matrix's. */
  faults?: FaultKind[] | null;
}

export interface Matrix {
  name: string;
  models: ModelSpec[];
  data: string[];
  paradigms: Paradigm[];
  workers: number[];
  strategies: StrategyName[];
  repeats: number;
  /** Fraction of each data set held out for the test score. */
  testFraction: number;
  /** Seed of the train/test split (models take their own seed in `params`). */
  seed: number;
  target: Target | null;
  /** Per-fit inactivity timeout handed to the launcher; null = the launcher's default. */
  timeoutMs: number | null;
  /** Fit each model once on a small slice before measuring, so JIT warm-up is not charged to the first cell. */
  warmup: boolean;
  /**
   * Network profiles (each a cell of its own): processes cells run under loopback and the proxy
   * profiles, cluster cells under loopback (the veth uncapped) and the tbf profiles; default [loopback].
   */
  networks: NetworkSpec[];
  /**
   * Tuning checks (tuning.ts): a model tuned by cross-validation against its defaults, on held-out
   * rows. Absent in sessions stored before the checks existed.
   */
  tuning?: TuningSpec[];
  /**
   * Gradient codecs (codec-axis.ts): each a cell of its own for SGD models under a strategy that
   * compresses, sequential excepted; default ['none'].
   */
  compression: string[];
  /**
   * Federated cells (federated-cells.ts): rounds and bytes to a target score, IID against non-IID.
   * Absent in sessions stored before they existed.
   */
  federated?: FederatedSet[];
  /** Injected faults (fault-cells.ts): processes and cluster cells of ≥ 2 workers, beside an undisturbed twin; absent = none. */
  faults?: FaultKind[];
}

/** One configuration to run `repeats` times. */
export interface Cell {
  /** Stable key: model|data|paradigm|workers|strategy (params hashed in by JSON). */
  id: string;
  model: string;
  params: Record<string, unknown>;
  data: string;
  paradigm: Paradigm;
  workers: number;
  strategy: StrategyName;
  /** The network profile (LOOPBACK for sequential and threads; see Matrix.networks). */
  network: NetworkSpec;
  /** The gradient codec ('none': uncompressed; see Matrix.compression). */
  compression: string;
  target: Target | null;
  /** On the fault axis (fault-cells.ts): the injected fault, or 'none' for the undisturbed twin; absent elsewhere. */
  fault?: FaultKind;
}

export interface SkippedCell {
  model: string;
  data: string;
  paradigm: Paradigm;
  workers: number;
  strategy: StrategyName;
  /** The codec left out, when only the codec was (a strategy that does not compress). */
  compression?: string;
  /** The fault left out, when only the fault was (fault-cells.ts). */
  fault?: FaultKind;
  reason: string;
}

const MATRIX_KEYS = [
  'name',
  'models',
  'data',
  'paradigms',
  'workers',
  'strategies',
  'repeats',
  'testFraction',
  'seed',
  'target',
  'timeoutMs',
  'warmup',
  'networks',
  'federated',
  'tuning',
  'compression',
  'faults',
];
const MODEL_KEYS = ['name', 'params', 'data', 'strategies', 'paradigms', 'workers', 'compression', 'target', 'faults'];
const TARGET_KEYS = ['loss', 'score'];

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`matrix field '${field}': unknown value ${describe(value)}; allowed: ${allowed.join(', ')}`, { field });
  }
  return value as T;
}

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(field, 'an integer >= 1', value);
  return value;
}

function dataList(field: string, value: unknown): string[] {
  return nonEmptyList(field, value).map((spec, i) => {
    if (typeof spec !== 'string' || spec.trim() === '')
      fail(`${field}[${i}]`, "a data spec such as 'synthetic:classification?rows=10000&cols=20&seed=1' or a file path", spec);
    return spec;
  });
}

function strategyList(field: string, value: unknown): StrategyName[] {
  return unique(
    nonEmptyList(field, value).map((s, i) => {
      if (typeof s === 'string' && STALENESS_FAMILY.test(s)) return s as StrategyName;
      return oneOf(`${field}[${i}]`, s, STRATEGY_CHOICES) as StrategyName;
    }),
  );
}

function paradigmList(field: string, value: unknown): Paradigm[] {
  return unique(nonEmptyList(field, value).map((p, i) => oneOf(`${field}[${i}]`, p, PARADIGMS)));
}

function workerList(field: string, value: unknown): number[] {
  return unique(nonEmptyList(field, value).map((w, i) => positiveInteger(`${field}[${i}]`, w))).sort((a, b) => a - b);
}

function parseTarget(field: string, value: unknown): Target | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) fail(field, 'an object such as { "loss": 0.3 } or { "score": 0.9 }', value);
  checkKeys(field, value, TARGET_KEYS);
  const target: Target = {};
  for (const key of TARGET_KEYS as ('loss' | 'score')[]) {
    const v = value[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${field}.${key}`, 'a finite number', v);
    target[key] = v;
  }
  if (target.loss === undefined && target.score === undefined) fail(field, "at least one of 'loss', 'score'", value);
  return target;
}

function parseModel(index: number, value: unknown): ModelSpec {
  const field = `models[${index}]`;
  const entry = typeof value === 'string' ? { name: value } : value;
  if (!isRecord(entry)) fail(field, 'a model name or { "name": ..., "params": {...} }', value);
  checkKeys(field, entry, MODEL_KEYS);
  const name = oneOf(`${field}.name`, entry.name, modelNames());
  const params = entry.params ?? {};
  if (!isRecord(params)) fail(`${field}.params`, 'an object of hyperparameters', params);
  // Let the model refuse its own unknown or bad options now, not after an hour of other cells.
  try {
    createModel(name, params);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new ConfigError(`matrix field '${field}.params': ${error.message}`, { field: `${field}.params`, cause: error });
    }
    throw error;
  }
  return {
    name,
    params,
    data: entry.data === undefined ? null : dataList(`${field}.data`, entry.data),
    strategies: entry.strategies === undefined ? null : strategyList(`${field}.strategies`, entry.strategies),
    paradigms: entry.paradigms === undefined ? null : paradigmList(`${field}.paradigms`, entry.paradigms),
    workers: entry.workers === undefined ? null : workerList(`${field}.workers`, entry.workers),
    compression: entry.compression === undefined ? null : compressionList(`${field}.compression`, entry.compression),
    target: parseTarget(`${field}.target`, entry.target),
    ...(entry.faults === undefined ? {} : { faults: faultList(`${field}.faults`, entry.faults) }),
  };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** Paradigms a matrix without `paradigms` runs (cluster is opt-in: it needs root and starts one namespace per rank). */
const DEFAULT_PARADIGMS: Paradigm[] = ['sequential', 'threads', 'processes'];

/**
 * Validate a matrix given as JSON text or an object (flags or a parsed file). Omitted fields take
 * defaults: data = the default synthetic sets, paradigms = sequential, threads, processes, workers = [1, 2],
 * strategies = ['allreduce'], repeats = 3, testFraction = 0.2, seed = 1, warmup = true.
 */
export function parseMatrix(input: string | Record<string, unknown>): Matrix {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new ConfigError(`the matrix is not valid JSON: ${(error as Error).message}`, { field: 'matrix', cause: error });
    }
  }
  if (!isRecord(value)) fail('matrix', 'a JSON object', value);
  checkKeys('', value, MATRIX_KEYS);
  // A matrix of federated cells alone needs no models (their sets name their own).
  const federatedOnly = value.models === undefined && Array.isArray(value.federated) && value.federated.length > 0;
  const models = federatedOnly ? [] : nonEmptyList('models', value.models).map((m, i) => parseModel(i, m));
  const workers = workerList('workers', value.workers ?? [1, 2]);
  const testFraction = value.testFraction ?? 0.2;
  if (typeof testFraction !== 'number' || !(testFraction > 0 && testFraction < 1))
    fail('testFraction', 'a number between 0 and 1 (exclusive)', testFraction);
  const seed = value.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) fail('seed', 'an integer', seed);
  const timeoutMs = value.timeoutMs ?? null;
  if (timeoutMs !== null && (typeof timeoutMs !== 'number' || !(timeoutMs > 0)))
    fail('timeoutMs', 'a positive number of milliseconds', timeoutMs);
  const warmup = value.warmup ?? true;
  if (typeof warmup !== 'boolean') fail('warmup', 'true or false', warmup);
  const name = value.name ?? 'compare';
  if (typeof name !== 'string') fail('name', 'a string', name);
  return {
    name,
    models,
    data: value.data === undefined ? defaultDataFor(models) : dataList('data', value.data),
    paradigms: paradigmList('paradigms', value.paradigms ?? DEFAULT_PARADIGMS),
    workers,
    strategies: value.strategies === undefined ? ['allreduce'] : strategyList('strategies', value.strategies),
    repeats: positiveInteger('repeats', value.repeats ?? 3),
    testFraction,
    seed,
    target: parseTarget('target', value.target),
    timeoutMs,
    warmup,
    networks: value.networks === undefined ? [LOOPBACK] : networkList(value.networks),
    tuning: parseTuningList('tuning', value.tuning),
    compression: value.compression === undefined ? [NO_COMPRESSION] : compressionList('compression', value.compression),
    federated: parseFederatedList('federated', value.federated),
    ...(value.faults === undefined ? {} : { faults: faultList('faults', value.faults) }),
  };
}

/** A synthetic data spec suited to a model's kind (labels for classifiers, clusters for k-means). */
export function syntheticSpecFor(model: string, rows: number, cols = 20, seed = 1): string {
  switch (modelEntry(model).kind) {
    case 'classifier':
      return `synthetic:classification?rows=${rows}&cols=${cols}&seed=${seed}`;
    case 'regressor':
      return `synthetic:regression?rows=${rows}&cols=${cols}&seed=${seed}`;
    case 'clusterer':
      return `synthetic:blobs?rows=${rows}&cols=${cols}&centers=8&seed=${seed}`;
    case 'decomposition':
      return `synthetic:lowrank?rows=${rows}&cols=${cols}&rank=5&seed=${seed}`;
    case 'agent':
      throw new ConfigError(
        `${model} is a reinforcement-learning agent: it trains on an environment (its 'env' option), not on data; its cells take the environment's spec (compare/rl-cells.ts)`,
        { field: 'models' },
      );
  }
}

function defaultDataFor(models: ModelSpec[]): string[] {
  return unique(models.filter((m) => !isAgentModel(m.name)).map((m) => syntheticSpecFor(m.name, 200_000)));
}

/**
 * One model family of the default matrix: its hyperparameters, its share of the default data size
 * (`scale` × rows: a neural network's row costs hundreds of times a linear model's, so it gets fewer
 * rows to finish in the same budget) and, where a model needs a shape, its column count.
 */
interface DefaultFamily {
  name: string;
  params: Record<string, unknown>;
  scale: number;
  cols?: number;
  /** Strategies measured; omitted = allreduce only (hogwild vs allreduce is shown once, on logistic regression). */
  strategies?: StrategyName[];
}

/**
 * Every model family, sized so the default run (3 repeats) stays within ~5 minutes and `--quick`
 * (1 repeat, a tenth of the rows) within ~30 s on 2 cores: measured in docs/compare.md. The neural
 * models are small on purpose (8×8 images, 8-step sequences, one epoch): the comparison is about how
 * paradigms split the same work, which a small network shows as well as a big one.
 */
const DEFAULT_FAMILIES: readonly DefaultFamily[] = [
  { name: 'linear-regression', params: {}, scale: 1 },
  // By SGD, so the strategies (allreduce vs hogwild) matter.
  { name: 'logistic-regression', params: { solver: 'sgd' }, scale: 1, strategies: ['allreduce', 'hogwild'] },
  { name: 'linear-svm', params: { epochs: 3 }, scale: 0.5 },
  // k = the data's 8 centres.
  { name: 'kmeans', params: { k: 8 }, scale: 0.5 },
  { name: 'pca', params: { components: 5 }, scale: 1 },
  // And as a pipeline (model parallelism), so the report shows what each stage holds.
  { name: 'mlp', params: { hidden: [32], epochs: 2 }, scale: 0.25, strategies: ['allreduce', 'pipeline'] },
  // Padding 1 keeps 8×8 → 4×4 → 2×2 through both conv–pool stages.
  {
    name: 'cnn',
    params: { inputShape: [8, 8, 1], filters: [4, 8], kernelSize: 3, padding: 1, dense: [16], epochs: 1 },
    scale: 0.05,
    cols: 64,
  },
  { name: 'rnn', params: { cell: 'gru', hidden: 16, steps: 8, epochs: 1 }, scale: 0.05, cols: 16 },
];

/**
 * The default matrix's codec cells (MLP, threads×2): top-k at 1% in its compact encoding and
 * PowerSGD rank 2, the two families that reached ~50× fewer bytes in bench/compression.ts.
 */
const DEFAULT_CODECS = ['none', 'topk16:0.01', 'powersgd:2'];

/** Models the default matrix runs, when registered: every model family. */
export const DEFAULT_MODELS = DEFAULT_FAMILIES.map((f) => f.name);

/**
 * The default comparison: every model family (linear and logistic regression, linear SVM, k-means,
 * PCA, MLP, CNN, RNN) on synthetic data at two sizes a decade apart (the larger = `rows` × the
 * family's scale, 200k rows for the linear models), sequential vs threads vs processes with 1 and 2
 * workers, allreduce (and hogwild for logistic regression), plus one real cluster cell (logistic
 * regression, 2 ranks in 2 network namespaces on the larger set; skipped with the reason where
 * namespaces are not permitted), two codec cells (MLP threads×2 with top-k and PowerSGD, on the
 * larger set), the federated cells (federated-cells.ts: an MLP on builtin:mnist, FedAvg vs FedSGD,
 * IID vs Dirichlet 0.5 and 0.1, one secure-aggregation cell), one fault pair (fault-cells.ts:
 * processes×3, one rank SIGKILLed; not under `--quick`), 3 repeats. Models that are not registered are left out; `rows`
 * sets the larger size (tests, `--quick`).
 */
export function defaultMatrix(options: { rows?: number; repeats?: number } = {}): Matrix {
  return parseMatrix(defaultMatrixSpec(options));
}

/** The default matrix as the plain object a matrix file would hold (flags override its fields). */
export function defaultMatrixSpec(options: { rows?: number; repeats?: number } = {}): Record<string, unknown> {
  const rows = options.rows ?? 200_000;
  const registered = modelNames();
  const chosen = DEFAULT_FAMILIES.filter((f) => registered.includes(f.name));
  const families = chosen.length > 0 ? chosen : registered.slice(0, 2).map((name): DefaultFamily => ({ name, params: {}, scale: 1 }));
  const models = families.map((family) => {
    const large = Math.max(200, Math.round(rows * family.scale));
    // Two sizes a decade apart, so the report can show where (if anywhere) distributed overtakes parallel.
    const sizes = [Math.max(100, Math.round(large / 10)), large];
    return {
      name: family.name,
      params: family.params,
      data: sizes.map((size) => syntheticSpecFor(family.name, size, family.cols)),
      strategies: family.strategies ?? ['allreduce'],
    };
  });
  if (models.length === 0)
    throw new ConfigError('no model is registered; import the package entry (shardlearn) first', { field: 'models' });
  // One cluster cell, beside the processes×2 cell of the same data, so the report sets threads,
  // processes and cluster (a real kernel network path) side by side without doubling the run time.
  const sgd = models.find((m) => m.name === 'logistic-regression');
  if (sgd !== undefined)
    models.push({
      ...sgd,
      data: [sgd.data[sgd.data.length - 1]!],
      paradigms: ['cluster'],
      workers: [2],
      strategies: ['allreduce'],
    } as (typeof models)[number]);
  // The codec cells, beside the uncompressed threads×2 cell of the same data, for the compression claim.
  const mlp = models.find((m) => m.name === 'mlp');
  if (mlp !== undefined)
    models.push({
      ...mlp,
      data: [mlp.data[mlp.data.length - 1]!],
      paradigms: ['threads'],
      workers: [2],
      strategies: ['allreduce'],
      compression: DEFAULT_CODECS,
    } as (typeof models)[number]);
  // One tuning check (claim 'automl-tuning'): an MLP's learning rate and width tuned by 3-fold CV on
  // the training rows, against its defaults, on the held-out rows; seconds at these sizes.
  const tuning = registered.includes('mlp')
    ? [
        {
          model: 'mlp',
          params: { epochs: 2 },
          data: syntheticSpecFor('mlp', Math.max(1000, Math.round(rows / 20))),
          space: { lr: { type: 'log-uniform', low: 1e-4, high: 0.3 }, hidden: { type: 'choice', values: [[8], [64]] } },
          searcher: 'random',
          trials: 6,
          cv: 3,
        },
      ]
    : [];
  const agents = rlDefaultModels(rows).filter((m) => registered.includes(m.name as string));
  // One fault pair (claim 'fault-tolerance'): processes×3 undisturbed and with one rank SIGKILLed mid-run.
  const faults = faultDefaultModels(rows).filter((m) => registered.includes(m.name as string));
  return {
    name: 'default',
    models: [...models, ...agents, ...faults],
    tuning,
    // The federated cells (claim 'federated-privacy'): an MLP on builtin:mnist, FedAvg vs FedSGD, IID vs non-IID.
    federated: registered.includes('mlp') ? defaultFederatedSets(rows <= 20_000) : [],
    paradigms: DEFAULT_PARADIGMS,
    workers: [1, 2],
    strategies: ['allreduce', 'hogwild'],
    repeats: options.repeats ?? 3,
  };
}

/**
 * Whether the matrix's strategies apply to a model: mini-batch SGD models take a `batchSize`
 * (models/solvers/sgd.ts) and, when they have several solvers, run `solver: 'sgd'`; closed-form, L-BFGS
 * and Lloyd-style trainers all-reduce statistics and ignore the strategy.
 */
export function trainsBySgd(model: string, params: Record<string, unknown>): boolean {
  const resolved = createModel(model, params).params as Record<string, unknown>;
  return 'batchSize' in resolved && (!('solver' in resolved) || resolved.solver === 'sgd');
}

export function cellId(
  cell: Omit<Cell, 'id' | 'target' | 'network' | 'compression' | 'fault'> & {
    network?: NetworkSpec | string | undefined;
    compression?: string;
    /** The cell's fault, or a run record's (its kind). */
    fault?: FaultKind | FaultOutcome | undefined;
  },
): string {
  const params = Object.keys(cell.params).length === 0 ? '' : JSON.stringify(cell.params);
  // Loopback cells keep the ids they had before network profiles existed; uncompressed ones theirs from before codecs.
  const name = typeof cell.network === 'string' ? cell.network : (cell.network?.name ?? LOOPBACK.name);
  const network = name === LOOPBACK.name ? [] : [name];
  const codec = cell.compression === undefined || cell.compression === NO_COMPRESSION ? [] : [`codec=${cell.compression}`];
  const kind = typeof cell.fault === 'string' ? cell.fault : cell.fault?.kind;
  const fault = kind === undefined ? [] : [`fault=${kind}`];
  return [cell.model + params, cell.data, cell.paradigm, cell.workers, cell.strategy, ...network, ...codec, ...fault].join('|');
}

function whyNot(
  paradigm: Paradigm,
  strategy: StrategyName,
  available: readonly Paradigm[],
  clusterUnavailable: () => string | null,
): string | null {
  if (paradigm === 'cluster') {
    const reason = clusterUnavailable();
    if (reason !== null) {
      return `compare runs cluster cells as one network namespace per rank, and ${reason}; measure 'processes' here, or run 'shardlearn train --paradigm cluster' under an orchestrator`;
    }
  }
  if (!available.includes(paradigm)) return `paradigm '${paradigm}' is not available in this build (available: ${available.join(', ')})`;
  if (SHARED_MEMORY_STRATEGIES.includes(strategy) && !SHARED_MEMORY_PARADIGMS.includes(paradigm)) {
    return `strategy '${strategy}' needs the parameters in shared memory, which only ${SHARED_MEMORY_PARADIGMS.join(' and ')} provide`;
  }
  return null;
}

/**
 * The cells to run, in run order (sequential baselines first), and the ones skipped with why.
 * `sequential` runs once per model and data set (1 worker, the default 'allreduce' strategy): it is
 * the baseline every speedup is measured against.
 */
export function expandMatrix(
  matrix: Matrix,
  available: readonly Paradigm[] = availableParadigms(),
  clusterUnavailable: () => string | null = namespacesUnavailable,
): { cells: Cell[]; skipped: SkippedCell[] } {
  const cells: Cell[] = [];
  const skipped: SkippedCell[] = [];
  const ids = new Set<string>();
  for (const model of matrix.models) {
    // An agent's cells: its environment for data, and one strategy (how its actors share is its own options' business).
    const agent = isAgentModel(model.name);
    const sgd = !agent && trainsBySgd(model.name, model.params);
    const strategies = model.strategies ?? (sgd ? matrix.strategies : ['allreduce' as const]);
    const listedCodecs = model.compression ?? matrix.compression;
    const paradigms = [...(model.paradigms ?? matrix.paradigms)].sort((a, b) => PARADIGMS.indexOf(a) - PARADIGMS.indexOf(b));
    for (const data of agent ? [environmentSpec(model.name, model.params)] : (model.data ?? matrix.data)) {
      for (const paradigm of paradigms) {
        const workerCounts = paradigm === 'sequential' ? [1] : (model.workers ?? matrix.workers);
        const strategyList: StrategyName[] = paradigm === 'sequential' ? ['allreduce'] : strategies;
        // Processes take the proxy profiles, cluster the tbf ones (network-spec.ts); the rest run once, as loopback.
        const networks = networksFor(paradigm, matrix.networks);
        for (const workers of workerCounts) {
          for (const strategy of strategyList) {
            const reason =
              whyNot(paradigm, strategy, available, clusterUnavailable) ??
              (strategy === 'pipeline' && !createModel(model.name, model.params).pipelineParallel
                ? `model '${model.name}' has no pipeline trainer; only the neural models (mlp, cnn, rnn) train as a pipeline`
                : null) ??
              (strategy === 'pipeline' && workers < 2
                ? 'a pipeline of one worker is one stage, the whole model on one rank: the allreduce cell with one worker measures it'
                : null) ??
              (networks.length === 0
                ? `none of the networks (${matrix.networks.map((n) => n.name).join(', ')}) applies to ${paradigm}: processes runs under loopback and proxy profiles (wan:5ms:100mbit), cluster under loopback and tbf profiles (lan:tbf:1000mbit)`
                : null);
            if (reason !== null) {
              skipped.push({ model: model.name, data, paradigm, workers, strategy, reason });
              continue;
            }
            const { codecs, refused } = cellCodecs(listedCodecs, { paradigm, strategy, trainsBySgd: sgd });
            for (const { codec, reason: why } of refused)
              skipped.push({ model: model.name, data, paradigm, workers, strategy, compression: codec, reason: why });
            const faulted = cellFaults(model.faults ?? matrix.faults ?? [], { paradigm, workers, strategy });
            for (const { fault, reason: why } of faulted.refused)
              skipped.push({ model: model.name, data, paradigm, workers, strategy, fault, reason: why });
            for (const network of networks) {
              for (const compression of codecs) {
                // A restart policy needs the local path: processes under a proxy profile run without the fault axis.
                const variants = paradigm === 'processes' && network.name !== LOOPBACK.name ? [undefined] : faulted.faults;
                for (const fault of variants) {
                  const base = { model: model.name, params: model.params, data, paradigm, workers, strategy, network, compression };
                  const id = cellId({ ...base, fault });
                  // Two model entries may name the same cell (an entry that adds a paradigm to one size): run it once.
                  if (ids.has(id)) continue;
                  ids.add(id);
                  cells.push({ ...base, id, target: model.target ?? matrix.target, ...(fault === undefined ? {} : { fault }) });
                }
              }
            }
          }
        }
      }
    }
  }
  return { cells, skipped };
}
