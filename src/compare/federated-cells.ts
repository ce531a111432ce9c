/**
 * The comparison's federated cells (issue 16; claim 'federated-privacy', the seed's §1 and §3): a
 * federation of clients, each holding only its own partition of the training rows, trains a model
 * with a server rule (FedAvg, FedSGD, …) until the global model's test score reaches a target or a
 * round cap. A cell is measured by what federated learning costs: rounds and bytes (clients → server
 * and back) to the target, wall time, the final score against the same model trained centrally.
 *
 * A matrix file declares them as sets whose lists multiply, beside its models:
 *
 *   "federated": [{ "model": "mlp", "params": { "hidden": [32], "optimizer": "sgd", "lr": 0.05, "batchSize": 10, "epochs": 5 },
 *                   "data": "builtin:mnist", "target": 0.9, "rounds": 100,
 *                   "aggregators": ["fedavg", "fedsgd:0.5"], "partitions": ["iid", "dirichlet:0.5", "dirichlet:0.1"],
 *                   "clients": [20], "fractions": [0.25], "localEpochs": [2] }]
 *
 * and `secureAggregation: true` or `dp: { clip, noiseMultiplier, delta }` make a set's cells private.
 *
 * @example
 * const cells = expandFederated(parseFederatedList('federated', matrixJson.federated));
 */
import { ConfigError } from '../core/errors.js';
import type { FitOptions } from '../models/paradigm.js';
import { createModel, modelNames } from '../models/registry.js';
import { checkFederatedOptions } from '../runtime/federated.js';
import { checkKeys, describe, fail, isRecord, nonEmptyList } from './matrix-fields.js';

type FederatedOptions = NonNullable<FitOptions['federated']>;

/** Differential privacy of a set's cells (DP-FedAvg; FederatedOptions.dp). */
export interface FederatedDp {
  clip: number;
  noiseMultiplier: number;
  delta: number;
}

/** One `federated` entry of a matrix: the lists multiply into cells. */
export interface FederatedSet {
  model: string;
  /** The model's options; its `epochs` is the centralised fit's (each client trains `localEpochs` per round instead). */
  params: Record<string, unknown>;
  data: string;
  /** The test score (accuracy, or R² for a regressor) a cell's global model must reach. */
  target: number;
  /** The round cap: a cell that has not reached the target after this many rounds records null. */
  rounds: number;
  aggregators: string[];
  partitions: string[];
  clients: number[];
  fractions: number[];
  localEpochs: number[];
  secureAggregation: boolean;
  dp: FederatedDp | null;
  /** Score the global model every this many rounds (rounds to target are known to this resolution). */
  evalEvery: number;
  /** Seeds the partition, the sampling and the clients' shuffles (the cells are deterministic given it). */
  seed: number;
  /** Fits per cell; rounds and bytes repeat exactly under a seed, wall time does not. */
  repeats: number;
  /** Stop at the round that reached the target (default, the budget); false runs every round up to the cap. */
  stopAtTarget: boolean;
}

/** One federated configuration to fit `repeats` times. */
export interface FederatedCell {
  /** Stable key (every field below), for resuming and for pairing a private cell with its plain twin. */
  key: string;
  model: string;
  params: Record<string, unknown>;
  data: string;
  aggregator: string;
  partition: string;
  clients: number;
  fraction: number;
  localEpochs: number;
  rounds: number;
  target: number;
  secureAggregation: boolean;
  dp: FederatedDp | null;
  evalEvery: number;
  seed: number;
  stopAtTarget: boolean;
}

const SET_KEYS = [
  'model',
  'params',
  'data',
  'target',
  'rounds',
  'aggregators',
  'partitions',
  'clients',
  'fractions',
  'localEpochs',
  'secureAggregation',
  'dp',
  'evalEvery',
  'seed',
  'repeats',
  'stopAtTarget',
];

const whole = (field: string, value: unknown, fallback: number, min: number): number => {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(field, `an integer >= ${min}`, value);
  return value;
};

const flag = (field: string, value: unknown, fallback: boolean): boolean => {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(field, 'true or false', value);
  return value;
};

function numbers(field: string, value: unknown, fallback: number[], ok: (n: number) => boolean, expected: string): number[] {
  if (value === undefined) return fallback;
  return nonEmptyList(field, value).map((n, i) => {
    if (typeof n !== 'number' || !ok(n)) fail(`${field}[${i}]`, expected, n);
    return n;
  });
}

function strings(field: string, value: unknown, fallback: string[], expected: string): string[] {
  if (value === undefined) return fallback;
  return nonEmptyList(field, value).map((s, i) => {
    if (typeof s !== 'string' || s.trim() === '') fail(`${field}[${i}]`, expected, s);
    return s.trim();
  });
}

