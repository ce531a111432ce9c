/**
 * Synchronous data parallelism (Horovod / PyTorch DDP): all-reduce the gradient sums, divide by the
 * global batch size, and every rank applies the same update to its own replica. Because all ranks
 * draw the same global batch and the reduction order is fixed, the result equals sequential SGD on
 * the same batches up to floating-point summation order.
 */
import type { Communicator } from '../comm/communicator.js';
import type { ApplyUpdate, GradientStrategy } from './strategy.js';

export class AllReduceStrategy implements GradientStrategy {
  readonly name = 'allreduce';
  readonly synchronous = true;

  constructor(private readonly comm: Communicator) {}

  setup(initial: Float64Array): Promise<Float64Array> {
    return Promise.resolve(initial);
  }

  async step(params: Float64Array, gradientSum: Float64Array, count: number, apply: ApplyUpdate): Promise<void> {
    if (this.comm.size > 1) await this.comm.allReduce(gradientSum, 'sum');
    if (count === 0) return;
    const scale = 1 / count;
    for (let i = 0; i < gradientSum.length; i++) gradientSum[i]! *= scale;
    apply(params, gradientSum);
  }

  finish(_params: Float64Array): Promise<void> {
    return Promise.resolve();
  }
}
