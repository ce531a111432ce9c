/**
 * Evaluation metrics: pure functions on typed arrays, named as scikit-learn names them.
 */
function checkLengths(name: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`${name}: expected arrays of equal length, got ${a.length} and ${b.length}`);
  if (a.length === 0) throw new RangeError(`${name}: needs at least one value`);
}

export function meanSquaredError(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkLengths('meanSquaredError', truth, predicted);
  let sum = 0;
  for (let i = 0; i < truth.length; i++) {
    const d = truth[i]! - predicted[i]!;
    sum += d * d;
  }
  return sum / truth.length;
}

/** Coefficient of determination R² = 1 − SS_res / SS_tot (1 for constant truth predicted exactly, as sklearn). */
export function r2Score(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkLengths('r2Score', truth, predicted);
  let mean = 0;
  for (let i = 0; i < truth.length; i++) mean += truth[i]!;
  mean /= truth.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    residual += (truth[i]! - predicted[i]!) ** 2;
    total += (truth[i]! - mean) ** 2;
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}

/** Fraction of explained variance of the targets: 1 − Var(truth − predicted) / Var(truth). */
export function explainedVarianceScore(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkLengths('explainedVarianceScore', truth, predicted);
  const n = truth.length;
  let meanT = 0;
  let meanE = 0;
  for (let i = 0; i < n; i++) {
    meanT += truth[i]!;
    meanE += truth[i]! - predicted[i]!;
  }
  meanT /= n;
  meanE /= n;
  let varT = 0;
  let varE = 0;
  for (let i = 0; i < n; i++) {
    varT += (truth[i]! - meanT) ** 2;
    varE += (truth[i]! - predicted[i]! - meanE) ** 2;
  }
  if (varT === 0) return varE === 0 ? 1 : 0;
  return 1 - varE / varT;
}

export function accuracy(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkLengths('accuracy', truth, predicted);
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) hits++;
  return hits / truth.length;
}

export interface ConfusionMatrix {
  /** The class values, sorted; row/column order of `counts`. */
  classes: number[];
  /** counts[i][j]: rows of true class i predicted as class j. */
  counts: number[][];
}

export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>): ConfusionMatrix {
  checkLengths('confusionMatrix', truth, predicted);
  const values = new Set<number>();
  for (let i = 0; i < truth.length; i++) {
    values.add(truth[i]!);
    values.add(predicted[i]!);
  }
  const classes = [...values].sort((a, b) => a - b);
  const index = new Map(classes.map((c, i) => [c, i]));
  const counts = classes.map(() => classes.map(() => 0));
  for (let i = 0; i < truth.length; i++) counts[index.get(truth[i]!)!]![index.get(predicted[i]!)!]!++;
  return { classes, counts };
}

/**
 * F1 score. `average`: 'binary' (for class `positive`, default the larger class value), 'macro'
 * (unweighted mean over classes) or 'weighted' (by support), as scikit-learn's f1_score.
 */
export function f1Score(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  options: { average?: 'binary' | 'macro' | 'weighted'; positive?: number } = {},
): number {
  const { classes, counts } = confusionMatrix(truth, predicted);
  const f1Of = (i: number): number => {
    const tp = counts[i]![i]!;
    let fp = 0;
    let fn = 0;
    for (let j = 0; j < classes.length; j++) {
      if (j === i) continue;
      fp += counts[j]![i]!;
      fn += counts[i]![j]!;
    }
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  };
  const average = options.average ?? (classes.length <= 2 ? 'binary' : 'macro');
  if (average === 'binary') {
    const positive = options.positive ?? classes[classes.length - 1]!;
    const i = classes.indexOf(positive);
    return i < 0 ? 0 : f1Of(i);
  }
  let total = 0;
  let weightSum = 0;
  classes.forEach((_, i) => {
    const support = counts[i]!.reduce((a, b) => a + b, 0);
    const weight = average === 'macro' ? 1 : support;
    total += weight * f1Of(i);
    weightSum += weight;
  });
  return weightSum === 0 ? 0 : total / weightSum;
}
