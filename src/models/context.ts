/**
 * What an SPMD trainer is given besides its shard: the communicator, the gradient strategy (for
 * SGD-trained models), and a progress reporter. Interfaces only — the runtime supplies them.
 */
import type { Communicator } from '../comm/communicator.js';
import type { GradientStrategy } from '../strategies/strategy.js';

export interface ProgressEvent {
  /** Iterations (epochs for SGD, Lloyd iterations for k-means, …) done so far. */
  iteration: number;
  /** Iterations planned (an upper bound when the model may stop early). */
  total: number;
  /** Training loss (or inertia) at this point, when the model computes it. */
  loss?: number;
}

export interface TrainContext {
  readonly comm: Communicator;
  readonly strategy: GradientStrategy;
  /** Called by the trainer on every rank; the runtime keeps rank 0's and timestamps them. */
  report(event: ProgressEvent): void;
}
