/**
 * What every reinforcement-learning agent shares: it is an Estimator whose "data" is an
 * environment. `fit` needs no rows — the agent hands the launcher an actor roster (a Dataset of
 * zero columns, one row per possible actor), so every paradigm's launcher starts its ranks as for
 * any model, and each rank is an actor with its own environment seeds (`comm.rank` tells which).
 *
 * After training, `evaluatePolicy` runs seeded greedy episodes; `predict(data)` is the greedy action
 * for each row of observations; `score(data)` is the mean return of `evalEpisodes` greedy episodes.
 *
 * @example
 * const agent = await new QLearning({ env: 'frozenlake-4x4', episodes: 2000 }).fit();
 * agent.evaluatePolicy({ episodes: 1000 }).meanReturn;   // the success rate on FrozenLake
 */
import { ConfigError } from '../../core/errors.js';
import { Dataset } from '../../data/dataset.js';
import type { Environment } from '../../rl/env.js';
import type { EnvInfo, EnvName } from '../../rl/registry.js';
import { ENV_NAMES, envInfo, isEnvName, makeEnv } from '../../rl/registry.js';
import { Estimator } from '../estimator.js';
import type { OptionSchema } from '../option-schema.js';
import type { FitOptions } from '../paradigm.js';
import type { StateField } from '../state-schema.js';
import { describe } from '../state-schema.js';

export interface AgentParams {
  /** The environment's name: frozenlake-4x4, frozenlake-8x8, cliffwalking, cartpole. */
  env: string;
  /** FrozenLake: slip to either side of the intended move with probability 1/3 each. */
  slippery: boolean;
  /** Truncate episodes after this many steps; 0 keeps the environment's own limit. */
  maxEpisodeSteps: number;
  seed: number;
  /** Greedy episodes `score` and the CLI's evalReturn average over. */
  evalEpisodes: number;
}

/** The options every agent shares, declared once; `env` defaults to the agent's own environment. */
export function agentOptions(env: EnvName): OptionSchema<AgentParams> {
  return {
    env: {
      type: 'choice',
      choices: ENV_NAMES,
      default: env,
      doc: 'the environment: frozenlake-4x4, frozenlake-8x8, cliffwalking, cartpole',
    },
    slippery: { type: 'boolean', default: false, doc: 'FrozenLake: slip to either side of the intended move with probability 1/3 each' },
    maxEpisodeSteps: {
      type: 'integer',
      min: 0,
      default: 0,
      doc: "truncate episodes after this many steps; 0 keeps the environment's own limit",
    },
    seed: { type: 'integer', default: 0, doc: 'seed of the environments, the exploration and the initial weights' },
    evalEpisodes: { type: 'integer', min: 1, default: 100, doc: "greedy episodes `score` and the CLI's evalReturn average over" },
  };
}

/** How training went, measured by the trainer (all actors together). */
export interface TrainingRecord {
  /** Environment steps taken by all actors. */
  envSteps: number;
  episodes: number;
  /**
   * Environment steps (all actors) at which the mean return of the last 100 training episodes (the
   * last ⌈100/actors⌉ of each actor) first reached the environment's target, or null.
   */
  stepsToTarget: number | null;
  /** DQN: gradient steps the learner took. */
  updates?: number;
}

export interface EpisodeSummary {
  episodes: number;
  meanReturn: number;
  /** Fraction of episodes whose return reached the environment's success return (FrozenLake), else null. */
  successRate: number | null;
  meanLength: number;
}

const RECORD_FIELDS = ['envSteps', 'episodes', 'stepsToTarget', 'updates'];

/** The state field `training` of every agent: a TrainingRecord of whole numbers ≥ 0. */
export function trainingRecordField<S, P>(): StateField<S, P> {
  return {
    type: 'check',
    expected: 'a training record of whole numbers ≥ 0 (envSteps, episodes, stepsToTarget or null, optional updates)',
    check: trainingRecordProblem,
  };
}

function trainingRecordProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) return `found ${describe(value)}`;
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).find((key) => !RECORD_FIELDS.includes(key));
  if (extra !== undefined) return `'${extra}' is not one of its fields`;
  const count = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  for (const key of ['envSteps', 'episodes']) if (!count(record[key])) return `${key} is ${describe(record[key])}`;
  if (!Object.hasOwn(record, 'stepsToTarget') || !(record['stepsToTarget'] === null || count(record['stepsToTarget'])))
    return `stepsToTarget is ${describe(record['stepsToTarget'])}`;
  if (Object.hasOwn(record, 'updates') && !count(record['updates'])) return `updates is ${describe(record['updates'])}`;
  return null;
}

/** The row count of the actor roster: more than any default worker count (threads: ≤ 4). */
const ROSTER_ROWS = 64;

/** The Dataset an agent trains on: no columns, one row per possible actor. */
export function actorRoster(actors: number): Dataset {
  return new Dataset({ x: new Float64Array(0), rows: actors, cols: 0, source: 'environment' });
}

export abstract class Agent<Params extends AgentParams, State extends { training: TrainingRecord }> extends Estimator<Params, State> {
  readonly kind = 'agent';

  /** Train; `data` is optional and ignored (an agent learns from its environment), as is its shape. */
  override async fit(data: Dataset | FitOptions = {}, options: FitOptions = {}): Promise<this> {
    const fitOptions = data instanceof Dataset ? options : data;
    return super.fit(actorRoster(Math.max(fitOptions.workers ?? ROSTER_ROWS, 1)), fitOptions);
  }

