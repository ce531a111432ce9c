/**
 * Options every neural model shares (optimizer, schedule, batch, seed, precision), their defaults
 * and checks, and parsers for the list-valued options a CLI flag gives as text
 * (`--hidden 256,128` → [256, 128], `--input-shape 28x28x1` → [28, 28, 1]).
 *
 * @example
 * checkNeuralParams('mlp', merged);
 * parseSizes('mlp', 'hidden', '256,128'); // [256, 128]
 */
import { ConfigError } from '../../core/errors.js';
import type { DType } from '../../core/storage.js';
import type { ScheduleName } from '../../nn/optimizers.js';
import { requireChoice, requireInteger, requireNumber } from '../linear/shared.js';

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

export const NEURAL_DEFAULTS: NeuralParams = {
  epochs: 10, lr: 0.001, batchSize: 64, optimizer: 'adam', momentum: 0.9, weightDecay: 0,
  schedule: 'constant', gamma: 0.1, stepEpochs: 1, clipNorm: 0, seed: 0, precision: 'float32',
};

export function checkNeuralParams(model: string, p: NeuralParams): void {
  requireInteger(model, 'epochs', p.epochs, 1);
  requireNumber(model, 'lr', p.lr, 0, true);
  requireInteger(model, 'batchSize', p.batchSize, 1);
  requireChoice(model, 'optimizer', p.optimizer, ['adam', 'sgd']);
  requireNumber(model, 'momentum', p.momentum, 0);
  if (p.momentum >= 1) throw new ConfigError(`${model}: option 'momentum' must be below 1, got ${p.momentum}`, { field: 'momentum' });
  requireNumber(model, 'weightDecay', p.weightDecay, 0);
  requireChoice(model, 'schedule', p.schedule, ['constant', 'step', 'cosine']);
  requireNumber(model, 'gamma', p.gamma, 0, true);
  requireInteger(model, 'stepEpochs', p.stepEpochs, 1);
  requireNumber(model, 'clipNorm', p.clipNorm, 0);
  requireInteger(model, 'seed', p.seed, -0x80000000);
  requireChoice(model, 'precision', p.precision, ['float32', 'float64']);
}

/** A rate in [0, 1) (dropout). */
export function requireRate(model: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ConfigError(`${model}: option '${field}' must be a number in [0, 1), got ${String(value)}`, { field });
  }
  return value;
}

/**
 * A list of positive integers given as an array, one number, or text separated by commas or 'x'.
 * An empty list is allowed only when `allowEmpty` (an MLP with no hidden layer is logistic regression).
 */
export function parseSizes(model: string, field: string, value: unknown, allowEmpty = false): number[] {
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (typeof value === 'number') list = [value];
  else if (typeof value === 'string') list = value.trim() === '' ? [] : value.split(/[,x×]/).map((part) => Number(part.trim()));
  else list = [NaN];
  const ok = list.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 1);
  if (!ok || (!allowEmpty && list.length === 0)) {
    throw new ConfigError(`${model}: option '${field}' must be a list of whole numbers ≥ 1 (e.g. 128,64), got ${JSON.stringify(value)}`, { field });
  }
  return list as number[];
}
