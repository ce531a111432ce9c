/**
 * Embedding: integer token ids [batch, steps] (stored as floats, as every Dataset column is) →
 * vectors [batch, steps, dimension] by table lookup in E [vocabulary, dimension]. Backward adds
 * each step's output gradient into its token's row of ∂E; ids have no gradient.
 *
 * @example
 * new Embedding({ vocabulary: 1000, dimension: 32 }) // [20] → [20, 32]
 */
import type { DType, FloatArray } from '../core/storage.js';
import type { ForwardContext, Layer, LayerSpec } from './layer.js';
import { expectRank } from './layer.js';
import type { FlatParameters, ParameterLayout, ParameterSlot } from './parameters.js';
import type { Tensor } from './tensor.js';
import { reuse } from './tensor.js';

export class Embedding implements Layer {
  readonly spec: LayerSpec & { type: 'embedding' };
  private steps = 0;
  private dtype: DType = 'float32';
  private slot: ParameterSlot | null = null;
  private store: FlatParameters | null = null;
  private ids: Int32Array = new Int32Array(0);
  private output: FloatArray | null = null;

  constructor(options: { vocabulary: number; dimension: number }) {
    this.spec = { type: 'embedding', vocabulary: options.vocabulary, dimension: options.dimension };
  }

  build(inputShape: readonly number[], layout: ParameterLayout, dtype: DType): readonly number[] {
    expectRank('embedding', inputShape, 1, '[steps] of integer ids');
    this.steps = inputShape[0]!;
    this.dtype = dtype;
    this.slot = layout.declare('embedding.table', [this.spec.vocabulary, this.spec.dimension], { kind: 'uniform', bound: 0.05 });
    return [this.steps, this.spec.dimension];
  }

  bind(store: FlatParameters): void {
    this.store = store;
  }

  forward(input: Tensor, _context: ForwardContext): Tensor {
    const { vocabulary, dimension: d } = this.spec;
    const count = input.data.length;
    if (this.ids.length !== count) this.ids = new Int32Array(count);
    const y = (this.output = reuse(this.output, this.dtype, count * d));
    const table = this.store!.values;
    const base = this.slot!.offset;
    for (let i = 0; i < count; i++) {
      const id = input.data[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= vocabulary) {
        throw new RangeError(`embedding: token ids must be integers in 0..${vocabulary - 1}, found ${id} at position ${i}`);
      }
      this.ids[i] = id;
      y.set(table.subarray(base + id * d, base + (id + 1) * d), i * d);
    }
    return { shape: [input.shape[0]!, this.steps, d], data: y };
  }

  backward(outputGradient: Tensor, _needInputGradient: boolean): Tensor | null {
    const d = this.spec.dimension;
    const grads = this.store!.gradients;
    const base = this.slot!.offset;
    const dy = outputGradient.data;
    for (let i = 0; i < this.ids.length; i++) {
      const at = base + this.ids[i]! * d;
      for (let j = 0; j < d; j++) grads[at + j]! += dy[i * d + j]!;
    }
    return null;
  }
}
