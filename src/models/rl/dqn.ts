/**
 * Deep Q-Networks (Mnih et al. 2015) with Double DQN targets (van Hasselt et al. 2016), Huber loss,
 * Adam, uniform experience replay and a target network (hard copies or Polyak averaging), on
 * shardlearn's own nn engine (q-network.ts).
 *
 * One SPMD trainer for every paradigm, in the Ape-X / Gorila shape (Horgan et al. 2018; Nair et al.
 * 2015): every rank is an actor with its own environment seeds and exploration stream; rank 0 is
 * also the learner and holds the replay buffer. Training runs in rounds of `syncEvery` environment
 * steps per actor: each actor acts with the weights it has, the other actors send their
 * transitions to rank 0 (comm.send), the learner adds them in rank order, takes the gradient steps
 * those environment steps are due (one per `trainEvery` steps of all actors), and broadcasts the
 * weights. Rounds are synchronous, so a fixed seed and actor count give the same network bit for
 * bit in every paradigm; with one actor it is plain sequential DQN.
 *
 * @example
 * const agent = await new DQN({ env: 'cartpole', steps: 100_000 }).fit();
 * agent.evaluatePolicy().meanReturn;   // up to 500
 */
import { Rng } from '../../core/rng.js';
import type { DType } from '../../core/storage.js';
import type { Dataset } from '../../data/dataset.js';
import { observationLength } from '../../rl/env.js';
import { ReplayBuffer } from '../../rl/replay.js';
import type { TrainContext } from '../context.js';
import type { OptionSchema } from '../option-schema.js';
import { resolveOptions } from '../option-schema.js';
import type { StateSchema } from '../state-schema.js';
import type { AgentParams, TrainingRecord } from './agent.js';
import { Agent, agentOptions, trainingRecordField } from './agent.js';
import { Actor } from './dqn-actor.js';
import { Learner, trainAsynchronously, trainSynchronously } from './dqn-learner.js';
import type { TdLoss } from './q-network.js';
import { QNetwork, TD_LOSSES } from './q-network.js';
import type { EpsilonDecay } from './schedule.js';
import { EPSILON_DECAYS } from './schedule.js';

export type TargetUpdate = 'hard' | 'polyak';

export interface DQNParams extends AgentParams {
  /** Environment steps of all actors together. */
  steps: number;
  /** Hidden layer widths (dense + ReLU each). */
  hidden: number[];
  lr: number;
  /** 'linear' anneals the learning rate from `lr` to 0 over the run (steadies the final policy). */
  lrSchedule: 'constant' | 'linear';
  gamma: number;
  bufferSize: number;
  batchSize: number;
  /** Environment steps (all actors) before the first gradient step. */
  learningStarts: number;
  /** Environment steps (all actors) per round of `gradientSteps` gradient steps. */
  trainEvery: number;
  gradientSteps: number;
  targetUpdate: TargetUpdate;
  /** hard: environment steps (all actors) between two copies into the target network. */
  targetEvery: number;
  /** polyak: θ' ← τ·θ + (1 − τ)·θ' after every gradient step. */
  tau: number;
  /**
   * Multiply trainEvery (and a hard targetEvery) by the number of actors: the learner keeps one
   * actor's pace of gradient steps and more actors add data, not learner work, as Ape-X's learner
   * runs at its own fixed rate (Horgan et al. 2018). Off: the replay ratio stays sequential DQN's,
   * and since a gradient step costs about 15 env steps of acting, more actors cannot go faster.
   */
  scaleTrainEvery: boolean;
  double: boolean;
  loss: TdLoss;
  /** huber: quadratic within δ of the target, linear beyond (PyTorch's smooth L1 is δ = 1). */
  huberDelta: number;
  /** Clip the gradient to this global norm; null: no clipping. */
  maxGradNorm: number | null;
  epsilonStart: number;
  epsilonEnd: number;
  explorationFraction: number;
  epsilonDecay: EpsilonDecay;
  /** Environment steps per actor between two weight broadcasts (and transition sends). */
  syncEvery: number;
  /**
   * 'sync': rounds in lockstep, every rank acts and rank 0 also learns (deterministic). 'async'
   * (Ape-X): rank 0 only learns, at its own pace, and answers each actor's transitions with the
   * current weights at once; the actors never wait for a gradient step (not reproducible).
   */
  actors: 'sync' | 'async';
  /**
   * async: gradient steps the learner may owe (env steps received ÷ trainEvery − steps taken)
   * before it holds the actors back. Without a bound, actors on CartPole ran at 60k steps/s and
   * the learner's share of gradient steps collapsed (evalReturn 171 after 300k steps).
   */
  maxLag: number;
  precision: DType;
}