function parseDp(field: string, value: unknown): FederatedDp | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) fail(field, 'an object { "clip": 1, "noiseMultiplier": 1, "delta": 1e-5 }', value);
  checkKeys(field, value, ['clip', 'noiseMultiplier', 'delta']);
  const { clip, noiseMultiplier, delta } = value;
  if (typeof clip !== 'number' || typeof noiseMultiplier !== 'number' || typeof delta !== 'number')
    fail(field, 'numbers clip, noiseMultiplier and delta', value);
  return { clip, noiseMultiplier, delta };
}

function parseSet(field: string, value: unknown): FederatedSet {
  if (!isRecord(value)) fail(field, 'an object such as { "model": "mlp", "data": "builtin:mnist", "target": 0.9 }', value);
  checkKeys(field, value, SET_KEYS);
  const model = value.model;
  if (typeof model !== 'string' || !modelNames().includes(model)) fail(`${field}.model`, `one of ${modelNames().join(', ')}`, model);
  const params = value.params ?? {};
  if (!isRecord(params)) fail(`${field}.params`, 'an object of model options', params);
  const kind = createModel(model, params).kind;
  if (kind !== 'classifier' && kind !== 'regressor')
    fail(`${field}.model`, 'a classifier or a regressor trained by gradient (its cells count rounds to a test score)', model);
  const data = value.data ?? 'builtin:mnist';
  if (typeof data !== 'string' || data.trim() === '') fail(`${field}.data`, 'a data spec', data);
  const target = value.target;
  if (typeof target !== 'number' || !(target > 0 && target <= 1)) fail(`${field}.target`, 'a test score in (0, 1]', target);
  return {
    model,
    params,
    data,
    target,
    rounds: whole(`${field}.rounds`, value.rounds, 100, 1),
    aggregators: strings(
      `${field}.aggregators`,
      value.aggregators,
      ['fedavg', 'fedsgd:0.5'],
      "an aggregator such as 'fedavg' or 'fedsgd:0.5'",
    ),
    partitions: strings(`${field}.partitions`, value.partitions, ['iid'], "a partition such as 'iid' or 'dirichlet:0.5'"),
    clients: numbers(`${field}.clients`, value.clients, [20], (n) => Number.isInteger(n) && n >= 1, 'a whole number >= 1'),
    fractions: numbers(`${field}.fractions`, value.fractions, [0.25], (n) => n > 0 && n <= 1, 'a fraction in (0, 1]'),
    localEpochs: numbers(`${field}.localEpochs`, value.localEpochs, [1], (n) => Number.isInteger(n) && n >= 1, 'a whole number >= 1'),
    secureAggregation: flag(`${field}.secureAggregation`, value.secureAggregation, false),
    dp: parseDp(`${field}.dp`, value.dp),
    evalEvery: whole(`${field}.evalEvery`, value.evalEvery, 1, 1),
    seed: whole(`${field}.seed`, value.seed, 1, 0),
    repeats: whole(`${field}.repeats`, value.repeats, 1, 1),
    stopAtTarget: flag(`${field}.stopAtTarget`, value.stopAtTarget, true),
  };
}

/** The fit options of a cell (evaluation and callbacks aside). */
export function federatedOptions(cell: Omit<FederatedCell, 'key'>): FederatedOptions {
  return {
    clients: cell.clients,
    fraction: cell.fraction,
    rounds: cell.rounds,
    localEpochs: cell.localEpochs,
    partition: cell.partition,
    aggregator: cell.aggregator,
    seed: cell.seed,
    ...(cell.secureAggregation ? { secureAggregation: true } : {}),
    ...(cell.dp === null ? {} : { dp: cell.dp }),
  };
}

/**
 * The matrix's `federated` list, validated (absent = none): every cell it expands to is checked as
 * the federated paradigm would check it, so a bad aggregator or partition fails before any fit.
 */
export function parseFederatedList(field: string, value: unknown): FederatedSet[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(field, 'a list of federated sets', value);
  const sets = value.map((entry, i) => parseSet(`${field}[${i}]`, entry));
  sets.forEach((set, i) => {
    for (const cell of expandSet(set)) {
      try {
        checkFederatedOptions(federatedOptions(cell));
      } catch (error) {
        if (error instanceof ConfigError)
          throw new ConfigError(`matrix field '${field}[${i}]': ${error.message}`, { field: `${field}[${i}]`, cause: error });
        throw error;
      }
    }
  });
  return sets;
}

/** Stable key of a cell. */
export function federatedKey(cell: Omit<FederatedCell, 'key'>): string {
  const privacy = [...(cell.secureAggregation ? ['secagg'] : []), ...(cell.dp === null ? [] : [`dp=${JSON.stringify(cell.dp)}`])];
  return [
    cell.model + JSON.stringify(cell.params),
    cell.data,
    cell.aggregator,
    cell.partition,
    `clients=${cell.clients}`,
    `fraction=${cell.fraction}`,
    `E=${cell.localEpochs}`,
    `rounds=${cell.rounds}`,
    `target=${cell.target}`,
    `every=${cell.evalEvery}`,
    `seed=${cell.seed}`,
    ...(cell.stopAtTarget ? [] : ['all-rounds']),
    ...privacy,
  ].join('|');
}

