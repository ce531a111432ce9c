/**
 * Convolutional classifier for images stored one per row (channels-last: height × width ×
 * channels values). Default: conv 5×5×32 – max-pool 2 – ReLU – conv 5×5×64 – max-pool 2 – ReLU –
 * dense 128 – ReLU – dense (classes), the classic MNIST network (28 → 24 → 12 → 8 → 4).
 * Trained through `runSgd`, so it runs under every paradigm and strategy.
 *
 * `inputShape` null (default) reads a square single-channel image off the column count (784 →
 * 28×28×1); give it for anything else (`--input-shape 32x32x3`).
 *
 * @example
 * const model = await new CNN({ epochs: 3 }).fit(mnist.train);
 * model.score(mnist.test);
 * // CLI: shardlearn train cnn --data builtin:mnist --epochs 3 --lr 0.001
 */
import { DataError } from '../../core/errors.js';
import type { LayerSpec } from '../../nn/layer.js';
import type { OptionSchema } from '../option-schema.js';
import { resolveOptions } from '../option-schema.js';
import type { Architecture } from './classifier.js';
import { NeuralClassifier } from './classifier.js';
import type { NeuralParams } from './options.js';
import { DROPOUT_OPTION, NEURAL_OPTIONS } from './options.js';

export interface CNNParams extends NeuralParams {
  /** [height, width, channels] of one row; null: a square one-channel image from the column count. */
  inputShape: number[] | null;
  /** Filters of each convolution; CLI: `--filters 32,64`. */
  filters: number[];
  kernelSize: number;
  stride: number;
  /** Zero padding on every side of each convolution. */
  padding: number;
  /** Max-pool window (and stride) after each convolution; 1 = no pooling. */
  pool: number;
  /** Units of the dense layers before the output layer. */
  dense: number[];
  /** Dropout before each dense layer (0 = none). */
  dropout: number;
}

const NAME = 'cnn';
export const CNN_OPTIONS: OptionSchema<CNNParams> = {
  ...NEURAL_OPTIONS,
  epochs: { ...NEURAL_OPTIONS.epochs, default: 3 },
  inputShape: {
    type: 'sizes',
    length: 3,
    nullable: true,
    default: null,
    doc: 'height×width×channels of one row (--input-shape 32x32x3); null: a square one-channel image',
  },
  filters: { type: 'sizes', allowEmpty: true, default: [32, 64], doc: 'filters of each convolution (--filters 32,64)' },
  kernelSize: { type: 'integer', min: 1, default: 5, doc: 'convolution kernel height and width' },
  stride: { type: 'integer', min: 1, default: 1, doc: 'convolution stride' },
  padding: { type: 'integer', min: 0, default: 0, doc: 'zero padding on every side of each convolution' },
  pool: { type: 'integer', min: 1, default: 2, doc: 'max-pool window and stride after each convolution; 1 = no pooling' },
  dense: { type: 'sizes', allowEmpty: true, default: [128], doc: 'units of the dense layers before the output layer' },
  dropout: { ...DROPOUT_OPTION, doc: 'dropout before each dense layer (0 = none)' },
};

export class CNN extends NeuralClassifier<CNNParams> {
  readonly name = NAME;

  constructor(params: Partial<CNNParams> = {}) {
    super(resolveOptions(NAME, CNN_OPTIONS, params));
  }

  architecture(cols: number, classes: number): Architecture {
    const p = this.params;
    const inputShape = p.inputShape ?? squareImage(cols);
    if (inputShape[0]! * inputShape[1]! * inputShape[2]! !== cols) {
      throw new DataError(
        'DATA_FORMAT',
        { column: cols },
        `${NAME}: inputShape ${inputShape.join('x')} needs ${inputShape[0]! * inputShape[1]! * inputShape[2]!} feature columns, the data has ${cols}; set --input-shape to the images' height x width x channels`,
      );
    }
    const layers: LayerSpec[] = [];
    for (const filters of p.filters) {
      // Pool before ReLU: the same function and gradient as ReLU then pool (ReLU is monotone, so
      // the two commute), with ReLU on a quarter of the values.
      layers.push({ type: 'conv2d', filters, kernelSize: p.kernelSize, stride: p.stride, padding: p.padding });
      if (p.pool > 1) layers.push({ type: 'maxPool2d', size: p.pool, stride: p.pool });
      layers.push({ type: 'relu' });
    }
    layers.push({ type: 'flatten' });
    for (const units of p.dense) {
      if (p.dropout > 0) layers.push({ type: 'dropout', rate: p.dropout });
      layers.push({ type: 'dense', units }, { type: 'relu' });
    }
    layers.push({ type: 'dense', units: classes });
    return { inputShape, layers };
  }
}

function squareImage(cols: number): number[] {
  const side = Math.round(Math.sqrt(cols));
  if (side * side !== cols) {
    throw new DataError(
      'DATA_FORMAT',
      { column: cols },
      `${NAME}: ${cols} feature columns are not a square one-channel image; give the image shape with --input-shape HxWxC`,
    );
  }
  return [side, side, 1];
}
