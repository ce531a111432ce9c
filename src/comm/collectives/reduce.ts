/**
 * The arithmetic of the wire collectives: reduce or copy what arrived into its destination and check
 * it in the same pass. Each pass over a segment is the collective's main CPU cost, so the check of
 * values from the wire (no NaN; no ±∞ in a sum — see zmq/communicator.ts) rides in the reduction's
 * loop instead of a pass of its own, and every loop is monomorphic: one function per dtype, because
 * V8 compiles a loop that sees both Float32Array and Float64Array into a slower polymorphic one. The
 * profile of `npm run bench:allreduce` before (zmq-ipc, 2 ranks, 4 KiB–32 MiB): the separate
 * finiteness scan 21–25% of a rank's CPU, the polymorphic reduceInto 15–17%, segment copies 12%.
 *
 * Long finite-checked sums and checks run in WebAssembly SIMD when it loads (collectives/wasm-reduce.ts;
 * SHARDLEARN_WASM_REDUCE=0 keeps them in TypeScript, for comparison); the loops here are the
 * reference it is tested against, and the fallback.
 *
 * The results equal communicator.ts's `reduceInto` bitwise: `target` holds the lower ranks' partial
 * and `source` the next rank's values, combined in that order (for max and min the order decides
 * which zero survives, +0 or −0); float32 sums round once per addition, as there.
 *
 * Each function returns the index of the first value of `source` the check refuses, or −1. On a
 * refusal `target` is left partly updated: the collective then fails, and its buffer is undefined.
 *
 * @example
 * const bad = reduceChecked(partial, arrived, 'sum', { allowInfinity: false });
 * if (bad >= 0) throw new CommError('COMM', `rank ${from} sent ${arrived[bad]} at element ${bad}`);
 */
import type { FloatArray } from '../../core/storage.js';
import type { ReduceOp } from '../communicator.js';
import { WASM_MIN_VALUES, wasmReduce } from './wasm-reduce.js';

/**
 * What a value from the wire may be: never NaN; ±∞ only where allowed (the identities of max and
 * min). `trusted` skips the check, for this rank's own values.
 */
export interface ValueCheck {
  allowInfinity: boolean;
  trusted?: boolean;
}

/** The check of this rank's own values: none. */
export const TRUSTED: ValueCheck = { allowInfinity: true, trusted: true };

/**
 * target[i] = op(target[i], source[i]) — or op(source[i], target[i]) with `sourceFirst`, for a rank
 * whose own values come after the received ones in rank order — checking every source value.
 */
export function reduceChecked(target: FloatArray, source: FloatArray, op: ReduceOp, check: ValueCheck, sourceFirst = false): number {
  if (target.length !== source.length) throw new RangeError(`reduceChecked: ${source.length} values into ${target.length}`);
  const { allowInfinity, trusted = false } = check;
  if (op === 'sum' && (!allowInfinity || trusted) && target.length >= WASM_MIN_VALUES && target.constructor === source.constructor) {
    const wasm = wasmReduce();
    if (wasm !== null) return wasm.sumFinite(target, source) && !trusted ? firstRefused(source, check) : -1;
  }
  if (target instanceof Float32Array && source instanceof Float32Array) {
    if (op === 'sum')
      return trusted ? sum32(target, source) : allowInfinity ? sumNaNChecked32(target, source) : sumFiniteChecked32(target, source);
    return op === 'max'
      ? max32(target, source, allowInfinity, trusted, sourceFirst)
      : min32(target, source, allowInfinity, trusted, sourceFirst);
  }
  if (target instanceof Float64Array && source instanceof Float64Array) {
    if (op === 'sum')
      return trusted ? sum64(target, source) : allowInfinity ? sumNaNChecked64(target, source) : sumFiniteChecked64(target, source);
    return op === 'max'
      ? max64(target, source, allowInfinity, trusted, sourceFirst)
      : min64(target, source, allowInfinity, trusted, sourceFirst);
  }
  throw new RangeError('reduceChecked: target and source differ in dtype (the ranks passed different buffer types)');
}

/** target.set(source), checking every value. */
export function copyChecked(target: FloatArray, source: FloatArray, check: ValueCheck): number {
  if (target.length !== source.length) throw new RangeError(`copyChecked: ${source.length} values into ${target.length}`);
  if (check.trusted !== true && !check.allowInfinity && source.length >= WASM_MIN_VALUES && target.constructor === source.constructor) {
    const wasm = wasmReduce();
    if (wasm !== null) {
      const bad = wasm.nonFinite(source) ? firstRefused(source, check) : -1;
      target.set(source);
      return bad;
    }
  }
  if (target instanceof Float32Array && source instanceof Float32Array) {
    const bad = check.trusted === true ? -1 : check.allowInfinity ? firstNaN32(source) : firstNonFinite32(source);
    target.set(source);
    return bad;
  }
  if (target instanceof Float64Array && source instanceof Float64Array) {
    const bad = check.trusted === true ? -1 : check.allowInfinity ? firstNaN64(source) : firstNonFinite64(source);
    target.set(source);
    return bad;
  }
  throw new RangeError('copyChecked: target and source differ in dtype (the ranks passed different buffer types)');
}

