/**
 * What an SPMD trainer is given besides its shard: the communicator, the gradient strategy (for
 * SGD-trained models), and a progress reporter. Interfaces only — the runtime supplies them.
 */
import type { Communicator } from '../comm/communicator.js';
import type { Dataset } from '../data/dataset.js';
import type { GradientStrategy } from '../strategies/strategy.js';

export interface ProgressEvent {
  /** Iterations (epochs for SGD, Lloyd iterations for k-means, …) done so far. */
  iteration: number;
  /** Iterations planned (an upper bound when the model may stop early). */
  total: number;
  /** Training loss (or inertia) at this point, when the model computes it. */
  loss?: number;
  /** RL agents: mean return of the recent training episodes (all actors). */
  meanReturn?: number;
  /** RL agents: environment steps taken so far by all actors. */
  envSteps?: number;
  /** RL agents: episodes finished so far by all actors. */
  episodes?: number;
}

export interface TrainContext {
  readonly comm: Communicator;
  readonly strategy: GradientStrategy;
  /** Called by the trainer on every rank; the runtime keeps rank 0's and timestamps them. */
  report(event: ProgressEvent): void;
  /**
   * Every rank's rows, where this rank can read them at no cost (the `threads` paradigm: one
   * SharedArrayBuffer), and the index in them of this rank's first row. Absent where a rank holds
   * only its own shard (processes, hosts; and sequential, whose shard is everything).
   */
  readonly shared?: SharedRows;
}

export interface SharedRows {
  /** All ranks' rows in rank order: the shards, concatenated. */
  readonly data: Dataset;
  /** Index in `data` of this rank's first row. */
  readonly first: number;
}

/** What a launcher needs of a model: its registry name, hyperparameters and SPMD trainer. */
export interface Trainable<State> {
  readonly name: string;
  readonly params: object;
  train(shard: Dataset, context: TrainContext): Promise<State>;
}
