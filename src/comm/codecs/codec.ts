/**
 * Gradient compression: a codec is a two-method interface, `encode` and `decode` (Horovod's
 * `Compressor`), with a no-op `none`. Codecs are pure synchronous functions on typed arrays; what a
 * codec remembers between steps (error-feedback residuals, DGC's momentum, PowerSGD's warm-started
 * Q, the random stream) lives in a small `CodecState` the caller owns, one per vector it sends.
 *
 * Error feedback (Seide et al. 2014; Karimireddy et al. 2019, "EF-SGD"): a biased codec encodes
 * p = gradient + residual and keeps residual = p − decode(encode(p)), so what it drops now is sent
 * later. On by default for the biased codecs (top-k, sign, PowerSGD), off for the unbiased ones
 * (random-k, QSGD, TernGrad), whose errors cancel in expectation.
 *
 * @example
 * const codec = createCodec('topk:0.01');
 * const state = codec.createState(gradient.length, { seed: 7, rank: comm.rank });
 * const bytes = codec.encode(gradient, state);     // Uint8Array of codec.encodedBytes(n, state) bytes
 * const approx = codec.decode(bytes, gradient.length);
 */
import { ConfigError, ShardlearnError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';

/**
 * How a codec's messages combine across ranks, which decides the collective the all-reduce strategy
 * uses: 'identity' (none: a plain all-reduce), 'dense' and 'sparse' (all-gather of encoded bytes,
 * then decode and sum in rank order), 'low-rank' (PowerSGD: two small all-reduces, of P and of Q).
 */
export type CodecLayout = 'identity' | 'dense' | 'sparse' | 'low-rank';

/** What a codec carries from one step to the next for one vector. Create it with `codec.createState`. */
export interface CodecState {
  /** Length of the vectors this state encodes. */
  readonly length: number;
  /** This rank's random stream (seeded from the seed and the rank). */
  readonly rng: Rng;
  /** A stream equal on every rank (PowerSGD's initial Q must be the same everywhere). */
  readonly sharedRng: Rng;
  /** Error feedback: what was dropped so far and not yet sent; null when the codec has none. */
  residual: Float64Array | null;
  /** DGC momentum correction: the local velocity u; null when momentum is off. */
  velocity: Float64Array | null;
  /** PowerSGD: the warm-started right factor Q (cols × rank, row-major); null before the first step. */
  q: Float64Array | null;
  /**
   * Where training is, in epochs from 0 (fractional: 1.5 = half-way through the second epoch); the
   * caller sets it (the sparse codecs' warm-up reads it).
   */
  epoch: number;
  /** Epochs of warm-up, possibly a fraction (DGC: density falls exponentially to the target over them). */
  readonly warmupEpochs: number;
}

export interface StateOptions {
  /** Seed of the codec's random choices. Default 0. */
  seed?: number;
  /** This rank (its stream is forked from the seed by rank). Default 0. */
  rank?: number;
  /** `--compression-warmup`. Default 0. */
  warmupEpochs?: number;
}

export interface Codec {
  /** The spec it was created from, e.g. 'topk:0.01'. */
  readonly spec: string;
  readonly layout: CodecLayout;
  /** Whether E[decode(encode(g))] = g over the random choices (QSGD, random-k, TernGrad, the exact codecs). */
  readonly unbiased: boolean;
  /** Whether encode keeps an error-feedback residual in the state. */
  readonly errorFeedback: boolean;
  /** The low-rank codecs' rank r (PowerSGD). */
  readonly rank?: number;
  createState(length: number, options?: StateOptions): CodecState;
  /** Exact length of what `encode` returns for a vector of `length` values (for the sparse codecs it depends on the state's epoch). */
  encodedBytes(length: number, state?: CodecState): number;
  /** Encode `gradient` (not modified); updates `state` (residual, velocity, warm start, stream). */
  encode(gradient: Float64Array, state: CodecState): Uint8Array;
  /** The vector `bytes` stands for. Pure: a function of `bytes` and `length` only, so every rank decodes alike. */
  decode(bytes: Uint8Array, length: number): Float64Array;
  /**
   * Largest |decode(encode(x))ᵢ − xᵢ| over i for a fresh state (no residual carried in): the
   * codec's stated bound, which the codec suite checks.
   */
  errorBound(input: Float64Array): number;
}

/** A fresh state; codecs add the arrays they need. */
/** baseState with an error-feedback residual of `length` zeros: the state of every biased codec. */
export function feedbackState(length: number, options: StateOptions = {}): CodecState {
  const state = baseState(length, options);
  state.residual = new Float64Array(length);
  return state;
}

export function baseState(length: number, options: StateOptions = {}): CodecState {
  const seed = options.seed ?? 0;
  const root = new Rng(seed);
  return {
    length,
    rng: root.fork(options.rank ?? 0),
    sharedRng: root.fork(-1),
    residual: null,
    velocity: null,
    q: null,
    epoch: 0,
    warmupEpochs: options.warmupEpochs ?? 0,
  };
}

/**
 * Encode with error feedback when `state.residual` is set: compress p = gradient + residual and keep
 * residual ← p − decode(bytes). Without a residual, compress the gradient as it is.
 */
export function encodeWithFeedback(
  gradient: Float64Array,
  state: CodecState,
  compress: (p: Float64Array) => Uint8Array,
  decode: (bytes: Uint8Array, length: number) => Float64Array,
): Uint8Array {
  checkLength(gradient.length, state);
  const residual = state.residual;
  if (residual === null) return compress(gradient);
  const p = new Float64Array(gradient.length);
  for (let i = 0; i < p.length; i++) p[i] = gradient[i]! + residual[i]!;
  const bytes = compress(p);
  const sent = decode(bytes, p.length);
  for (let i = 0; i < p.length; i++) residual[i] = p[i]! - sent[i]!;
  return bytes;
}

export function checkLength(length: number, state: CodecState): void {
  if (length !== state.length)
    throw new ShardlearnError('CONFIG', `codec state was made for vectors of ${state.length} values, got ${length}: one state per vector`);
}

/** Decoders check the byte length before reading: a mismatch means the ranks disagree on the codec or the vector. */
export function checkBytes(spec: string, bytes: Uint8Array, expected: number, length: number): void {
  if (bytes.byteLength !== expected) {
    throw new ShardlearnError(
      'COMM',
      `codec '${spec}': ${bytes.byteLength} encoded bytes for a vector of ${length} values, expected ${expected}; every rank must use the same --compression on the same model`,
    );
  }
}

/** A ratio in (0, 1] from a spec's argument, or a ConfigError naming the spec. */
export function parseRatio(spec: string, text: string | undefined): number {
  const ratio = Number(text);
  if (text === undefined || text === '' || !(ratio > 0 && ratio <= 1)) {
    throw new ConfigError(`compression '${spec}': expected a ratio in (0, 1] after the colon, e.g. 'topk:0.01', found '${text ?? ''}'`, {
      field: 'compression',
    });
  }
  return ratio;
}

/** A positive integer from a spec's argument, or a ConfigError naming the spec. */
export function parseCount(spec: string, text: string | undefined, what: string, example: string): number {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(
      `compression '${spec}': expected a positive integer ${what} after the colon, e.g. '${example}', found '${text ?? ''}'`,
      { field: 'compression' },
    );
  }
  return value;
}

