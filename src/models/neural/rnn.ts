/**
 * Recurrent sequence classifier: each row is a sequence of `steps` × `features` values (step-major:
 * the first `features` columns are step 1), read by a stack of simple-RNN, LSTM or GRU layers;
 * the last hidden state feeds a dense softmax layer. Trained with backpropagation through time
 * through `runSgd`, so it runs under every paradigm and strategy.
 *
 * `steps` null (default): a square column count is read as a square image row by row (784 → 28
 * steps of 28, the row-sequence MNIST task), anything else as one feature per step.
 *
 * @example
 * const model = await new RNN({ cell: 'lstm', hidden: 128, epochs: 5 }).fit(mnist.train);
 * // CLI: shardlearn train rnn --data builtin:mnist --cell lstm --hidden 128 --epochs 5
 */
import { DataError } from '../../core/errors.js';
import type { LayerSpec } from '../../nn/layer.js';
import type { CellType } from '../../nn/recurrent.js';
import type { OptionSchema } from '../option-schema.js';
import { resolveOptions } from '../option-schema.js';
import type { Architecture } from './classifier.js';
import { NeuralClassifier } from './classifier.js';
import type { NeuralParams } from './options.js';
import { NEURAL_OPTIONS } from './options.js';

export interface RNNParams extends NeuralParams {
  cell: CellType;
  /** Hidden units of each recurrent layer. */
  hidden: number;
  /** Recurrent layers stacked (each but the last passes its whole sequence on). */
  layers: number;
  /** Steps per row; null: see the module comment. */
  steps: number | null;
}

const NAME = 'rnn';
export const RNN_OPTIONS: OptionSchema<RNNParams> = {
  ...NEURAL_OPTIONS,
  epochs: { ...NEURAL_OPTIONS.epochs, default: 5 },
  clipNorm: { ...NEURAL_OPTIONS.clipNorm, default: 5 },
  cell: { type: 'choice', choices: ['rnn', 'lstm', 'gru'], default: 'lstm', doc: 'recurrent cell: simple RNN, LSTM or GRU' },
  hidden: { type: 'integer', min: 1, default: 128, doc: 'hidden units of each recurrent layer' },
  layers: { type: 'integer', min: 1, default: 1, doc: 'recurrent layers stacked' },
  steps: {
    type: 'integer',
    min: 1,
    nullable: true,
    default: null,
    doc: 'steps per row; null: a square column count is an image read row by row, else one feature per step',
  },
};

export class RNN extends NeuralClassifier<RNNParams> {
  readonly name = NAME;

  constructor(params: Partial<RNNParams> = {}) {
    super(resolveOptions(NAME, RNN_OPTIONS, params));
  }

  architecture(cols: number, classes: number): Architecture {
    const p = this.params;
    const side = Math.round(Math.sqrt(cols));
    const steps = p.steps ?? (side * side === cols ? side : cols);
    if (cols % steps !== 0) {
      throw new DataError(
        'DATA_FORMAT',
        { column: cols },
        `${NAME}: ${cols} feature columns do not split into ${steps} steps of equal width; set --steps to a divisor of ${cols}`,
      );
    }
    const layers: LayerSpec[] = [];
    for (let i = 0; i < p.layers; i++) layers.push({ type: p.cell, units: p.hidden, returnSequences: i < p.layers - 1 });
    layers.push({ type: 'dense', units: classes });
    return { inputShape: [steps, cols / steps], layers };
  }
}
