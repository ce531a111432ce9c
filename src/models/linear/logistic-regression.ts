/**
 * Logistic regression, binary (sigmoid) or multinomial (softmax) from the classes found across all
 * ranks. Objective: mean log-loss + (l2/2)·‖W‖², intercepts unpenalised — scikit-learn's
 * LogisticRegression with C = 1 / (l2 · n) for n training rows.
 *
 * `solver: 'lbfgs'` (default) is summation form (Chu et al., NIPS 2006): each objective evaluation
 * sums the loss and gradient over the shard, one all-reduce adds the ranks' sums, and every rank
 * runs the identical L-BFGS step. `solver: 'sgd'` trains by mini-batch SGD through `runSgd`.
 *
 * @example
 * const model = await new LogisticRegression({ l2: 1e-3 }).fit(train);
 * model.predict(test); model.predictProba(test); model.score(test); // accuracy
 */
import type { Dataset } from '../../data/dataset.js';
import type { TrainContext } from '../context.js';
import { Estimator } from '../estimator.js';
import type { OptionSchema } from '../option-schema.js';
import { resolveOptions } from '../option-schema.js';
import { minimizeLbfgs } from '../solvers/lbfgs.js';
import { accuracy } from '../metrics.js';
import { runSgd, sgdCodes, sgdData } from '../solvers/sgd.js';
import { sumOverRows } from '../row-sums.js';
import { encodeLabels } from '../spmd.js';
import { LogisticLoss, addL2, probabilitiesFromScores } from './logistic-loss.js';
import { FIT_INTERCEPT_OPTION, SGD_OPTIONS, checkFeatures, classifierLabels, linearScores, predictClasses, splitParams } from './shared.js';

export type LogisticSolver = 'lbfgs' | 'sgd';

export interface LogisticRegressionParams {
  /** 'lbfgs': full-batch L-BFGS; 'sgd': mini-batch SGD. */
  solver: LogisticSolver;
  /** L2 penalty on the weights, on the mean-loss scale (scikit-learn's C = 1 / (l2·n)). */
  l2: number;
  /** L-BFGS only: iterations at most. */
  maxIter: number;
  /** L-BFGS only: stop when the largest gradient component is at most this. */
  tol: number;
  fitIntercept: boolean;
  /** SGD only: passes over the data. */
  epochs: number;
  /** SGD only: constant learning rate. */
  lr: number;
  /** SGD only: rows per global mini-batch. */
  batchSize: number;
  /** SGD only: seed of the batch order. */
  seed: number;
}

export interface LogisticRegressionState {
  /** The sorted class values; predictions are drawn from them. */
  classes: Float64Array;
  /** outputs × features, row-major; outputs is 1 for two classes (the positive class is classes[1]), else K. */
  weights: Float64Array;
  /** One per output. */
  intercepts: Float64Array;
}

const NAME = 'logistic-regression';
export const LOGISTIC_REGRESSION_OPTIONS: OptionSchema<LogisticRegressionParams> = {
  solver: {
    type: 'choice',
    choices: ['lbfgs', 'sgd'],
    default: 'lbfgs',
    doc: "'lbfgs': full-batch L-BFGS on all-reduced gradients; 'sgd': mini-batch SGD",
  },
  l2: { type: 'number', min: 0, default: 1e-4, doc: "L2 penalty on the weights, mean-loss scale (scikit-learn's C = 1 / (l2·n))" },
  maxIter: { type: 'integer', min: 1, default: 100, doc: 'L-BFGS only: iterations at most' },
  tol: { type: 'number', min: 0, default: 1e-6, doc: 'L-BFGS only: stop when the largest gradient component is at most this' },
  fitIntercept: FIT_INTERCEPT_OPTION,
  ...SGD_OPTIONS,
};

export class LogisticRegression extends Estimator<LogisticRegressionParams, LogisticRegressionState> {
  readonly name = NAME;
  readonly kind = 'classifier' as const;

  constructor(params: Partial<LogisticRegressionParams> = {}) {
    super(resolveOptions(NAME, LOGISTIC_REGRESSION_OPTIONS, params));
  }

