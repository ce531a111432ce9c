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
 *
 * With `--compression <codec>` (strategies/compression.ts) each rank's gradient sum is encoded and
 * the ranks' encodings are summed decoded, in rank order, so every rank still applies the same
 * update. Compression is applied in every paradigm, sequential included (a world of one sends
 * nothing but compresses alike), so the codec's effect on accuracy is measured apart from the
 * paradigm's.
 */
import type { Communicator } from '../comm/communicator.js';
import type { CompressionOptions } from './compression.js';
import { GradientCompressor, compressionCodec } from './compression.js';
import type { ApplyUpdate, GradientStrategy, StrategySetup } from './strategy.js';

export class AllReduceStrategy implements GradientStrategy {
  readonly name = 'allreduce';
  readonly synchronous = true;

  /** The float32 copy of the gradient sum that crosses the wire, when the model's gradients are float32. */
  private wire: Float32Array | null = null;

  /** The codec and its per-rank state, when compressing; null for plain all-reduce. */
  private readonly compressor: GradientCompressor | null;

  constructor(
    private readonly comm: Communicator,
    compression?: CompressionOptions,
  ) {
    const codec = compression === undefined ? null : compressionCodec(compression);
    this.compressor = codec === null || codec.layout === 'identity' ? null : new GradientCompressor(comm, codec, compression!);
  }

  /** A compressed rank's message depends on which rows it summed: see GradientStrategy.gradientsByShard. */
  get gradientsByShard(): boolean {
    return this.compressor !== null;
  }

  startEpoch(epoch: number): void {
    this.compressor?.startEpoch(epoch);
  }

  setup(initial: Float64Array, options: StrategySetup = {}): Promise<Float64Array> {
    this.wire = options.gradientPrecision === 'float32' && this.comm.size > 1 ? new Float32Array(initial.length) : null;
    return Promise.resolve(initial);
  }

  async step(params: Float64Array, gradientSum: Float64Array, count: number, apply: ApplyUpdate): Promise<void> {
    if (this.compressor !== null && !this.compressor.bypass()) await this.compressor.sum(gradientSum);
    else if (this.wire !== null) {
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
