/**
 * One DQN actor: its environment (seeded once, then continuing its stream), its ε-greedy
 * exploration stream, the returns of its recent episodes, and a buffer of packed transitions
 * (replay.ts's layout) that it fills one round at a time and the learner adds to its replay.
 */
import type { Rng } from '../../core/rng.js';
import type { Environment } from '../../rl/env.js';
import { packTransition, packedWidth } from '../../rl/replay.js';
import { ReturnWindow } from './agent.js';
import type { QNetwork } from './q-network.js';
import type { EpsilonSchedule } from './schedule.js';
import { epsilonAt } from './schedule.js';

/** [window sum, window count, env steps, episodes] of one actor, what the learner aggregates. */
export type ActorStats = [number, number, number, number];

export class Actor {
  /** The last round's transitions, packed. */
  readonly packed: Float64Array;
  /** Env steps taken so far. */
  steps = 0;
  private episodes = 0;
  private episodeReturn = 0;
  private observation: Float64Array;
  private readonly window: ReturnWindow;

  constructor(
    private readonly env: Environment,
    envSeed: number,
    private readonly rng: Rng,
    private readonly schedule: EpsilonSchedule,
    /** Progress of training = steps · scale (this actor's share of the global step count). */
    private readonly progressScale: number,
    roundSteps: number,
    windowWidth: number,
  ) {
    this.observation = env.reset(envSeed);
    this.packed = new Float64Array(roundSteps * packedWidth(this.observation.length));
    this.window = new ReturnWindow(windowWidth);
  }

  /** Take `count` ε-greedy steps with `q`, packing the transitions into `packed`. */
  act(count: number, q: QNetwork): void {
    const actions = q.actions;
    for (let i = 0; i < count; i++, this.steps++) {
      const epsilon = epsilonAt(this.schedule, this.steps * this.progressScale);
      const action = this.rng.uniform() < epsilon ? this.rng.int(actions) : q.act(this.observation);
      const result = this.env.step(action);
      packTransition(this.packed, i, this.observation, action, result.reward, result.observation, result.terminated);
      this.episodeReturn += result.reward;
      if (result.terminated || result.truncated) {
        this.window.push(this.episodeReturn);
        this.episodes++;
        this.episodeReturn = 0;
        this.observation = this.env.reset();
      } else {
        this.observation = result.observation;
      }
    }
  }

  get stats(): ActorStats {
    return [this.window.sum, this.window.size, this.steps, this.episodes];
  }
}