  /** The greedy action in `observation`. */
  abstract act(observation: Float64Array): number;

  get envName(): EnvName {
    return checkEnvName(this.params.env);
  }

  get envInfo(): EnvInfo {
    return envInfo(this.envName, this.envOptions());
  }

  /** A fresh environment as the params describe it. */
  makeEnv(): Environment {
    return makeEnv(this.envName, this.envOptions());
  }

  /** Mean return (and success rate) of greedy episodes, each seeded `seed + i`. */
  evaluatePolicy(options: { episodes?: number; seed?: number } = {}): EpisodeSummary {
    void this.state; // NotFittedError before fit
    const episodes = options.episodes ?? this.params.evalEpisodes;
    const seed = options.seed ?? evaluationSeed(this.params.seed);
    const env = this.makeEnv();
    const success = this.envInfo.successReturn;
    let total = 0;
    let successes = 0;
    let steps = 0;
    for (let i = 0; i < episodes; i++) {
      let observation = env.reset(seed + i);
      let episodeReturn = 0;
      for (;;) {
        const result = env.step(this.act(observation));
        episodeReturn += result.reward;
        steps++;
        observation = result.observation;
        if (result.terminated || result.truncated) break;
      }
      total += episodeReturn;
      if (success !== null && episodeReturn >= success) successes++;
    }
    return {
      episodes,
      meanReturn: total / episodes,
      successRate: success === null ? null : successes / episodes,
      meanLength: steps / episodes,
    };
  }

  /** The greedy action for each row of `data` (one observation per row). */
  predict(data: Dataset): Float64Array {
    void this.state;
    const width = data.cols;
    const out = new Float64Array(data.rows);
    for (let i = 0; i < data.rows; i++) out[i] = this.act(Float64Array.from(data.x.subarray(i * width, (i + 1) * width)));
    return out;
  }

  /** Mean return of `evalEpisodes` seeded greedy episodes (`data` is ignored). */
  score(_data?: Dataset): number {
    return this.evaluatePolicy().meanReturn;
  }

  /** The metrics the CLI's --json and the comparison harness report. */
  metrics(): Record<string, number> {
    const summary = this.evaluatePolicy();
    const { training } = this.state;
    const rate = this.envStepsPerSecond();
    const utilisation = this.learnerUtilisation();
    return {
      evalReturn: summary.meanReturn,
      ...(summary.successRate === null ? {} : { successRate: summary.successRate }),
      ...(training.stepsToTarget === null ? {} : { stepsToTarget: training.stepsToTarget }),
      envSteps: training.envSteps,
      ...(rate === null ? {} : { envStepsPerSecond: rate }),
      ...(utilisation === null ? {} : { learnerUtilisation: utilisation }),
    };
  }

  /**
   * DQN: fraction of the learner's wall time in gradient steps during the last fit (rank 0's last
   * progress event, sent once every step was taken); null for Q-learning and a loaded policy.
   */
  learnerUtilisation(): number | null {
    const events = this.fitInfo?.history ?? [];
    for (let i = events.length - 1; i >= 0; i--) {
      const value = events[i]!.learnerUtilisation;
      if (value !== undefined) return value;
    }
    return null;
  }

  /**
   * Environment steps per second of all actors during the last fit, from rank 0's progress events:
   * between the first and the last event, so worker start-up and the first round's warm-up are
   * left out; over the whole fit when there are fewer than two. Null for a loaded policy.
   */
  envStepsPerSecond(): number | null {
    const info = this.fitInfo;
    if (info === null) return null;
    const events = info.history.filter((event) => event.envSteps !== undefined);
    const first = events[0];
    const last = events[events.length - 1];
    if (first !== undefined && last !== undefined && last.elapsedMs > first.elapsedMs) {
      return ((last.envSteps! - first.envSteps!) * 1000) / (last.elapsedMs - first.elapsedMs);
    }
    return info.seconds > 0 ? this.state.training.envSteps / info.seconds : null;
  }

  protected envOptions(): { slippery?: boolean; maxEpisodeSteps?: number } {
    return {
      ...(this.params.slippery ? { slippery: true } : {}),
      ...(this.params.maxEpisodeSteps > 0 ? { maxEpisodeSteps: this.params.maxEpisodeSteps } : {}),
    };
  }
}

/** Any agent, whatever its hyperparameters and state. */
export type AnyAgent = Agent<AgentParams, { training: TrainingRecord }>;

/** Evaluation episodes use seeds apart from the training ones. */
export function evaluationSeed(seed: number): number {
  return (seed + 1_000_003) | 0;
}

export function checkEnvName(name: string): EnvName {
  if (!isEnvName(name)) throw new ConfigError(`unknown environment '${name}'; expected one of: ${ENV_NAMES.join(', ')}`, { field: 'env' });
  return name;
}

/**
 * The returns of each actor's last `width` episodes, and over all actors (after one all-reduce of
 * [sum, count]) whether their mean reached the target: the moment `stepsToTarget` records.
 */
export class ReturnWindow {
  private readonly returns: Float64Array;
  private next = 0;
  private count = 0;
  private total = 0;

  constructor(readonly width: number) {
    this.returns = new Float64Array(width);
  }

  push(value: number): void {
    if (this.count === this.width) this.total -= this.returns[this.next]!;
    else this.count++;
    this.returns[this.next] = value;
    this.total += value;
    this.next = (this.next + 1) % this.width;
  }

  /** [sum, count] of the window, to add up over actors. */
  get sum(): number {
    return this.total;
  }

  get size(): number {
    return this.count;
  }
}
