/**
 * What the three linear models share: the SGD option schema, the flat parameter layout, and scoring.
 *
 * Layout: a linear model with `outputs` score columns over `features` inputs keeps one flat
 * Float64Array `[W (outputs×features, row-major), b (outputs)]`, so one SGD or L-BFGS vector holds
 * every class's weights and a strategy all-reduces it as one buffer.
 *
 * @example
 * const scores = linearScores(data, weights, intercepts, 3); // data.rows × 3, row-major
 * const labels = predictClasses(scores, data.rows, 3, classes);
 */
import { DataError } from '../../core/errors.js';
import { kernels } from '../../core/kernels.js';
import type { Dataset } from '../../data/dataset.js';
import type { TrainContext } from '../context.js';
import type { OptionSpec } from '../option-schema.js';
import type { StateSchema } from '../state-schema.js';
import { discoverClasses, encodedLabels, globalLayout } from '../spmd.js';

/**
 * The mini-batch SGD options every linear model shares (epochs, lr, batchSize, seed), as schema
 * entries; a model spreads them into its own schema and overrides what differs (the SVM's lr).
 */
export const SGD_OPTIONS = {
  epochs: { type: 'integer', min: 1, default: 5, doc: 'SGD only: passes over the data' },
  lr: { type: 'number', min: 0, minExclusive: true, default: 0.01, doc: 'SGD only: constant learning rate' },
  batchSize: { type: 'integer', min: 1, default: 64, doc: 'SGD only: rows per global mini-batch' },
  seed: { type: 'integer', min: -0x80000000, default: 0, doc: 'SGD only: seed of the batch order' },
} as const satisfies Record<string, OptionSpec>;

export const FIT_INTERCEPT_OPTION = { type: 'boolean', default: true, doc: 'learn an intercept (bias) term' } as const satisfies OptionSpec;

/** The state of a linear classifier: sorted classes, then one intercept per output, then outputs × features weights. */
export interface LinearClassifierState {
  classes: Float64Array;
  weights: Float64Array;
  intercepts: Float64Array;
}

/** Score columns for `classes` classes: 1 for two (sigmoid / one hyperplane), else one per class. */
export function outputsFor(classes: number): number {
  return classes === 2 ? 1 : classes;
}

export const LINEAR_CLASSIFIER_STATE: StateSchema<LinearClassifierState> = {
  classes: { type: 'floats', minLength: 2, increasing: true },
  intercepts: {
    type: 'floats',
    length: { as: 'outputs (1 for two classes, else one per class)', is: (s) => outputsFor(s.classes.length) },
  },
  weights: { type: 'floats', multipleOf: { as: 'outputs', is: (s) => s.intercepts.length } },
};

export interface ClassifierLabels {
  /** The sorted class values over all ranks. */
  classes: Float64Array;
  /**
   * This shard's labels as indices into `classes` (in kernel memory: `release()` when the fit ends),
   * encoded on first read: a binary L-BFGS fit reads the labels themselves and never asks.
   */
  readonly codes: Int32Array;
  /** Give `codes` back, if they were read (models/spmd.ts `encodedLabels`). */
  release(): void;
  /** Score columns: 1 for two classes (sigmoid / one hyperplane), else one per class. */
  outputs: number;
  /** Rows over all ranks. */
  total: number;
}

/** The classes over all ranks and this shard's label codes (two small collectives); at least two classes and one row. */
export async function classifierLabels(model: string, shard: Dataset, context: TrainContext): Promise<ClassifierLabels> {
  const labels = shard.labels();
  const classes = await discoverClasses(context.comm, labels, shard.source, context.classes);
  checkTwoClasses(model, classes, shard.source);
  const { total } = await globalLayout(context.comm, shard.rows);
  if (total === 0) throw new DataError('DATA_MISSING', { file: shard.source }, `${model}: no rows to train on`);
  // In kernel memory, except on a threads rank (encodedLabels says why).
  let codes: { readonly array: Int32Array; release(): void } | undefined;
  return {
    classes,
    get codes(): Int32Array {
      return (codes ??= encodedLabels(labels, classes, context.shared !== undefined)).array;
    },
    release: () => codes?.release(),
    outputs: outputsFor(classes.length),
    total,
  };
}

/** The data must have the number of feature columns the model was trained on. */
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
