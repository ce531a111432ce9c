/**
 * The compressed sum of the ranks' gradient vectors, for any codec (comm/codecs), by the collective
 * the codec's layout calls for:
 * - 'dense' (fp16, bf16, qsgd, terngrad, signsgd) and 'sparse' (topk, randomk): an all-gather of the
 *   encoded bytes, then every rank decodes every rank's message and sums them in rank order — the
 *   same bits on every rank, in every paradigm. (A sum of encodings is not an encoding, so a plain
 *   all-reduce cannot carry them; sparse pairs would also fill in as they are summed.)
 * - 'low-rank' (PowerSGD): two small all-reduces, of P = M·Q and of Q = Mᵀ·P (Vogels et al. 2019,
 *   Algorithm 1): the factors are linear in M, so they can be summed on the wire, (rows + cols)·r
 *   float32 values each way instead of n.
 *
 * Warm-up (`warmupEpochs`): the sparse codecs follow DGC's density schedule inside the codec; the
 * others send uncompressed during warm-up (the caller's plain all-reduce), as DGC's warm-up intends:
 * the early, fast-changing gradients are the ones compression hurts most.
 */
import type { Communicator } from '../comm/communicator.js';
import { allGatherBytes } from '../comm/collectives/allgather.js';
import type { Codec, CodecState } from '../comm/codecs/index.js';
import {
  backProject,
  createCodec,
  exportCodecState,
  importCodecState,
  orthonormalize,
  powerShape,
  project,
  reconstruct,
  warmStart,
} from '../comm/codecs/index.js';
import { ConfigError } from '../core/errors.js';

/** `--compression` and `--compression-warmup`, as the runtime hands them to a strategy. */
export interface CompressionOptions {
  /** A codec spec: 'none', 'fp16', 'topk:0.01', 'powersgd:4', … (see comm/codecs/index.ts). */
  codec: string;
  /** Epochs of warm-up (DGC), possibly a fraction of an epoch (0.1). Default 0. */
  warmupEpochs?: number;
  /** Seed of the codecs' random choices (random-k, QSGD, TernGrad, PowerSGD's first Q). Default 0. */
  seed?: number;
}

/** The codec of `options` (throws the ConfigError of a bad spec or warm-up). */
export function compressionCodec(options: CompressionOptions): Codec {
  const warmup = options.warmupEpochs ?? 0;
  if (!(Number.isFinite(warmup) && warmup >= 0)) {
    throw new ConfigError(`compression warm-up must be a number of epochs ≥ 0 (0.1 = a tenth of the first epoch), got ${warmup}`, {
      field: 'compressionWarmup',
    });
  }
  return createCodec(options.codec);
}

/** One rank's compressor: its codec and the state it carries from step to step. */
export class GradientCompressor {
  private state: CodecState | null = null;
  private epoch = 0;
  /** Steps taken in the current epoch, and an epoch's steps when the trainer said (fractional warm-up). */
  private stepInEpoch = 0;
  private stepsPerEpoch: number | null = null;
  /** Where this step falls, in fractional epochs (set by beginStep). */
  private progress = 0;
  /** A resumed run's place in its epoch, taken by the next startEpoch of that epoch. */
  private resumeAt: { epoch: number; stepInEpoch: number } | null = null;

  constructor(
    private readonly comm: Communicator,
    readonly codec: Codec,
    private readonly options: CompressionOptions,
  ) {}