/** Largest absolute value of `x` (0 for an empty vector). */
export function maxAbs(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    if (a > m) m = a;
  }
  return m;
}

/**
 * A CodecState as checkpoint data (strategies/strategy.ts StrategyState): its arrays (the residual,
 * DGC's velocity, PowerSGD's Q — whichever the codec keeps) under `prefix`, and its streams' states
 * and epoch as JSON. `importCodecState` puts them back into a state of the same length, so the next
 * `encode` sends what an uninterrupted run would.
 */
export function exportCodecState(
  state: CodecState,
  prefix: string,
  arrays: Record<string, Float64Array>,
): { length: number; rng: number[]; sharedRng: number[]; epoch: number } {
  if (state.residual !== null) arrays[`${prefix}residual`] = Float64Array.from(state.residual);
  if (state.velocity !== null) arrays[`${prefix}velocity`] = Float64Array.from(state.velocity);
  if (state.q !== null) arrays[`${prefix}q`] = Float64Array.from(state.q);
  return { length: state.length, rng: state.rng.getState(), sharedRng: state.sharedRng.getState(), epoch: state.epoch };
}

/** Restore what exportCodecState saved into `state` (made by the same codec for the same length); throws naming the array that does not fit. */
export function importCodecState(
  state: CodecState,
  prefix: string,
  saved: { length: number; rng: number[]; sharedRng: number[]; epoch: number },
  arrays: Readonly<Record<string, Float64Array>>,
): void {
  checkLength(saved.length, state);
  for (const field of ['residual', 'velocity'] as const) {
    const array = arrays[`${prefix}${field}`];
    const mine = state[field];
    if (array === undefined && mine === null) continue;
    if (array === undefined || mine === null || mine.length !== array.length) {
      throw new ShardlearnError(
        'CHECKPOINT',
        `codec state '${prefix}': the checkpoint's ${field} has ${array?.length ?? 'no'} values, the codec keeps ${mine?.length ?? 'none'}`,
      );
    }
    mine.set(array);
  }
  const q = arrays[`${prefix}q`];
  state.q = q === undefined ? null : Float64Array.from(q);
  state.rng.setState(saved.rng);
  state.sharedRng.setState(saved.sharedRng);
  state.epoch = saved.epoch;
}
