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
import type { NetworkProfile, Paradigm } from '../models/launcher.js';
import { PARADIGMS, availableParadigms } from '../models/launcher.js';
import { createModel, modelEntry, modelNames } from '../models/registry.js';

/** Strategy names, as `strategies/strategy.ts` declares them (bench may not import strategies/). */
export type StrategyName = TrainContext['strategy']['name'];
export const STRATEGIES = ['allreduce', 'hogwild', 'ps-sync', 'ps-async', 'pipeline'] as const satisfies readonly StrategyName[];
/** The bounded-staleness parameter server family: 'ps-ssp:<s>', s = the staleness bound in steps. */
const STALENESS_FAMILY = /^ps-ssp:\d+$/;
/** What the error messages list as allowed. */
const STRATEGY_CHOICES = [...STRATEGIES, 'ps-ssp:<s>'];
// Fails to compile when strategies/ adds a name this list lacks.
const strategiesComplete: Exclude<StrategyName, (typeof STRATEGIES)[number] | `ps-ssp:${number}`> extends never ? true : never = true;
void strategiesComplete;

/** Hogwild writes one parameter vector in shared memory: only threads (and a world of one) have it. */
const SHARED_MEMORY_STRATEGIES: readonly string[] = ['hogwild'];
const SHARED_MEMORY_PARADIGMS: readonly Paradigm[] = ['sequential', 'threads'];

/** A named network profile for processes cells (FitOptions.network); 'loopback' with no fields = no proxy. */
export interface NetworkSpec extends NetworkProfile {
  name: string;
}

/** What every cell but a processes cell with another profile runs on. */
export const LOOPBACK: NetworkSpec = { name: 'loopback' };

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
  target: Target | null;
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
  /** Network profiles processes cells run under (each a cell of its own); default [loopback]. */
  networks: NetworkSpec[];
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
  /** The network profile (LOOPBACK for every paradigm but processes). */
  network: NetworkSpec;
  target: Target | null;
}

export interface SkippedCell {
  model: string;
  data: string;
  paradigm: Paradigm;
  workers: number;
  strategy: StrategyName;
  reason: string;
}

const MATRIX_KEYS = ['name', 'models', 'data', 'paradigms', 'workers', 'strategies', 'repeats', 'testFraction', 'seed', 'target', 'timeoutMs', 'warmup', 'networks'];
const NETWORK_KEYS = ['name', 'latencyMs', 'jitterMs', 'bandwidthMbit', 'seed'] as const;
const MODEL_KEYS = ['name', 'params', 'data', 'strategies', 'target'];
const TARGET_KEYS = ['loss', 'score'];

function fail(field: string, expected: string, found: unknown): never {
  throw new ConfigError(`matrix field '${field}': expected ${expected}, found ${describe(found)}`, { field });
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value}'`;
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(field: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const where = field === '' ? key : `${field}.${key}`;
      throw new ConfigError(`matrix has an unknown field '${where}'; allowed here: ${allowed.join(', ')}`, { field: where });
    }
  }
}

function nonEmptyList(field: string, value: unknown): unknown[] {
  if (!Array.isArray(value) || value.length === 0) fail(field, 'a non-empty list', value);
  return value;
}

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
    if (typeof spec !== 'string' || spec.trim() === '') fail(`${field}[${i}]`, "a data spec such as 'synthetic:classification?rows=10000&cols=20&seed=1' or a file path", spec);
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

function parseTarget(field: string, value: unknown): Target | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) fail(field, "an object such as { \"loss\": 0.3 } or { \"score\": 0.9 }", value);
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
    target: parseTarget(`${field}.target`, entry.target),
  };
}

function parseNetwork(index: number, value: unknown): NetworkSpec {
  const field = `networks[${index}]`;
  if (!isRecord(value)) fail(field, 'an object such as { "name": "wan", "latencyMs": 5, "bandwidthMbit": 100 }', value);
  checkKeys(field, value, NETWORK_KEYS);
  const name = value.name;
  if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) fail(`${field}.name`, 'a name of letters, digits, _ . -', name);
  const network: NetworkSpec = { name };
  for (const key of NETWORK_KEYS.slice(1) as ('latencyMs' | 'jitterMs' | 'bandwidthMbit' | 'seed')[]) {
    const v = value[key];
    if (v === undefined) continue;
    const positive = key === 'bandwidthMbit';
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (positive && v === 0)) fail(`${field}.${key}`, `a finite number ${positive ? '> 0' : '>= 0'}`, v);
    network[key] = v;
  }
  if (name === 'loopback' && Object.keys(network).length > 1) fail(`${field}.name`, "another name: 'loopback' means no proxy, so it takes no settings", name);
  return network;
}

