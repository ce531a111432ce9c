/**
 * Reinforcement-learning cells of a comparison. An agent trains on an environment, not on data, so
 * its cells carry an environment spec where other cells carry a data spec (`env:cartpole`,
 * `env:frozenlake-4x4?slippery`, derived from the agent's own `env` and `slippery` options: the
 * matrix's `data` never applies to an agent), run one actor per worker, and are measured by what RL
 * asks of parallel actors: wall time to the environment's target return, environment steps per
 * second, and the learner's utilisation (DQN: the fraction of its wall time in gradient steps,
 * which says where the learner becomes the bottleneck).
 *
 * @example
 * isEnvironmentSpec(environmentSpec('q-learning', { env: 'frozenlake-4x4', slippery: true }));   // true
 */
import { Dataset } from '../data/dataset.js';
import type { AnyEstimator } from '../models/registry.js';
import { createModel, modelEntry } from '../models/registry.js';
import { Agent } from '../models/rl/agent.js';
import type { Split } from './data.js';

const PREFIX = 'env:';

/** Whether `model` is a registered reinforcement-learning agent. */
export function isAgentModel(model: string): boolean {
  return modelEntry(model).kind === 'agent';
}

export function isEnvironmentSpec(spec: string): boolean {
  return spec.startsWith(PREFIX);
}

/** The environment an agent with these options trains on, as a cell's data spec. */
export function environmentSpec(model: string, params: Record<string, unknown>): string {
  const resolved = createModel(model, params).params as { env: string; slippery?: boolean };
  return `${PREFIX}${resolved.env}${resolved.slippery === true ? '?slippery' : ''}`;
}

/** What an agent's cell "trains and scores on": no rows (an agent's fit ignores its data; evaluate() runs greedy episodes). */
export function environmentSplit(spec: string): Split {
  const empty = new Dataset({ x: new Float64Array(0), rows: 0, cols: 0, source: spec });
  return { train: empty, test: empty };
}

/** An agent's options for the unmeasured warm-up fit: a tenth of the budget, so JIT warm-up costs little. */
export function warmupParams(model: string, params: Record<string, unknown>): Record<string, unknown> {
  const resolved = createModel(model, params).params as Record<string, unknown>;
  const shrink = (key: string, floor: number): Record<string, unknown> =>
    typeof resolved[key] === 'number' ? { [key]: Math.max(floor, Math.round((resolved[key] as number) / 10)) } : {};
  return { ...params, ...shrink('steps', 1000), ...shrink('episodes', 100) };
}

/**
 * Milliseconds from the start of the fit (worker start-up included) to rank 0's first progress
 * event whose mean training return reached `targetReturn` (default: the environment's target,
 * CartPole 475, FrozenLake 0.70); null if it never did. DQN reports every 1,000 env steps,
 * Q-learning once per round, so the time is at that resolution.
 */
export function timeToTargetReturnMs(model: AnyEstimator, targetReturn?: number): number | null {
  if (!(model instanceof Agent)) return null;
  const target = targetReturn ?? model.envInfo.target;
  const reached = (model.fitInfo?.history ?? []).find((event) => event.meanReturn !== undefined && event.meanReturn >= target);
  return reached === undefined ? null : reached.elapsedMs;
}

/**
 * The RL cells of the default matrix, sized for its budget (the default ≤ 5 minutes, `--quick` ≤
 * 30 s on 2 cores, both shared with every other family): one actor (sequential) against two on
 * threads and on processes.
 * - Q-learning on slippery FrozenLake 4×4, 20,000 episodes (greedy success 0.77–0.78, the target
 *   0.70 reached during training), tables averaged every 100 episodes per actor: ~0.2 s
 *   sequential, so the cells show what start-up and rounds cost a job this small (every 10
 *   episodes, the default, threads×2 took 5.7 s instead of 0.7 s at load 30, success the same).
 *   `--quick`: sequential and threads×2 only (a processes cell's start-up is seconds under load).
 * - DQN on CartPole, 10,000 env steps with the Ape-X pace (scaleTrainEvery: two actors add data,
 *   not learner work) and sync rounds of 10 steps: ~3 s sequential; too short to reach 475, so
 *   its time to target is to a mean training return of 50, and what it shows is env steps/s and
 *   learner utilisation per actor count. Default run only: `--quick` (rows ≤ 20,000) has room for
 *   Q-learning alone.
 */
export function rlDefaultModels(rows: number): Record<string, unknown>[] {
  const quick = rows <= 20_000;
  const models: Record<string, unknown>[] = [
    {
      name: 'q-learning',
      params: { env: 'frozenlake-4x4', slippery: true, episodes: 20_000, lrEnd: 0.005, syncEvery: 100 },
      workers: [2],
      ...(quick ? { paradigms: ['sequential', 'threads'] } : {}),
    },
  ];
  if (!quick)
    models.push({
      name: 'dqn',
      params: { env: 'cartpole', steps: 10_000, learningStarts: 500, scaleTrainEvery: true, syncEvery: 10 },
      workers: [2],
      target: { score: 50 },
    });
  return models;
}
