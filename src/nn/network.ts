/**
 * A sequential network: layers built from specs (plain data, what a saved model stores) over one
 * flat parameter store. `forward` runs the layers in order; `backward` runs them in reverse,
 * accumulating every parameter gradient into `store.gradients`.
 *
 * @example
 * const net = new Network([{ type: 'dense', units: 32 }, { type: 'relu' }, { type: 'dense', units: 10 }], [784], 'float32');
 * net.store.initialize(new Rng(0));
 * const logits = net.forward(x, { training: true, rowSeeds: null });
 * const { gradient } = softmaxCrossEntropy(logits, codes);
 * net.zeroGradients(); net.backward(gradient);
 */
import type { DType } from '../core/storage.js';
import { Flatten, ReLU, Sigmoid, Tanh } from './activations.js';
import { Conv2d } from './conv2d.js';
import { Dense } from './dense.js';
import { Dropout } from './dropout.js';
import { Embedding } from './embedding.js';
import type { ForwardContext, Layer, LayerSpec } from './layer.js';
import { ParameterLayout, FlatParameters, assertNever } from './parameters.js';
import { MaxPool2d } from './pool.js';
import { Recurrent } from './recurrent.js';
import type { Tensor } from './tensor.js';

/** Build a layer from its spec. */
export function createLayer(spec: LayerSpec): Layer {
  switch (spec.type) {
    case 'dense':
      return new Dense(spec);
    case 'conv2d':
      return new Conv2d(spec);
    case 'maxPool2d':
      return new MaxPool2d(spec);
    case 'flatten':
      return new Flatten();
    case 'dropout':
      return new Dropout(spec);
    case 'relu':
      return new ReLU();
    case 'tanh':
      return new Tanh();
    case 'sigmoid':
      return new Sigmoid();
    case 'rnn':
    case 'lstm':
    case 'gru':
      return new Recurrent({ cell: spec.type, units: spec.units, returnSequences: spec.returnSequences });
    case 'embedding':
      return new Embedding(spec);
    default:
      return assertNever(spec);
  }
}

export class Network {
  readonly layers: readonly Layer[];
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly dtype: DType;
  /** Every parameter and gradient, one flat array each. */
  readonly store: FlatParameters;

  constructor(specs: readonly LayerSpec[], inputShape: readonly number[], dtype: DType) {
    this.layers = specs.map(createLayer);
    this.inputShape = [...inputShape];
    this.dtype = dtype;
    const layout = new ParameterLayout();
    let shape: readonly number[] = inputShape;
    for (const layer of this.layers) shape = layer.build(shape, layout, dtype);
    this.outputShape = shape;
    this.store = new FlatParameters(dtype, layout);
    for (const layer of this.layers) layer.bind(this.store);
  }

  /** Number of parameters. */
  get size(): number {
    return this.store.layout.size;
  }

  forward(input: Tensor, context: ForwardContext): Tensor {
    let x = input;
    for (const layer of this.layers) x = layer.forward(x, context);
    return x;
  }

  /** Backpropagate ∂loss/∂output, adding into `store.gradients`; returns ∂loss/∂input when asked. */
  backward(outputGradient: Tensor, needInputGradient = false): Tensor | null {
    let dy: Tensor | null = outputGradient;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      dy = this.layers[i]!.backward(dy!, i > 0 || needInputGradient);
    }
    return dy;
  }

  zeroGradients(): void {
    this.store.gradients.fill(0);
  }

  /** Copy `params` (any float type, same layout) into the network's parameters. */
  loadParameters(params: ArrayLike<number>): void {
    if (params.length !== this.size) throw new RangeError(`network has ${this.size} parameters, got a vector of ${params.length}`);
    this.store.values.set(params);
  }
}
