// The collectives' fused reduce-and-check (collectives/reduce.ts) against the reference reduceInto of
// communicator.ts, bitwise, on both of its paths: the WASM SIMD kernels (assembly/reduce.ts; long
// sums and checks, here the module is built, so they must load) and the TypeScript loops (short
// arrays, max/min, checks that admit ±∞). A non-finite value is found wherever it sits: in the SIMD
// body, in the scalar tail, in a later WASM block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReduceOp } from '../../src/comm/communicator.js';
import { reduceInto } from '../../src/comm/communicator.js';
import { TRUSTED, copyChecked, firstRefused, reduceChecked, stage, unstage } from '../../src/comm/collectives/reduce.js';
import { STAGE_BYTES, WASM_MIN_VALUES, wasmReduce } from '../../src/comm/collectives/wasm-reduce.js';
import type { DType, FloatArray } from '../../src/core/storage.js';
import { inputFor } from './communicator-cases.js';

const bytes = (array: FloatArray): Buffer => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
const FINITE = { allowInfinity: false };
const NOT_NAN = { allowInfinity: true };
// Around the WASM threshold, SIMD widths and its 128 KiB blocks (32 768 float32 / 16 384 float64 values).
const LENGTHS = [0, 1, 3, 8, 9, WASM_MIN_VALUES - 1, WASM_MIN_VALUES, WASM_MIN_VALUES + 7, 16_385, 32_769, 70_001];

test('the WASM reduce kernels load here (dist/wasm/kernels.wasm is built)', () => {
  assert.notEqual(wasmReduce(), null);
});

test('reduceChecked equals reduceInto bitwise for sum, max and min, float32 and float64, source second or first', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    for (const length of LENGTHS) {
      for (const op of ['sum', 'max', 'min'] as ReduceOp[]) {
        const a = inputFor(0, dtype, length, length);
        const b = inputFor(1, dtype, length, length);
        const expected = a.slice();
        reduceInto(expected, b, op);
        const target = a.slice();
        assert.equal(reduceChecked(target, b, op, op === 'sum' ? FINITE : NOT_NAN), -1);
        assert.ok(bytes(target).equals(bytes(expected)), `${dtype} ${op} length ${length}`);
        // sourceFirst: the target holds the later rank's values.
        const later = b.slice();
        assert.equal(reduceChecked(later, a, op, op === 'sum' ? FINITE : NOT_NAN, true), -1);
        assert.ok(bytes(later).equals(bytes(expected)), `${dtype} ${op} length ${length}, source first`);
        const trusted = a.slice();
        reduceChecked(trusted, b, op, TRUSTED);
        assert.ok(bytes(trusted).equals(bytes(expected)), `${dtype} ${op} length ${length}, trusted`);
      }
    }
  }
});

test('a non-finite value is found at its index in the SIMD body, the tail and a later block; ±∞ passes where allowed', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    for (const length of [9, WASM_MIN_VALUES + 7, 70_001]) {
      for (const at of [0, 5, length - 1, Math.floor(length / 2)]) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const source = inputFor(1, dtype, length, 4);
          source[at] = bad;
          assert.equal(reduceChecked(inputFor(0, dtype, length, 4), source, 'sum', FINITE), at, `${dtype} sum ${length} ${bad} at ${at}`);
          assert.equal(copyChecked(inputFor(0, dtype, length, 4), source, FINITE), at, `${dtype} copy ${length} ${bad} at ${at}`);
          assert.equal(firstRefused(source, FINITE), at);
          const expectedNotNaN = Number.isNaN(bad) ? at : -1;
          assert.equal(reduceChecked(inputFor(0, dtype, length, 4), source, 'max', NOT_NAN), expectedNotNaN, `${dtype} max ${bad}`);
          assert.equal(copyChecked(inputFor(0, dtype, length, 4), source, NOT_NAN), expectedNotNaN, `${dtype} copy, ±∞ allowed, ${bad}`);
        }
      }
    }
  }
});

test('copyChecked copies every value, and mismatched dtypes or lengths are refused', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    for (const length of LENGTHS) {
      const source = inputFor(2, dtype, length, 9);
      const target = dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
      assert.equal(copyChecked(target, source, FINITE), -1);
      assert.ok(bytes(target).equals(bytes(source)));
    }
  }
  assert.throws(() => reduceChecked(new Float32Array(600), new Float64Array(600), 'sum', FINITE), RangeError);
  assert.throws(() => copyChecked(new Float32Array(3), new Float32Array(4), FINITE), RangeError);
});

test('a source received into the staging area (read in place by the kernels) sums, checks and copies bitwise as one that is not', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    for (const length of [WASM_MIN_VALUES, WASM_MIN_VALUES + 7, 70_001]) {
      const a = inputFor(0, dtype, length, 6);
      const b = inputFor(1, dtype, length, 6);
      const expected = a.slice();
      reduceInto(expected, b, 'sum');
      const staged = stage(a, length);
      assert.ok(staged !== null, `${dtype} ${length}: staged`);
      try {
        assert.equal(staged.constructor, a.constructor);
        assert.equal(stage(a, length), null, 'the area is in use until unstaged');
        staged.set(b);
        const target = a.slice();
        assert.equal(reduceChecked(target, staged, 'sum', FINITE), -1);
        assert.ok(bytes(target).equals(bytes(expected)), `${dtype} ${length}: sum`);
        const copy = a.slice();
        assert.equal(copyChecked(copy, staged, FINITE), -1);
        assert.ok(bytes(copy).equals(bytes(b)), `${dtype} ${length}: copy`);
        for (const at of [0, length - 1, Math.floor(length / 2)]) {
          staged.set(b);
          staged[at] = NaN;
          assert.equal(reduceChecked(a.slice(), staged, 'sum', FINITE), at, `${dtype} ${length}: NaN at ${at} in the sum`);
          assert.equal(copyChecked(a.slice(), staged, FINITE), at, `${dtype} ${length}: NaN at ${at} in the copy`);
        }
      } finally {
        unstage();
      }
    }
  }
  const kind = new Float32Array(0);
  assert.equal(stage(kind, WASM_MIN_VALUES - 1), null, 'below the WASM threshold: not staged');
  assert.equal(stage(kind, STAGE_BYTES / 4 + 1), null, 'larger than the area: not staged');
  assert.ok(stage(kind, STAGE_BYTES / 4) !== null, 'the whole area');
  unstage();
});
