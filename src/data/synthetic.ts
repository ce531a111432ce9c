/**
 * Seeded synthetic data of any size, with its ground truth, for tests and benchmarks.
 *
 * Rows are made in blocks of `SYNTHETIC_BLOCK_ROWS`; block b draws from `new Rng(seed).fork(b + 1)`
 * and the ground truth from `fork(0)`. So any row range can be generated on its own, and a worker
 * generating rows [start, end) gets exactly those rows of the whole dataset (a sharded generation
 * equals the slice of the whole), at the cost of at most two partly used blocks.
 *
 * - regression: x ~ N(0, I), y = x·w + b + noise·N(0, 1); truth: weights w, intercept b.
 * - classification: class c uniform in 0..classes-1, x = separation·u_c + N(0, I) with u_c random
 *   unit vectors; large separation → (nearly) separable, small → overlapping; truth: class means.
 * - blobs: center c uniform, x = center_c + std·N(0, I), centers uniform in [-10, 10]^cols (as
 *   scikit-learn's make_blobs); truth: centers.
 * - lowrank: x = Σ_k z_k·s_k·v_k + noise·N(0, I), z ~ N(0, 1), orthonormal v_k, s_k = rank - k;
 *   so E[xᵀx] = V·diag(s²)·Vᵀ + noise²·I; truth: singular values s and components V (rows).
 *
 * @example
 * const generator = syntheticGenerator({ kind: 'regression', rows: 1_000_000, cols: 50, seed: 1 });
 * const shard = generator.generate(250_000, 500_000); // rows of worker 1 of 4
 * generator.truth; // { kind: 'regression', weights, intercept, noise }
 */
import { ConfigError } from '../core/errors.js';
import { orthonormalize } from '../core/linalg.js';
import { Rng } from '../core/rng.js';
import type { DType, Placement } from '../core/storage.js';
import { allocate } from '../core/storage.js';
import { Dataset } from './dataset.js';

export const SYNTHETIC_BLOCK_ROWS = 1024;

export type SyntheticKind = 'regression' | 'classification' | 'blobs' | 'lowrank';

export interface SyntheticSpec {
  kind: SyntheticKind;
  rows: number;
  cols?: number;
  seed?: number;
  /** regression, lowrank: standard deviation of the added noise (defaults 0.1 and 0.01). */
  noise?: number;
  /** regression: the intercept b (default 1). */
  intercept?: number;
  /** classification: number of classes (default 2). */
  classes?: number;
  /** classification: distance of each class mean from the origin, in noise standard deviations (default 2). */
  separation?: number;
  /** blobs: number of centers (default 3). */
  centers?: number;
  /** blobs: standard deviation around each center (default 1). */
  std?: number;
  /** lowrank: rank of the signal (default min(5, cols)). */
  rank?: number;
}

export type SyntheticTruth =
  | { kind: 'regression'; weights: Float64Array; intercept: number; noise: number }
  | { kind: 'classification'; means: Float64Array; classes: number; separation: number }
  | { kind: 'blobs'; centers: Float64Array; count: number; std: number }
  | { kind: 'lowrank'; singularValues: Float64Array; components: Float64Array; rank: number; noise: number };

export interface SyntheticGenerator {
  readonly rows: number;
  readonly cols: number;
  readonly truth: SyntheticTruth;
  /** Rows [start, end) of the dataset (default all). */
  generate(start?: number, end?: number, options?: { dtype?: DType; placement?: Placement }): Dataset;
}

function check(ok: boolean, field: string, expected: string, found: unknown): void {
  if (!ok) throw new ConfigError(`synthetic data: expected ${field} to be ${expected}, found ${String(found)}`, { field });
}

/** A generator for `spec`, with its ground truth drawn up front. */
export function syntheticGenerator(spec: SyntheticSpec): SyntheticGenerator {
  const rows = spec.rows;
  const cols = spec.cols ?? 10;
  const seed = spec.seed ?? 0;
  check(Number.isSafeInteger(rows) && rows >= 0, 'rows', 'a non-negative integer', rows);
  check(Number.isInteger(cols) && cols >= 1, 'cols', 'a positive integer', cols);
  check(Number.isInteger(seed), 'seed', 'an integer', seed);
  const root = new Rng(seed);
  const truthRng = root.fork(0);
  const gaussian = (n: number, scale = 1): Float64Array => Float64Array.from({ length: n }, () => scale * truthRng.normal());
  const truth = makeTruth(spec, cols, truthRng, gaussian);
  const sourceName = `synthetic:${spec.kind}`;
  return {
    rows,
    cols,
    truth,
    generate(start = 0, end = rows, options = {}): Dataset {
      check(
        Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= rows,
        'range',
        `within 0..${rows}`,
        `${start}..${end}`,
      );
      const count = end - start;
      const x = allocate(options.dtype ?? 'float64', count * cols, options.placement ?? 'heap');
      const labelled = truth.kind !== 'lowrank';
      const y = labelled ? (allocate('float64', count, options.placement ?? 'heap') as Float64Array) : null;
      const row = new Float64Array(cols);
      const label = { value: 0 };
      for (let block = Math.floor(start / SYNTHETIC_BLOCK_ROWS); block * SYNTHETIC_BLOCK_ROWS < end; block++) {
        const rng = root.fork(block + 1);
        const first = block * SYNTHETIC_BLOCK_ROWS;
        const last = Math.min(first + SYNTHETIC_BLOCK_ROWS, end);
        for (let i = first; i < last; i++) {
          drawRow(truth, rng, row, label);
          if (i < start) continue;
          x.set(row, (i - start) * cols);
          if (y !== null) y[i - start] = label.value;
        }
      }
      return new Dataset({ x, rows: count, cols, y, source: sourceName, rowKeyBase: start });
    },
  };
}

