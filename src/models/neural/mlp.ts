/**
 * Multi-layer perceptron classifier: dense layers with an activation (and optional dropout)
 * between them, softmax cross-entropy on top, trained by mini-batch SGD/Adam through `runSgd`, so
 * it runs under every paradigm and strategy. `hidden: []` is multinomial logistic regression.
 *
 * @example
 * const model = await new MLP({ hidden: [256, 128], epochs: 10 }).fit(train);
 * model.score(test); // accuracy
 * // CLI: shardlearn train mlp --data builtin:mnist --hidden 256,128 --epochs 10 --lr 0.001
 */
import type { LayerSpec } from '../../nn/layer.js';
import type { OptionSchema } from '../option-schema.js';
import { resolveOptions } from '../option-schema.js';
import type { Architecture } from './classifier.js';
import { NeuralClassifier } from './classifier.js';
import type { NeuralParams } from './options.js';
import { DROPOUT_OPTION, NEURAL_OPTIONS } from './options.js';

export type Activation = 'relu' | 'tanh' | 'sigmoid';

export interface MLPParams extends NeuralParams {
  /** Units of each hidden layer; CLI: `--hidden 256,128`. */
  hidden: number[];
  activation: Activation;
  /** Dropout rate after each hidden activation (0 = none). */
  dropout: number;
}

const NAME = 'mlp';
export const MLP_OPTIONS: OptionSchema<MLPParams> = {
  ...NEURAL_OPTIONS,
  hidden: {
    type: 'sizes',
    allowEmpty: true,
    default: [128],
    doc: 'units of each hidden layer (--hidden 256,128); empty: logistic regression',
  },
  activation: { type: 'choice', choices: ['relu', 'tanh', 'sigmoid'], default: 'relu', doc: 'activation after each hidden layer' },
  dropout: { ...DROPOUT_OPTION, doc: 'dropout rate after each hidden activation (0 = none)' },
};

export class MLP extends NeuralClassifier<MLPParams> {
  readonly name = NAME;

  constructor(params: Partial<MLPParams> = {}) {
    super(resolveOptions(NAME, MLP_OPTIONS, params));
  }

  architecture(cols: number, classes: number): Architecture {
    const layers: LayerSpec[] = [];
    for (const units of this.params.hidden) {
      layers.push({ type: 'dense', units }, { type: this.params.activation });
      if (this.params.dropout > 0) layers.push({ type: 'dropout', rate: this.params.dropout });
    }
    layers.push({ type: 'dense', units: classes });
    return { inputShape: [cols], layers };
  }
}
