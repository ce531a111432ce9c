/**
 * Seeded random numbers: xoshiro128** (Blackman & Vigna, 2018), seeded through splitmix32.
 * Every random choice in shardlearn goes through an `Rng`, so the same seed gives the same model.
 * 32-bit operations only, so it is fast in JavaScript (no BigInt).
 *
 * @example
 * const rng = new Rng(7);
 * rng.uniform(); rng.normal(); rng.shuffle(indices);
 * const perRank = rng.fork(rank); // an independent stream for rank `rank`
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    let x = (seed | 0) >>> 0;
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A new generator whose stream depends on this one's seed state and `stream`, not on draws made later. */
  fork(stream: number): Rng {
    return new Rng((Math.imul(this.s0 ^ this.s2, 0x27d4eb2d) + Math.imul(stream + 1, 0x165667b1)) | 0);
  }

  /** The generator's whole state (four xoshiro words and the spare normal), for a checkpoint. */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, ...(this.spareNormal === null ? [] : [this.spareNormal])];
  }

  /** Continue from a state `getState` returned: the same draws follow as from the generator that gave it. */
  setState(state: readonly number[]): this {
    if (state.length !== 4 && state.length !== 5) throw new RangeError(`Rng.setState expects 4 or 5 numbers, got ${state.length}`);
    [this.s0, this.s1, this.s2, this.s3] = [state[0]! | 0, state[1]! | 0, state[2]! | 0, state[3]! | 0];
    this.spareNormal = state.length === 5 ? state[4]! : null;
    return this;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform integer in [0, n). Unbiased (rejection sampling). */
  int(n: number): number {
    if (!(n >= 1) || n > 0x100000000) throw new RangeError(`Rng.int expects 1 <= n <= 2^32, got ${n}`);
    if (n <= 0x10000) {
      // Lemire-style rejection on 32 bits
      const limit = 0x100000000 - (0x100000000 % n);
      for (;;) {
        const r = this.nextUint32();
        if (r < limit) return r % n;
      }
    }
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Marsaglia polar method). */
  normal(): number {
    if (this.spareNormal !== null) {
      const value = this.spareNormal;
      this.spareNormal = null;
      return value;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * m;
        return u * m;
      }
    }
  }

  /** Gamma(shape, 1) by Marsaglia & Tsang (2000); used by the Dirichlet partitioner. */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.uniform() || Number.MIN_VALUE, 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends { length: number; [index: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    // The fill is its own function: inlined here, its loop was optimised on stack (OSR) before
    // `this.shuffle` had been seen, and every fit's first call then deoptimised at that access
    // (--trace-deopt: "Insufficient type feedback for generic named access", ~1.5 per rank per fit).
    return this.shuffle(identity(n));
  }

  /** `count` distinct integers from [0, n), in random order (Floyd's algorithm for small counts). */
  sample(n: number, count: number): Uint32Array {
    if (count > n) throw new RangeError(`cannot sample ${count} distinct values from ${n}`);
    if (count * 4 > n) return this.permutation(n).slice(0, count);
    const chosen = new Set<number>();
    for (let j = n - count; j < n; j++) {
      const t = this.int(j + 1);
      chosen.add(chosen.has(t) ? j : t);
    }
    return this.shuffle(Uint32Array.from(chosen));
  }
}

/** 0, 1, …, n − 1. */
function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A stateless hash of (seed, index) to [0, 1): lets any worker decide a row's fate (train or test,
 * which synthetic block) without seeing the other rows, so sharded and whole-data runs agree.
 */
export function hashUniform(seed: number, index: number): number {
  let h = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index | 0, 0xc2b2ae35) ^ Math.floor(index / 0x100000000);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000;
}
