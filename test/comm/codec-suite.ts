/**
 * The codec conformance suite, one body run on every codec (TF.js `describeWithFlags` style):
 * - decode ∘ encode stays within the codec's stated `errorBound`, on vectors of several lengths
 *   and scales (including length 1, zeros, and values spanning six orders of magnitude);
 * - `encode` returns exactly `encodedBytes(n)` bytes;
 * - the same seed gives the same bytes, step after step (state included), and the decode is pure;
 * - a message of the wrong length is refused with a typed error, not misread.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Codec } from '../../src/comm/codecs/index.js';
import { createCodec } from '../../src/comm/codecs/index.js';
import { ShardlearnError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';

export const LENGTHS = [1, 2, 7, 100, 1000, 4099];

/** A test vector: normal values times scales spanning 1e-3..1e3, and a few exact zeros. */
export function testVector(length: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.uniform() < 0.05 ? 0 : rng.normal() * 10 ** (rng.int(7) - 3);
  return out;
}

function maxError(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function codecSuite(spec: string): void {
  const codec: Codec = createCodec(spec);
  describe(`codec ${spec}`, () => {
    test('decode ∘ encode is within the stated bound', () => {
      for (const length of LENGTHS) {
        for (const seed of [1, 2, 3]) {
          const input = testVector(length, seed);
          const state = codec.createState(length, { seed });
          const output = codec.decode(codec.encode(input, state), length);
          assert.equal(output.length, length);
          const error = maxError(input, output);
          const bound = codec.errorBound(input);
          assert.ok(error <= bound, `${spec}, n=${length}, seed ${seed}: max error ${error} > stated bound ${bound}`);
        }
        const zeros = new Float64Array(length);
        const decoded = codec.decode(codec.encode(zeros, codec.createState(length)), length);
        assert.ok(
          decoded.every((x) => x === 0),
          `${spec}: the zero vector decodes to zeros`,
        );
      }
    });

    test('encoded byte length is as stated', () => {
      for (const length of LENGTHS) {
        const state = codec.createState(length, { seed: 4 });
        for (let step = 0; step < 3; step++) {
          const bytes = codec.encode(testVector(length, 10 + step), state);
          assert.equal(bytes.byteLength, codec.encodedBytes(length, state), `${spec}, n=${length}, step ${step}`);
        }
      }
    });

    test('deterministic for a seed: same bytes step after step, pure decode', () => {
      const length = 1000;
      const a = codec.createState(length, { seed: 9, rank: 1 });
      const b = codec.createState(length, { seed: 9, rank: 1 });
      for (let step = 0; step < 4; step++) {
        const input = testVector(length, 20 + step);
        const bytesA = codec.encode(input, a);
        const bytesB = codec.encode(input, b);
        assert.deepEqual(bytesA, bytesB, `${spec}: step ${step}`);
        assert.deepEqual(codec.decode(bytesA, length), codec.decode(bytesB.slice(), length));
      }
    });

    test('a message of the wrong length is refused with a typed error', () => {
      const bytes = codec.encode(testVector(100, 5), codec.createState(100));
      const truncated = bytes.subarray(0, bytes.byteLength - 3);
      assert.throws(
        () => codec.decode(truncated, 100),
        (error: unknown) => error instanceof ShardlearnError && error.code === 'COMM',
      );
    });
  });
}
