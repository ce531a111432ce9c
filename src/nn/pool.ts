/**
 * Max pooling over height and width, channels-last ([batch, height, width, channels]). Forward
 * remembers where each maximum came from; backward routes each output gradient to that input
 * (ties go to the first maximum in scan order, as PyTorch does).
 *
 * @example
 * new MaxPool2d({ size: 2 }) // [24, 24, 32] → [12, 12, 32]
 */
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
  private argmax: Int32Array = new Int32Array(0);
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
    this.dtype = dtype;
    return this.outputShape;
  }

  bind(): void {}

  forward(input: Tensor, _context: ForwardContext): Tensor {
    const [height, width, channels] = this.inputShape as [number, number, number];
    const [outHeight, outWidth] = this.outputShape as [number, number, number];
    const { size, stride } = this.spec;
    const batch = input.shape[0]!;
    const total = batch * outHeight * outWidth * channels;
    const y = (this.output = reuse(this.output, this.dtype, total));
    if (this.argmax.length !== total) this.argmax = new Int32Array(total);
    const x = input.data;
    // Channels innermost: each window position is one contiguous run of `channels` values, so the
    // scan reads memory in order (channels-last makes this the natural loop order).
    for (let n = 0; n < batch; n++) {
      const image = n * height * width * channels;
      for (let oy = 0; oy < outHeight; oy++) {
        for (let ox = 0; ox < outWidth; ox++) {
          const out = ((n * outHeight + oy) * outWidth + ox) * channels;
          for (let ky = 0; ky < size; ky++) {
            for (let kx = 0; kx < size; kx++) {
              const at = image + ((oy * stride + ky) * width + ox * stride + kx) * channels;
              const first = ky === 0 && kx === 0;
              for (let c = 0; c < channels; c++) {
                const value = x[at + c]!;
                if (first || value > y[out + c]!) {
                  y[out + c] = value;
                  this.argmax[out + c] = at + c;
                }
              }
            }
          }
        }
      }
    }
    return { shape: [batch, ...this.outputShape], data: y };
  }

  backward(outputGradient: Tensor, needInputGradient: boolean): Tensor | null {
    if (!needInputGradient) return null;
    const batch = outputGradient.shape[0]!;
    const length = batch * this.inputShape[0]! * this.inputShape[1]! * this.inputShape[2]!;
    const dx = (this.inputGradient = reuse(this.inputGradient, this.dtype, length));
    dx.fill(0);
    const dy = outputGradient.data;
    for (let i = 0; i < dy.length; i++) dx[this.argmax[i]!]! += dy[i]!;
    return { shape: [batch, ...this.inputShape], data: dx };
  }
}
