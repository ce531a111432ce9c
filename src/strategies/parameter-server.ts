/**
 * Parameter server (Li et al., OSDI 2014; ps-lite), SPMD style: every rank is a worker and also the
 * server of one shard of the parameters (rank s owns elements [s·P/N, (s+1)·P/N)). A step pushes
 * each shard of the worker's gradient to its server and pulls the shard back after the server
 * applied it. Three consistency models:
 *
 * - `sync` (BSP): a server waits for all N pushes of a step, sums them in ascending rank order and
 *   applies the mean once; `synchronous` is true, so the trainer feeds the same global batches as
 *   `allreduce` and the model equals sequential within the allreduce tolerance.
 * - `async`: a server applies every push as it arrives and answers at once; workers step at their
 *   own pace over their own shards (`synchronous` false), reading parameters that may lag.
 * - `ssp:<s>` (stale synchronous parallel, Ho et al., NIPS 2013): as async, but a server holds its
 *   answer to a worker at clock c until every unfinished worker has pushed at least c − s times, so
 *   no worker runs more than s steps ahead of the slowest.
 *
 * The server applies the model's own update rule (`ApplyUpdate`) to a full-length replica with the
 * gradient zero outside its shard and keeps only its shard: exact for coordinate-wise rules (SGD
 * with L2, momentum, Adam — their state is per element); for rules that couple coordinates (Pegasos's
 * projection onto a ball uses the whole norm) the other coordinates in the replica are stale, so
 * the coupling is approximate. At `finish` every rank assembles the final shards (one all-reduce of
 * zero-padded shards: x + 0 = x exactly), so all ranks end with identical parameters.
 *
 * With `--compression` every push is encoded by the codec (a state per destination server; a
 * rank's push to its own server is encoded too, so the maths does not depend on where a shard
 * lives) and decoded by the server; pulls of parameters stay exact. The encoded bytes ride as
 * finite float32 words, 31 bits each (comm/collectives/allgather.ts).
 */
import type { Communicator, Message } from '../comm/communicator.js';
import { reduceInto } from '../comm/communicator.js';
import { CommError, ConfigError } from '../core/errors.js';
import type { ApplyUpdate, GradientStrategy, StrategyName, StrategyState } from './strategy.js';
import { bytesOf, wordsOf } from '../comm/collectives/allgather.js';
import type { CompressionOptions } from './compression.js';
import { PushCompressor, compressionCodec } from './compression.js';

export type Consistency = { kind: 'sync' } | { kind: 'async' } | { kind: 'ssp'; staleness: number };

/** Parse 'ps-sync', 'ps-async', 'ps-ssp:<s>' (s a whole number ≥ 0). */
export function parseConsistency(name: string): Consistency | null {
  if (name === 'ps-sync') return { kind: 'sync' };
  if (name === 'ps-async') return { kind: 'async' };
  const match = /^ps-ssp:(.*)$/.exec(name);
  if (match === null) return null;
  const staleness = Number(match[1]);
  if (!Number.isInteger(staleness) || staleness < 0) {
    throw new ConfigError(`strategy '${name}': the staleness bound after 'ps-ssp:' must be a whole number ≥ 0, e.g. ps-ssp:2`, {
      field: 'strategy',
    });
  }
  return { kind: 'ssp', staleness };
}

interface Push {
  from: number;
  clock: number;
  count: number;
  gradient: Float64Array;
}

export class ParameterServerStrategy implements GradientStrategy {
  readonly name: StrategyName;
  readonly synchronous: boolean;
  /** Most steps a worker may run ahead of the slowest: 0 for sync, ∞ for async. */
  readonly staleness: number;
  private readonly rank: number;
  private readonly size: number;
  private bounds: number[] = [];
  /** Server state: a full-length replica whose own shard is authoritative. */
  private replica = new Float64Array(0);
  private apply: ApplyUpdate | null = null;
  private readonly clocks: number[];
  private readonly done: boolean[];
  /** sync: pushes of the current step, by rank. ssp: answers held back. */
  private pending: Push[] = [];
  private held: Push[] = [];
  /** Worker side: shards awaited for the current step. */
  private awaited = 0;
  private params: Float64Array | null = null;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private pump: Promise<void> = Promise.resolve();
  private clock = 0;
  /** The pushes' codec, when compressing. */
  private readonly compressor: PushCompressor | null;

