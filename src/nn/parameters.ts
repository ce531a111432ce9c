/**
 * Flat parameter storage: every parameter and gradient of a network lives in ONE contiguous array
 * (one for values, one for gradients), and layers hold views into it. So a strategy — all-reduce,
 * Hogwild, a parameter server, a compression codec — sees the whole network as one vector and
 * never knows which model produced it.
 *
 * Layers declare their parameters while the network is built (`declare`), the layout assigns each
 * an offset in declaration order, then `bind` hands every layer its views.
 *
 * @example
 * const layout = new ParameterLayout();
 * const w = layout.declare('dense0.weight', [10, 784], { kind: 'glorot', fanIn: 784, fanOut: 10 });
 * const store = new FlatParameters('float32', layout);
 * store.value(w); // Float32Array view of 7,840 values
 */
import type { Rng } from '../core/rng.js';
import type { DType, FloatArray } from '../core/storage.js';
import { dtypeArray, sizeOf } from './tensor.js';

/** How a parameter is initialised (all draws through the network's seeded Rng). */
export type Initializer =
  | { kind: 'zeros' }
  | { kind: 'constant'; value: number }
  /** Glorot/Xavier uniform: U(±√(6 / (fanIn + fanOut))), Keras's default for dense and conv kernels. */
  | { kind: 'glorot'; fanIn: number; fanOut: number }
  /** U(±bound), PyTorch's default for recurrent weights with bound = 1/√hidden. */
  | { kind: 'uniform'; bound: number };

export interface ParameterSlot {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly length: number;
  readonly init: Initializer;
}

export class ParameterLayout {
  private readonly list: ParameterSlot[] = [];
  private total = 0;

  declare(name: string, shape: readonly number[], init: Initializer): ParameterSlot {
    const slot: ParameterSlot = { name, shape: [...shape], offset: this.total, length: sizeOf(shape), init };
    this.list.push(slot);
    this.total += slot.length;
    return slot;
  }

  get size(): number {
    return this.total;
  }

  get slots(): readonly ParameterSlot[] {
    return this.list;
  }
}

/** Values and gradients of every parameter of a network, each one flat array. */
export class FlatParameters {
  readonly dtype: DType;
  readonly layout: ParameterLayout;
  readonly values: FloatArray;
  readonly gradients: FloatArray;

  constructor(dtype: DType, layout: ParameterLayout) {
    this.dtype = dtype;
    this.layout = layout;
    this.values = dtypeArray(dtype, layout.size);
    this.gradients = dtypeArray(dtype, layout.size);
  }

  value(slot: ParameterSlot): FloatArray {
    return this.values.subarray(slot.offset, slot.offset + slot.length);
  }

  gradient(slot: ParameterSlot): FloatArray {
    return this.gradients.subarray(slot.offset, slot.offset + slot.length);
  }

  /** Fill every parameter from its initializer, slots in declaration order. */
  initialize(rng: Rng): void {
    for (const slot of this.layout.slots) fillInitial(this.value(slot), slot.init, rng);
  }
}

function fillInitial(target: FloatArray, init: Initializer, rng: Rng): void {
  switch (init.kind) {
    case 'zeros':
      target.fill(0);
      return;
    case 'constant':
      target.fill(init.value);
      return;
    case 'glorot': {
      const bound = Math.sqrt(6 / (init.fanIn + init.fanOut));
      for (let i = 0; i < target.length; i++) target[i] = (2 * rng.uniform() - 1) * bound;
      return;
    }
    case 'uniform':
      for (let i = 0; i < target.length; i++) target[i] = (2 * rng.uniform() - 1) * init.bound;
      return;
    default:
      assertNever(init);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
