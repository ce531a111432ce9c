/**
 * Every registered model with small hyperparameters and a small dataset of the kind it learns from,
 * for the paradigm-equivalence tests. Models listed in `KNOWN` get tuned parameters (and a second
 * case per solver); any other registered model runs with its defaults on a 3-class dataset, so a
 * new model is covered the day it is registered (agents excepted: see modelCases).
 */
import { Rng } from '../../src/core/rng.js';
import { Dataset } from '../../src/data/dataset.js';
import { modelEntry, modelNames } from '../../src/models/registry.js';

export type DataKind = 'regression' | 'binary' | 'multiclass' | 'blobs' | 'correlated' | 'images';

export interface ModelCase {
  label: string;
  name: string;
  params: Record<string, unknown>;
  data: DataKind;
  /** Relative tolerance against sequential when not the float64 default (see threads-equivalence.ts). */
  tolerance?: number;
  /**
   * Trained on synchronous mini-batches (models/solvers/sgd.ts). Threads split each batch evenly over the
   * workers, processes by the shard each row lives in, so the two sum the same rows in other groups
   * and agree within `tolerance`, not bitwise.
   */
  batches?: true;
}

const KNOWN: Record<string, Omit<ModelCase, 'name'>[]> = {
  'linear-regression': [
    { label: 'exact', params: {}, data: 'regression' },
    { label: 'sgd', params: { solver: 'sgd', epochs: 3, batchSize: 32, lr: 0.05 }, data: 'regression', batches: true },
  ],
  'logistic-regression': [
    { label: 'lbfgs softmax', params: { maxIter: 40 }, data: 'multiclass' },
    { label: 'sgd', params: { solver: 'sgd', epochs: 3, batchSize: 32, lr: 0.1 }, data: 'binary', batches: true },
  ],
  'linear-svm': [{ label: 'pegasos', params: { epochs: 3, batchSize: 32 }, data: 'binary', batches: true }],
  kmeans: [{ label: 'k=3', params: { k: 3, seed: 1, maxIter: 50 }, data: 'blobs' }],
  pca: [{ label: '2 components', params: { components: 2 }, data: 'correlated' }],
  // Neural models train in float32 by default; the float64 cases hold them to the float64 tolerance,
  // the float32 case shows what float32 summation order does to a few hundred Adam steps.
  mlp: [
    { label: 'float64', params: { hidden: [16], epochs: 2, batchSize: 32, precision: 'float64' }, data: 'multiclass', batches: true },
    { label: 'float32', params: { hidden: [16], epochs: 2, batchSize: 32 }, data: 'multiclass', tolerance: 1e-6, batches: true },
  ],
  cnn: [
    {
      label: 'float64',
      params: { filters: [4], kernelSize: 3, dense: [16], epochs: 1, batchSize: 32, precision: 'float64' },
      data: 'images',
      batches: true,
    },
  ],
  rnn: [
    { label: 'float64 lstm', params: { hidden: 8, epochs: 2, batchSize: 32, precision: 'float64' }, data: 'multiclass', batches: true },
  ],
};

export function modelCases(): ModelCase[] {
  return (
    modelNames()
      .filter((name) => !name.startsWith('test-'))
      // Agents learn from an environment, not these datasets, and more actors explore differently by
      // design, so "equal to sequential" is not their contract: test/models/q-learning.test.ts and
      // dqn.test.ts check theirs (one actor equals sequential; threads equal processes bit for bit).
      .filter((name) => modelEntry(name).kind !== 'agent')
      .flatMap((name) => (KNOWN[name] ?? [{ label: 'defaults', params: {}, data: 'multiclass' as const }]).map((c) => ({ ...c, name })))
  );
}

/** A deterministic dataset of `kind`: 600 rows × 4 features (images: 300 rows of 8×8 pixels). */
export function caseData(kind: DataKind, rows = kind === 'images' ? 300 : 600, cols = kind === 'images' ? 64 : 4, seed = 42): Dataset {
  const rng = new Rng(seed);
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  const weights = Float64Array.from({ length: cols }, (_, j) => (j % 2 === 0 ? 1 : -1) * (j + 1));
  for (let i = 0; i < rows; i++) {
    const cluster = i % 3;
    let score = 0;
    for (let j = 0; j < cols; j++) {
      let value = rng.normal();
      if (kind === 'blobs') value = value * 0.5 + (j === cluster ? 6 : 0);
      if (kind === 'correlated') value = j === 0 ? value * 3 : value + 0.8 * x[i * cols]!;
      x[i * cols + j] = value;
      score += weights[j]! * value;
    }
    if (kind === 'regression') y[i] = score + 0.5 + 0.1 * rng.normal();
    else if (kind === 'binary') y[i] = score > 0 ? 1 : 0;
    else if (kind === 'multiclass' || kind === 'images') y[i] = score < -2 ? 0 : score < 2 ? 1 : 2;
    else y[i] = cluster;
  }
  return new Dataset({ x, rows, cols, y, source: `test:${kind}` });
}

/**
 * Largest difference between two learned states, relative to each field's largest magnitude
 * (at least 1): numbers and typed arrays compared numerically, everything else exactly.
 */
export function stateDifference(actual: unknown, expected: unknown, path = 'state'): { worst: number; where: string } {
  if (typeof expected === 'number' && typeof actual === 'number') {
    return { worst: Object.is(actual, expected) ? 0 : Math.abs(actual - expected) / Math.max(1, Math.abs(expected)), where: path };
  }
  if (ArrayBuffer.isView(expected) && ArrayBuffer.isView(actual) && !(expected instanceof DataView)) {
    const a = actual as unknown as ArrayLike<number>;
    const e = expected as unknown as ArrayLike<number>;
    if (a.length !== e.length) return { worst: Infinity, where: `${path} length ${a.length} vs ${e.length}` };
    let scale = 1;
    for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]!));
    let worst = 0;
    let where = path;
    for (let i = 0; i < e.length; i++) {
      const diff = Object.is(a[i], e[i]) ? 0 : Math.abs(a[i]! - e[i]!) / scale;
      if (!(diff <= worst)) {
        worst = Number.isNaN(diff) ? Infinity : diff;
        where = `${path}[${i}]: ${a[i]} vs ${e[i]}`;
      }
    }
    return { worst, where };
  }
  if (typeof expected === 'object' && expected !== null && typeof actual === 'object' && actual !== null) {
    let result = { worst: 0, where: path };
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of keys) {
      const inner = stateDifference((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
      if (!(inner.worst <= result.worst)) result = inner;
    }
    return result;
  }
  return { worst: Object.is(actual, expected) ? 0 : Infinity, where: `${path}: ${String(actual)} vs ${String(expected)}` };
}

/** True when two states are identical to the bit (NaN payloads aside). */
export function bitwiseEqual(actual: unknown, expected: unknown): boolean {
  return stateDifference(actual, expected).worst === 0;
}
