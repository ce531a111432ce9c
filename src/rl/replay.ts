/**
 * A uniform experience-replay buffer (Lin 1992; Mnih et al. 2015): a ring of the last `capacity`
 * transitions (s, a, r, s', terminated), sampled uniformly with replacement through a seeded Rng.
 * Storage is flat typed arrays, so a batch is gathered by copying rows, and transitions cross
 * ranks as a few arrays (`exportRange`/`addMany`) with no per-transition objects.
 *
 * `terminated` (not `truncated`) is stored: a target bootstraps from s' unless s' is terminal, and
 * s' of a truncated episode is its real last observation, not the next episode's first.
 *
 * @example
 * const buffer = new ReplayBuffer(10_000, 4);
 * buffer.add(observation, action, reward, next, terminated);
 * const batch = buffer.sample(128, rng);      // indices; then buffer.gather(batch, …)
 */
import type { Rng } from '../core/rng.js';
import type { FloatArray } from '../core/storage.js';

export class ReplayBuffer {
  readonly capacity: number;
  readonly observationLength: number;
  readonly observations: Float64Array;
  readonly nextObservations: Float64Array;
  readonly actions: Int32Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  private next = 0;
  private count = 0;

  constructor(capacity: number, observationLength: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1))
      throw new RangeError(`ReplayBuffer: capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.observationLength = observationLength;
    this.observations = new Float64Array(capacity * observationLength);
    this.nextObservations = new Float64Array(capacity * observationLength);
    this.actions = new Int32Array(capacity);
    this.rewards = new Float64Array(capacity);
    this.terminated = new Uint8Array(capacity);
  }

  /** Transitions held (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  add(observation: ArrayLike<number>, action: number, reward: number, nextObservation: ArrayLike<number>, terminated: boolean): void {
    const d = this.observationLength;
    const at = this.next;
    for (let j = 0; j < d; j++) {
      this.observations[at * d + j] = observation[j]!;
      this.nextObservations[at * d + j] = nextObservation[j]!;
    }
    this.actions[at] = action;
    this.rewards[at] = reward;
    this.terminated[at] = terminated ? 1 : 0;
    this.next = (at + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /**
   * Add `count` transitions laid out as `packTransitions` lays them out: per transition
   * [observation (d), action, reward, next observation (d), terminated].
   */
  addPacked(packed: ArrayLike<number>, count: number): void {
    const d = this.observationLength;
    const width = 2 * d + 3;
    if (packed.length < count * width)
      throw new RangeError(`ReplayBuffer.addPacked: ${count} transitions need ${count * width} values, got ${packed.length}`);
    const observation = new Float64Array(d);
    const nextObservation = new Float64Array(d);
    for (let i = 0; i < count; i++) {
      const at = i * width;
      for (let j = 0; j < d; j++) {
        observation[j] = packed[at + j]!;
        nextObservation[j] = packed[at + d + 2 + j]!;
      }
      this.add(observation, packed[at + d]!, packed[at + d + 1]!, nextObservation, packed[at + 2 * d + 2]! !== 0);
    }
  }

  /** `batch` indices drawn uniformly with replacement from the transitions held. */
  sample(batch: number, rng: Rng, out: Int32Array = new Int32Array(batch)): Int32Array {
    if (this.count === 0) throw new RangeError('ReplayBuffer.sample: the buffer is empty');
    for (let i = 0; i < batch; i++) out[i] = rng.int(this.count);
    return out;
  }

  /** Copy the observations (or next observations) of `indices` into `out`, row after row. */
  gather(indices: Int32Array, which: 'observations' | 'nextObservations', out: FloatArray): void {
    const d = this.observationLength;
    const source = this[which];
    for (let i = 0; i < indices.length; i++) {
      const at = indices[i]! * d;
      for (let j = 0; j < d; j++) out[i * d + j] = source[at + j]!;
    }
  }
}

/** Values per packed transition of observation length d: 2d + 3. */
export function packedWidth(observationLength: number): number {
  return 2 * observationLength + 3;
}

/** Write one transition at `index` of a packed array (see ReplayBuffer.addPacked). */
export function packTransition(
  packed: Float64Array,
  index: number,
  observation: ArrayLike<number>,
  action: number,
  reward: number,
  nextObservation: ArrayLike<number>,
  terminated: boolean,
): void {
  const d = observation.length;
  const at = index * packedWidth(d);
  for (let j = 0; j < d; j++) {
    packed[at + j] = observation[j]!;
    packed[at + d + 2 + j] = nextObservation[j]!;
  }
  packed[at + d] = action;
  packed[at + d + 1] = reward;
  packed[at + 2 * d + 2] = terminated ? 1 : 0;
}
