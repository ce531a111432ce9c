/**
 * 2-D convolution as a gemm, channels-last (NHWC: input [batch, height, width, channels]).
 *
 * im2col would lay every receptive field out as one row of `cols` [batch·outH·outW, k·k·C] (order
 * ky, kx, c), so the whole batch's convolution is ONE gemm, y = cols·Wᵀ + b with W [filters,
 * k·k·C], and its output is already NHWC. Backward is two more gemms over the same matrix:
 * ∂W += ∂yᵀ·cols and ∂cols = ∂y·W, then col2im scatter-adds ∂cols back into ∂x (overlapping
 * fields add up). Zero padding is implicit: fields that fall outside the image read 0.
 * The three are the kernels' `convolve`, `convolveFilterGradient` and `convolveInputGradient`
 * (core/kernels-convolution.ts): the WASM backend reads cols from the images and adds ∂cols into
 * ∂x without writing either matrix; the reference runs im2col and col2im through the layer's
 * scratch. Every buffer is a kernel workspace (`reuse`), so the kernels read and write them
 * without copies.
 *
 * @example
 * new Conv2d({ filters: 32, kernelSize: 5 }) // [28, 28, 1] → [24, 24, 32]
 */
import type { ConvGeometry } from '../core/kernels-layers.js';
import { fieldLength, imagesLength, outputPositions } from '../core/kernels-layers.js';
import { kernels } from '../core/kernels.js';
import type { DType, FloatArray } from '../core/storage.js';
import type { ForwardContext, Layer, LayerSpec } from './layer.js';
import { expectRank } from './layer.js';
import type { FlatParameters, ParameterLayout, ParameterSlot } from './parameters.js';
import type { Tensor } from './tensor.js';
import { reuse } from './tensor.js';

export interface Conv2dOptions {
  filters: number;
  kernelSize: number;
  /** Default 1. */
  stride?: number;
  /** Zero padding on every side, in pixels. Default 0 ("valid"). */
  padding?: number;
}

export class Conv2d implements Layer {
  readonly spec: LayerSpec & { type: 'conv2d' };
  private geometry: ConvGeometry | null = null;
  private dtype: DType = 'float32';
  private weightSlot: ParameterSlot | null = null;
  private biasSlot: ParameterSlot | null = null;
  private store: FlatParameters | null = null;
  private batch = 0;
  /** What `convolve` leaves for the two backward kernels (cols, a padded x, or nothing). */
  private scratch: FloatArray | null = null;
  private input: FloatArray | null = null;
  private output: FloatArray | null = null;
  private inputGradient: FloatArray | null = null;

  constructor(options: Conv2dOptions) {
    this.spec = {
      type: 'conv2d',
      filters: options.filters,
      kernelSize: options.kernelSize,
      stride: options.stride ?? 1,
      padding: options.padding ?? 0,
    };
  }

  build(inputShape: readonly number[], layout: ParameterLayout, dtype: DType): readonly number[] {
    expectRank('conv2d', inputShape, 3, '[height, width, channels]');
    const [height, width, channels] = inputShape as [number, number, number];
    const { filters, kernelSize: k, stride, padding } = this.spec;
    const outHeight = Math.floor((height + 2 * padding - k) / stride) + 1;
    const outWidth = Math.floor((width + 2 * padding - k) / stride) + 1;
    if (outHeight < 1 || outWidth < 1) {
      throw new RangeError(
        `conv2d: a ${k}×${k} kernel (stride ${stride}, padding ${padding}) does not fit a ${height}×${width} input; use a smaller kernel or more padding`,
      );
    }
    const g: ConvGeometry = { height, width, channels, kernelSize: k, stride, padding, outHeight, outWidth };
    this.geometry = g;
    this.dtype = dtype;
    this.weightSlot = layout.declare('conv2d.weight', [filters, k, k, channels], {
      kind: 'glorot',
      fanIn: fieldLength(g),
      fanOut: k * k * filters,
    });
    this.biasSlot = layout.declare('conv2d.bias', [filters], { kind: 'zeros' });
    return [outHeight, outWidth, filters];
  }

  bind(store: FlatParameters): void {
    this.store = store;
  }

  forward(input: Tensor, _context: ForwardContext): Tensor {
    const g = this.geometry!;
    const store = this.store!;
    const filters = this.spec.filters;
    const batch = input.shape[0]!;
    const rows = outputPositions(g, batch);
    this.batch = batch;
    this.input = input.data;
    const k = kernels();
    const scratch = (this.scratch = reuse(this.scratch, this.dtype, k.convolutionScratchLength(g, filters, batch, this.dtype)));
    const y = (this.output = reuse(this.output, this.dtype, rows * filters));
    // y = bias rows, then the convolution adds cols·Wᵀ: the bias costs no separate pass over y.
    k.broadcastRows(rows, filters, store.values, this.biasSlot!.offset, y);
    k.convolve(g, filters, batch, input.data, store.values, this.weightSlot!.offset, y, scratch);
    return { shape: [batch, g.outHeight, g.outWidth, filters], data: y };
  }

  backward(outputGradient: Tensor, needInputGradient: boolean): Tensor | null {
    const g = this.geometry!;
    const store = this.store!;
    const filters = this.spec.filters;
    const batch = this.batch;
    const rows = outputPositions(g, batch);
    const dy = outputGradient.data;
    const grads = store.gradients;
    const k = kernels();
    k.convolveFilterGradient(g, filters, batch, this.input!, this.scratch!, dy, grads, this.weightSlot!.offset);
    k.sumRows(rows, filters, dy, grads, this.biasSlot!.offset);
    if (!needInputGradient) return null;
    const dx = (this.inputGradient = reuse(this.inputGradient, this.dtype, imagesLength(g, batch)));
    k.convolveInputGradient(g, filters, batch, dy, store.values, this.weightSlot!.offset, dx, this.scratch!);
    return { shape: [batch, g.height, g.width, g.channels], data: dx };
  }
}
