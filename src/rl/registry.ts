/**
 * The environments by name (the `--env` flag of the RL agents), with what an agent needs to know of
 * each beyond its spaces: the return a solved task reaches (Gymnasium's `reward_threshold`; for
 * CliffWalking the shortest path's −13) and whether an episode's success is worth reporting.
 */
import { ConfigError } from '../core/errors.js';
import { CartPole } from './cart-pole.js';
import { CliffWalking } from './cliff-walking.js';
import type { Environment } from './env.js';
import { FrozenLake } from './frozen-lake.js';

export type EnvName = 'frozenlake-4x4' | 'frozenlake-8x8' | 'cliffwalking' | 'cartpole';
export const ENV_NAMES: readonly EnvName[] = ['frozenlake-4x4', 'frozenlake-8x8', 'cliffwalking', 'cartpole'];

export interface EnvOptions {
  /** FrozenLake only: slip to either side of the intended move with probability 1/3 each. */
  slippery?: boolean;
  /** Truncate episodes after this many steps (default: the environment's registered limit). */
  maxEpisodeSteps?: number;
}

export interface EnvInfo {
  /** The mean return over 100 episodes at which the task counts as solved. */
  target: number;
  /** An episode succeeds when its return reaches this (FrozenLake: the goal's reward), or null. */
  successReturn: number | null;
}

export function makeEnv(name: string, options: EnvOptions = {}): Environment {
  const limit = options.maxEpisodeSteps === undefined ? {} : { maxEpisodeSteps: options.maxEpisodeSteps };
  if (options.slippery === true && !name.startsWith('frozenlake')) {
    throw new ConfigError(`'slippery' applies to the FrozenLake environments only, not '${name}'`, { field: 'slippery' });
  }
  switch (name) {
    case 'frozenlake-4x4':
      return new FrozenLake({ map: '4x4', slippery: options.slippery ?? false, ...limit });
    case 'frozenlake-8x8':
      return new FrozenLake({ map: '8x8', slippery: options.slippery ?? false, ...limit });
    case 'cliffwalking':
      return new CliffWalking(limit);
    case 'cartpole':
      return new CartPole(limit);
    default:
      throw new ConfigError(`unknown environment '${name}'; expected one of: ${ENV_NAMES.join(', ')}`, { field: 'env' });
  }
}

export function envInfo(name: EnvName, options: EnvOptions = {}): EnvInfo {
  switch (name) {
    case 'frozenlake-4x4':
      return { target: 0.7, successReturn: 1 };
    case 'frozenlake-8x8':
      return { target: 0.85, successReturn: 1 };
    case 'cliffwalking':
      return { target: -13, successReturn: null };
    case 'cartpole':
      return { target: Math.min(475, options.maxEpisodeSteps ?? 500), successReturn: null };
  }
}

export function isEnvName(name: string): name is EnvName {
  return (ENV_NAMES as readonly string[]).includes(name);
}
