/**
 * The model registry: a name (the CLI's model argument and the tag in saved files) to a factory.
 * Workers rebuild the model from (name, params) through it; `load` checks the tag against it.
 */
import { ConfigError, ShardlearnError } from '../core/errors.js';
import type { Estimator, ModelKind } from './estimator.js';
import type { AnyOptionSchema, OptionDoc } from './option-schema.js';
import { describeOptions } from './option-schema.js';
import type { AnyStateSchema } from './state-schema.js';

export type AnyEstimator = Estimator<object, object>;

export interface ModelEntry {
  name: string;
  kind: ModelKind;
  /** One line for `shardlearn --help` and the README. */
  summary: string;
  create(params: Record<string, unknown>): AnyEstimator;
  /** The hyperparameters: types, ranges, defaults, docs (`optionDocs`, help text). */
  options?: AnyOptionSchema;
  /**
   * The learned state's fields, checked when a saved model is loaded. A model without one loads
   * unchecked; the estimator conformance suite requires it.
   */
  state?: AnyStateSchema;
}

const models = new Map<string, ModelEntry>();

export function registerModel(entry: ModelEntry): void {
  if (models.has(entry.name)) throw new ShardlearnError('REGISTRY', `model '${entry.name}' is already registered`);
  models.set(entry.name, entry);
}

export function modelEntry(name: string): ModelEntry {
  const entry = models.get(name);
  if (entry === undefined) {
    throw new ConfigError(`unknown model '${name}'; expected one of: ${modelNames().join(', ')}`, { field: 'model' });
  }
  return entry;
}

export function createModel(name: string, params: Record<string, unknown> = {}): AnyEstimator {
  return modelEntry(name).create(params);
}

export function modelNames(): string[] {
  return [...models.keys()];
}

/**
 * The options of a registered model in words (name, type and range, default, doc), for
 * `shardlearn info` and the CLI's per-model help; empty for a model registered without a schema.
 *
 * @example
 * optionDocs('kmeans')[0]; // { name: 'k', type: 'integer ≥ 1', default: 8, doc: 'number of clusters' }
 */
export function optionDocs(name: string): OptionDoc[] {
  const schema = modelEntry(name).options;
  return schema === undefined ? [] : describeOptions(schema);
}
