/**
 * CliffWalking (Sutton & Barto, Example 6.6; Gymnasium's CliffWalking-v0): a 4×12 grid, start at
 * the bottom-left (state 36), goal at the bottom-right (47), the cells between them a cliff.
 * Actions 0 UP, 1 RIGHT, 2 DOWN, 3 LEFT; −1 per step; stepping onto the cliff costs −100 and puts
 * the agent back at the start without ending the episode; reaching the goal terminates it. The
 * shortest path (up, 11 × right, down) returns −13.
 *
 * Gymnasium registers no step limit for it; a greedy policy that loops would then never end, so
 * episodes here are truncated after `maxEpisodeSteps` (default 500).
 */
import type { DiscreteSpace, Environment, StepResult } from './env.js';
import { checkAction } from './env.js';

const ROWS = 4;
const COLS = 12;
export const CLIFF_START = 36;
export const CLIFF_GOAL = 47;

export interface CliffWalkingOptions {
  maxEpisodeSteps?: number;
}

export class CliffWalking implements Environment {
  readonly name = 'cliffwalking';
  readonly observationSpace: DiscreteSpace = { kind: 'discrete', n: ROWS * COLS };
  readonly actionSpace: DiscreteSpace = { kind: 'discrete', n: 4 };
  readonly maxEpisodeSteps: number;
  private state = CLIFF_START;
  private steps = 0;

  constructor(options: CliffWalkingOptions = {}) {
    this.maxEpisodeSteps = options.maxEpisodeSteps ?? 500;
  }

  /** The dynamics are deterministic and the start fixed: `seed` changes nothing. */
  reset(_seed?: number): Float64Array {
    this.state = CLIFF_START;
    this.steps = 0;
    return Float64Array.of(this.state);
  }

  step(action: number): StepResult {
    checkAction(this.name, action, 4);
    let row = Math.floor(this.state / COLS);
    let col = this.state % COLS;
    if (action === 0) row = Math.max(row - 1, 0);
    else if (action === 1) col = Math.min(col + 1, COLS - 1);
    else if (action === 2) row = Math.min(row + 1, ROWS - 1);
    else col = Math.max(col - 1, 0);
    let next = row * COLS + col;
    let reward = -1;
    if (row === ROWS - 1 && col > 0 && col < COLS - 1) {
      reward = -100;
      next = CLIFF_START;
    }
    this.state = next;
    this.steps++;
    const terminated = next === CLIFF_GOAL;
    return { observation: Float64Array.of(next), reward, terminated, truncated: !terminated && this.steps >= this.maxEpisodeSteps };
  }
}
