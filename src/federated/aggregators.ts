/**
 * The aggregator registry: a spec string (the CLI's `--aggregator`, e.g. 'fedavg', 'fedprox:0.01',
 * 'fedadam:0.01') to a server rule (aggregator.ts's `Aggregator`) and what the clients compute for it
 * (`ClientRule`). Adding a rule is a `registerAggregator` call with a factory that parses the spec's
 * arguments; registering a name twice throws. The robust rules (median, trimmed mean, Krum) plug in
 * here the same way: a factory returning `{ aggregator, client: LOCAL_SGD }`.
 *
 * The math is pure (Flower's aggregate.py): each rule turns the round's updates, already filtered of
 * non-finite ones by the server (server.ts), into the step added to the global model.
 *
 * - fedavg (McMahan et al. 2017): the weighted mean of the clients' deltas, weights = their rows.
 * - fedsgd[:<lr>]: each client sends minus its full-batch mean gradient at the global model (no local
 *   step); the server steps lr × their weighted mean, one SGD step per round. Default lr 0.1.
 * - fedprox:<μ> (Li et al. 2020): clients add the proximal term μ(w − w_global) to every local
 *   gradient; the server averages as fedavg.
 * - fedavgm[:<β>[:<lr>]] (Hsu et al. 2019): server momentum v ← βv + mean, step lr·v. Defaults β 0.9,
 *   lr 0.1, so the steady-state step lr/(1−β) equals fedavg's (Hsu et al. found effective rates near 1 best).
 * - fedadam[:<lr>[:<τ>]] (Reddi et al. 2021, "Adaptive federated optimization"): Adam on the mean
 *   delta as a pseudo-gradient, β1 0.9, β2 0.99, no bias correction (their Algorithm 2); defaults
 *   lr 0.01, τ 1e-3.
 * - median, trimmed-mean:<β>, krum:<f>, multi-krum:<f>:<m>: the Byzantine-robust rules of robust.ts
 *   (clients run plain local SGD; the rules ignore the clients' example counts).
 *
 * @example
 * const { aggregator, client } = createAggregator('fedprox:0.01');
 * const step = aggregator.aggregate(updates, global, round); // add to global
 */
import { ConfigError, ShardlearnError } from '../core/errors.js';
import type { Aggregator, ClientUpdate } from './aggregator.js';
import { createRobustAggregator } from './robust.js';

/** What a client computes each round for an aggregator. */
export interface ClientRule {
  /** 'local-sgd': local epochs of the model's own update rule, delta = w_local − w_global; 'gradient': one full-batch gradient, delta = −∇ (FedSGD). */
  kind: 'local-sgd' | 'gradient';
  /** FedProx's proximal coefficient μ added to every local gradient as μ(w − w_global); 0 for none. */
  proximalMu: number;
}

export const LOCAL_SGD: ClientRule = { kind: 'local-sgd', proximalMu: 0 };

/** An aggregator and its clients' rule, as the registry builds them from a spec. */
export interface AggregatorChoice {
  aggregator: Aggregator;
  client: ClientRule;
}

/** Builds a rule from the spec's arguments (the parts after the name, split on ':'); throws a ConfigError for bad ones. */
export type AggregatorFactory = (args: readonly string[], spec: string) => AggregatorChoice;

interface Entry {
  factory: AggregatorFactory;
  /** The spec's form for messages and help, e.g. 'fedprox:<μ>'. */
  usage: string;
}

const registry = new Map<string, Entry>();

/** Register `name` (the spec's part before the first ':'); `usage` shows its arguments, e.g. 'fedprox:<μ>'. */
export function registerAggregator(name: string, usage: string, factory: AggregatorFactory): void {
  if (registry.has(name)) throw new ShardlearnError('REGISTRY', `aggregator '${name}' is already registered`);
  registry.set(name, { factory, usage });
}

/** The registered aggregators' usages ('fedavg', 'fedprox:<μ>', …), for help and messages. */
export function aggregatorUsages(): string[] {
  return [...registry.values()].map((entry) => entry.usage);
}

/** The aggregator a spec names, with its clients' rule; a ConfigError naming the registered ones when unknown. */
export function createAggregator(spec: string): AggregatorChoice {
  const [name = '', ...args] = spec.split(':');
  const entry = registry.get(name);
  if (entry === undefined)
    throw new ConfigError(`unknown aggregator '${spec}'; expected one of: ${aggregatorUsages().join(', ')}`, { field: 'aggregator' });
  return entry.factory(args, spec);
}

/** Argument `index` of `spec` as a number in (min, max], or `fallback` when absent. */
export function numberArgument(
  spec: string,
  args: readonly string[],
  index: number,
  what: string,
  fallback: number,
  range: { min: number; max?: number; minInclusive?: boolean } = { min: 0 },
): number {
  const text = args[index];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  const aboveMin = range.minInclusive === true ? value >= range.min : value > range.min;
  if (!Number.isFinite(value) || !aboveMin || (range.max !== undefined && value > range.max))
    throw new ConfigError(
      `aggregator '${spec}': ${what} must be a number ${range.minInclusive === true ? '≥' : '>'} ${range.min}${range.max === undefined ? '' : ` and ≤ ${range.max}`}, found '${text}'`,
      { field: 'aggregator' },
    );
  return value;
}

function noMoreArguments(spec: string, args: readonly string[], allowed: number, usage: string): void {
  if (args.length > allowed) throw new ConfigError(`aggregator '${spec}' has too many parts; expected ${usage}`, { field: 'aggregator' });
}

/**
 * Σ wₖ·Δₖ / Σ wₖ over `updates` (a new array of `dim` values), in the updates' order. Throws when
 * there is nothing to average: a server skips a round with no update instead.
 */