function makeTruth(spec: SyntheticSpec, cols: number, rng: Rng, gaussian: (n: number, scale?: number) => Float64Array): SyntheticTruth {
  switch (spec.kind) {
    case 'regression': {
      const noise = spec.noise ?? 0.1;
      check(noise >= 0, 'noise', 'a number ≥ 0', noise);
      return { kind: 'regression', weights: gaussian(cols), intercept: spec.intercept ?? 1, noise };
    }
    case 'classification': {
      const classes = spec.classes ?? 2;
      const separation = spec.separation ?? 2;
      check(Number.isInteger(classes) && classes >= 2, 'classes', 'an integer ≥ 2', classes);
      check(separation >= 0, 'separation', 'a number ≥ 0', separation);
      const means = gaussian(classes * cols);
      for (let c = 0; c < classes; c++) {
        const mean = means.subarray(c * cols, (c + 1) * cols);
        let squares = 0;
        for (let j = 0; j < cols; j++) squares += mean[j]! * mean[j]!;
        const norm = Math.sqrt(squares) || 1;
        for (let j = 0; j < cols; j++) mean[j] = (separation * mean[j]!) / norm;
      }
      return { kind: 'classification', means, classes, separation };
    }
    case 'blobs': {
      const count = spec.centers ?? 3;
      const std = spec.std ?? 1;
      check(Number.isInteger(count) && count >= 1, 'centers', 'a positive integer', count);
      check(std >= 0, 'std', 'a number ≥ 0', std);
      const centers = Float64Array.from({ length: count * cols }, () => -10 + 20 * rng.uniform());
      return { kind: 'blobs', centers, count, std };
    }
    case 'lowrank': {
      const rank = spec.rank ?? Math.min(5, cols);
      const noise = spec.noise ?? 0.01;
      check(Number.isInteger(rank) && rank >= 1 && rank <= cols, 'rank', `an integer in 1..cols (${cols})`, rank);
      check(noise >= 0, 'noise', 'a number ≥ 0', noise);
      const basis = orthonormalize(gaussian(cols * rank), cols, rank); // cols×rank, orthonormal columns
      const components = new Float64Array(rank * cols);
      for (let k = 0; k < rank; k++) for (let j = 0; j < cols; j++) components[k * cols + j] = basis[j * rank + k]!;
      const singularValues = Float64Array.from({ length: rank }, (_, k) => rank - k);
      return { kind: 'lowrank', singularValues, components, rank, noise };
    }
    default:
      throw new ConfigError(
        `synthetic data: expected kind regression, classification, blobs or lowrank, found ${String((spec as { kind: unknown }).kind)}`,
        { field: 'kind' },
      );
  }
}

function drawRow(truth: SyntheticTruth, rng: Rng, row: Float64Array, label: { value: number }): void {
  const cols = row.length;
  switch (truth.kind) {
    case 'regression': {
      let sum = truth.intercept;
      for (let j = 0; j < cols; j++) {
        row[j] = rng.normal();
        sum += row[j]! * truth.weights[j]!;
      }
      label.value = sum + truth.noise * rng.normal();
      return;
    }
    case 'classification': {
      const c = rng.int(truth.classes);
      for (let j = 0; j < cols; j++) row[j] = truth.means[c * cols + j]! + rng.normal();
      label.value = c;
      return;
    }
    case 'blobs': {
      const c = rng.int(truth.count);
      for (let j = 0; j < cols; j++) row[j] = truth.centers[c * cols + j]! + truth.std * rng.normal();
      label.value = c;
      return;
    }
    case 'lowrank': {
      for (let j = 0; j < cols; j++) row[j] = truth.noise * rng.normal();
      for (let k = 0; k < truth.rank; k++) {
        const weight = rng.normal() * truth.singularValues[k]!;
        for (let j = 0; j < cols; j++) row[j]! += weight * truth.components[k * cols + j]!;
      }
      label.value = 0;
      return;
    }
  }
}
