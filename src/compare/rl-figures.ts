/**
 * The figures of a reinforcement-learning cell over its repeats (rl-cells.ts says what an RL cell
 * is): env steps/s, the learner's utilisation, the wall time to the target return. Apart from
 * rl-cells.ts because it reads run records, which the matrix (that rl-cells.ts serves) may not.
 */
import type { RunRecord } from './record.js';
import type { Spread } from './stats.js';
import { spread } from './stats.js';

/** The RL figures of a cell, medians and spreads over its ok repeats (summary.ts's CellSummary.rl). */
export interface RlFigures {
  /** Environment steps per second of all actors (Agent.envStepsPerSecond). */
  envStepsPerSecond: Spread | null;
  /** DQN: fraction of the learner's wall time in gradient steps; null for Q-learning. */
  learnerUtilisation: Spread | null;
  /** Wall milliseconds to the target return (RunRecord.timeToTargetMs); runs that never reached it are left out. */
  timeToTargetMs: Spread | null;
  /** Repeats that reached the target return during training. */
  reachedTarget: number;
}

/** The RL figures of one cell's records, or null when they are not an agent's. */
export function rlFigures(records: readonly RunRecord[]): RlFigures | null {
  if (records.length === 0 || records[0]!.modelKind !== 'agent') return null;
  const metric = (name: string): number[] =>
    records.map((r) => r.metrics[name]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const times = records.map((r) => r.timeToTargetMs).filter((v): v is number => v !== null);
  return {
    envStepsPerSecond: spread(metric('envStepsPerSecond')),
    learnerUtilisation: spread(metric('learnerUtilisation')),
    timeToTargetMs: spread(times),
    reachedTarget: times.length,
  };
}
