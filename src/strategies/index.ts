/**
 * The strategy registry: a name (also the `--strategy` CLI value) to a factory. Adding a strategy is
 * a file and a `registerStrategy` line; registering a name twice throws.
 */
import type { Communicator } from '../comm/communicator.js';
import { ConfigError, ShardlearnError } from '../core/errors.js';
import { AllReduceStrategy } from './allreduce.js';
import { HogwildStrategy } from './hogwild.js';
import { ParameterServerStrategy, parseConsistency } from './parameter-server.js';
import { BackupParameterServer, closesEarly, parseRoundPolicy } from './ps-backup.js';
import type { GradientStrategy, StrategyName } from './strategy.js';
import type { CompressionOptions } from './compression.js';
import { compressionCodec } from './compression.js';

/** What a strategy may need beyond the communicator (e.g. the shared parameter vector for Hogwild). */
export interface StrategyEnvironment {
  comm: Communicator;
  /** Shared parameter storage the runtime prepared, when the paradigm has shared memory. */
  sharedParams?: Float64Array | undefined;
  /** `--compression` and `--compression-warmup`; only the strategies that compress read it. */
  compression?: CompressionOptions | undefined;
  /** Tensor fusion bucket cap in bytes (buckets.ts); absent = the whole vector in one bucket. Only all-reduce reads it. */
  bucketBytes?: number | undefined;
}

/** `name` is the requested name (for a parametric family such as 'ps-ssp:<s>', the full 'ps-ssp:2'). */
export type StrategyFactory = (env: StrategyEnvironment, name: string) => GradientStrategy;

const factories = new Map<string, StrategyFactory>();

/**
 * A parametric family is registered once under its pattern, e.g. 'ps-ssp:<s>', and matches 'ps-ssp:2';
 * a family registered as 'name:<options>' takes every other 'name:…' and its factory parses the rest,
 * throwing a ConfigError for parts it does not know.
 */
export function registerStrategy(name: StrategyName | `${string}:<s>` | `${string}:<options>`, factory: StrategyFactory): void {
  if (factories.has(name)) throw new ShardlearnError('REGISTRY', `strategy '${name}' is already registered`);
  factories.set(name, factory);
}

export function strategyNames(): string[] {
  return [...factories.keys()];
}

export function createStrategy(name: string, env: StrategyEnvironment): GradientStrategy {
  const factory = factoryFor(name);
  if (factory === undefined) throw unknownStrategy(name);
  if (env.compression !== undefined) checkCompression(name, env.compression);
  return factory(env, name);
}

/** Whether `name` selects a registered strategy (exactly, or as a member of a parametric family). */
export function isStrategyName(name: string): boolean {
  return factoryFor(name) !== undefined;
}

/**
 * Throws, before any worker starts, the ConfigError a worker would throw when it builds strategy
 * `name` (an unknown name, or a codec that strategy cannot use). Launchers call it so a bad name is
 * a ConfigError, not a WorkerError.
 */
export function checkStrategy(name: string, compression?: CompressionOptions): void {
  if (factoryFor(name) === undefined) throw unknownStrategy(name);
  if (name.startsWith('ps-sync:')) parseRoundPolicy(name);
  if (compression !== undefined) checkCompression(name, compression);
}

/** Pipeline parallelism was a strategy name ('pipeline:8:1f1b'); it is the fit option `pipeline` now, and the message says so. */
function unknownStrategy(name: string): ConfigError {
  const hint =
    name === 'pipeline' || name.startsWith('pipeline:')
      ? `; pipeline parallelism is not a strategy but its own fit option: FitOptions.pipeline ({ microBatches, schedule, replicas }), CLI --pipeline ${name.slice('pipeline:'.length) || 'default'}`
      : '';
  return new ConfigError(`unknown strategy '${name}'; expected one of: ${strategyNames().join(', ')}${hint}`, { field: 'strategy' });
}

/**
 * The strategies that compress (the all-reduce, the parameter server's pushes); the others refuse a
 * codec other than 'none' rather than ignore it. ps-sync with backup workers or a deadline pushes
 * whole uncompressed gradients to its chief.
 */
const compresses = (name: string): boolean =>
  name === 'allreduce' || (name.startsWith('ps-') && !(name.startsWith('ps-sync:') && closesEarly(parseRoundPolicy(name))));

/** Throws the ConfigError of a bad codec spec, or of a codec asked of a strategy that does not compress. */
export function checkCompression(name: string, compression: CompressionOptions): void {
  const codec = compressionCodec(compression);
  if (codec.layout !== 'identity' && !compresses(name)) {
    throw new ConfigError(
      `--compression ${compression.codec} needs a strategy that compresses (allreduce, ps-sync without backups or a deadline, ps-async, ps-ssp:<s>); strategy '${name}' sends its vectors uncompressed`,
      { field: 'compression' },
    );
  }
}

function factoryFor(name: string): StrategyFactory | undefined {
  return factories.get(name) ?? factories.get(name.replace(/:\d+$/, ':<s>')) ?? factories.get(name.replace(/:.*$/, ':<options>'));
}

registerStrategy('allreduce', ({ comm, compression, bucketBytes }) => new AllReduceStrategy(comm, compression, bucketBytes));
registerStrategy('hogwild', ({ comm, sharedParams }) => new HogwildStrategy(comm, sharedParams));
registerStrategy('ps-sync', ({ comm, compression }) => new ParameterServerStrategy(comm, { kind: 'sync' }, compression));
registerStrategy('ps-sync:<options>', ({ comm, compression }, name) => {
  const policy = parseRoundPolicy(name);
  return closesEarly(policy)
    ? new BackupParameterServer(comm, policy, name)
    : new ParameterServerStrategy(comm, { kind: 'sync' }, compression);
});
registerStrategy('ps-async', ({ comm, compression }) => new ParameterServerStrategy(comm, { kind: 'async' }, compression));
registerStrategy('ps-ssp:<s>', ({ comm, compression }, name) => new ParameterServerStrategy(comm, parseConsistency(name)!, compression));

export type { GradientStrategy, StrategyName, ApplyUpdate, RoundStats } from './strategy.js';
export type { CompressionOptions } from './compression.js';
