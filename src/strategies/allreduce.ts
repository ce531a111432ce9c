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
 *
 * With `bucketBytes` (FitOptions.bucketBytes) the vector is all-reduced, or compressed, bucket by
 * bucket along the model's tensor boundaries (buckets.ts: tensor fusion).
 */
import type { Communicator } from '../comm/communicator.js';
import { ConfigError } from '../core/errors.js';
import type { Bucket } from './buckets.js';
import { checkBucketBytes, fuseBuckets } from './buckets.js';
import type { CompressionOptions } from './compression.js';
import { GradientCompressor, compressionCodec } from './compression.js';
import type { Codec } from '../comm/codecs/index.js';
import type { ApplyUpdate, GradientStrategy, StrategySetup, StrategyState } from './strategy.js';

export class AllReduceStrategy implements GradientStrategy {
  readonly name = 'allreduce';
  readonly synchronous = true;

  /** The codec, when compressing; null for plain all-reduce. */
  private readonly codec: Codec | null;
  /** The buckets the vector is all-reduced in (buckets.ts): one, the whole vector, unless `bucketBytes` is given. */
  private buckets: Bucket[] = [];
  /** Per bucket: the copy that crosses the wire (float32 when the model's gradients are float32). */
  private wires: (Float32Array | Float64Array)[] = [];
  /** Per bucket: its codec state, when compressing. */
  private compressors: GradientCompressor[] = [];

  constructor(
    private readonly comm: Communicator,
    private readonly compression?: CompressionOptions,
    /** Tensor fusion cap (FitOptions.bucketBytes); undefined = one bucket. */
    private readonly bucketBytes?: number,
  ) {
    const codec = compression === undefined ? null : compressionCodec(compression);
    this.codec = codec === null || codec.layout === 'identity' ? null : codec;
    if (bucketBytes !== undefined) checkBucketBytes(bucketBytes);
  }

  /** A compressed rank's message depends on which rows it summed: see GradientStrategy.gradientsByShard. */
  get gradientsByShard(): boolean {
    return this.codec !== null;
  }

  startEpoch(epoch: number): void {
    for (const compressor of this.compressors) compressor.startEpoch(epoch);
  }

  get codecSpec(): string {
    return this.codec?.spec ?? 'none';
  }

  /** Each bucket's codec state (error-feedback residual, velocity, Q, streams); null without a codec. */
  exportState(): StrategyState | null {
    if (this.compressors.length === 0) return null;
    const arrays: Record<string, Float64Array> = {};
    const buckets = this.compressors.map((compressor, i) => compressor.exportState(`bucket${i}.`, arrays));
    return { arrays, meta: { buckets } };
  }

  importState(state: StrategyState): void {
    const buckets = state.meta['buckets'] as Record<string, unknown>[] | undefined;
    if (buckets?.length !== this.compressors.length) {
      throw new ConfigError(
        `allreduce: the checkpoint holds the codec state of ${buckets?.length ?? 0} buckets, this run has ${this.compressors.length} (another --bucket-bytes?)`,
        { field: 'bucketBytes' },
      );
    }
    this.compressors.forEach((compressor, i) => compressor.importState(`bucket${i}.`, buckets[i]!, state.arrays));
  }

  setup(initial: Float64Array, options: StrategySetup = {}): Promise<Float64Array> {
    const float32 = options.gradientPrecision === 'float32' && this.comm.size > 1;
    const n = initial.length;
    this.buckets =
      this.bucketBytes === undefined ? [{ start: 0, end: n }] : fuseBuckets(options.tensors, n, float32 ? 4 : 8, this.bucketBytes);
    // One float64 bucket: the gradient vector itself crosses the wire (no copy; an empty wire says so).
    const direct = !float32 && this.buckets.length === 1;
    this.wires = this.buckets.map(({ start, end }) =>
      float32 ? new Float32Array(end - start) : new Float64Array(direct ? 0 : end - start),
    );
    const codec = this.codec;
    // Each bucket its own codec state; bucket i's random stream is seeded seed + i, so one bucket is the unbucketed run.
    this.compressors =
      codec === null
        ? []
        : this.buckets.map(
            (_, i) => new GradientCompressor(this.comm, codec, { ...this.compression!, seed: (this.compression!.seed ?? 0) + i }),
          );
    for (const compressor of this.compressors) compressor.setStepsPerEpoch(options.stepsPerEpoch);
    return Promise.resolve(initial);
  }

  async step(params: Float64Array, gradientSum: Float64Array, count: number, apply: ApplyUpdate): Promise<void> {
    for (let i = 0; i < this.buckets.length; i++) {
      const { start, end } = this.buckets[i]!;
      const part = start === 0 && end === gradientSum.length ? gradientSum : gradientSum.subarray(start, end);
      const compressor = this.compressors[i];
      compressor?.beginStep();
      if (compressor !== undefined && !compressor.bypass()) await compressor.sum(part);
      else if (this.comm.size > 1) {
        const wire = this.wires[i]!;
        if (wire.length === 0) {
          await this.comm.allReduce(part, 'sum');
        } else {
          wire.set(part);
          await this.comm.allReduce(wire, 'sum');
          part.set(wire);
        }
      }
    }
    if (count === 0) return;
    const scale = 1 / count;
    for (let i = 0; i < gradientSum.length; i++) gradientSum[i]! *= scale;
    apply(params, gradientSum);
  }

  finish(_params: Float64Array): Promise<void> {
    return Promise.resolve();
  }
}
