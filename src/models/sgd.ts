/**
 * The mini-batch SGD loop shared by every SGD-trained model. The model supplies two pure functions
 * — the gradient summed over some of its rows, and its update rule — and the loop is the same in
 * every paradigm and under every strategy.
 *
 * Synchronous strategies: every rank draws the same global permutation of all rows (one seed), and
 * step s takes global rows perm[s·B … (s+1)·B); each rank sums the gradient over the ones that live
 * in its shard, and the strategy all-reduces. So threads, processes and sequential train on exactly
 * the same batches and give the same model up to summation order — the paradigm changes the speed,
 * never the maths. Asynchronous strategies (Hogwild): each rank shuffles its own shard with its own
 * stream and steps at its own pace on B local rows.
 */
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import type { TrainContext } from './context.js';
import { globalLayout } from './spmd.js';

export interface SgdProblem {
  /** Length of the parameter vector. */
  readonly dim: number;
  /**
   * Add the gradient of the loss, summed over local rows `rows[0..count)`, into `gradient`
   * (already zeroed); return the loss summed over those rows.
   */
  accumulate(params: Float64Array, rows: Uint32Array, count: number, gradient: Float64Array): number;
  /** The update rule: params ← params − step(meanGradient); `step` counts updates from 1. */
  apply(params: Float64Array, meanGradient: Float64Array, step: number): void;
}

export interface SgdOptions {
  epochs: number;
  batchSize: number;
  seed: number;
}

export interface SgdResult {
  params: Float64Array;
  /** Mean training loss of the last epoch (over all ranks). */
  loss: number;
}

export async function runSgd(shard: Dataset, context: TrainContext, problem: SgdProblem, initial: Float64Array, options: SgdOptions): Promise<SgdResult> {
  const { comm, strategy } = context;
  const layout = await globalLayout(comm, shard.rows);
  const params = await strategy.setup(initial);
  const gradient = new Float64Array(problem.dim);
  const batchRows = new Uint32Array(options.batchSize);
  const lossTally = new Float64Array(2);
  const base = new Rng(options.seed);
  const ownStream = base.fork(1000 + comm.rank);
  let step = 0;
  const apply = (p: Float64Array, g: Float64Array): void => problem.apply(p, g, step);
  let loss = NaN;

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    let lossSum = 0;
    let seen = 0;
    if (strategy.synchronous) {
      const order = base.fork(epoch).permutation(layout.total);
      const first = layout.offset;
      const end = layout.offset + shard.rows;
      for (let start = 0; start < layout.total; start += options.batchSize) {
        const stop = Math.min(start + options.batchSize, layout.total);
        let count = 0;
        for (let b = start; b < stop; b++) {
          const row = order[b]!;
          if (row >= first && row < end) batchRows[count++] = row - first;
        }
        gradient.fill(0);
        if (count > 0) lossSum += problem.accumulate(params, batchRows, count, gradient);
        seen += count;
        step++;
        await strategy.step(params, gradient, stop - start, apply);
      }
    } else {
      const order = ownStream.permutation(shard.rows);
      for (let start = 0; start < shard.rows; start += options.batchSize) {
        const count = Math.min(options.batchSize, shard.rows - start);
        for (let b = 0; b < count; b++) batchRows[b] = order[start + b]!;
        gradient.fill(0);
        lossSum += problem.accumulate(params, batchRows, count, gradient);
        seen += count;
        step++;
        await strategy.step(params, gradient, count, apply);
      }
    }
    lossTally[0] = lossSum;
    lossTally[1] = seen;
    if (comm.size > 1) await comm.allReduce(lossTally, 'sum');
    loss = lossTally[1]! > 0 ? lossTally[0]! / lossTally[1]! : NaN;
    context.report({ iteration: epoch + 1, total: options.epochs, loss });
  }
  await strategy.finish(params);
  return { params: Float64Array.from(params), loss };
}
