/**
 * Saving and loading fitted models as JSON: a name tag checked on load (ml.js), the format version,
 * the hyperparameters and the learned state. Typed arrays are stored as base64 of their raw bytes
 * (exact, compact) with their type, so a loaded model predicts bit-for-bit as the saved one.
 * Writes are atomic (core/atomic-file.ts), so a crash never leaves half a model behind.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic-file.js';
import { ShardlearnError } from '../core/errors.js';
import type { AnyEstimator } from './registry.js';
import { createModel } from './registry.js';

export const MODEL_FORMAT = 'shardlearn-model';
export const MODEL_FORMAT_VERSION = 1;

const TYPED = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Uint8Array,
} as const;
type TypedName = keyof typeof TYPED;

function encode(value: unknown): unknown {
  for (const [name, ctor] of Object.entries(TYPED)) {
    if (value instanceof ctor) {
      const view = value as ArrayBufferView;
      return { $typed: name, base64: Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64') };
    }
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

function decode(value: unknown, where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => decode(v, where));
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record['$typed'] === 'string') {
      const name = record['$typed'] as TypedName;
      const ctor = TYPED[name];
      if (ctor === undefined || typeof record['base64'] !== 'string') {
        throw new ShardlearnError('MODEL_FORMAT', `${where}: unknown typed array '${String(record['$typed'])}'`);
      }
      const bytes = Buffer.from(record['base64'], 'base64');
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      return new ctor(copy.buffer, 0, copy.byteLength / ctor.BYTES_PER_ELEMENT);
    }
    if (typeof record['$number'] === 'string') return Number(record['$number']);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, decode(v, where)]));
  }
  return value;
}

/**
 * The JSON document of a fitted model. `preprocess` is the fitted input transformation the model
 * expects (e.g. a StandardScaler's JSON), stored with it so predictions apply the same scaling.
 */
export function serializeModel(model: AnyEstimator, preprocess?: unknown): string {
  return JSON.stringify({
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    model: model.name,
    params: encode(model.params),
    state: encode(model.state),
    ...(preprocess === undefined ? {} : { preprocess }),
  });
}

export function deserializeModel(text: string, where = 'model'): AnyEstimator {
  return deserializeDocument(text, where).model;
}

/** A saved model and the preprocessing saved with it (undefined when none). */
export interface SavedModel {
  model: AnyEstimator;
  preprocess: unknown;
}

export function deserializeDocument(text: string, where = 'model'): SavedModel {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ShardlearnError('MODEL_FORMAT', `${where}: not a shardlearn model file (invalid JSON)`, { cause: error });
  }
  const record = document as Record<string, unknown>;
  if (record === null || typeof record !== 'object' || record['format'] !== MODEL_FORMAT) {
    throw new ShardlearnError('MODEL_FORMAT', `${where}: not a shardlearn model file (expected format '${MODEL_FORMAT}')`);
  }
  if (record['version'] !== MODEL_FORMAT_VERSION) {
    throw new ShardlearnError('MODEL_FORMAT', `${where}: model format version ${String(record['version'])} is not supported (expected ${MODEL_FORMAT_VERSION})`);
  }
  if (typeof record['model'] !== 'string') throw new ShardlearnError('MODEL_FORMAT', `${where}: missing model name`);
  const model = createModel(record['model'], decode(record['params'], where) as Record<string, unknown>);
  return { model: model.setState(decode(record['state'], where) as object), preprocess: record['preprocess'] };
}

export async function saveModel(model: AnyEstimator, path: string, preprocess?: unknown): Promise<void> {
  await writeFileAtomic(path, serializeModel(model, preprocess));
}

/** Load a model file with the preprocessing saved beside the model. */
export async function loadSavedModel(path: string): Promise<SavedModel> {
  return deserializeDocument(await readFile(path, 'utf8'), path);
}

/**
 * Load a model saved by `saveModel`. With `expected`, a file holding another model is refused.
 */
export async function loadModel(path: string, expected?: string): Promise<AnyEstimator> {
  const model = deserializeModel(await readFile(path, 'utf8'), path);
  if (expected !== undefined && model.name !== expected) {
    throw new ShardlearnError('MODEL_FORMAT', `${path} holds a '${model.name}' model, expected '${expected}'`);
  }
  return model;
}
