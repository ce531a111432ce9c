/**
 * The environment contract, Gym's in miniature: `reset(seed?)` starts an episode and returns the
 * first observation; `step(action)` returns the next observation, the reward, and whether the
 * episode ended inside the task (`terminated`: a hole, the goal, the pole fell) or was cut off from
 * outside (`truncated`: the step limit). Every random choice goes through the environment's own
 * seeded `Rng`: `reset(seed)` re-seeds it, `reset()` continues its stream (as Gymnasium does).
 *
 * Observations are Float64Arrays: `[state]` for the tabular environments (a discrete space), the
 * four state variables for CartPole (a box).
 *
 * @example
 * const env = makeEnv('frozenlake-4x4', { slippery: true });
 * let observation = env.reset(0);
 * const { observation: next, reward, terminated, truncated } = env.step(2); // RIGHT
 */
export interface DiscreteSpace {
  readonly kind: 'discrete';
  /** Values are the integers 0..n-1. */
  readonly n: number;
}

export interface BoxSpace {
  readonly kind: 'box';
  readonly shape: readonly number[];
  readonly low: Float64Array;
  readonly high: Float64Array;
}

export type Space = DiscreteSpace | BoxSpace;

export interface StepResult {
  readonly observation: Float64Array;
  readonly reward: number;
  /** The episode reached a terminal state of the task. */
  readonly terminated: boolean;
  /** The episode was cut off by the step limit (the state is not terminal: bootstrap from it). */
  readonly truncated: boolean;
}

export interface Environment {
  /** The registry name (`frozenlake-4x4`, `cartpole`, …). */
  readonly name: string;
  readonly observationSpace: Space;
  readonly actionSpace: DiscreteSpace;
  /** Steps after which an episode is truncated (Infinity: never). */
  readonly maxEpisodeSteps: number;
  reset(seed?: number): Float64Array;
  step(action: number): StepResult;
}

/** Length of an observation of `space`: 1 for a discrete space, the product of a box's shape. */
export function observationLength(space: Space): number {
  return space.kind === 'discrete' ? 1 : space.shape.reduce((a, b) => a * b, 1);
}

/** Throws a RangeError naming the environment when `action` is not an integer in 0..n-1. */
export function checkAction(env: string, action: number, n: number): void {
  if (!(Number.isInteger(action) && action >= 0 && action < n)) {
    throw new RangeError(`${env}: action must be an integer in 0..${n - 1}, got ${action}`);
  }
}
