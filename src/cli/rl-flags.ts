/**
 * `train` and `predict` for reinforcement-learning agents, which learn from an environment rather
 * than from data: no --data. The environment and everything else are model options
 * (`--env frozenlake-4x4 --slippery --episodes 20000`, `--env cartpole --steps 300000`).
 *
 *   shardlearn train q-learning --env frozenlake-4x4 --slippery --episodes 20000 [--out policy.json] [--json]
 *   shardlearn predict --model policy.json [--episodes 1000] [--seed 7] [--json]
 *
 * `--json` prints the train report's usual keys with `trainSamples` = environment steps and
 * `evalSamples` = evaluation episodes, plus `env`; metrics are evalReturn (mean return of
 * `evalEpisodes` seeded greedy episodes), successRate (FrozenLake), stepsToTarget, envSteps,
 * envStepsPerSecond and (DQN) learnerUtilisation.
 */
import { ConfigError } from '../core/errors.js';
import type { AnyAgent, AnyEstimator } from '../models/index.js';
import { Agent, actorRoster, createModel, evaluate, modelEntry, modelNames, saveModel } from '../models/index.js';
import { rendezvousFromEnv } from '../runtime/index.js';
import type { ParsedArgs } from './args.js';
import { remainingOptions, takeNumber, takeString, takeSwitch } from './args.js';
import { progressBar } from './progress-bar.js';
import type { Paradigm } from '../models/index.js';

/** Whether `name` is a registered model of kind 'agent'. */
export function isAgentModel(name: string): boolean {
  return modelNames().includes(name) && modelEntry(name).kind === 'agent';
}

/** The train report's keys (train.ts's TrainReport) as they read for an agent. */
export interface AgentTrainReport {
  model: string;
  env: string;
  paradigm: Paradigm;
  workers: number;
  strategy: string;
  seconds: number;
  /** 0: there is no data to load. */
  loadSeconds: number;
  /** Environment steps of all actors. */
  trainSamples: number;
  /** Greedy evaluation episodes. */
  evalSamples: number;
  eval: 'episodes';
  metrics: Record<string, number | number[]>;
  comm: { bytesSent: number; messagesSent: number; collectives: number };
  out?: string;
}

/** How to train, as train.ts's takeParadigm reads it from the flags. */
export interface LaunchFlags {
  paradigm: Paradigm;
  workers: number | undefined;
  strategy: string | undefined;
  timeoutMs: number | undefined;
}

/** Returns the report, or null on a cluster rank other than 0 (which prints nothing). */
export async function trainAgentCommand(
  name: string,
  args: ParsedArgs,
  launch: LaunchFlags,
  write: (line: string) => void,
): Promise<AgentTrainReport | null> {
  const json = takeSwitch(args, 'json');
  const out = takeString(args, 'out');
  const { paradigm, workers, strategy, timeoutMs } = launch;
  if (args.flags.has('data'))
    throw new ConfigError(`${name} learns from an environment (--env), not from data: drop --data`, { field: 'data' });
  const place = paradigm === 'cluster' ? rendezvousFromEnv() : null;
  const model = createModel(name, remainingOptions(args));
  if (!(model instanceof Agent)) throw new ConfigError(`${name} is not a reinforcement-learning agent`, { field: 'model' });
  const agent: AnyAgent = model;
  const bar = progressBar(process.stderr, !json && process.stderr.isTTY === true);
  await agent.fit({
    paradigm,
    ...(workers === undefined ? {} : { workers }),
    ...(strategy === undefined ? {} : { strategy }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    onProgress: (event) => {
      const rate =
        event.envSteps === undefined || event.elapsedMs <= 0 ? '' : ` ${Math.round((event.envSteps * 1000) / event.elapsedMs)} steps/s`;
      const episodes = event.episodes === undefined ? '' : ` ${event.episodes} episodes`;
      const meanReturn = event.meanReturn === undefined ? '' : ` return ${event.meanReturn.toPrecision(4)}`;
      bar.update(event.iteration / Math.max(event.total, 1), `${name}${episodes}${meanReturn}${rate}`);
    },
  });
  bar.done();
  if (place !== null && place.rank !== 0) return null;
  const info = agent.fitInfo!;
  const metrics = evaluate(model, actorRoster(1));
  if (out !== undefined) await saveModel(model, out);
  const report: AgentTrainReport = {
    model: name,
    env: agent.params.env,
    paradigm: info.paradigm,
    workers: info.workers,
    strategy: info.strategy,
    seconds: info.seconds,
    loadSeconds: 0,
    trainSamples: agent.state.training.envSteps,
    evalSamples: agent.params.evalEpisodes,
    eval: 'episodes',
    metrics,
    comm: {
      bytesSent: info.comm.reduce((s, c) => s + c.bytesSent, 0),
      messagesSent: info.comm.reduce((s, c) => s + c.messagesSent, 0),
      collectives: info.comm[0]?.collectives ?? 0,
    },
    ...(out === undefined ? {} : { out }),
  };
  if (json) write(JSON.stringify(report));
  else {
    write(
      `${name} on ${report.env}: ${report.trainSamples} environment steps in ${report.seconds.toFixed(3)} s (${paradigm}, ${report.workers} actor${report.workers === 1 ? '' : 's'}, ${report.strategy})`,
    );
    for (const [metric, value] of Object.entries(metrics))
      write(`  ${metric}: ${Array.isArray(value) ? value.join(' ') : formatNumber(value)}`);
    if (report.comm.bytesSent > 0)
      write(
        `  communication: ${report.comm.bytesSent} bytes in ${report.comm.messagesSent} messages, ${report.comm.collectives} collectives per worker`,
      );
    if (out !== undefined) write(`  saved to ${out}`);
  }
  return report;
}

/** `predict` of a saved policy: seeded greedy evaluation episodes (--episodes, default the policy's evalEpisodes; --seed). */
export function predictAgentCommand(model: AnyEstimator, args: ParsedArgs, json: boolean, write: (line: string) => void): void {
  if (!(model instanceof Agent)) throw new ConfigError(`${model.name} is not a reinforcement-learning agent`, { field: 'model' });
  const episodes = takeNumber(args, 'episodes', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  const seed = takeNumber(args, 'seed', Number.isInteger, 'an integer');
  if (args.flags.has('data'))
    throw new ConfigError(`${model.name} is evaluated on its environment, not on data: drop --data (--episodes N sets how many episodes)`, {
      field: 'data',
    });
  if (args.flags.size > 0)
    throw new ConfigError(`predict of an agent does not take --${[...args.flags.keys()][0]}; it takes --episodes and --seed`);
  const summary = model.evaluatePolicy({
    ...(episodes === undefined ? {} : { episodes }),
    ...(seed === undefined ? {} : { seed }),
  });
  const metrics = {
    evalReturn: summary.meanReturn,
    ...(summary.successRate === null ? {} : { successRate: summary.successRate }),
    meanLength: summary.meanLength,
  };
  if (json) write(JSON.stringify({ model: model.name, episodes: summary.episodes, metrics }));
  else {
    write(`${model.name}: ${summary.episodes} greedy evaluation episodes`);
    for (const [metric, value] of Object.entries(metrics)) write(`  ${metric}: ${formatNumber(value)}`);
  }
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}
