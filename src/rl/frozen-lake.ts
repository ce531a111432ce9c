/**
 * FrozenLake (Gymnasium's FrozenLake-v1): walk from S to G over frozen tiles F without falling into
 * a hole H. Actions 0 LEFT, 1 DOWN, 2 RIGHT, 3 UP; a move off the grid stays put. Reward 1 on
 * reaching G, else 0; the episode terminates in H or G and is truncated after 100 steps (4×4) or
 * 200 (8×8), Gymnasium's registered limits. With `slippery` the agent moves in the intended
 * direction or either perpendicular one with probability 1/3 each — Gymnasium's rule, whose default
 * is slippery; ours is not, so `--slippery` says it.
 *
 * @example
 * const env = new FrozenLake({ map: '4x4', slippery: true });
 * env.reset(0); env.step(1);
 */
import { Rng } from '../core/rng.js';
import type { DiscreteSpace, Environment, StepResult } from './env.js';
import { checkAction } from './env.js';

/** The standard maps, row by row (Gymnasium's MAPS). */
export const FROZEN_LAKE_MAPS = {
  '4x4': ['SFFF', 'FHFH', 'FFFH', 'HFFG'],
  '8x8': ['SFFFFFFF', 'FFFFFFFF', 'FFFHFFFF', 'FFFFFHFF', 'FFFHFFFF', 'FHHFFFHF', 'FHFFHFHF', 'FFFHFFFG'],
} as const;

export type FrozenLakeMap = keyof typeof FROZEN_LAKE_MAPS;

export const LEFT = 0;
export const DOWN = 1;
export const RIGHT = 2;
export const UP = 3;

export interface FrozenLakeOptions {
  map?: FrozenLakeMap;
  slippery?: boolean;
  /** Default: 100 for 4×4, 200 for 8×8. */
  maxEpisodeSteps?: number;
}

export class FrozenLake implements Environment {
  readonly name: string;
  readonly observationSpace: DiscreteSpace;
  readonly actionSpace: DiscreteSpace = { kind: 'discrete', n: 4 };
  readonly maxEpisodeSteps: number;
  readonly rows: number;
  readonly cols: number;
  readonly slippery: boolean;
  /** The tile letter of every state, row-major. */
  readonly tiles: string;
  private rng = new Rng(0);
  private state = 0;
  private steps = 0;

  constructor(options: FrozenLakeOptions = {}) {
    const map = options.map ?? '4x4';
    const rows = FROZEN_LAKE_MAPS[map];
    this.name = `frozenlake-${map}`;
    this.rows = rows.length;
    this.cols = rows[0]!.length;
    this.tiles = rows.join('');
    this.slippery = options.slippery ?? false;
    this.observationSpace = { kind: 'discrete', n: this.rows * this.cols };
    this.maxEpisodeSteps = options.maxEpisodeSteps ?? (map === '4x4' ? 100 : 200);
  }

  reset(seed?: number): Float64Array {
    if (seed !== undefined) this.rng = new Rng(seed);
    this.state = this.tiles.indexOf('S');
    this.steps = 0;
    return Float64Array.of(this.state);
  }

  step(action: number): StepResult {
    checkAction(this.name, action, 4);
    // Gymnasium draws among [a − 1, a, a + 1] (mod 4): left of, along, right of the intended move.
    const direction = this.slippery ? (action + 3 + this.rng.int(3)) % 4 : action;
    this.state = this.move(this.state, direction);
    this.steps++;
    const tile = this.tiles[this.state];
    const terminated = tile === 'H' || tile === 'G';
    return {
      observation: Float64Array.of(this.state),
      reward: tile === 'G' ? 1 : 0,
      terminated,
      truncated: !terminated && this.steps >= this.maxEpisodeSteps,
    };
  }

  /** The state reached from `state` by moving in `direction` (no slipping). */
  move(state: number, direction: number): number {
    let row = Math.floor(state / this.cols);
    let col = state % this.cols;
    if (direction === LEFT) col = Math.max(col - 1, 0);
    else if (direction === DOWN) row = Math.min(row + 1, this.rows - 1);
    else if (direction === RIGHT) col = Math.min(col + 1, this.cols - 1);
    else row = Math.max(row - 1, 0);
    return row * this.cols + col;
  }
}
