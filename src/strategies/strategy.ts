/**
 * How workers combine gradients for mini-batch SGD. A strategy sees flat vectors only — never which
 * model produced them — so every SGD-trained model (linear, logistic, SVM, later the neural nets)
 * gets every strategy for free.
 *
 * The trainer's loop is the same under every strategy:
 *
 *   params = await strategy.setup(params)          // may swap in a shared-memory vector (Hogwild)
 *   for each step: compute gradientSum over the batch's local rows
 *                  await strategy.step(params, gradientSum, count, apply)
 *   await strategy.finish(params)
 *
 * `apply(params, meanGradient)` is the model's pure update rule (plain SGD, with its regulariser);
 * the strategy decides when and where it runs and what it is applied to.
 */
/** Strategy names; the bounded-staleness parameter server is the family 'ps-ssp:<s>', s the staleness bound in steps. */
export type StrategyName = 'allreduce' | 'hogwild' | 'ps-sync' | `ps-sync:${string}` | 'ps-async' | `ps-ssp:${number}` | 'federated-client';

export type ApplyUpdate = (params: Float64Array, meanGradient: Float64Array) => void;

/** What the trainer tells a strategy about its vectors before the first step. */
export interface StrategySetup {
  /**
   * The precision the model computes its gradients in. 'float32': every rank's gradient sum holds
   * float32 values (a float32 network's gradient added to zeros), so a strategy may carry it as
   * float32, half the bytes, without losing a bit of any rank's contribution. Default 'float64'.
   */
  gradientPrecision?: 'float32' | 'float64';
  /**
   * Lengths of the model's parameter tensors in flat order (summing to the vector's length): where a
   * bucketing strategy may cut the vector (buckets.ts). Absent: one tensor.
   */
  tensors?: readonly number[];
  /** Steps in an epoch, when the trainer knows it: a codec's warm-up may then end part-way through an epoch. */
  stepsPerEpoch?: number;
}

export interface GradientStrategy {
  readonly name: StrategyName;
  /**
   * `true` when all ranks take the same global mini-batch together (the trainer then draws batches
   * from one seeded global permutation, so every paradigm sees the same batches as `sequential`);
   * `false` when each rank samples its own shard at its own pace.
   */
  readonly synchronous: boolean;
  /**
   * `true` when what a rank contributes depends on which rows it summed, not only on their total
   * (a compressed all-reduce: top-k of a rank's sum is not a share of top-k of the total). The
   * synchronous trainer then gives each rank the batch's rows of its own shard in every paradigm —
   * under threads as under processes — so paradigms agree bit for bit. Default false.
   */
  readonly gradientsByShard?: boolean;
  /**
   * `true` when every rank's update lands in one shared parameter vector (Hogwild): the update rule
   * then numbers the updates of all ranks together, as if the ranks took turns (the trainer's
   * `updateNumber`), so a decaying learning rate (Pegasos's 1/(1 + λ·t)) decays over as many
   * updates as sequential SGD makes on the same rows. Default false: each rank's own steps.
   */
  readonly sharedUpdates?: boolean;
  /** Told at the start of each epoch (0-based), for schedules such as a codec's warm-up. */
  startEpoch?(epoch: number): void;
  /** The parameter vector to train from now on, initialised from `initial` (identical on every rank). */
  setup(initial: Float64Array, options?: StrategySetup): Promise<Float64Array>;
  /**
   * One step. `gradientSum` is this rank's gradient summed over its rows of the batch; `count` is the
   * number of rows the sum is over — the global batch size when `synchronous`, else the local one.
   * `rows`, when given, is this rank's own rows in the sum (synchronous trainers pass it: a strategy
   * that aggregates only some ranks' gradients divides by the rows they cover). `gradientSum` may be
   * overwritten.
   */
  step(params: Float64Array, gradientSum: Float64Array, count: number, apply: ApplyUpdate, rows?: number): Promise<void>;
  /**
   * Asked before each synchronous step: true when that step's round already closed without this rank
   * (a backup worker that fell behind, Chen et al. 2016), so the trainer skips the batch without
   * computing it; the strategy counted the step. Absent: never skip.
   */
  skipStep?(): boolean;
  /**
   * True when the strategy goes on without its slowest ranks (backup workers, round deadlines): the
   * trainer then does not meet every rank at epoch ends (its epoch loss is this rank's own rows), so
   * a stopped rank holds nobody up before the end. Default false.
   */
  readonly toleratesStragglers?: boolean;
  /** What the rounds aggregated and dropped (ps-sync with backup workers or a deadline; rank 0 only). */
  rounds?(): RoundStats | undefined;
  /** Make `params` final and identical on every rank. */
  finish(params: Float64Array): Promise<void>;
  /**
   * The codec spec this strategy compresses with ('none' when it sends vectors as they are), written
   * into checkpoints: a resume under another codec is refused. Absent: 'none'.
   */
  readonly codecSpec?: string;
  /**
   * This rank's state at a step boundary, for checkpoints (models/solvers/sgd-checkpoint.ts): what
   * the next steps depend on beyond the parameters and the update rule's state — codec residuals,
   * DGC velocities, PowerSGD's Q, the codecs' streams, a parameter server's clock. Null or absent: none.
   * Called after setup, on every rank at the same step.
   */
  exportState?(): StrategyState | null;
  /** Continue from what exportState returned on this rank, in a world of the same size; after setup, before the first step. */
  importState?(state: StrategyState): void;
  /**
   * A strategy that runs the model's update rule on each rank for that rank's shard only (a parameter
   * server): [start, end) of this rank's shard. The update rule's state is then authoritative only on
   * its shard, so a checkpoint composes it from every rank's shard. Absent: every rank's update state is whole.
   */
  ownShard?(): [number, number];
}

/** A strategy's checkpoint state on one rank: float64 arrays by name, and small JSON data. */
export interface StrategyState {
  arrays: Record<string, Float64Array>;
  meta: Record<string, unknown>;
}

/** The rounds of a synchronous parameter server that closes rounds early (FitInfo.rounds, `train --json` rounds). */
export interface RoundStats {
  /** Rounds closed (updates applied). */
  rounds: number;
  /** Gradients aggregated into them. */
  aggregated: number;
  /** Gradients refused as stale: computed on the parameters of a round that had closed without them. */
  dropped: number;
  /** Rounds closed by their deadline rather than by the quorum. */
  deadlineRounds: number;
  /** Per rank (index = rank), rounds that closed without its gradient. */
  missedByRank: number[];
  /** Per rank, its gradients refused as stale. */
  droppedByRank: number[];
}
