// The byte carrier of allGatherBytes: any byte string survives the trip through float32 words, and
// every word is a finite float (the ZeroMQ transport refuses NaN and ±∞ from the wire).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesOf, wordsOf } from '../../src/comm/collectives/allgather.js';
import { Rng } from '../../src/core/rng.js';

test('bytes → 31-bit float32 words → bytes is the identity, and every word is finite', () => {
  const rng = new Rng(5);
  for (const length of [0, 1, 3, 4, 30, 31, 32, 62, 1000, 4097]) {
    for (const fill of ['random', 'ones', 'zeros'] as const) {
      const bytes = Uint8Array.from({ length }, () => (fill === 'ones' ? 0xff : fill === 'zeros' ? 0 : rng.int(256)));
      const words = wordsOf(bytes);
      assert.equal(words.length, Math.ceil((length * 8) / 31), `n=${length}: 31 bits a word`);
      assert.ok(words.every((w) => Number.isFinite(w)), `n=${length} ${fill}: a non-finite word`);
      assert.deepEqual(bytesOf(Float32Array.from(words), length), bytes, `n=${length} ${fill}`);
    }
  }
  // Raw bytes would not do: 0xff ff ff ff as a float32 is NaN.
  assert.ok(Number.isNaN(new Float32Array(Uint8Array.of(255, 255, 255, 255).buffer)[0]!));
});
