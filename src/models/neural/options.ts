/**
 * Options every neural model shares (optimizer, schedule, batch, seed, precision) as an option
 * schema (see ../option-schema.ts), and their defaults.
 *
 * @example
 * const MLP_OPTIONS = { ...NEURAL_OPTIONS, hidden: { type: 'sizes', allowEmpty: true, default: [128], doc: '…' } };
 */
import type { DType } from '../../core/storage.js';
import type { ScheduleName } from '../../nn/optimizers.js';
import type { OptionSchema, OptionSpec } from '../option-schema.js';
import { defaultsOf } from '../option-schema.js';

export type OptimizerName = 'adam' | 'sgd';

export interface NeuralParams {
  /** Passes over the training data. */
  epochs: number;
  /** Base learning rate. */
  lr: number;
  /** Rows per global mini-batch (split over the workers under a synchronous strategy). */
  batchSize: number;
  optimizer: OptimizerName;
  /** SGD only: heavy-ball momentum. */
  momentum: number;
  /** L2 weight decay (SGD: added to the gradient; Adam: decoupled, AdamW). */
  weightDecay: number;
  /** Learning-rate schedule over the run: 'constant', 'step' (× gamma every stepEpochs), 'cosine'. */
  schedule: ScheduleName;
  gamma: number;
  stepEpochs: number;
  /** Clip the mean gradient to this global L2 norm; 0 turns clipping off. */
  clipNorm: number;
  /** Seed of the initial weights, the batch order and the dropout masks. */
  seed: number;
  /** Storage and arithmetic of activations: 'float32' (fast) or 'float64'. The master weights are float64. */
  precision: DType;
}

/** The shared options' schema; each neural model spreads it into its own and overrides defaults. */
export const NEURAL_OPTIONS = {
  epochs: { type: 'integer', min: 1, default: 10, doc: 'passes over the training data' },
  lr: { type: 'number', min: 0, minExclusive: true, default: 0.001, doc: 'base learning rate' },
  batchSize: {
    type: 'integer',
    min: 1,
    default: 64,
    doc: 'rows per global mini-batch (split over the workers under a synchronous strategy)',
  },
  optimizer: { type: 'choice', choices: ['adam', 'sgd'], default: 'adam', doc: 'Adam (decoupled weight decay) or SGD with momentum' },
  momentum: { type: 'number', min: 0, max: 1, maxExclusive: true, default: 0.9, doc: 'SGD only: heavy-ball momentum' },
  weightDecay: { type: 'number', min: 0, default: 0, doc: 'L2 weight decay (SGD: added to the gradient; Adam: decoupled, AdamW)' },
  schedule: {
    type: 'choice',
    choices: ['constant', 'step', 'cosine'],
    default: 'constant',
    doc: "learning-rate schedule: 'step' multiplies by gamma every stepEpochs",
  },
  gamma: { type: 'number', min: 0, minExclusive: true, default: 0.1, doc: "'step' schedule: factor per step" },
  stepEpochs: { type: 'integer', min: 1, default: 1, doc: "'step' schedule: epochs per step" },
  clipNorm: { type: 'number', min: 0, default: 0, doc: 'clip the mean gradient to this global L2 norm; 0 turns clipping off' },
  seed: { type: 'integer', min: -0x80000000, default: 0, doc: 'seed of the initial weights, the batch order and the dropout masks' },
  precision: {
    type: 'choice',
    choices: ['float32', 'float64'],
    default: 'float32',
    doc: 'storage and arithmetic of activations (master weights are float64)',
  },
} as const satisfies OptionSchema<NeuralParams>;

export const NEURAL_DEFAULTS: NeuralParams = defaultsOf<NeuralParams>(NEURAL_OPTIONS);

/** A dropout rate in [0, 1) (0 = none). */
export const DROPOUT_OPTION = {
  type: 'number',
  min: 0,
  max: 1,
  maxExclusive: true,
  default: 0,
  doc: 'dropout rate (0 = none)',
} as const satisfies OptionSpec;
