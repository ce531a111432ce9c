/**
 * Max pooling over height and width, channels-last ([batch, height, width, channels]). Forward
 * remembers where each maximum came from; backward routes each output gradient to that input
 * (ties go to the first maximum in scan order, as PyTorch does).
 *
 * @example
 * new MaxPool2d({ size: 2 }) // [24, 24, 32] → [12, 12, 32]
 */
import type { PoolGeometry } from '../core/kernels-layers.js';
import { kernels } from '../core/kernels.js';
import type { DType, FloatArray } from '../core/storage.js';
import type { ForwardContext, Layer, LayerSpec } from './layer.js';
import { expectRank } from './layer.js';
import type { Tensor } from './tensor.js';
import { reuse } from './tensor.js';

export class MaxPool2d implements Layer {
  readonly spec: LayerSpec & { type: 'maxPool2d' };
  private inputShape: readonly number[] = [];
  private outputShape: readonly number[] = [];
  private dtype: DType = 'float32';
  private geometry: PoolGeometry | null = null;
  private argmax: Int32Array = new Int32Array(0);
  /** The block `argmax` views; held here so the view stays valid (a WASM workspace). */
  private argmaxBlock: Int32Array = new Int32Array(0);
  private output: FloatArray | null = null;
  private inputGradient: FloatArray | null = null;

  /** `stride` defaults to `size` (non-overlapping windows). */
  constructor(options: { size: number; stride?: number }) {
    this.spec = { type: 'maxPool2d', size: options.size, stride: options.stride ?? options.size };
  }

  build(inputShape: readonly number[], _layout: unknown, dtype: DType): readonly number[] {
    expectRank('maxPool2d', inputShape, 3, '[height, width, channels]');
    const [height, width, channels] = inputShape as [number, number, number];
    const { size, stride } = this.spec;
    const outHeight = Math.floor((height - size) / stride) + 1;
    const outWidth = Math.floor((width - size) / stride) + 1;
    if (outHeight < 1 || outWidth < 1) throw new RangeError(`maxPool2d: a ${size}×${size} window does not fit a ${height}×${width} input`);
    this.inputShape = inputShape;
    this.outputShape = [outHeight, outWidth, channels];
    this.geometry = { height, width, channels, size, stride, outHeight, outWidth };
    this.dtype = dtype;
    return this.outputShape;
  }

  bind(): void {}

  forward(input: Tensor, _context: ForwardContext): Tensor {
    const g = this.geometry!;
    const batch = input.shape[0]!;
    const total = batch * g.outHeight * g.outWidth * g.channels;
    const y = (this.output = reuse(this.output, this.dtype, total));
    if (this.argmax.length !== total) {
      // Capacity kept across batch sizes (they vary per worker in data-parallel training).
      if (this.argmaxBlock.length < total)
        this.argmaxBlock = kernels().workspaceInt32(Math.max(total, Math.ceil(this.argmaxBlock.length * 1.5)));
      this.argmax = this.argmaxBlock.subarray(0, total);
    }
    kernels().maxPool(g, batch, input.data, y, this.argmax);
    return { shape: [batch, ...this.outputShape], data: y };
  }

  backward(outputGradient: Tensor, needInputGradient: boolean): Tensor | null {
    if (!needInputGradient) return null;
    const batch = outputGradient.shape[0]!;
    const length = batch * this.inputShape[0]! * this.inputShape[1]! * this.inputShape[2]!;
    const dx = (this.inputGradient = reuse(this.inputGradient, this.dtype, length));
    kernels().maxPoolBackward(outputGradient.data.length, outputGradient.data, this.argmax, dx);
    return { shape: [batch, ...this.inputShape], data: dx };
  }
}
