/**
 * The layer contract. Each layer is one op beside its own derivative (micrograd's habit):
 * `forward` computes the output and keeps what `backward` needs; `backward` takes ∂loss/∂output,
 * ADDS the parameter gradients into the network's flat gradient array, and returns ∂loss/∂input.
 *
 * Shapes given to `build` exclude the batch axis; tensors passed to forward/backward include it.
 * A layer's output tensor is valid until its next `forward` (buffers are reused between batches).
 *
 * @example
 * const layer = new Dense({ units: 10 });
 * layer.build([784], layout);    // → [10], declares weight and bias
 * layer.bind(store);
 * const y = layer.forward(x, { training: true, rowSeeds: null });
 * const dx = layer.backward(dy, true);
 */
import type { DType } from '../core/storage.js';
import type { FlatParameters, ParameterLayout } from './parameters.js';
import type { Tensor } from './tensor.js';

export interface ForwardContext {
  /** Training mode (dropout active) or inference. */
  readonly training: boolean;
  /**
   * One seed per batch row for per-row randomness (dropout). Seeds derive from the row's global key
   * and how often it was seen, never from the rank or the position in a local batch, so a
   * data-parallel run draws the same masks as a sequential one.
   */
  readonly rowSeeds: Uint32Array | null;
}

export interface Layer {
  /** The spec this layer was made from (what a saved model stores). */
  readonly spec: LayerSpec;
  /** Declare parameters for `inputShape` (batch axis excluded) and return the output shape. */
  build(inputShape: readonly number[], layout: ParameterLayout, dtype: DType): readonly number[];
  /** Take views into the flat parameter store (after the layout is final). */
  bind(store: FlatParameters): void;
  forward(input: Tensor, context: ForwardContext): Tensor;
  /** Accumulate parameter gradients; return ∂loss/∂input, or null when `needInputGradient` is false. */
  backward(outputGradient: Tensor, needInputGradient: boolean): Tensor | null;
}

/** A layer as data: what a saved model stores and `createLayer` builds from. */
export type LayerSpec =
  | { type: 'dense'; units: number }
  | { type: 'conv2d'; filters: number; kernelSize: number; stride: number; padding: number }
  | { type: 'maxPool2d'; size: number; stride: number }
  | { type: 'flatten' }
  | { type: 'dropout'; rate: number }
  | { type: 'relu' }
  | { type: 'tanh' }
  | { type: 'sigmoid' }
  | { type: 'rnn' | 'lstm' | 'gru'; units: number; returnSequences: boolean }
  | { type: 'embedding'; vocabulary: number; dimension: number };

/** Throws when a layer gets an input shape it cannot take. */
export function expectRank(layer: string, inputShape: readonly number[], rank: number, what: string): void {
  if (inputShape.length !== rank || inputShape.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new RangeError(`${layer} expects input of shape ${what} (batch axis excluded), got [${inputShape.join(', ')}]`);
  }
}