  constructor(
    private readonly comm: Communicator,
    private readonly consistency: Consistency,
    compression?: CompressionOptions,
  ) {
    const codec = compression === undefined ? null : compressionCodec(compression);
    this.compressor = codec === null || codec.layout === 'identity' ? null : new PushCompressor(codec, compression!, comm.rank);
    this.name = consistency.kind === 'ssp' ? `ps-ssp:${consistency.staleness}` : consistency.kind === 'sync' ? 'ps-sync' : 'ps-async';
    this.staleness = consistency.kind === 'ssp' ? consistency.staleness : consistency.kind === 'sync' ? 0 : Infinity;
    this.synchronous = consistency.kind === 'sync';
    this.rank = comm.rank;
    this.size = comm.size;
    this.clocks = new Array<number>(this.size).fill(0);
    this.done = new Array<boolean>(this.size).fill(false);
  }

  /** With compression a server's update depends on which rows each worker summed (strategy.ts). */
  get gradientsByShard(): boolean {
    return this.compressor !== null;
  }

  startEpoch(epoch: number): void {
    this.compressor?.startEpoch(epoch);
  }

  get codecSpec(): string {
    return this.compressor?.codec.spec ?? 'none';
  }

  /** The model's update rule runs here on this rank's shard only: its state is authoritative there. */
  ownShard(): [number, number] {
    return this.shard(this.rank);
  }

  /**
   * At a step boundary of ps-sync: the worker's clock (the servers' clocks of the others follow it)
   * and the push codecs' states. Pushes of the next round already received are not state: the
   * round applies only when every rank pushed, so the replica's own shard is the round's, and the
   * early pushes are sent again after a resume. The update rule's state is the trainer's (ownShard).
   */
  exportState(): StrategyState {
    const arrays: Record<string, Float64Array> = {};
    const meta: Record<string, unknown> = { clock: this.clock };
    if (this.compressor !== null) meta['push'] = this.compressor.exportState('push.', arrays);
    return { arrays, meta };
  }

  importState(state: StrategyState): void {
    const clock = state.meta['clock'];
    if (typeof clock === 'number') {
      this.clock = clock;
      this.clocks.fill(clock);
    }
    const push = state.meta['push'] as Record<string, unknown> | undefined;
    if (push !== undefined && this.compressor !== null) this.compressor.importState('push.', push, state.arrays);
  }

  private shard(s: number): [number, number] {
    return [this.bounds[s]!, this.bounds[s + 1]!];
  }

  setup(initial: Float64Array): Promise<Float64Array> {
    const length = initial.length;
    this.bounds = Array.from({ length: this.size + 1 }, (_, s) => Math.floor((s * length) / this.size));
    this.replica = Float64Array.from(initial);
    if (this.size > 1) this.pump = this.serve();
    return Promise.resolve(initial);
  }

  /** Receive loop: pushes for this rank's server, shards for its worker, goodbyes. Ends when every other worker is done. */
  private async serve(): Promise<void> {
    try {
      while (this.done.some((d, r) => !d && r !== this.rank)) {
        const message = await this.comm.recv();
        this.dispatch(message);
      }
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.wake?.();
    }
  }

  private dispatch(message: Message & { from: number }): void {
    const header = message.header ?? {};
    switch (message.tag) {
      case 'ps-push': {
        const encoded = header['bytes'];
        const [start, end] = this.shard(this.rank);
        const gradient =
          typeof encoded === 'number' && this.compressor !== null
            ? this.compressor.decode(bytesOf(message.arrays?.[0] as Float32Array, encoded), end - start)
            : (message.arrays?.[0] as Float64Array);
        this.onPush({ from: message.from, clock: header['clock'] as number, count: header['count'] as number, gradient });
        return;
      }
      case 'ps-shard':
        this.onShard(header['shard'] as number, message.arrays?.[0] as Float64Array);
        return;
      case 'ps-done':
        this.done[message.from] = true;
        this.clocks[message.from] = Infinity;
        this.release();
        return;
      default:
        this.failure = new CommError('COMM', `parameter server: unexpected message '${message.tag}' from rank ${message.from}`, {
          rank: message.from,
        });
        this.wake?.();
    }
  }