function networkList(value: unknown): NetworkSpec[] {
  const networks = nonEmptyList('networks', value).map((n, i) => parseNetwork(i, n));
  networks.forEach((network, i) => {
    if (networks.findIndex((other) => other.name === network.name) !== i) fail(`networks[${i}].name`, 'a name not used by an earlier profile', network.name);
  });
  return networks;
}

/**
 * The `--networks` flag: comma-separated profiles `name[:<n>ms][:<n>mbit][:<n>jitter]`, e.g.
 * `loopback,wan:5ms:100mbit` → [{ name: 'loopback' }, { name: 'wan', latencyMs: 5, bandwidthMbit: 100 }].
 * Pure; the result is validated again by parseMatrix.
 */
export function parseNetworksFlag(text: string): NetworkSpec[] {
  return text.split(',').map((item, i) => {
    const [name = '', ...settings] = item.trim().split(':');
    const network: NetworkSpec = { name };
    for (const setting of settings) {
      const match = /^(\d+(?:\.\d+)?)(ms|mbit|jitter)$/i.exec(setting.trim());
      if (match === null) throw new ConfigError(`--networks item ${i + 1} '${item}': expected name[:<n>ms][:<n>mbit][:<n>jitter] such as 'wan:5ms:100mbit', found '${setting}'`, { field: 'networks' });
      const amount = Number(match[1]);
      const unit = match[2]!.toLowerCase();
      network[unit === 'ms' ? 'latencyMs' : unit === 'mbit' ? 'bandwidthMbit' : 'jitterMs'] = amount;
    }
    return network;
  });
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** Paradigms `compare` can launch itself (cluster ranks are started by an orchestrator, one per host). */
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
  const models = nonEmptyList('models', value.models).map((m, i) => parseModel(i, m));
  const workers = unique(nonEmptyList('workers', value.workers ?? [1, 2]).map((w, i) => positiveInteger(`workers[${i}]`, w))).sort((a, b) => a - b);
  const testFraction = value.testFraction ?? 0.2;
  if (typeof testFraction !== 'number' || !(testFraction > 0 && testFraction < 1)) fail('testFraction', 'a number between 0 and 1 (exclusive)', testFraction);
  const seed = value.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) fail('seed', 'an integer', seed);
  const timeoutMs = value.timeoutMs ?? null;
  if (timeoutMs !== null && (typeof timeoutMs !== 'number' || !(timeoutMs > 0))) fail('timeoutMs', 'a positive number of milliseconds', timeoutMs);
  const warmup = value.warmup ?? true;
  if (typeof warmup !== 'boolean') fail('warmup', 'true or false', warmup);
  const name = value.name ?? 'compare';
  if (typeof name !== 'string') fail('name', 'a string', name);
  return {
    name,
    models,
    data: value.data === undefined ? defaultDataFor(models) : dataList('data', value.data),
    paradigms: unique(nonEmptyList('paradigms', value.paradigms ?? DEFAULT_PARADIGMS).map((p, i) => oneOf(`paradigms[${i}]`, p, PARADIGMS))),
    workers,
    strategies: value.strategies === undefined ? ['allreduce'] : strategyList('strategies', value.strategies),
    repeats: positiveInteger('repeats', value.repeats ?? 3),
    testFraction,
    seed,
    target: parseTarget('target', value.target),
    timeoutMs,
    warmup,
    networks: value.networks === undefined ? [LOOPBACK] : networkList(value.networks),
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
  }
}

function defaultDataFor(models: ModelSpec[]): string[] {
  return unique(models.map((m) => syntheticSpecFor(m.name, 200_000)));
}

/** Models the default matrix runs, when registered: one SGD classifier, one clusterer. */
export const DEFAULT_MODELS = ['logistic-regression', 'kmeans'];
/** Logistic regression by SGD so the strategies (allreduce vs hogwild) matter; k = the data's 8 centres. */
const DEFAULT_PARAMS: Record<string, Record<string, unknown>> = { 'logistic-regression': { solver: 'sgd' }, kmeans: { k: 8 } };

/**
 * The default comparison: logistic regression by SGD (allreduce vs hogwild) and k-means on
 * synthetic data of 20k and 200k rows, sequential vs threads vs processes with 1 and 2 workers,
 * 3 repeats — a few minutes on 2 cores. Models that are not registered are left out; `rows` sets
 * the larger size (tests, `--quick`).
 */