export interface DQNState {
  /** The online network's parameters. */
  params: Float64Array;
  observationLength: number;
  actions: number;
  hidden: number[];
  training: TrainingRecord;
}

/**
 * Defaults that solve CartPole (greedy evalReturn 500 after 100,000 steps for seeds 0, 1, 2; see
 * docs/models.md). Squared error, not Huber: with CleanRL's settings Huber let the Q-values diverge
 * (past 6·10⁴ by 100k steps, where no return exceeds 100) while squared error stayed bounded; and
 * with these settings and a constant learning rate 2 of 6 runs fell back from 500 by the end,
 * which annealing the rate to 0 (lrSchedule 'linear') stopped in 3 of 3.
 */
export const DQN_OPTIONS: OptionSchema<DQNParams> = {
  ...agentOptions('cartpole'),
  steps: { type: 'integer', min: 1, default: 100_000, doc: 'environment steps of all actors together' },
  hidden: { type: 'sizes', allowEmpty: true, default: [64, 64], doc: 'hidden layer widths (dense + ReLU each), e.g. 64,64' },
  lr: { type: 'number', min: 0, minExclusive: true, default: 5e-4, doc: 'Adam learning rate' },
  lrSchedule: {
    type: 'choice',
    choices: ['constant', 'linear'],
    default: 'linear',
    doc: 'linear anneals the learning rate from lr to 0 over the run',
  },
  gamma: { type: 'number', min: 0, max: 1, default: 0.99, doc: 'discount γ' },
  bufferSize: { type: 'integer', min: 1, default: 10_000, doc: 'replay buffer capacity in transitions' },
  batchSize: { type: 'integer', min: 1, default: 64, doc: 'transitions per gradient step' },
  learningStarts: { type: 'integer', min: 0, default: 1000, doc: 'environment steps (all actors) before the first gradient step' },
  trainEvery: { type: 'integer', min: 1, default: 2, doc: 'environment steps (all actors) per round of gradientSteps gradient steps' },
  gradientSteps: { type: 'integer', min: 1, default: 1, doc: 'gradient steps per round' },
  targetUpdate: {
    type: 'choice',
    choices: ['hard', 'polyak'],
    default: 'polyak',
    doc: 'hard copies every targetEvery steps, or Polyak averaging after every gradient step',
  },
  targetEvery: {
    type: 'integer',
    min: 1,
    default: 500,
    doc: 'hard: environment steps (all actors) between two copies into the target network',
  },
  tau: {
    type: 'number',
    min: 0,
    minExclusive: true,
    max: 1,
    default: 0.01,
    doc: "polyak: θ' ← τ·θ + (1 − τ)·θ' after every gradient step",
  },
  scaleTrainEvery: {
    type: 'boolean',
    default: false,
    doc: 'multiply trainEvery (and a hard targetEvery) by the actor count: more actors add data, not learner work (Ape-X)',
  },
  double: { type: 'boolean', default: true, doc: 'Double DQN targets' },
  loss: { type: 'choice', choices: TD_LOSSES, default: 'mse', doc: 'TD loss: mse or huber' },
  huberDelta: {
    type: 'number',
    min: 0,
    minExclusive: true,
    default: 1,
    doc: "huber: δ, where the loss turns from quadratic to linear (PyTorch's smooth L1: 1)",
  },
  maxGradNorm: {
    type: 'number',
    min: 0,
    minExclusive: true,
    nullable: true,
    default: 10,
    doc: 'clip the gradient to this global norm; null: no clipping',
  },
  epsilonStart: { type: 'number', min: 0, max: 1, default: 1, doc: 'exploration rate ε at the start' },
  epsilonEnd: { type: 'number', min: 0, max: 1, default: 0.05, doc: 'exploration rate ε once decayed' },
  explorationFraction: {
    type: 'number',
    min: 0,
    max: 1,
    default: 0.05,
    doc: 'fraction of the steps over which ε decays from epsilonStart to epsilonEnd',
  },
  epsilonDecay: { type: 'choice', choices: EPSILON_DECAYS, default: 'linear', doc: 'how ε decays: linear or exponential' },
  syncEvery: {
    type: 'integer',
    min: 1,
    default: 2,
    doc: 'environment steps per actor between two weight broadcasts (and transition sends)',
  },
  actors: {
    type: 'choice',
    choices: ['sync', 'async'],
    default: 'sync',
    doc: 'sync: lockstep rounds, deterministic; async (Ape-X): rank 0 only learns, actors never wait',
  },
  maxLag: { type: 'integer', min: 0, default: 50, doc: 'async: gradient steps the learner may owe before it holds the actors back' },
  precision: { type: 'choice', choices: ['float32', 'float64'], default: 'float32', doc: "the network's float type" },
};

