/**
 * Synchronous data parallelism (Horovod / PyTorch DDP): all-reduce the gradient sums, divide by the
 * global batch size, and every rank applies the same update to its own replica. Because all ranks
 * draw the same global batch and the reduction order is fixed, the result equals sequential SGD on
 * the same batches up to floating-point summation order.
 *
 * A model whose gradients are float32 (`setup`'s `gradientPrecision`; the neural networks by
 * default) is all-reduced as float32, as DDP does: half the bytes, and each rank's contribution
 * exact. Only the sum of the ranks' contributions rounds to float32, the precision the network
 * already sums its rows' gradients in.
 */
import type { Communicator } from '../comm/communicator.js';
import type { ApplyUpdate, GradientStrategy, StrategySetup } from './strategy.js';

export class AllReduceStrategy implements GradientStrategy {
  readonly name = 'allreduce';
  readonly synchronous = true;

  /** The float32 copy of the gradient sum that crosses the wire, when the model's gradients are float32. */
  private wire: Float32Array | null = null;

  constructor(private readonly comm: Communicator) {}

  setup(initial: Float64Array, options: StrategySetup = {}): Promise<Float64Array> {
    this.wire = options.gradientPrecision === 'float32' && this.comm.size > 1 ? new Float32Array(initial.length) : null;
    return Promise.resolve(initial);
  }

  async step(params: Float64Array, gradientSum: Float64Array, count: number, apply: ApplyUpdate): Promise<void> {
    if (this.wire !== null) {
      this.wire.set(gradientSum);
      await this.comm.allReduce(this.wire, 'sum');
      gradientSum.set(this.wire);
    } else if (this.comm.size > 1) await this.comm.allReduce(gradientSum, 'sum');
    if (count === 0) return;
    const scale = 1 / count;
    for (let i = 0; i < gradientSum.length; i++) gradientSum[i]! *= scale;
    apply(params, gradientSum);
  }

  finish(_params: Float64Array): Promise<void> {
    return Promise.resolve();
  }
}
