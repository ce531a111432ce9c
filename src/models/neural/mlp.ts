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
import { requireChoice } from '../linear/shared.js';
import { resolveParams } from '../estimator.js';
import type { Architecture } from './classifier.js';
import { NeuralClassifier } from './classifier.js';
import type { NeuralParams } from './options.js';
import { NEURAL_DEFAULTS, checkNeuralParams, parseSizes, requireRate } from './options.js';

export type Activation = 'relu' | 'tanh' | 'sigmoid';

export interface MLPParams extends NeuralParams {
  /** Units of each hidden layer; CLI: `--hidden 256,128`. */
  hidden: number[];
  activation: Activation;
  /** Dropout rate after each hidden activation (0 = none). */
  dropout: number;
}

const NAME = 'mlp';
const DEFAULTS: MLPParams = { ...NEURAL_DEFAULTS, hidden: [128], activation: 'relu', dropout: 0 };

export class MLP extends NeuralClassifier<MLPParams> {
  readonly name = NAME;

  constructor(params: Partial<MLPParams> = {}) {
    const merged = resolveParams(NAME, DEFAULTS, params);
    checkNeuralParams(NAME, merged);
    merged.hidden = parseSizes(NAME, 'hidden', merged.hidden, true);
    requireChoice(NAME, 'activation', merged.activation, ['relu', 'tanh', 'sigmoid']);
    requireRate(NAME, 'dropout', merged.dropout);
    super(merged);
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
