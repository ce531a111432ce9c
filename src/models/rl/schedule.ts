/**
 * The exploration rate ε of ε-greedy as training progresses (progress = global episodes or steps
 * done / planned, in [0, 1]): from `start` to `end` over the first `fraction` of training, then
 * `end`. 'linear' as Stable-Baselines3's and CleanRL's DQN; 'exponential' multiplies by a constant
 * factor per unit of progress (start·(end/start)^(progress/fraction)), the tabular tutorials' rule.
 *
 * @example
 * epsilonAt({ start: 1, end: 0.05, fraction: 0.5, decay: 'linear' }, 0.25); // 0.525
 */
import { assertUnreachable } from '../../core/errors.js';

export type EpsilonDecay = 'linear' | 'exponential';
export const EPSILON_DECAYS: readonly EpsilonDecay[] = ['linear', 'exponential'];

export interface EpsilonSchedule {
  start: number;
  end: number;
  fraction: number;
  decay: EpsilonDecay;
}

export function epsilonAt(schedule: EpsilonSchedule, progress: number): number {
  const { start, end, fraction, decay } = schedule;
  if (fraction <= 0 || progress >= fraction) return end;
  const t = Math.max(progress, 0) / fraction;
  switch (decay) {
    case 'linear':
      return start + (end - start) * t;
    case 'exponential':
      return start <= 0 || end <= 0 ? start + (end - start) * t : start * Math.pow(end / start, t);
    default:
      return assertUnreachable(decay, 'epsilon decay');
  }
}
