/**
 * Cross-validation folds: which rows each fold tests on (it trains on all the others).
 *
 * Without `shuffle` both splitters give scikit-learn's folds exactly (`KFold(k)` and
 * `StratifiedKFold(k)` in 1.2), so a fold's score can be checked against `cross_val_score`:
 * - k-fold: consecutive blocks, the first `rows % k` one row longer;
 * - stratified: rows of each class dealt to folds so every fold holds each class in proportion —
 *   classes ordered by first appearance, the sorted labels dealt round-robin to count how many of
 *   each class a fold gets, then each class's rows (in row order) go to fold 0 first, then 1, ….
 * With `shuffle` the rows (k-fold) or each class's fold assignments (stratified) are permuted by
 * the seeded Rng — the same seed, the same folds; not scikit-learn's permutation.
 *
 * @example
 * const folds = stratifiedKFold(data.labels(), { k: 5 });
 * folds[0].test; // Uint32Array of row indices; folds[0].train holds every other row
 */
import { ConfigError, DataError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export interface Fold {
  /** Row indices trained on, ascending. */
  train: Uint32Array;
  /** Row indices scored, ascending. */
  test: Uint32Array;
}

export interface FoldOptions {
  k: number;
  shuffle?: boolean;
  seed?: number;
}

function checkK(k: number, rows: number): void {
  if (!Number.isInteger(k) || k < 2)
    throw new ConfigError(`cross-validation needs k ≥ 2 folds (a whole number), found ${k}`, { field: 'cv' });
  if (k > rows) throw new ConfigError(`cannot split ${rows} rows into ${k} folds; use at most ${rows} folds`, { field: 'cv' });
}

/** Folds from each row's fold number. */
export function foldsFromAssignment(assignment: ArrayLike<number>, k: number): Fold[] {
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const test: number[] = [];
    const train: number[] = [];
    for (let i = 0; i < assignment.length; i++) (assignment[i] === f ? test : train).push(i);
    folds.push({ train: Uint32Array.from(train), test: Uint32Array.from(test) });
  }
  return folds;
}

/** k consecutive folds (scikit-learn's KFold), over rows permuted first when `shuffle`. */
export function kFold(rows: number, options: FoldOptions): Fold[] {
  const { k } = options;
  checkK(k, rows);
  const order = options.shuffle === true ? new Rng(options.seed ?? 0).permutation(rows) : Uint32Array.from({ length: rows }, (_, i) => i);
  const assignment = new Uint32Array(rows);
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(rows / k) + (f < rows % k ? 1 : 0);
    for (let i = start; i < start + size; i++) assignment[order[i]!] = f;
    start += size;
  }
  return foldsFromAssignment(assignment, k);
}

/** Folds holding each class in proportion (scikit-learn's StratifiedKFold). */
export function stratifiedKFold(labels: ArrayLike<number>, options: FoldOptions): Fold[] {
  const { k } = options;
  const rows = labels.length;
  checkK(k, rows);
  // Classes numbered by first appearance.
  const code = new Map<number, number>();
  const encoded = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) {
    const label = labels[i]!;
    if (!Number.isFinite(label))
      throw new DataError('DATA_VALUE', { row: i + 1 }, `stratified folds need a finite class label, found ${label}`);
    if (!code.has(label)) code.set(label, code.size);
    encoded[i] = code.get(label)!;
  }
  const classes = code.size;
  const counts = new Uint32Array(classes);
  for (let i = 0; i < rows; i++) counts[encoded[i]!]!++;
  const largest = Math.max(...counts);
  if (largest < k)
    throw new ConfigError(`stratified ${k}-fold cross-validation needs a class with at least ${k} rows; the largest has ${largest}`, {
      field: 'cv',
    });
  // allocation[f][c]: rows of class c in fold f = count of c among sorted labels at positions f, f+k, f+2k, ...
  const sorted = Uint32Array.from(encoded).sort();
  const allocation = Array.from({ length: k }, () => new Uint32Array(classes));
  for (let i = 0; i < rows; i++) allocation[i % k]![sorted[i]!]!++;
  const rng = options.shuffle === true ? new Rng(options.seed ?? 0) : null;
  const assignment = new Uint32Array(rows);
  for (let c = 0; c < classes; c++) {
    const foldsForClass: number[] = [];
    for (let f = 0; f < k; f++) for (let n = 0; n < allocation[f]![c]!; n++) foldsForClass.push(f);
    if (rng !== null) rng.shuffle(foldsForClass);
    let next = 0;
    for (let i = 0; i < rows; i++) if (encoded[i] === c) assignment[i] = foldsForClass[next++]!;
  }
  return foldsFromAssignment(assignment, k);
}