export function defaultMatrix(options: { rows?: number; repeats?: number } = {}): Matrix {
  return parseMatrix(defaultMatrixSpec(options));
}

/** The default matrix as the plain object a matrix file would hold (flags override its fields). */
export function defaultMatrixSpec(options: { rows?: number; repeats?: number } = {}): Record<string, unknown> {
  const rows = options.rows ?? 200_000;
  // Two sizes a decade apart, so the report can show where (if anywhere) distributed overtakes parallel.
  const sizes = [Math.max(1000, Math.round(rows / 10)), rows];
  const registered = modelNames();
  const chosen = DEFAULT_MODELS.filter((name) => registered.includes(name));
  const models = (chosen.length > 0 ? chosen : registered.slice(0, 2)).map((name) => ({
    name,
    params: DEFAULT_PARAMS[name] ?? {},
    data: sizes.map((size) => syntheticSpecFor(name, size)),
  }));
  if (models.length === 0) throw new ConfigError('no model is registered; import the package entry (shardlearn) first', { field: 'models' });
  return {
    name: 'default',
    models,
    paradigms: DEFAULT_PARADIGMS,
    workers: [1, 2],
    strategies: ['allreduce', 'hogwild'],
    repeats: options.repeats ?? 3,
  };
}

/**
 * Whether the matrix's strategies apply to a model: mini-batch SGD models take a `batchSize`
 * (models/sgd.ts) and, when they have several solvers, run `solver: 'sgd'`; closed-form, L-BFGS
 * and Lloyd-style trainers all-reduce statistics and ignore the strategy.
 */
export function trainsBySgd(model: string, params: Record<string, unknown>): boolean {
  const resolved = createModel(model, params).params as Record<string, unknown>;
  return 'batchSize' in resolved && (!('solver' in resolved) || resolved.solver === 'sgd');
}

export function cellId(cell: Omit<Cell, 'id' | 'target' | 'network'> & { network?: NetworkSpec | string | undefined }): string {
  const params = Object.keys(cell.params).length === 0 ? '' : JSON.stringify(cell.params);
  // Loopback cells keep the ids they had before network profiles existed.
  const name = typeof cell.network === 'string' ? cell.network : (cell.network?.name ?? LOOPBACK.name);
  const network = name === LOOPBACK.name ? [] : [name];
  return [cell.model + params, cell.data, cell.paradigm, cell.workers, cell.strategy, ...network].join('|');
}

function whyNot(paradigm: Paradigm, strategy: StrategyName, available: readonly Paradigm[]): string | null {
  if (paradigm === 'cluster') {
    return "cluster ranks are started one per host by an orchestrator (MASTER_ADDR, WORLD_SIZE, RANK); compare launches its own workers — measure 'processes' here, or run 'shardlearn train --paradigm cluster' under the orchestrator";
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
export function expandMatrix(matrix: Matrix, available: readonly Paradigm[] = availableParadigms()): { cells: Cell[]; skipped: SkippedCell[] } {
  const cells: Cell[] = [];
  const skipped: SkippedCell[] = [];
  const paradigms = [...matrix.paradigms].sort((a, b) => PARADIGMS.indexOf(a) - PARADIGMS.indexOf(b));
  for (const model of matrix.models) {
    const strategies = model.strategies ?? (trainsBySgd(model.name, model.params) ? matrix.strategies : ['allreduce' as const]);
    for (const data of model.data ?? matrix.data) {
      for (const paradigm of paradigms) {
        const workerCounts = paradigm === 'sequential' ? [1] : matrix.workers;
        const strategyList: StrategyName[] = paradigm === 'sequential' ? ['allreduce'] : strategies;
        for (const workers of workerCounts) {
          for (const strategy of strategyList) {
            const reason = whyNot(paradigm, strategy, available);
            if (reason !== null) {
              skipped.push({ model: model.name, data, paradigm, workers, strategy, reason });
              continue;
            }
            // Only processes ranks talk over TCP; the other paradigms run once, as loopback.
            for (const network of paradigm === 'processes' ? matrix.networks : [LOOPBACK]) {
              const base = { model: model.name, params: model.params, data, paradigm, workers, strategy, network };
              cells.push({ ...base, id: cellId(base), target: model.target ?? matrix.target });
            }
          }
        }
      }
    }
  }
  return { cells, skipped };
}
