/**
 * Saving and loading fitted models as JSON: a name tag checked on load (ml.js), the format version,
 * the hyperparameters and the learned state. Typed arrays are stored as base64 of their raw bytes
 * (exact, compact) with their type, so a loaded model predicts bit-for-bit as the saved one.
 * Writes are atomic (core/atomic-file.ts), so a crash never leaves half a model behind.
 *
 * A model file is input: loading checks the name tag, the params against the model's option schema
 * and every state field against its state schema (type, finiteness, lengths related to other
 * fields), and fails with a ModelFormatError naming the file and the field.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic-file.js';
import { ConfigError } from '../core/errors.js';
import type { AnyEstimator } from './registry.js';
import { createModel, modelEntry, modelNames } from './registry.js';
import { ModelFormatError, checkState } from './state-schema.js';

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

/** The non-finite numbers `encode` writes as `{ $number }`; any other text there is a fault. */
const NON_FINITE = new Map([
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
]);

/** Inverse of `encode`; `field` is the path from the document's root, named in errors. */
function decode(value: unknown, file: string, field: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => decode(v, file, `${field}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (Object.hasOwn(record, '$typed')) {
      const name = record['$typed'];
      // Own keys only: '$typed: "constructor"' must not reach Object.prototype.constructor.
      if (typeof name !== 'string' || !Object.hasOwn(TYPED, name)) {
        throw new ModelFormatError(
          file,
          field,
          `unknown typed array ${JSON.stringify(name)}; expected one of ${Object.keys(TYPED).join(', ')}`,
        );
      }
      const ctor = TYPED[name as TypedName];
      if (typeof record['base64'] !== 'string') throw new ModelFormatError(file, field, `typed array without its base64 bytes`);
      const bytes = Buffer.from(record['base64'], 'base64');
      if (bytes.byteLength % ctor.BYTES_PER_ELEMENT !== 0) {
        throw new ModelFormatError(
          file,
          field,
          `${bytes.byteLength} bytes are not a whole number of ${name} elements (${ctor.BYTES_PER_ELEMENT} bytes each); the file is truncated or corrupt`,
        );
      }
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      return new ctor(copy.buffer, 0, copy.byteLength / ctor.BYTES_PER_ELEMENT);
    }
    if (Object.hasOwn(record, '$number')) {
      const text = record['$number'];
      const number = typeof text === 'string' ? NON_FINITE.get(text) : undefined;
      if (number === undefined)
        throw new ModelFormatError(file, field, `$number must be NaN, Infinity or -Infinity, found ${JSON.stringify(text)}`);
      return number;
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, decode(v, file, `${field}.${k}`)]));
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
    throw new ModelFormatError(where, undefined, 'not a shardlearn model file (invalid JSON)', { cause: error });
  }
  const record = document as Record<string, unknown>;
  if (record === null || typeof record !== 'object' || Array.isArray(record) || record['format'] !== MODEL_FORMAT) {
    throw new ModelFormatError(where, 'format', `not a shardlearn model file (expected format '${MODEL_FORMAT}')`);
  }
  if (record['version'] !== MODEL_FORMAT_VERSION) {
    throw new ModelFormatError(
      where,
      'version',
      `model format version ${String(record['version'])} is not supported (expected ${MODEL_FORMAT_VERSION})`,
    );
  }
  const name = record['model'];
  if (typeof name !== 'string' || !modelNames().includes(name)) {
    throw new ModelFormatError(
      where,
      'model',
      `expected a model name, one of ${modelNames().join(', ')}; found ${JSON.stringify(name) ?? 'nothing'}`,
    );
  }
  const params = decode(record['params'] ?? {}, where, 'params');
  if (params === null || typeof params !== 'object' || Array.isArray(params) || ArrayBuffer.isView(params)) {
    throw new ModelFormatError(where, 'params', `expected an object of hyperparameters, found ${JSON.stringify(record['params'])}`);
  }
  let model: AnyEstimator;
  try {
    model = createModel(name, params as Record<string, unknown>);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ModelFormatError(where, error.field === undefined ? 'params' : `params.${error.field}`, error.message, { cause: error });
  }
  const state = decode(record['state'], where, 'state');
  const schema = modelEntry(name).state;
  if (schema !== undefined) checkState(schema, state, model.params, where);
  return { model: model.setState(state as object), preprocess: checkPreprocess(record['preprocess'], where) };
}

/** The preprocessing steps a model file may carry (data/preprocess.ts writes them). */
const PREPROCESS_NAMES = ['StandardScaler', 'MinMaxScaler'];

/**
 * The saved scaler, checked as strictly as the state: a known name, and offset and scale lists of
 * finite numbers, equally long, nothing else. (The scaler's own load checks less: a string in the
 * list became NaN, and an unknown name was a usage error without the file.)
 */
function checkPreprocess(value: unknown, file: string): unknown {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ModelFormatError(file, 'preprocess', `expected a saved scaler object, found ${JSON.stringify(value)}`);
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!['name', 'offset', 'scale'].includes(key))
      throw new ModelFormatError(file, `preprocess.${key}`, 'not a field of a saved scaler; expected only name, offset, scale');
  }
  if (typeof record['name'] !== 'string' || !PREPROCESS_NAMES.includes(record['name'])) {
    throw new ModelFormatError(
      file,
      'preprocess.name',
      `expected one of ${PREPROCESS_NAMES.join(', ')}, found ${JSON.stringify(record['name']) ?? 'nothing'}`,
    );
  }
  for (const field of ['offset', 'scale']) {
    const list = record[field];
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ModelFormatError(
        file,
        `preprocess.${field}`,
        `expected a list of finite numbers, found ${JSON.stringify(list)?.slice(0, 80) ?? 'nothing'}`,
      );
    }
  }
  if ((record['offset'] as number[]).length !== (record['scale'] as number[]).length) {
    throw new ModelFormatError(
      file,
      'preprocess.scale',
      `expected as many values as preprocess.offset (${(record['offset'] as number[]).length}), found ${(record['scale'] as number[]).length}`,
    );
  }
  return value;
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
    throw new ModelFormatError(path, 'model', `holds a '${model.name}' model, expected '${expected}'`);
  }
  return model;
}
