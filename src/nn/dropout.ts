/**
 * Inverted dropout: in training each unit is kept with probability 1 − rate and scaled by
 * 1 / (1 − rate), so inference is the identity. The mask of batch row i is drawn from
 * `new Rng(rowSeeds[i] ^ salt)` — seeded per row, not per rank or batch position — so the same row
 * at the same visit gets the same mask in every paradigm (see ForwardContext.rowSeeds).
 *
 * The salt names the layer by its place in the WHOLE network: the parameters declared before it
 * and its input size. A pipeline stage builds only a slice of the network, so it tells each dropout
 * layer where its slice starts (`placeAt`); then sequential, data-parallel and pipeline training
 * draw the same masks and train the same model.
 *
 * @example
 * new Dropout({ rate: 0.5 })
 * stageNetwork.layers.forEach((layer) => { if (layer instanceof Dropout) layer.placeAt(stageParameterOffset); });
 */
import { Rng } from '../core/rng.js';
import type { DType, FloatArray } from '../core/storage.js';
import type { ForwardContext, Layer, LayerSpec } from './layer.js';
import type { Tensor } from './tensor.js';
import { reuse, sizeOf } from './tensor.js';

export class Dropout implements Layer {
  readonly spec: LayerSpec & { type: 'dropout' };
  private dtype: DType = 'float32';
  private mask: FloatArray | null = null;
  private output: FloatArray | null = null;
  private inputGradient: FloatArray | null = null;
  private active = false;
  private shape: readonly number[] = [];
  /** Distinguishes this layer's masks from another dropout layer's for the same row (set at build). */
  private salt = 0;
  /** Parameters declared before this layer in the network that built it, and its input size (for the salt). */
  private localOffset = 0;
  private inputSize = 0;

  constructor(options: { rate: number }) {
    if (!(options.rate >= 0 && options.rate < 1)) throw new RangeError(`dropout: rate must be in [0, 1), got ${options.rate}`);
    this.spec = { type: 'dropout', rate: options.rate };
  }

  build(inputShape: readonly number[], layout: { size: number }, dtype: DType): readonly number[] {
    this.dtype = dtype;
    // Salt from the layer's position (parameters declared before it), so it is the same on every rank.
    this.localOffset = layout.size;
    this.inputSize = sizeOf(inputShape);
    this.placeAt(0);
    return inputShape;
  }

  /**
   * Declare that the network holding this layer is a slice of a larger one whose first
   * `parameterOffset` parameters come before the slice (a pipeline stage), so the masks are the
   * ones this layer draws in the whole network.
   */
  placeAt(parameterOffset: number): void {
    this.salt = Math.imul(parameterOffset + this.localOffset + 1, 0x9e3779b1) ^ Math.imul(this.inputSize, 0x85ebca6b);
  }

  bind(): void {}

  forward(input: Tensor, context: ForwardContext): Tensor {
    const rate = this.spec.rate;
    this.active = context.training && rate > 0;
    this.shape = input.shape;
    if (!this.active) return input;
    const batch = input.shape[0]!;
    const width = input.data.length / batch;
    const mask = (this.mask = reuse(this.mask, this.dtype, input.data.length));
    const y = (this.output = reuse(this.output, this.dtype, input.data.length));
    const scale = 1 / (1 - rate);
    for (let r = 0; r < batch; r++) {
      const rng = new Rng((context.rowSeeds?.[r] ?? r) ^ this.salt);
      for (let j = r * width; j < (r + 1) * width; j++) {
        mask[j] = rng.uniform() < rate ? 0 : scale;
        y[j] = input.data[j]! * mask[j]!;
      }
    }
    return { shape: input.shape, data: y };
  }

  backward(outputGradient: Tensor, needInputGradient: boolean): Tensor | null {
    if (!needInputGradient) return null;
    if (!this.active) return outputGradient;
    const dy = outputGradient.data;
    const dx = (this.inputGradient = reuse(this.inputGradient, this.dtype, dy.length));
    for (let i = 0; i < dy.length; i++) dx[i] = dy[i]! * this.mask![i]!;
    return { shape: this.shape, data: dx };
  }
}
