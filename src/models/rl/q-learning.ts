/**
 * Tabular Q-learning (Watkins 1989): Q(s, a) += α·(r + γ·max_a' Q(s', a') − Q(s, a)), bootstrapping
 * from s' unless the episode terminated there (a truncated episode still bootstraps). Actions are
 * ε-greedy with ε decaying over training (schedule.ts); greedy ties are broken at random while
 * training (so an all-zero table still explores) and by lowest action when acting.
 *
 * One SPMD trainer for every paradigm: each rank is an actor with its own environment seeds and
 * exploration stream, running its share of `episodes`. How actors share what they learn is the
 * strategy's business, not the paradigm's:
 * - `allreduce` (default): each actor updates its own table; every `syncEvery` episodes the tables
 *   are averaged through one all-reduce (model averaging; threads, processes and hosts alike).
 * - `hogwild` (threads): one table in the strategy's shared parameter arena that every actor
 *   reads and writes without locks (Niu et al. 2011), as the SGD models train under Hogwild.
 * With one actor both are plain Q-learning and give the same table bit for bit.
 *
 * @example
 * const agent = await new QLearning({ env: 'frozenlake-4x4', slippery: true, episodes: 20000 }).fit({ paradigm: 'threads', workers: 2 });
 * agent.evaluatePolicy({ episodes: 1000 }).successRate;   // ≈ 0.74
 */