export function weightedMean(updates: readonly ClientUpdate[], dim: number): Float64Array {
  const mean = new Float64Array(dim);
  let total = 0;
  for (const update of updates) {
    if (update.delta.length !== dim)
      throw new ConfigError(`client ${update.client} sent ${update.delta.length} values, the global model has ${dim}`, { field: 'delta' });
    if (!(update.weight > 0)) continue;
    total += update.weight;
    for (let j = 0; j < dim; j++) mean[j]! += update.weight * update.delta[j]!;
  }
  if (total === 0) throw new ConfigError('no client update with a positive weight to average', { field: 'updates' });
  for (let j = 0; j < dim; j++) mean[j]! /= total;
  return mean;
}

/** FedAvg: the weighted mean delta, times a server rate (1 for FedAvg itself). */
export class FedAvg implements Aggregator {
  constructor(
    readonly name: string,
    private readonly serverLr = 1,
  ) {}

  aggregate(updates: readonly ClientUpdate[], global: Float64Array): Float64Array {
    const step = weightedMean(updates, global.length);
    if (this.serverLr !== 1) for (let j = 0; j < step.length; j++) step[j]! *= this.serverLr;
    return step;
  }
}

/** FedAvgM: server momentum over the mean delta. */
export class FedAvgM implements Aggregator {
  readonly name = 'fedavgm';
  private velocity: Float64Array | null = null;

  constructor(
    private readonly momentum: number,
    private readonly serverLr: number,
  ) {}

  aggregate(updates: readonly ClientUpdate[], global: Float64Array): Float64Array {
    const mean = weightedMean(updates, global.length);
    const velocity = (this.velocity ??= new Float64Array(global.length));
    const step = new Float64Array(global.length);
    for (let j = 0; j < step.length; j++) {
      velocity[j] = this.momentum * velocity[j]! + mean[j]!;
      step[j] = this.serverLr * velocity[j]!;
    }
    return step;
  }
}

/** FedAdam: Adam's moments over the mean delta (a pseudo-gradient pointing downhill), no bias correction. */
export class FedAdam implements Aggregator {
  readonly name = 'fedadam';
  private first: Float64Array | null = null;
  private second: Float64Array | null = null;

  constructor(
    private readonly serverLr: number,
    private readonly tau: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.99,
  ) {}

  aggregate(updates: readonly ClientUpdate[], global: Float64Array): Float64Array {
    const mean = weightedMean(updates, global.length);
    const m = (this.first ??= new Float64Array(global.length));
    const v = (this.second ??= new Float64Array(global.length));
    const step = new Float64Array(global.length);
    for (let j = 0; j < step.length; j++) {
      const g = mean[j]!;
      m[j] = this.beta1 * m[j]! + (1 - this.beta1) * g;
      v[j] = this.beta2 * v[j]! + (1 - this.beta2) * g * g;
      step[j] = (this.serverLr * m[j]!) / (Math.sqrt(v[j]!) + this.tau);
    }
    return step;
  }
}

registerAggregator('fedavg', 'fedavg', (args, spec) => {
  noMoreArguments(spec, args, 0, 'fedavg');
  return { aggregator: new FedAvg('fedavg'), client: LOCAL_SGD };
});
registerAggregator('fedsgd', 'fedsgd[:<lr>]', (args, spec) => {
  noMoreArguments(spec, args, 1, 'fedsgd[:<lr>]');
  const lr = numberArgument(spec, args, 0, 'the server learning rate', 0.1);
  return { aggregator: new FedAvg('fedsgd', lr), client: { kind: 'gradient', proximalMu: 0 } };
});
registerAggregator('fedprox', 'fedprox:<μ>', (args, spec) => {
  noMoreArguments(spec, args, 1, 'fedprox:<μ>');
  if (args[0] === undefined) throw new ConfigError(`aggregator '${spec}' needs μ, e.g. fedprox:0.01`, { field: 'aggregator' });
  const mu = numberArgument(spec, args, 0, 'μ', 0, { min: 0, minInclusive: true });
  return { aggregator: new FedAvg('fedprox'), client: { kind: 'local-sgd', proximalMu: mu } };
});
registerAggregator('fedavgm', 'fedavgm[:<β>[:<lr>]]', (args, spec) => {
  noMoreArguments(spec, args, 2, 'fedavgm[:<β>[:<lr>]]');
  const momentum = numberArgument(spec, args, 0, 'the momentum β', 0.9, { min: 0, max: 1, minInclusive: true });
  const lr = numberArgument(spec, args, 1, 'the server learning rate', 1 - momentum === 0 ? 1 : 1 - momentum);
  return { aggregator: new FedAvgM(momentum, lr), client: LOCAL_SGD };
});
registerAggregator('fedadam', 'fedadam[:<lr>[:<τ>]]', (args, spec) => {
  noMoreArguments(spec, args, 2, 'fedadam[:<lr>[:<τ>]]');
  const lr = numberArgument(spec, args, 0, 'the server learning rate', 0.01);
  const tau = numberArgument(spec, args, 1, 'τ', 1e-3);
  return { aggregator: new FedAdam(lr, tau), client: LOCAL_SGD };
});
for (const [name, usage] of [
  ['median', 'median'],
  ['trimmed-mean', 'trimmed-mean:<β>'],
  ['krum', 'krum:<f>'],
  ['multi-krum', 'multi-krum:<f>:<m>'],
] as const)
  registerAggregator(name, usage, (_args, spec) => ({ aggregator: createRobustAggregator(spec)!, client: LOCAL_SGD }));
