/**
 * The strategy registry: a name (also the `--strategy` CLI value) to a factory. Adding a strategy is
 * a file and a `registerStrategy` line; registering a name twice throws.
 */
import type { Communicator } from '../comm/communicator.js';
import { ConfigError, ShardlearnError } from '../core/errors.js';
import { AllReduceStrategy } from './allreduce.js';
import { HogwildStrategy } from './hogwild.js';
import type { GradientStrategy, StrategyName } from './strategy.js';

/** What a strategy may need beyond the communicator (e.g. the shared parameter vector for Hogwild). */
export interface StrategyEnvironment {
  comm: Communicator;
  /** Shared parameter storage the runtime prepared, when the paradigm has shared memory. */
  sharedParams?: Float64Array | undefined;
}

export type StrategyFactory = (env: StrategyEnvironment) => GradientStrategy;

const factories = new Map<string, StrategyFactory>();

export function registerStrategy(name: StrategyName, factory: StrategyFactory): void {
  if (factories.has(name)) throw new ShardlearnError('REGISTRY', `strategy '${name}' is already registered`);
  factories.set(name, factory);
}

export function strategyNames(): string[] {
  return [...factories.keys()];
}

export function createStrategy(name: string, env: StrategyEnvironment): GradientStrategy {
  const factory = factories.get(name);
  if (factory === undefined) {
    throw new ConfigError(`unknown strategy '${name}'; expected one of: ${strategyNames().join(', ')}`, { field: 'strategy' });
  }
  return factory(env);
}

registerStrategy('allreduce', ({ comm }) => new AllReduceStrategy(comm));
registerStrategy('hogwild', ({ comm, sharedParams }) => new HogwildStrategy(comm, sharedParams));

export type { GradientStrategy, StrategyName, ApplyUpdate } from './strategy.js';
