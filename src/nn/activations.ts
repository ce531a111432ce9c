/**
 * Element-wise activations, each beside its derivative: ReLU (∂ = 1 where x > 0), tanh
 * (∂ = 1 − y²) and the logistic sigmoid (∂ = y·(1 − y)), with y the forward output. Plus
 * `Flatten`, which only changes the shape.
 *
 * @example
 * new ReLU(); new Tanh(); new Sigmoid(); new Flatten();
 */
import { kernels } from '../core/kernels.js';
import type { DType, FloatArray } from '../core/storage.js';
import type { ForwardContext, Layer, LayerSpec } from './layer.js';
import type { Tensor } from './tensor.js';
import { reuse, sizeOf } from './tensor.js';

/** Numerically safe logistic function: never exponentiates a large positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

abstract class Elementwise implements Layer {
  abstract readonly spec: LayerSpec;
  protected dtype: DType = 'float32';
  protected saved: FloatArray | null = null;
  private output: FloatArray | null = null;
  private inputGradient: FloatArray | null = null;
  private shape: readonly number[] = [];

  build(inputShape: readonly number[], _layout: unknown, dtype: DType): readonly number[] {
    this.dtype = dtype;
    return inputShape;
  }

  bind(): void {}

  forward(input: Tensor, _context: ForwardContext): Tensor {
    const y = (this.output = reuse(this.output, this.dtype, input.data.length));
    this.apply(input.data, y);
    this.saved = this.savesInput() ? input.data : y;
    this.shape = input.shape;
    return { shape: input.shape, data: y };
  }

  backward(outputGradient: Tensor, needInputGradient: boolean): Tensor | null {
    if (!needInputGradient) return null;
    const dx = (this.inputGradient = reuse(this.inputGradient, this.dtype, outputGradient.data.length));
    this.derive(this.saved!, outputGradient.data, dx);
    return { shape: this.shape, data: dx };
  }

  protected abstract apply(x: FloatArray, y: FloatArray): void;
  /** dx = dy · f′, from the saved input (ReLU) or output (tanh, sigmoid). */
  protected abstract derive(saved: FloatArray, dy: FloatArray, dx: FloatArray): void;
  protected savesInput(): boolean {
    return false;
  }
}

export class ReLU extends Elementwise {
  readonly spec = { type: 'relu' } as const;
  protected apply(x: FloatArray, y: FloatArray): void {
    kernels().relu(x.length, x, y);
  }
  protected derive(y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    kernels().reluBackward(dy.length, y, dy, dx);
  }
}

export class Tanh extends Elementwise {
  readonly spec = { type: 'tanh' } as const;
  protected apply(x: FloatArray, y: FloatArray): void {
    for (let i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]!);
  }
  protected derive(y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    for (let i = 0; i < dy.length; i++) dx[i] = dy[i]! * (1 - y[i]! * y[i]!);
  }
}

export class Sigmoid extends Elementwise {
  readonly spec = { type: 'sigmoid' } as const;
  protected apply(x: FloatArray, y: FloatArray): void {
    for (let i = 0; i < x.length; i++) y[i] = sigmoid(x[i]!);
  }
  protected derive(y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    for (let i = 0; i < dy.length; i++) dx[i] = dy[i]! * y[i]! * (1 - y[i]!);
  }
}

/** [batch, …] → [batch, product of …]; a view, no copy. */
export class Flatten implements Layer {
  readonly spec = { type: 'flatten' } as const;
  private inputShape: readonly number[] = [];

  build(inputShape: readonly number[]): readonly number[] {
    this.inputShape = inputShape;
    return [sizeOf(inputShape)];
  }

  bind(): void {}

  forward(input: Tensor, _context: ForwardContext): Tensor {
    return { shape: [input.shape[0]!, sizeOf(this.inputShape)], data: input.data };
  }

  backward(outputGradient: Tensor, needInputGradient: boolean): Tensor | null {
    return needInputGradient ? { shape: [outputGradient.shape[0]!, ...this.inputShape], data: outputGradient.data } : null;
  }
}