import { ConfigError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { Dataset } from '../../data/dataset.js';
import type { TrainContext } from '../context.js';
import type { OptionSchema } from '../option-schema.js';
import { resolveOptions } from '../option-schema.js';
import type { StateSchema } from '../state-schema.js';
import type { AgentParams, TrainingRecord } from './agent.js';
import { Agent, ReturnWindow, agentOptions, trainingRecordField } from './agent.js';
import type { EpsilonDecay } from './schedule.js';
import { EPSILON_DECAYS, epsilonAt } from './schedule.js';

export interface QLearningParams extends AgentParams {
  /** Training episodes over all actors together (each runs its share). */
  episodes: number;
  /** Learning rate α (at the start, when lrEnd is set). */
  lr: number;
  /** Learning rate at the end of training, α annealed linearly from `lr` (Robbins–Monro); null keeps α constant. */
  lrEnd: number | null;
  /** Discount γ. */
  gamma: number;
  epsilonStart: number;
  epsilonEnd: number;
  /** Fraction of the episodes over which ε decays from epsilonStart to epsilonEnd. */
  explorationFraction: number;
  epsilonDecay: EpsilonDecay;
  /** Episodes per actor between two averagings of the tables (allreduce) or of the statistics. */
  syncEvery: number;
}

export interface QLearningState {
  /** states × actions, row-major. */
  table: Float64Array;
  states: number;
  actions: number;
  training: TrainingRecord;
}

export const Q_LEARNING_OPTIONS: OptionSchema<QLearningParams> = {
  ...agentOptions('frozenlake-4x4'),
  episodes: { type: 'integer', min: 1, default: 10_000, doc: 'training episodes over all actors together (each runs its share)' },
  // 0.1 left 3 of 12 seeds of slippery FrozenLake 4×4 (20,000 episodes) below 0.70 greedy success
  // (0.52, 0.68, 0.69): the last updates' noise flips a greedy action; 0.05 kept 24 of 24 runs
  // (12 seeds sequential, 12 Hogwild runs on 2 threads) at 0.742–0.749.
  lr: { type: 'number', min: 0, minExclusive: true, max: 1, default: 0.05, doc: 'learning rate α (at the start, when lr-end is set)' },
  // A constant α keeps the last updates' noise in the table, and the greedy policy read from it can
  // flip an action near a tie: 2 Hogwild threads on slippery 4×4 (20,000 episodes, seed 1) fell to
  // 0.668–0.680 success in 2 of ~24 runs under load; annealing α removes that late noise.
  lrEnd: {
    type: 'number',
    min: 0,
    max: 1,
    nullable: true,
    default: null,
    doc: 'learning rate at the end of training, α annealed linearly from lr; null (default) keeps α constant',
  },
  gamma: { type: 'number', min: 0, max: 1, default: 0.99, doc: 'discount γ' },
  epsilonStart: { type: 'number', min: 0, max: 1, default: 1, doc: 'exploration rate ε at the start' },
  epsilonEnd: { type: 'number', min: 0, max: 1, default: 0.01, doc: 'exploration rate ε once decayed' },
  explorationFraction: {
    type: 'number',
    min: 0,
    max: 1,
    default: 0.5,
    doc: 'fraction of the episodes over which ε decays from epsilonStart to epsilonEnd',
  },
  epsilonDecay: { type: 'choice', choices: EPSILON_DECAYS, default: 'linear', doc: 'how ε decays: linear or exponential' },
  syncEvery: {
    type: 'integer',
    min: 1,
    default: 10,
    doc: 'episodes per actor between two averagings of the tables (allreduce) or of the statistics',
  },
};

export const Q_LEARNING_STATE: StateSchema<QLearningState, QLearningParams> = {
  states: { type: 'int', min: 1 },
  actions: { type: 'int', min: 1 },
  table: { type: 'floats', length: { as: 'states·actions', is: (s) => s.states * s.actions } },
  training: trainingRecordField(),
};

/** Episodes of each actor in the window whose mean return `stepsToTarget` watches: 100 in all. */
const TARGET_WINDOW = 100;

export class QLearning extends Agent<QLearningParams, QLearningState> {
  readonly name = 'q-learning';

  constructor(params: Partial<QLearningParams> = {}) {
    super(resolveOptions('q-learning', Q_LEARNING_OPTIONS, params));
  }

  async train(_shard: Dataset, context: TrainContext): Promise<QLearningState> {
    const { comm, strategy } = context;
    const p = this.params;
    const env = this.makeEnv();
    if (env.observationSpace.kind !== 'discrete') {
      throw new ConfigError(`q-learning needs a discrete observation space; '${p.env}' has a continuous one: use dqn`, { field: 'env' });
    }
    const states = env.observationSpace.n;
    const actions = env.actionSpace.n;
    const shared = strategy.name === 'hogwild';
    if (!shared && strategy.name !== 'allreduce') {
      throw new ConfigError(`q-learning shares its table by averaging (allreduce) or in shared memory (hogwild), not '${strategy.name}'`, {
        field: 'strategy',
      });
    }
    const local = new Float64Array(states * actions);
    const table = shared ? await strategy.setup(local) : local;

    const size = comm.size;
    const rank = comm.rank;
    const mine = Math.floor(((rank + 1) * p.episodes) / size) - Math.floor((rank * p.episodes) / size);
    const rounds = Math.ceil(Math.ceil(p.episodes / size) / p.syncEvery);
    // Every actor its own streams: exploration, and the environment's (seeded once, then continued).
    const root = new Rng(p.seed);
    const rng = root.fork(2 * rank);
    const envSeed = root.fork(2 * rank + 1).nextUint32() | 0;
    const schedule = { start: p.epsilonStart, end: p.epsilonEnd, fraction: p.explorationFraction, decay: p.epsilonDecay };
    const window = new ReturnWindow(Math.ceil(TARGET_WINDOW / size));
    const { target } = this.envInfo;
    // [table (averaging only) | window sum, window count, env steps, episodes]: one all-reduce per round.
    const tableLength = shared ? 0 : table.length;
    const message = new Float64Array(tableLength + 4);
    let done = 0;
    let steps = 0;
    let stepsToTarget: number | null = null;
    let globalSteps = 0;
    let observation = env.reset(envSeed);

    for (let round = 1; round <= rounds; round++) {
      const until = Math.min(mine, round * p.syncEvery);
      for (; done < until; done++) {
        // ε follows the global progress: episode `done` of this actor ≈ episode done·size of all.
        const progress = (done * size) / p.episodes;
        const epsilon = epsilonAt(schedule, progress);
        const alpha = p.lrEnd === null ? p.lr : p.lr + (p.lrEnd - p.lr) * Math.min(progress, 1);
        let state = observation[0]!;
        let episodeReturn = 0;
        for (;;) {
          const action = rng.uniform() < epsilon ? rng.int(actions) : greedy(table, state * actions, actions, rng);
          const result = env.step(action);
          const next = result.observation[0]!;
          const at = state * actions + action;
          let bootstrap = 0;
          if (!result.terminated) {
            bootstrap = table[next * actions]!;
            for (let a = 1; a < actions; a++) bootstrap = Math.max(bootstrap, table[next * actions + a]!);
          }
          table[at]! += alpha * (result.reward + p.gamma * bootstrap - table[at]!);
          episodeReturn += result.reward;
          steps++;
          state = next;
          if (result.terminated || result.truncated) break;
        }
        window.push(episodeReturn);
        observation = env.reset();
      }
      if (!shared) message.set(table);
      message[tableLength] = window.sum;
      message[tableLength + 1] = window.size;
      message[tableLength + 2] = steps;
      message[tableLength + 3] = done;
      if (size > 1) await comm.allReduce(message, 'sum');
      if (!shared && size > 1) for (let i = 0; i < tableLength; i++) table[i] = message[i]! / size;
      globalSteps = message[tableLength + 2]!;
      const meanReturn = message[tableLength]! / Math.max(message[tableLength + 1]!, 1);
      if (stepsToTarget === null && message[tableLength + 1]! >= Math.min(TARGET_WINDOW, p.episodes) && meanReturn >= target)
        stepsToTarget = globalSteps;
      context.report({ iteration: round, total: rounds, meanReturn, envSteps: globalSteps, episodes: message[tableLength + 3]! });
    }
    if (shared) await strategy.finish(table);
    return { table: Float64Array.from(table), states, actions, training: { envSteps: globalSteps, episodes: p.episodes, stepsToTarget } };
  }

  act(observation: Float64Array): number {
    const { table, states, actions } = this.state;
    const state = observation[0]!;
    if (!(Number.isInteger(state) && state >= 0 && state < states)) {
      throw new RangeError(`q-learning: an observation must be a state index in 0..${states - 1}, got ${state}`);
    }
    return greedy(table, state * actions, actions, null);
  }
}

/** The best action in the row at `at`; ties at random with `rng`, else the lowest action. */
function greedy(table: Float64Array, at: number, actions: number, rng: Rng | null): number {
  let best = 0;
  let value = table[at]!;
  let ties = 1;
  for (let a = 1; a < actions; a++) {
    const q = table[at + a]!;
    if (q > value) {
      value = q;
      best = a;
      ties = 1;
    } else if (q === value && rng !== null && rng.int(++ties) === 0) {
      best = a; // reservoir sampling: each tied action kept with probability 1/ties
    }
  }
  return best;
}