function expandSet(set: FederatedSet): FederatedCell[] {
  const cells: FederatedCell[] = [];
  for (const partition of set.partitions)
    for (const aggregator of set.aggregators)
      for (const clients of set.clients)
        for (const fraction of set.fractions)
          for (const localEpochs of set.localEpochs) {
            const base = {
              model: set.model,
              params: set.params,
              data: set.data,
              aggregator,
              partition,
              clients,
              fraction,
              localEpochs,
              rounds: set.rounds,
              target: set.target,
              secureAggregation: set.secureAggregation,
              dp: set.dp,
              evalEvery: set.evalEvery,
              seed: set.seed,
              stopAtTarget: set.stopAtTarget,
            };
            cells.push({ ...base, key: federatedKey(base) });
          }
  return cells;
}

/** Every cell of the sets with its repeats, in run order; a cell two sets name runs once. */
export function expandFederated(sets: readonly FederatedSet[]): { cell: FederatedCell; repeats: number }[] {
  const seen = new Map<string, { cell: FederatedCell; repeats: number }>();
  for (const set of sets)
    for (const cell of expandSet(set)) {
      const found = seen.get(cell.key);
      if (found === undefined) seen.set(cell.key, { cell, repeats: set.repeats });
      else found.repeats = Math.max(found.repeats, set.repeats);
    }
  return [...seen.values()];
}

/** What `compare --federated-…` flags replace in every federated set (or in the default set, when the matrix has none). */
export interface FederatedFlags {
  aggregators?: string[];
  partitions?: string[];
  clients?: number[];
  localEpochs?: number[];
  target?: number;
}

/**
 * The matrix's `federated` value with the CLI's flags applied to every set (a matrix without sets
 * gets the default one, so `--federated-partitions iid` alone measures something).
 */
export function applyFederatedFlags(value: unknown, flags: FederatedFlags): unknown {
  const given = Object.entries(flags).filter(([, v]) => v !== undefined);
  if (given.length === 0) return value;
  const sets = Array.isArray(value) && value.length > 0 ? value : defaultFederatedSets(false).slice(0, 1);
  return sets.map((set: unknown) => {
    if (!isRecord(set)) fail('federated', 'a list of federated sets', describe(set));
    return { ...set, ...Object.fromEntries(given) };
  });
}

/**
 * The default matrix's federated sets, sized for its budget (the default ≤ 5 minutes, `--quick` ≤
 * 30 s on 2 cores, shared with every other family): an MLP (784–32–10, plain SGD, lr 0.05, batch
 * 10) on builtin:mnist's 8,000 training digits, 20 clients, 5 sampled per round, 2 local epochs,
 * to 90% test accuracy (the centralised fit, 5 epochs, reaches ~0.92). Measured alone (docs/compare.md):
 * FedAvg reaches it in 6 rounds IID, 23 at Dirichlet 0.5 and 60 at Dirichlet 0.1; FedSGD (lr 0.5)
 * in 59 IID and not within 100 rounds at Dirichlet 0.1; ~35 s in all.
 * - default: FedAvg and FedSGD × IID, Dirichlet 0.5 and 0.1 (cap 100 rounds), and FedAvg IID under
 *   secure aggregation (its byte overhead against the plain twin; ~3 s). No DP cell: with 5 clients a
 *   round, a noise that leaves a useful model spends an ε in the hundreds (σ 0.3: ε ≈ 510 at 60
 *   rounds, accuracy 0.86; σ 1: ε ≈ 16, accuracy 0.40), which says more about the federation's size
 *   than about DP; a matrix file can add one (`dp`).
 * - `--quick`: one pair, FedAvg against FedSGD, IID, cap 10 rounds (FedSGD does not reach 90% by then
 *   and its cell says so), the centralised fit 2 epochs; ~4 s with loading MNIST.
 */
export function defaultFederatedSets(quick: boolean): Record<string, unknown>[] {
  const base = {
    model: 'mlp',
    params: { hidden: [32], optimizer: 'sgd', momentum: 0, lr: 0.05, batchSize: 10, epochs: 5 },
    data: 'builtin:mnist',
    target: 0.9,
    clients: [20],
    fractions: [0.25],
    localEpochs: [2],
  };
  if (quick)
    return [{ ...base, params: { ...base.params, epochs: 2 }, rounds: 10, aggregators: ['fedavg', 'fedsgd:0.5'], partitions: ['iid'] }];
  return [
    { ...base, rounds: 100, aggregators: ['fedavg', 'fedsgd:0.5'], partitions: ['iid', 'dirichlet:0.5', 'dirichlet:0.1'] },
    { ...base, rounds: 100, aggregators: ['fedavg'], partitions: ['iid'], secureAggregation: true },
  ];
}
