/**
 * What the three linear models share: option checks, the flat parameter layout, and scoring.
 *
 * Layout: a linear model with `outputs` score columns over `features` inputs keeps one flat
 * Float64Array `[W (outputs×features, row-major), b (outputs)]`, so one SGD or L-BFGS vector holds
 * every class's weights and a strategy all-reduces it as one buffer.
 *
 * @example
 * const scores = linearScores(data, weights, intercepts, 3); // data.rows × 3, row-major
 * const labels = predictClasses(scores, data.rows, 3, classes);
 */
import { ConfigError, DataError } from '../../core/errors.js';
import { kernels } from '../../core/kernels.js';
import type { Dataset } from '../../data/dataset.js';
import type { TrainContext } from '../context.js';
import { discoverClasses, encodeLabels, globalLayout } from '../spmd.js';

/** A numeric option that must be finite and at least `min` (strictly above when `exclusive`). */
export function requireNumber(model: string, field: string, value: unknown, min: number, exclusive = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (exclusive ? value > min : value >= min);
  if (!ok) {
    throw new ConfigError(`${model}: option '${field}' must be a finite number ${exclusive ? '>' : '≥'} ${min}, got ${String(value)}`, { field });
  }
  return value;
}

/** An integer option that must be at least `min`. */
export function requireInteger(model: string, field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigError(`${model}: option '${field}' must be an integer ≥ ${min}, got ${String(value)}`, { field });
  }
  return value;
}

/** A string option that must be one of `choices`. */
export function requireChoice<T extends string>(model: string, field: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new ConfigError(`${model}: option '${field}' must be one of ${choices.join(', ')}, got ${String(value)}`, { field });
  }
  return value as T;
}

/** A boolean option. */
export function requireBoolean(model: string, field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(`${model}: option '${field}' must be true or false, got ${String(value)}`, { field });
  return value;
}

/** The data must have the number of feature columns the model was trained on. */
/**
 * The mini-batch SGD options every linear model shares: epochs, lr, batchSize, seed. `lr` must be a
 * positive number, or null where the model has a schedule of its own (`lrMayBeNull`: the SVM's Pegasos rate).
 */
export function requireSgdParams(model: string, params: { epochs: unknown; lr: unknown; batchSize: unknown; seed: unknown }, lrMayBeNull = false): void {
  requireInteger(model, 'epochs', params.epochs, 1);
  if (params.lr !== null || !lrMayBeNull) requireNumber(model, 'lr', params.lr, 0, true);
  requireInteger(model, 'batchSize', params.batchSize, 1);
  requireInteger(model, 'seed', params.seed, -0x80000000);
}

export interface ClassifierLabels {
  /** The sorted class values over all ranks. */
  classes: Float64Array;
  /** This shard's labels as indices into `classes`. */
  codes: Int32Array;
  /** Score columns: 1 for two classes (sigmoid / one hyperplane), else one per class. */
  outputs: number;
  /** Rows over all ranks. */
  total: number;
}

/** The classes over all ranks and this shard's label codes (two small collectives); at least two classes and one row. */
export async function classifierLabels(model: string, shard: Dataset, context: TrainContext): Promise<ClassifierLabels> {
  const labels = shard.labels();
  const classes = await discoverClasses(context.comm, labels, shard.source);
  checkTwoClasses(model, classes, shard.source);
  const codes = encodeLabels(labels, classes);
  const { total } = await globalLayout(context.comm, shard.rows);
  if (total === 0) throw new DataError('DATA_MISSING', { file: shard.source }, `${model}: no rows to train on`);
  return { classes, codes, outputs: classes.length === 2 ? 1 : classes.length, total };
}

export function checkFeatures(model: string, data: Dataset, features: number): void {
  if (data.cols !== features) {
    throw new DataError(
      'DATA_FORMAT',
      { file: data.source },
      `${model} was trained on ${features} feature columns, this data has ${data.cols}; use data with the same columns as the training data`,
    );
  }
}

/** Classifiers need two classes or more among all ranks' labels. */
export function checkTwoClasses(model: string, classes: Float64Array, source: string): void {
  if (classes.length < 2) {
    throw new DataError(
      'DATA_VALUE',
      { file: source, column: 'label' },
      `${model} needs at least 2 classes in the labels, found ${classes.length} (${Array.from(classes).join(', ')})`,
    );
  }
}

/** Scores `data.rows × outputs` (row-major): X·Wᵀ + b, by one gemv or gemm over the whole data. */
export function linearScores(data: Dataset, weights: Float64Array, intercepts: Float64Array, outputs: number): Float64Array {
  const d = data.cols;
  const scores = new Float64Array(data.rows * outputs);
  if (data.rows === 0) return scores;
  if (outputs === 1) kernels().gemv(false, data.rows, d, 1, data.x, 0, d, weights, 0, 0, scores, 0);
  else kernels().gemm(false, true, data.rows, outputs, d, 1, data.x, 0, d, weights, 0, d, 0, scores, 0, outputs);
  for (let i = 0; i < data.rows; i++) for (let c = 0; c < outputs; c++) scores[i * outputs + c]! += intercepts[c]!;
  return scores;
}

/**
 * Class values from scores: one score column means binary (score > 0 → classes[1], as
 * scikit-learn's decision_function), several mean the column with the highest score wins.
 */
export function predictClasses(scores: Float64Array, rows: number, outputs: number, classes: Float64Array): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    if (outputs === 1) {
      out[i] = scores[i]! > 0 ? classes[1]! : classes[0]!;
      continue;
    }
    let best = 0;
    for (let c = 1; c < outputs; c++) if (scores[i * outputs + c]! > scores[i * outputs + best]!) best = c;
    out[i] = classes[best]!;
  }
  return out;
}

/** Split a flat `[W, b]` vector into copies of its weights and intercepts. */
export function splitParams(params: Float64Array, outputs: number, features: number): { weights: Float64Array; intercepts: Float64Array } {
  return {
    weights: params.slice(0, outputs * features),
    intercepts: params.slice(outputs * features, outputs * (features + 1)),
  };
}