  private onShard(shard: number, values: Float64Array): void {
    const [start, end] = this.shard(shard);
    if (values.length !== end - start) {
      this.failure = new CommError('COMM', `parameter server ${shard} sent ${values.length} values for a shard of ${end - start}`, {
        rank: shard,
      });
    } else this.params!.set(values, start);
    if (--this.awaited === 0 || this.failure !== null) this.wake?.();
  }

  /** Server side: one push of a gradient shard. */
  private onPush(push: Push): void {
    this.clocks[push.from] = push.clock;
    if (this.consistency.kind === 'sync') {
      this.pending.push(push);
      if (this.pending.length < this.size) return;
      const ordered = this.pending.sort((a, b) => a.from - b.from);
      this.pending = [];
      const sum = Float64Array.from(ordered[0]!.gradient);
      for (const other of ordered.slice(1)) reduceInto(sum, other.gradient, 'sum');
      this.applyShard(sum, ordered[0]!.count);
      for (const answered of ordered) this.answer(answered.from);
      return;
    }
    this.applyShard(push.gradient, push.count);
    this.held.push(push);
    this.release();
  }

  /** Answer held pushes whose worker is within the staleness bound (async: all). */
  private release(): void {
    const slowest = Math.min(...this.clocks.filter((_, r) => !this.done[r]));
    const bound = this.consistency.kind === 'ssp' ? this.consistency.staleness : Infinity;
    const keep: Push[] = [];
    for (const push of this.held) {
      if (push.clock - slowest <= bound) this.answer(push.from);
      else keep.push(push);
    }
    this.held = keep;
  }

  private applyShard(gradientShard: Float64Array, count: number): void {
    if (count === 0) return;
    const [start, end] = this.shard(this.rank);
    const mean = new Float64Array(this.replica.length);
    const scale = 1 / count;
    for (let i = start; i < end; i++) mean[i] = gradientShard[i - start]! * scale;
    this.apply!(this.replica, mean);
  }

  private answer(worker: number): void {
    const [start, end] = this.shard(this.rank);
    if (worker === this.rank) {
      this.onShard(this.rank, this.replica.slice(start, end));
      return;
    }
    this.comm
      .send(worker, { tag: 'ps-shard', header: { shard: this.rank }, arrays: [this.replica.slice(start, end)] })
      .catch((error: unknown) => {
        this.failure = error instanceof Error ? error : new Error(String(error));
        this.wake?.();
      });
  }

  async step(params: Float64Array, gradientSum: Float64Array, count: number, apply: ApplyUpdate): Promise<void> {
    if (this.failure !== null) throw this.failure;
    this.apply = apply;
    this.params = params;
    this.clock++;
    this.awaited = this.size;
    const arrived = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    const compressor = this.compressor !== null && !this.compressor.bypass() ? this.compressor : null;
    for (let s = 0; s < this.size; s++) {
      const [start, end] = this.shard(s);
      const gradient = gradientSum.slice(start, end);
      const encoded = compressor?.encode(s, gradient) ?? null;
      if (s === this.rank)
        this.onPush({
          from: this.rank,
          clock: this.clock,
          count,
          gradient: encoded === null ? gradient : compressor!.decode(encoded, gradient.length),
        });
      else if (encoded === null) await this.comm.send(s, { tag: 'ps-push', header: { clock: this.clock, count }, arrays: [gradient] });
      else
        await this.comm.send(s, {
          tag: 'ps-push',
          header: { clock: this.clock, count, bytes: encoded.byteLength },
          arrays: [wordsOf(encoded)],
        });
    }
    if (this.awaited > 0 && this.failure === null) await arrived;
    this.wake = null;
    if (this.failure !== null) throw this.failure;
  }

  async finish(params: Float64Array): Promise<void> {
    if (this.size === 1) return;
    this.done[this.rank] = true;
    this.clocks[this.rank] = Infinity;
    this.release();
    for (let s = 0; s < this.size; s++) if (s !== this.rank) await this.comm.send(s, { tag: 'ps-done' });
    await this.pump;
    if (this.failure !== null) throw this.failure;
    // Everyone's final shard, zero elsewhere, summed: identical parameters on every rank.
    const [start, end] = this.shard(this.rank);
    params.fill(0);
    params.set(this.replica.subarray(start, end), start);
    await this.comm.allReduce(params, 'sum');
  }
}
