/**
 * N copies of an environment stepped together (Gymnasium's SyncVectorEnv): one action per copy in,
 * observations (N × observation length, row-major), rewards and end flags out. A copy whose episode
 * ends is reset at once (same-step autoreset, Gymnasium 0.x's rule): its row of `observations` is
 * then the new episode's first observation, and the last observation of the finished episode is in
 * `finalObservations` (needed to bootstrap from a truncated episode).
 *
 * Copy i is seeded `seed + i` by the first reset and continues its own stream afterwards, so a
 * vector of N copies sees the same episodes as N single environments seeded the same way.
 *
 * @example
 * const envs = new VectorEnv(() => makeEnv('cartpole'), 4);
 * const first = envs.reset(0);                    // 4 × 4 values
 * const { observations, rewards, terminated } = envs.step(Int32Array.of(0, 1, 1, 0));
 */
import type { Environment } from './env.js';
import { observationLength } from './env.js';

export interface VectorStep {
  /** N × observation length; a finished copy's row is its next episode's first observation. */
  readonly observations: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /** The finished episode's last observation per copy, null for copies still running. */
  readonly finalObservations: (Float64Array | null)[];
}

export class VectorEnv {
  readonly envs: readonly Environment[];
  readonly observationLength: number;

  constructor(make: (index: number) => Environment, count: number) {
    if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`VectorEnv: count must be a positive integer, got ${count}`);
    this.envs = Array.from({ length: count }, (_, i) => make(i));
    this.observationLength = observationLength(this.envs[0]!.observationSpace);
  }

  get count(): number {
    return this.envs.length;
  }

  reset(seed?: number): Float64Array {
    const out = new Float64Array(this.count * this.observationLength);
    this.envs.forEach((env, i) => out.set(env.reset(seed === undefined ? undefined : seed + i), i * this.observationLength));
    return out;
  }

  step(actions: ArrayLike<number>): VectorStep {
    if (actions.length !== this.count) throw new RangeError(`VectorEnv: expected ${this.count} actions, got ${actions.length}`);
    const observations = new Float64Array(this.count * this.observationLength);
    const rewards = new Float64Array(this.count);
    const terminated = new Uint8Array(this.count);
    const truncated = new Uint8Array(this.count);
    const finalObservations: (Float64Array | null)[] = new Array<Float64Array | null>(this.count).fill(null);
    this.envs.forEach((env, i) => {
      const result = env.step(actions[i]!);
      rewards[i] = result.reward;
      terminated[i] = result.terminated ? 1 : 0;
      truncated[i] = result.truncated ? 1 : 0;
      let observation = result.observation;
      if (result.terminated || result.truncated) {
        finalObservations[i] = observation;
        observation = env.reset();
      }
      observations.set(observation, i * this.observationLength);
    });
    return { observations, rewards, terminated, truncated, finalObservations };
  }
}
