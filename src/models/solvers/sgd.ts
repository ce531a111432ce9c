/**
 * The mini-batch SGD loop shared by every SGD-trained model. The model supplies two pure functions
 * — the gradient summed over some rows, and its update rule — and the loop is the same in every
 * paradigm and under every strategy.
 *
 * Synchronous strategies: every rank draws the same global permutation of all rows (one seed), and
 * step s takes global rows perm[s·B … (s+1)·B). Who computes which of them depends on what a rank
 * can read:
 * - all ranks' rows (`context.shared`, the threads paradigm): rank r takes the batch's positions
 *   [⌊r·B/P⌋, ⌊(r+1)·B/P⌋), an even split, as PyTorch's DistributedSampler does;
 * - only its shard (processes, hosts): the batch's rows that live in its shard, so no data moves;
 *   the shares are then binomial (for B = 64 over 2 ranks the larger averages ~35 rows), and every
 *   step waits for the rank with the larger one.
 * Either way each rank sums the gradient over its rows and the strategy all-reduces, so threads,
 * processes and sequential train on exactly the same batches and give the same model up to
 * summation order — the paradigm changes the speed, never the maths. Asynchronous strategies
 * (Hogwild): each rank shuffles its own shard with its own stream and steps at its own pace on B
 * of its rows.
 *
 * Every row is visited once per epoch in both modes, so `accumulate` is told the epoch: the visit
 * number of each of its rows (dropout seeds its masks with it).
 *
 * Checkpoints (`context.options.checkpoint`, synchronous strategies): rank 0 saves the parameters,
 * the update rule's state and the position in the batch order; a resumed run continues there and
 * ends with the model of an uninterrupted one, bit for bit (sgd-checkpoint.ts).
 */