  async train(shard: Dataset, context: TrainContext): Promise<LogisticRegressionState> {
    const labels = await classifierLabels(NAME, shard, context);
    const { classes, outputs, total } = labels;
    const d = shard.cols;
    const loss = new LogisticLoss(d, outputs);
    let params: Float64Array;
    try {
      params =
        this.params.solver === 'lbfgs'
          ? await this.trainLbfgs(shard, context, labels, loss, total)
          : await this.trainSgd(shard, context, labels.codes, classes, loss);
    } finally {
      loss.release();
      labels.release();
    }
    return { classes, ...splitParams(params, outputs, d) };
  }

  private async trainLbfgs(
    shard: Dataset,
    context: TrainContext,
    labels: { readonly classes: Float64Array; readonly codes: Int32Array },
    loss: LogisticLoss,
    total: number,
  ): Promise<Float64Array> {
    const { l2, fitIntercept, maxIter, tol } = this.params;
    const weightCount = loss.outputs * loss.features;
    const dim = weightCount + loss.outputs;
    // A row pass may run over every rank's rows (TrainContext.sumRows): their class codes then, once.
    // Two classes need no codes: the positive rows are those labelled classes[1].
    let allCodes: Int32Array | undefined;
    const codesOf = (data: Dataset): Int32Array =>
      data === shard ? labels.codes : (allCodes ??= encodeLabels(data.labels(), labels.classes));
    const positive = labels.classes[1]!;
    const objective = async (params: Float64Array, gradient: Float64Array): Promise<number> => {
      // Gradient sums and the loss sum in one row pass: one all-reduce (or board) per evaluation.
      const reduced = await sumOverRows(context, shard, dim + 1, (data, first, count, out) => {
        out[dim]! +=
          loss.outputs === 1
            ? loss.sumRangeBinary(data.x, first, first + count, data.labels(), positive, params, out)
            : loss.sumRange(data.x, first, first + count, codesOf(data), params, out);
      });
      for (let j = 0; j < dim; j++) gradient[j] = reduced[j]! / total;
      if (!fitIntercept) gradient.fill(0, weightCount, dim);
      return reduced[dim]! / total + addL2(params, gradient, weightCount, l2);
    };
    const result = await minimizeLbfgs(objective, new Float64Array(dim), {
      maxIter,
      tol,
      onIteration: (iteration, value) => context.report({ iteration, total: maxIter, loss: value }),
    });
    return result.x;
  }

  private async trainSgd(
    shard: Dataset,
    context: TrainContext,
    codes: Int32Array,
    classes: Float64Array,
    loss: LogisticLoss,
  ): Promise<Float64Array> {
    const { l2, lr, fitIntercept } = this.params;
    const data = sgdData(shard, context);
    const dataCodes = sgdCodes(shard, context, codes, classes);
    const weightCount = loss.outputs * loss.features;
    const dim = weightCount + loss.outputs;
    const result = await runSgd(
      shard,
      context,
      {
        dim,
        accumulate: (params, rows, count, gradient) => loss.sumRows(data.x, rows, count, dataCodes, params, gradient),
        apply(params, meanGradient) {
          for (let j = 0; j < weightCount; j++) params[j]! -= lr * (meanGradient[j]! + l2 * params[j]!);
          if (fitIntercept) for (let j = weightCount; j < dim; j++) params[j]! -= lr * meanGradient[j]!;
        },
      },
      new Float64Array(dim),
      this.params,
    );
    return result.params;
  }

  /** Raw scores: rows × outputs (one column for two classes: > 0 means classes[1]). */
  decisionFunction(data: Dataset): Float64Array {
    const { weights, intercepts } = this.state;
    checkFeatures(NAME, data, weights.length / intercepts.length);
    return linearScores(data, weights, intercepts, intercepts.length);
  }

  /** Class probabilities, rows × classes (row-major, columns in the order of `state.classes`). */
  predictProba(data: Dataset): Float64Array {
    return probabilitiesFromScores(this.decisionFunction(data), data.rows, this.state.intercepts.length);
  }

  predict(data: Dataset): Float64Array {
    return predictClasses(this.decisionFunction(data), data.rows, this.state.intercepts.length, this.state.classes);
  }

  /** Accuracy on `data`. */
  score(data: Dataset): number {
    return accuracy(data.labels(), this.predict(data));
  }
}
