/**
 * Small SPMD building blocks every trainer uses: where this rank's rows sit in the global row
 * order, and the class values present across all shards. Each is one or two tiny collectives.
 */
import type { Communicator } from '../comm/communicator.js';
import { DataError } from '../core/errors.js';
import { kernels } from '../core/kernels.js';

export interface GlobalLayout {
  /** Index of this rank's first row among all ranks' rows (ranks in order). */
  offset: number;
  /** Rows over all ranks. */
  total: number;
}

export async function globalLayout(comm: Communicator, localRows: number): Promise<GlobalLayout> {
  if (comm.size === 1) return { offset: 0, total: localRows };
  const counts = new Float64Array(comm.size);
  counts[comm.rank] = localRows;
  await comm.allReduce(counts, 'sum');
  let offset = 0;
  for (let r = 0; r < comm.rank; r++) offset += counts[r]!;
  let total = 0;
  for (const c of counts) total += c;
  return { offset, total };
}

/** Largest span of integer class values accepted (keeps the presence vector small). */
const MAX_CLASS_SPAN = 65536;

/**
 * The sorted distinct class values over all ranks' labels. Labels must be integers (loaders encode
 * string classes as 0..C-1); e.g. LibSVM's -1/+1 gives [-1, 1].
 */
export async function discoverClasses(
  comm: Communicator,
  labels: Float64Array,
  source = 'labels',
  known?: Float64Array,
): Promise<Float64Array> {
  if (known !== undefined) return checkedClasses(labels, known, source);
  const range = labelRange(labels, source);
  await comm.allReduce(range, 'min');
  const low = range[0]!;
  const high = -range[1]!;
  if (!Number.isFinite(low)) throw new DataError('DATA_MISSING', { file: source }, 'no labelled rows to train on');
  if (high - low + 1 > MAX_CLASS_SPAN) {
    throw new DataError(
      'DATA_VALUE',
      { file: source, column: 'label' },
      `class labels span ${low}..${high}; at most ${MAX_CLASS_SPAN} distinct integer classes are supported`,
    );
  }
  const present = new Float64Array(high - low + 1);
  markPresent(labels, low, present);
  await comm.allReduce(present, 'max');
  const classes: number[] = [];
  present.forEach((flag, i) => {
    if (flag > 0) classes.push(low + i);
  });
  return Float64Array.from(classes);
}

// discoverClasses' loops over the rows live in these functions: in its body they were compiled on
// stack replacement before the all-reduce after them had run, and that code bailed out at the
// all-reduce ("Insufficient type feedback") twice per fit and thread (--trace-deopt).

/** [min, −max] of the labels (one 'min' reduction then finds both); a non-integer label is a DataError naming its row. */
function labelRange(labels: Float64Array, source: string): Float64Array {
  const range = Float64Array.of(Infinity, Infinity);
  for (let i = 0; i < labels.length; i++) {
    const value = labels[i]!;
    if (!Number.isInteger(value)) {
      throw new DataError(
        'DATA_VALUE',
        { file: source, row: i + 1, column: 'label' },
        `classifiers need integer class labels, found ${value}`,
      );
    }
    if (value < range[0]!) range[0] = value;
    if (-value < range[1]!) range[1] = -value;
  }
  return range;
}

/** present[label − low] = 1 for every label. */
function markPresent(labels: Float64Array, low: number, present: Float64Array): void {
  for (let i = 0; i < labels.length; i++) present[labels[i]! - low] = 1;
}

/** `known` (TrainContext.classes), once every label is found among them. */
function checkedClasses(labels: Float64Array, known: Float64Array, source: string): Float64Array {
  const codes = encodeLabels(labels, known);
  const bad = codes.indexOf(-1);
  if (bad >= 0)
    throw new DataError(
      'DATA_VALUE',
      { file: source, row: bad + 1, column: 'label' },
      `label ${labels[bad]} is not one of the agreed classes ${Array.from(known).join(', ')}`,
    );
  return known;
}

/**
 * Map each label to its index in the sorted `classes`, −1 for a label that is none of them. Classes
 * that are a run of consecutive integers (0..K−1, 1..K: what the loaders and most data give) are
 * indexed by subtraction, others by binary search: 1M labels in ~2.2 ms against ~3.7 ms (3 classes,
 * memory already touched). Of the ~14 ms encoding took in a fit here, most was the first touch of the
 * new 4 MB array's pages (~14 µs per 4 KiB page on this VM): `encodedLabels` writes into kernel
 * memory the process has touched before. `out` (labels.length long) receives the codes when given.
 */
export function encodeLabels(labels: Float64Array, classes: Float64Array, out: Int32Array = new Int32Array(labels.length)): Int32Array {
  if (isIntegerRun(classes)) encodeByOffset(labels, classes[0]!, classes.length, out);
  else encodeBySearch(labels, classes, out);
  return out;
}

/**
 * `encodeLabels` into an array in kernel memory (Kernels.zeros) instead of a new one, for codes a
 * fit keeps to its end: `release()` them then. Not for a threads rank (`shared`: the rank reads the
 * launcher's rows): its kernel memory is the launcher's, allocated under one lock, and the ranks of a
 * failed job are terminated wherever they are — one stopped inside `release()` while unwinding left
 * the lock held (elastic-threads test: "the allocator's lock was held for 10000 ms"). A threads rank
 * gets a plain array.
 */
export function encodedLabels(
  labels: Float64Array,
  classes: Float64Array,
  shared: boolean,
): { readonly array: Int32Array; release(): void } {
  if (shared) return { array: encodeLabels(labels, classes), release: () => undefined };
  const codes = kernels().zeros('int32', labels.length);
  encodeLabels(labels, classes, codes.array);
  return codes;
}

/** True when `classes` is c₀, c₀+1, …, c₀+K−1 for an integer c₀ (K ≥ 1). */
function isIntegerRun(classes: Float64Array): boolean {
  const first = classes[0];
  if (first === undefined || !Number.isInteger(first)) return false;
  for (let c = 1; c < classes.length; c++) if (classes[c] !== first + c) return false;
  return true;
}

function encodeByOffset(labels: Float64Array, low: number, count: number, out: Int32Array): void {
  for (let i = 0; i < labels.length; i++) {
    const code = labels[i]! - low;
    // (code | 0) === code: an integer in int32 range (false for fractions and NaN).
    out[i] = code >= 0 && code < count && (code | 0) === code ? code : -1;
  }
}

function encodeBySearch(labels: Float64Array, classes: Float64Array, out: Int32Array): void {
  for (let i = 0; i < labels.length; i++) {
    const value = labels[i]!;
    let lo = 0;
    let hi = classes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (classes[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    out[i] = classes[lo] === value ? lo : -1;
  }
}