/**
 * Memory to receive a segment of `length` values of `kind`'s dtype into, where the WASM kernels read
 * it without copying it in (collectives/wasm-reduce.ts); null when there is none free (the kernels
 * did not load, the segment is larger than the area, or it is in use). Give it back with `unstage`.
 */
export function stage(kind: FloatArray, length: number): FloatArray | null {
  return length >= WASM_MIN_VALUES ? (wasmReduce()?.stage(kind, length) ?? null) : null;
}

/** Give back the memory `stage` returned. */
export function unstage(): void {
  wasmReduce()?.unstage();
}

/** Index of the first value `check` refuses in `values`, or −1 (a pass of its own, for payloads not reduced). */
export function firstRefused(values: FloatArray, check: ValueCheck): number {
  if (check.trusted === true) return -1;
  if (values instanceof Float32Array) return check.allowInfinity ? firstNaN32(values) : firstNonFinite32(values);
  return check.allowInfinity ? firstNaN64(values) : firstNonFinite64(values);
}

// The loops below are written out per dtype on purpose (see the top of this file). In the sums,
// `v - v` is 0 for a finite v and NaN for ±∞ and NaN, so summing it flags any non-finite value
// without a branch in the loop; the index is looked for only when the flag is raised.

function sum32(target: Float32Array, source: Float32Array): number {
  const n = target.length;
  for (let i = 0; i < n; i++) target[i] = target[i]! + source[i]!;
  return -1;
}

function sum64(target: Float64Array, source: Float64Array): number {
  const n = target.length;
  for (let i = 0; i < n; i++) target[i] = target[i]! + source[i]!;
  return -1;
}

function sumFiniteChecked32(target: Float32Array, source: Float32Array): number {
  let flag = 0;
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    flag += v - v;
    target[i] = target[i]! + v;
  }
  return flag === 0 ? -1 : firstNonFinite32(source);
}

function sumFiniteChecked64(target: Float64Array, source: Float64Array): number {
  let flag = 0;
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    flag += v - v;
    target[i] = target[i]! + v;
  }
  return flag === 0 ? -1 : firstNonFinite64(source);
}

function sumNaNChecked32(target: Float32Array, source: Float32Array): number {
  let nan = false;
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    nan ||= v !== v;
    target[i] = target[i]! + v;
  }
  return nan ? firstNaN32(source) : -1;
}

function sumNaNChecked64(target: Float64Array, source: Float64Array): number {
  let nan = false;
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    nan ||= v !== v;
    target[i] = target[i]! + v;
  }
  return nan ? firstNaN64(source) : -1;
}

// max and min: reduceInto takes the second operand when it is greater (less) or NaN, else keeps the
// first; `sourceFirst` swaps which operand is first. A refused NaN returns before it is stored.

function max32(target: Float32Array, source: Float32Array, allowInfinity: boolean, trusted: boolean, sourceFirst: boolean): number {
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    if (!trusted && (v !== v || (!allowInfinity && v - v !== 0))) return i;
    const t = target[i]!;
    if (sourceFirst) target[i] = t > v || t !== t ? t : v;
    else if (v > t || v !== v) target[i] = v;
  }
  return -1;
}

function max64(target: Float64Array, source: Float64Array, allowInfinity: boolean, trusted: boolean, sourceFirst: boolean): number {
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    if (!trusted && (v !== v || (!allowInfinity && v - v !== 0))) return i;
    const t = target[i]!;
    if (sourceFirst) target[i] = t > v || t !== t ? t : v;
    else if (v > t || v !== v) target[i] = v;
  }
  return -1;
}

function min32(target: Float32Array, source: Float32Array, allowInfinity: boolean, trusted: boolean, sourceFirst: boolean): number {
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    if (!trusted && (v !== v || (!allowInfinity && v - v !== 0))) return i;
    const t = target[i]!;
    if (sourceFirst) target[i] = t < v || t !== t ? t : v;
    else if (v < t || v !== v) target[i] = v;
  }
  return -1;
}

function min64(target: Float64Array, source: Float64Array, allowInfinity: boolean, trusted: boolean, sourceFirst: boolean): number {
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    if (!trusted && (v !== v || (!allowInfinity && v - v !== 0))) return i;
    const t = target[i]!;
    if (sourceFirst) target[i] = t < v || t !== t ? t : v;
    else if (v < t || v !== v) target[i] = v;
  }
  return -1;
}

function firstNonFinite32(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

function firstNonFinite64(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

function firstNaN32(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) return i;
  return -1;
}

function firstNaN64(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) return i;
  return -1;
}
