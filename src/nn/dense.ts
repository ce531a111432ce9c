/**
 * Dense (fully connected): y = x·Wᵀ + b for x of shape [batch, in], W [out, in], b [out].
 * Backward: ∂W += ∂yᵀ·x, ∂b += Σ_rows ∂y, ∂x = ∂y·W — three gemms through the core kernels.
 *
 * @example
 * new Dense({ units: 128 }) // input [784] → output [128]
 */
import { kernels } from '../core/kernels.js';
import type { DType, FloatArray } from '../core/storage.js';
import type { ForwardContext, Layer, LayerSpec } from './layer.js';
import { expectRank } from './layer.js';
import type { FlatParameters, ParameterLayout, ParameterSlot } from './parameters.js';
import type { Tensor } from './tensor.js';
import { reuse } from './tensor.js';

export class Dense implements Layer {
  readonly spec: LayerSpec & { type: 'dense' };
  private inputs = 0;
  private dtype: DType = 'float32';
  private weightSlot: ParameterSlot | null = null;
  private biasSlot: ParameterSlot | null = null;
  private store: FlatParameters | null = null;
  private input: Tensor | null = null;
  private output: FloatArray | null = null;
  private inputGradient: FloatArray | null = null;

  constructor(options: { units: number }) {
    this.spec = { type: 'dense', units: options.units };
  }

  build(inputShape: readonly number[], layout: ParameterLayout, dtype: DType): readonly number[] {
    expectRank('dense', inputShape, 1, '[features] (add a flatten layer before it)');
    const units = this.spec.units;
    this.inputs = inputShape[0]!;
    this.dtype = dtype;
    this.weightSlot = layout.declare('dense.weight', [units, this.inputs], { kind: 'glorot', fanIn: this.inputs, fanOut: units });
    this.biasSlot = layout.declare('dense.bias', [units], { kind: 'zeros' });
    return [units];
  }

  bind(store: FlatParameters): void {
    this.store = store;
  }

  forward(input: Tensor, _context: ForwardContext): Tensor {
    const { store, weightSlot, biasSlot } = this.bound();
    const batch = input.shape[0]!;
    const units = this.spec.units;
    const y = (this.output = reuse(this.output, this.dtype, batch * units));
    kernels().broadcastRows(batch, units, store.values, biasSlot.offset, y);
    kernels().gemm(
      false,
      true,
      batch,
      units,
      this.inputs,
      1,
      input.data,
      0,
      this.inputs,
      store.values,
      weightSlot.offset,
      this.inputs,
      1,
      y,
      0,
      units,
    );
    this.input = input;
    return { shape: [batch, units], data: y };
  }

  backward(outputGradient: Tensor, needInputGradient: boolean): Tensor | null {
    const { store, weightSlot, biasSlot } = this.bound();
    const x = this.input!;
    const batch = x.shape[0]!;
    const units = this.spec.units;
    const dy = outputGradient.data;
    const grads = store.gradients;
    kernels().gemm(
      true,
      false,
      units,
      this.inputs,
      batch,
      1,
      dy,
      0,
      units,
      x.data,
      0,
      this.inputs,
      1,
      grads,
      weightSlot.offset,
      this.inputs,
    );
    kernels().sumRows(batch, units, dy, grads, biasSlot.offset);
    if (!needInputGradient) return null;
    const dx = (this.inputGradient = reuse(this.inputGradient, this.dtype, batch * this.inputs));
    kernels().gemm(
      false,
      false,
      batch,
      this.inputs,
      units,
      1,
      dy,
      0,
      units,
      store.values,
      weightSlot.offset,
      this.inputs,
      0,
      dx,
      0,
      this.inputs,
    );
    return { shape: x.shape, data: dx };
  }

  private bound(): { store: FlatParameters; weightSlot: ParameterSlot; biasSlot: ParameterSlot } {
    if (this.store === null || this.weightSlot === null || this.biasSlot === null)
      throw new Error('dense: build and bind the layer before forward');
    return { store: this.store, weightSlot: this.weightSlot, biasSlot: this.biasSlot };
  }
}