  /** The trainer's epoch (0-based), for the warm-up. */
  startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.stepInEpoch = this.resumeAt?.epoch === epoch ? this.resumeAt.stepInEpoch : 0;
    this.resumeAt = null;
    this.progress = epoch;
  }

  /** The codec state and warm-up clock as checkpoint data, arrays under `prefix` (StrategyState). */
  exportState(prefix: string, arrays: Record<string, Float64Array>): Record<string, unknown> {
    return {
      epoch: this.epoch,
      stepInEpoch: this.stepInEpoch,
      codec: this.state === null ? null : exportCodecState(this.state, prefix, arrays),
    };
  }

  /** Continue from exportState's data. */
  importState(prefix: string, meta: Record<string, unknown>, arrays: Readonly<Record<string, Float64Array>>): void {
    this.resumeAt = { epoch: meta['epoch'] as number, stepInEpoch: meta['stepInEpoch'] as number };
    const codec = meta['codec'] as Parameters<typeof importCodecState>[2] | null;
    if (codec === null) this.state = null;
    else importCodecState(this.stateFor(codec.length), prefix, codec, arrays);
  }

  /** An epoch's steps (StrategySetup.stepsPerEpoch): the warm-up then counts fractions of an epoch. */
  setStepsPerEpoch(steps: number | undefined): void {
    this.stepsPerEpoch = steps !== undefined && steps > 0 ? steps : null;
  }

  /** Call once at the start of every step, before bypass()/sum(): advances the warm-up clock. */
  beginStep(): void {
    this.progress = this.stepsPerEpoch === null ? this.epoch : this.epoch + this.stepInEpoch / this.stepsPerEpoch;
    this.stepInEpoch++;
  }

  /** Whether this step goes uncompressed (identity codec, or a non-sparse codec in warm-up). */
  bypass(): boolean {
    return this.codec.layout === 'identity' || (this.codec.layout !== 'sparse' && this.progress < (this.options.warmupEpochs ?? 0));
  }

  /** Replace `gradient` (this rank's sum) by the decoded sum over all ranks. */
  async sum(gradient: Float64Array): Promise<void> {
    const state = this.stateFor(gradient.length);
    state.epoch = this.progress;
    if (this.codec.layout === 'low-rank') {
      await this.powerSgd(gradient, state);
      return;
    }
    const messages = await allGatherBytes(this.comm, this.codec.encode(gradient, state));
    gradient.fill(0);
    for (const bytes of messages) {
      const decoded = this.codec.decode(bytes, gradient.length);
      for (let i = 0; i < gradient.length; i++) gradient[i]! += decoded[i]!;
    }
  }

  private stateFor(length: number): CodecState {
    if (this.state === null || this.state.length !== length) {
      this.state = this.codec.createState(length, {
        seed: this.options.seed ?? 0,
        rank: this.comm.rank,
        warmupEpochs: this.options.warmupEpochs ?? 0,
      });
    }
    return this.state;
  }

  /** PowerSGD with error feedback; see the module comment and comm/codecs/powersgd.ts. */
  private async powerSgd(gradient: Float64Array, state: CodecState): Promise<void> {
    const n = gradient.length;
    const shape = powerShape(n, this.codec.rank ?? 1);
    const residual = state.residual!;
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) p[i] = gradient[i]! + residual[i]!;
    const left = Float32Array.from(project(p, shape, warmStart(state, shape)));
    await this.comm.allReduce(left, 'sum');
    const basis = Float64Array.from(left);
    orthonormalize(basis, shape.rows, shape.rank);
    const right = backProject(p, shape, basis);
    const local = reconstruct(basis, right, shape, n);
    for (let i = 0; i < n; i++) residual[i] = p[i]! - local[i]!;
    const wire = Float32Array.from(right);
    await this.comm.allReduce(wire, 'sum');
    state.q = Float64Array.from(wire);
    gradient.set(reconstruct(basis, state.q, shape, n));
  }
}

/**
 * One rank's codec for point-to-point pushes (the parameter server's): a state per destination
 * (each server receives a different shard, so each has its own residual and stream). Warm-up as in
 * the all-reduce: dense codecs push uncompressed during it, sparse ones follow DGC's schedule.
 */
export class PushCompressor {
  private readonly states = new Map<number, CodecState>();
  private epoch = 0;

  constructor(
    readonly codec: Codec,
    private readonly options: CompressionOptions,
    private readonly rank: number,
  ) {}

  startEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  bypass(): boolean {
    return this.codec.layout === 'identity' || (this.codec.layout !== 'sparse' && this.epoch < (this.options.warmupEpochs ?? 0));
  }

  /** Every destination's codec state as checkpoint data, arrays under `prefix` + the destination. */
  exportState(prefix: string, arrays: Record<string, Float64Array>): Record<string, unknown> {
    const states: Record<string, unknown> = {};
    for (const [to, state] of [...this.states].sort((a, b) => a[0] - b[0])) states[to] = exportCodecState(state, `${prefix}${to}.`, arrays);
    return states;
  }

  /** Continue from exportState's data (a world of the same size: destinations are ranks). */
  importState(prefix: string, meta: Record<string, unknown>, arrays: Readonly<Record<string, Float64Array>>): void {
    this.states.clear();
    for (const [to, saved] of Object.entries(meta)) {
      const codec = saved as Parameters<typeof importCodecState>[2];
      const state = this.createState(Number(to), codec.length);
      importCodecState(state, `${prefix}${to}.`, codec, arrays);
    }
  }

  private createState(to: number, length: number): CodecState {
    // The stream of (this rank, destination): rank·65536 + to keeps the pairs' streams apart.
    const state = this.codec.createState(length, {
      seed: this.options.seed ?? 0,
      rank: this.rank * 65536 + to,
      warmupEpochs: this.options.warmupEpochs ?? 0,
    });
    this.states.set(to, state);
    return state;
  }

  /** The encoding of `gradient`, the shard bound for rank `to`. */
  encode(to: number, gradient: Float64Array): Uint8Array {
    let state = this.states.get(to);
    if (state === undefined || state.length !== gradient.length) state = this.createState(to, gradient.length);
    state.epoch = this.epoch;
    return this.codec.encode(gradient, state);
  }

  decode(bytes: Uint8Array, length: number): Float64Array {
    return this.codec.decode(bytes, length);
  }
}