import { ConfigError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { Dataset } from '../../data/dataset.js';
import type { TrainContext } from '../context.js';
import { encodeLabels, globalLayout } from '../spmd.js';
import type { OptimizerState } from '../../nn/optimizers.js';
import type { SgdSnapshot } from './sgd-checkpoint.js';
import { SgdCheckpointer, checkPolicy, importStrategyState, resumeOnEveryRank } from './sgd-checkpoint.js';

export interface SgdProblem {
  /** Length of the parameter vector. */
  readonly dim: number;
  /**
   * Add the gradient of the loss, summed over rows `rows[0..count)` of `sgdData(shard, context)`,
   * into `gradient` (already zeroed); return the loss summed over those rows. `epoch` counts from 0.
   */
  accumulate(params: Float64Array, rows: Uint32Array, count: number, gradient: Float64Array, epoch: number): number;
  /** The update rule: params ← params − step(meanGradient); `step` counts updates from 1. */
  apply(params: Float64Array, meanGradient: Float64Array, step: number): void;
  /** The precision `accumulate`'s gradients are computed in (float32 networks); default float64. */
  readonly gradientPrecision?: 'float32' | 'float64';
  /** Lengths of the parameter tensors in flat order, for strategies that bucket (StrategySetup.tensors); absent = one tensor. */
  readonly tensors?: readonly number[];
  /** The update rule's own state (an optimizer's momentum or moments), for checkpoints; absent when it has none. */
  getState?(): OptimizerState;
  setState?(state: OptimizerState): void;
}

export interface SgdOptions {
  epochs: number;
  batchSize: number;
  seed: number;
}

export interface SgdResult {
  params: Float64Array;
  /** Mean training loss of the last epoch (over all ranks; this rank's rows under a strategy that `toleratesStragglers`). */
  loss: number;
}

/**
 * The dataset whose row indices `accumulate` receives: all ranks' rows when this rank can read them
 * (`context.shared`), else its own shard. Models take their labels and row keys from it too.
 */
export function sgdData(shard: Dataset, context: TrainContext): Dataset {
  return context.shared?.data ?? shard;
}

/** The class codes of `sgdData`'s rows: the shard's `codes` when that is the data, else the shared rows' labels encoded by `classes`. */
export function sgdCodes(shard: Dataset, context: TrainContext, codes: Int32Array, classes: Float64Array): Int32Array {
  const data = sgdData(shard, context);
  return data === shard ? codes : encodeLabels(data.labels(), classes);
}

export async function runSgd(
  shard: Dataset,
  context: TrainContext,
  problem: SgdProblem,
  initial: Float64Array,
  options: SgdOptions,
): Promise<SgdResult> {
  const { comm, strategy, shared } = context;
  const layout = await globalLayout(comm, shard.rows);
  if (shared !== undefined && (shared.data.rows !== layout.total || shared.first !== layout.offset)) {
    throw new ConfigError(
      `runSgd: the shared rows (${shared.data.rows}, this rank's first at ${shared.first}) are not the ranks' shards in order (${layout.total} rows, this rank's first at ${layout.offset})`,
    );
  }
  // Where this rank's shard starts in the rows `accumulate` indexes.
  const first = shared?.first ?? 0;
  const policy = context.options?.checkpoint;
  if (policy !== undefined) checkPolicy(policy, context);
  // Rank 0 reads the newest valid checkpoint and broadcasts it, so all ranks continue from one state.
  // A re-formed world (runtime/elastic.ts) hands the state every survivor holds; else a resume from disk.
  const resumed =
    context.recovery?.resume ??
    (policy?.resume === true ? await resumeOnEveryRank(policy, context, problem.dim, problem.getState?.()) : null);
  const params = await strategy.setup(resumed?.params ?? initial, {
    gradientPrecision: problem.gradientPrecision ?? 'float64',
    ...(problem.tensors === undefined ? {} : { tensors: problem.tensors }),
    stepsPerEpoch: Math.ceil((strategy.synchronous ? layout.total : shard.rows) / options.batchSize),
  });
  // Codec residuals, a parameter server's clock: each rank's own, from its rank-state file.
  if (policy !== undefined && resumed !== null) await importStrategyState(policy, context, resumed);
  const gradient = new Float64Array(problem.dim);
  const batchRows = new Uint32Array(options.batchSize);
  const lossTally = new Float64Array(2);
  const base = new Rng(options.seed);
  const ownStream = base.fork(1000 + comm.rank);
  // The step count, in an object the epoch loops (synchronousEpoch, asynchronousEpoch) advance too.
  const counter: StepCounter = { step: resumed?.step ?? 0, ownSteps: 0 };
  const apply = (p: Float64Array, g: Float64Array): void => problem.apply(p, g, counter.step);
  let loss = NaN;
  if (resumed !== null) {
    const own = resumed.rng['own'];
    if (own !== undefined) ownStream.setState(own);
    if (resumed.optimizer !== undefined) problem.setState?.(resumed.optimizer);
  }
  const checkpointer = policy === undefined ? null : new SgdCheckpointer(policy, context, counter.step);
  const snapshot = (epoch: number, position: number): SgdSnapshot => {
    const optimizer = problem.getState?.();
    return {
      params,
      epoch,
      position,
      step: counter.step,
      rng: { own: ownStream.getState() },
      ...(optimizer === undefined ? {} : { optimizer }),
    };
  };
  const firstEpoch = resumed?.epoch ?? 0;
  context.recovery?.started?.();

  // A compressing strategy's result depends on which rank summed which rows: take each rank's own
  // shard rows in every paradigm then, so threads give what processes give (strategy.ts).
  const even = shared !== undefined && strategy.gradientsByShard !== true;
  const run: EpochRun = {
    context,
    problem,
    strategy,
    params,
    gradient,
    batchRows,
    counter,
    total: layout.total,
    shardFirst: layout.offset,
    shardRows: shard.rows,
    first,
    even,
    batchSize: options.batchSize,
    apply,
    snapshot,
    checkpointer,
  };
  for (let epoch = firstEpoch; epoch < options.epochs; epoch++) {
    strategy.startEpoch?.(epoch);
    const { lossSum, seen } = strategy.synchronous
      ? await synchronousEpoch(run, epoch, base.fork(epoch).permutation(layout.total), epoch === firstEpoch ? (resumed?.position ?? 0) : 0)
      : await asynchronousEpoch(run, epoch, ownStream.permutation(shard.rows));
    lossTally[0] = lossSum;
    lossTally[1] = seen;
    // A strategy that goes on without its stragglers does not wait for them here either: rank 0's own loss.
    if (comm.size > 1 && strategy.toleratesStragglers !== true) await comm.allReduce(lossTally, 'sum');
    // Asynchronous strategies meet only here: each rank's own state at this epoch boundary.
    if (!strategy.synchronous) context.recovery?.stepDone?.(() => snapshot(epoch + 1, 0));
    loss = lossTally[1]! > 0 ? lossTally[0]! / lossTally[1]! : NaN;
    context.report({ iteration: epoch + 1, total: options.epochs, loss });
    // Newcomers join between epochs (runtime/elastic-growth.ts): the hook may end this generation here.
    if (epoch + 1 < options.epochs) await context.recovery?.epochDone?.(epoch + 1);
  }
  await strategy.finish(params);
  return { params: Float64Array.from(params), loss };
}

/**
 * The number the update rule sees for rank `rank`'s `ownStep`-th update (from 1) when all `size`
 * ranks' updates land in one shared vector (Hogwild): numbered as if the ranks took turns, so rank
 * r's k-th update is the ((k − 1)·size + r + 1)-th of the run, and the last updates of a run carry
 * the numbers sequential SGD reaches after as many updates (its learning rate has decayed as far).
 * Under Hogwild with each rank's own count, Pegasos's 1/(1 + λ·t) ended at twice sequential's step
 * size on 2 threads (λ = 1e-4, 1M rows, 5 epochs: 0.20 against 0.11), and the SVM 0.2–0.3 points
 * less accurate.
 */
export function updateNumber(ownStep: number, rank: number, size: number): number {
  return (ownStep - 1) * size + rank + 1;
}

/** The step number of a fit (the update rule's `step`), shared by runSgd and its epochs. */
interface StepCounter {
  step: number;
  /** Asynchronous steps this rank took (a strategy with `sharedUpdates` numbers updates from them). */
  ownSteps: number;
}

/** What an epoch of runSgd reads: the same object, of one shape, every epoch of every fit. */
interface EpochRun {
  readonly context: TrainContext;
  readonly problem: SgdProblem;
  readonly strategy: TrainContext['strategy'];
  readonly params: Float64Array;
  readonly gradient: Float64Array;
  readonly batchRows: Uint32Array;
  readonly counter: StepCounter;
  /** Rows over all ranks, and this rank's shard's first row among them and its rows. */
  readonly total: number;
  readonly shardFirst: number;
  readonly shardRows: number;
  /** Where this rank's shard starts in the rows `accumulate` indexes. */
  readonly first: number;
  /** Each rank takes an even share of every batch (it can read all rows), else the batch's rows in its shard. */
  readonly even: boolean;
  readonly batchSize: number;
  readonly apply: (params: Float64Array, gradient: Float64Array) => void;
  readonly snapshot: (epoch: number, position: number) => SgdSnapshot;
  readonly checkpointer: SgdCheckpointer | null;
}

/**
 * One epoch of a synchronous strategy from batch position `start`: Σ loss and rows seen by this rank.
 * Its own function, not part of runSgd: the function that awaits every step is the one V8 optimises,
 * and runSgd whole (set-up, checkpoints, both strategies' loops) took TurboFan 38–78 ms to compile per
 * worker, on the cores the ranks train on, and again after a deoptimisation (`--trace-opt`, threads×2
 * linear SVM fits on 8,000 rows: ~25 ms fits stalled behind it; perf sched showed V8's background
 * threads running 10 ms at a time while both ranks waited to be scheduled).
 */
async function synchronousEpoch(
  run: EpochRun,
  epoch: number,
  order: Uint32Array,
  start: number,
): Promise<{ lossSum: number; seen: number }> {
  const { context, problem, strategy, params, gradient, batchRows, counter, total, first } = run;
  const { rank, size } = context.comm;
  let lossSum = 0;
  let seen = 0;
  // A resumed epoch starts where the checkpoint left it; its reported loss covers the rows trained since.
  for (let from = start; from < total; from += run.batchSize) {
    const stop = Math.min(from + run.batchSize, total);
    const count = run.even
      ? evenShare(order, from, stop, rank, size, batchRows)
      : shardShare(order, from, stop, run.shardFirst, run.shardFirst + run.shardRows, batchRows);
    if (!run.even && first !== 0) for (let b = 0; b < count; b++) batchRows[b]! += first;
    counter.step++;
    // A backup worker whose round closed without it skips the batch (ps-backup.ts).
    if (strategy.skipStep?.() !== true) {
      gradient.fill(0);
      if (count > 0) lossSum += problem.accumulate(params, batchRows, count, gradient, epoch);
      seen += count;
      await strategy.step(params, gradient, stop - from, run.apply, count);
    }
    const last = stop === total;
    context.recovery?.stepDone?.(() => (last ? run.snapshot(epoch + 1, 0) : run.snapshot(epoch, stop)));
    if (run.checkpointer?.due(counter.step, last) === true) {
      await run.checkpointer.write(last ? run.snapshot(epoch + 1, 0) : run.snapshot(epoch, stop));
    }
  }
  return { lossSum, seen };
}

/** One epoch of an asynchronous strategy (Hogwild): `batchSize` rows of this rank's shard a step, in `order`. */
async function asynchronousEpoch(run: EpochRun, epoch: number, order: Uint32Array): Promise<{ lossSum: number; seen: number }> {
  const { context, problem, strategy, params, gradient, batchRows, counter, first } = run;
  const { rank, size } = context.comm;
  let lossSum = 0;
  let seen = 0;
  for (let start = 0; start < run.shardRows; start += run.batchSize) {
    const count = Math.min(run.batchSize, run.shardRows - start);
    for (let b = 0; b < count; b++) batchRows[b] = first + order[start + b]!;
    gradient.fill(0);
    lossSum += problem.accumulate(params, batchRows, count, gradient, epoch);
    seen += count;
    counter.step = strategy.sharedUpdates === true ? updateNumber(++counter.ownSteps, rank, size) : counter.step + 1;
    await strategy.step(params, gradient, count, run.apply);
  }
  return { lossSum, seen };
}

/** Rank `rank`'s even part of the batch `order[start…stop)`, as global row indices into `rows`; returns its length. */
export function evenShare(order: Uint32Array, start: number, stop: number, rank: number, size: number, rows: Uint32Array): number {
  const n = stop - start;
  const from = start + Math.floor((rank * n) / size);
  const to = start + Math.floor(((rank + 1) * n) / size);
  for (let b = from; b < to; b++) rows[b - from] = order[b]!;
  return to - from;
}

/** The rows of the batch `order[start…stop)` that live in the shard [first, end) of the global rows, as shard indices into `rows`; returns how many. */
export function shardShare(order: Uint32Array, start: number, stop: number, first: number, end: number, rows: Uint32Array): number {
  let count = 0;
  for (let b = start; b < stop; b++) {
    const row = order[b]!;
    if (row >= first && row < end) rows[count++] = row - first;
  }
  return count;
}
