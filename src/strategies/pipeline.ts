/**
 * The `pipeline` strategy: model parallelism (GPipe). It combines no gradients — each rank holds one
 * stage of the network and updates only that stage's parameters — so it is a marker the neural
 * models read (`name === 'pipeline'`, `microBatches`) to run their pipeline trainer instead of
 * data-parallel SGD. A model without a pipeline trainer that reaches `setup` gets a ConfigError.
 *
 * `pipeline` cuts each global mini-batch into 4 micro-batches; `pipeline:<m>` into m.
 *
 * @example
 * await new CNN().fit(data, { paradigm: 'threads', workers: 2, strategy: 'pipeline' });
 * // CLI: shardlearn train cnn --data builtin:mnist --paradigm processes --workers 2 --strategy pipeline:8
 */
import { ConfigError } from '../core/errors.js';
import type { ApplyUpdate, GradientStrategy } from './strategy.js';

/** Micro-batches per global mini-batch when the name gives none. */
export const DEFAULT_MICRO_BATCHES = 4;

export class PipelineStrategy implements GradientStrategy {
  readonly name = 'pipeline';
  readonly synchronous = true;

  constructor(readonly microBatches: number = DEFAULT_MICRO_BATCHES) {
    if (!Number.isInteger(microBatches) || microBatches < 1) {
      throw new ConfigError(`strategy 'pipeline:<m>' needs a whole number of micro-batches m ≥ 1, got ${microBatches}`, { field: 'strategy' });
    }
  }

  setup(_initial: Float64Array): Promise<Float64Array> {
    return Promise.reject(new ConfigError(
      "strategy 'pipeline' splits a neural network's layers over the workers; only the neural models (mlp, cnn) train with it — choose 'allreduce' for this model",
      { field: 'strategy' },
    ));
  }

  step(_params: Float64Array, _gradientSum: Float64Array, _count: number, _apply: ApplyUpdate): Promise<void> {
    return this.setup(_params).then(() => undefined);
  }

  finish(_params: Float64Array): Promise<void> {
    return Promise.resolve();
  }
}

/** 'pipeline' → 4 micro-batches, 'pipeline:8' → 8. */
export function parseMicroBatches(name: string): number {
  const match = /^pipeline(?::(\d+))?$/.exec(name);
  if (match === null) throw new ConfigError(`expected 'pipeline' or 'pipeline:<micro-batches>', got '${name}'`, { field: 'strategy' });
  return match[1] === undefined ? DEFAULT_MICRO_BATCHES : Number(match[1]);
}