export const DQN_STATE: StateSchema<DQNState, DQNParams> = {
  observationLength: { type: 'int', min: 1 },
  actions: { type: 'int', min: 1 },
  hidden: { type: 'ints', min: 1 },
  params: {
    type: 'floats',
    length: { as: "the network's parameter count", is: (s) => parameterCount(s.observationLength, s.hidden, s.actions) },
  },
  training: trainingRecordField(),
};

/** Weights and biases of the dense layers observationLength → hidden… → actions. */
function parameterCount(inputs: number, hidden: readonly number[], actions: number): number {
  let count = 0;
  let width = inputs;
  for (const units of [...hidden, actions]) {
    count += (width + 1) * units;
    width = units;
  }
  return count;
}

/** stepsToTarget watches the mean return of the last 100 episodes (of all actors). */
const TARGET_WINDOW = 100;

export class DQN extends Agent<DQNParams, DQNState> {
  readonly name = 'dqn';
  private network: QNetwork | null = null;

  constructor(params: Partial<Omit<DQNParams, 'hidden'>> & { hidden?: readonly number[] | string | number } = {}) {
    // The CLI passes --hidden 64,64 as text: the schema's 'sizes' type reads it.
    super(resolveOptions('dqn', DQN_OPTIONS, params));
  }

  override setState(state: DQNState): this {
    this.network = null;
    return super.setState(state);
  }

  async train(_shard: Dataset, context: TrainContext): Promise<DQNState> {
    const { comm } = context;
    const p = this.params;
    const env = this.makeEnv();
    const d = observationLength(env.observationSpace);
    const q = new QNetwork({ observationLength: d, actions: env.actionSpace.n, hidden: p.hidden, dtype: p.precision, seed: p.seed });
    const asynchronous = p.actors === 'async' && comm.size > 1;
    // Synchronous: every rank acts, rank 0 also learns. Asynchronous: rank 0 only learns.
    const actorCount = asynchronous ? comm.size - 1 : comm.size;
    const actorIndex = asynchronous ? comm.rank - 1 : comm.rank;
    const root = new Rng(p.seed);
    const learner =
      comm.rank === 0 ? new Learner(q, p, new ReplayBuffer(p.bufferSize, d), root.fork(0), this.envInfo.target, context, actorCount) : null;
    const actor =
      actorIndex < 0
        ? null
        : new Actor(
            env,
            root.fork(2 * comm.rank + 2).nextUint32() | 0,
            root.fork(2 * comm.rank + 1),
            { start: p.epsilonStart, end: p.epsilonEnd, fraction: p.explorationFraction, decay: p.epsilonDecay },
            actorCount / p.steps,
            p.syncEvery,
            Math.ceil(TARGET_WINDOW / actorCount),
          );
    const mine = Math.floor(((actorIndex + 1) * p.steps) / actorCount) - Math.floor((actorIndex * p.steps) / actorCount);
    if (asynchronous) await trainAsynchronously(comm, q, learner, actor, mine, p.syncEvery, actorCount, p.maxLag);
    else await trainSynchronously(comm, q, learner, actor!, mine, Math.ceil(Math.ceil(p.steps / actorCount) / p.syncEvery), p.syncEvery);

    // Every rank returns the same state: the learner's record and weights.
    const record = Float64Array.of(learner?.globalSteps ?? 0, learner?.stepsToTarget ?? -1, learner?.episodes ?? 0, learner?.updates ?? 0);
    if (comm.size > 1) {
      await comm.broadcast(q.params, 0);
      await comm.broadcast(record, 0);
    }
    const training: TrainingRecord = {
      envSteps: record[0]!,
      episodes: record[2]!,
      stepsToTarget: record[1]! < 0 ? null : record[1]!,
      updates: record[3]!,
    };
    return { params: Float64Array.from(q.params), observationLength: d, actions: q.actions, hidden: [...p.hidden], training };
  }

  act(observation: Float64Array): number {
    return this.qNetwork().act(observation);
  }

  /** The Q-values of one observation (one per action). */
  qValues(observation: ArrayLike<number>): Float64Array {
    return Float64Array.from(this.qNetwork().values(observation));
  }

  private qNetwork(): QNetwork {
    const state = this.state;
    if (this.network === null) {
      this.network = new QNetwork(
        { observationLength: state.observationLength, actions: state.actions, hidden: state.hidden, dtype: this.params.precision, seed: 0 },
        state.params,
      );
    }
    return this.network;
  }
}
