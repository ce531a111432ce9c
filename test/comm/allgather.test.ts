// The byte carrier of allGatherBytes: any byte string survives the trip through float32 words, and
// every word is a finite float (the ZeroMQ transport refuses NaN and ±∞ from the wire).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesOf, wordsOf } from '../../src/comm/collectives/allgather.js';
import { sharedMemoryWorld } from './worlds.js';
import { Rng } from '../../src/core/rng.js';

test('bytes → 31-bit float32 words → bytes is the identity, and every word is finite', () => {
  const rng = new Rng(5);
  for (const length of [0, 1, 3, 4, 30, 31, 32, 62, 1000, 4097]) {
    for (const fill of ['random', 'ones', 'zeros'] as const) {
      const bytes = Uint8Array.from({ length }, () => (fill === 'ones' ? 0xff : fill === 'zeros' ? 0 : rng.int(256)));
      const words = wordsOf(bytes);
      assert.equal(words.length, Math.ceil((length * 8) / 31), `n=${length}: 31 bits a word`);
      assert.ok(
        words.every((w) => Number.isFinite(w)),
        `n=${length} ${fill}: a non-finite word`,
      );
      assert.deepEqual(bytesOf(Float32Array.from(words), length), bytes, `n=${length} ${fill}`);
    }
  }
  // Raw bytes would not do: 0xff ff ff ff as a float32 is NaN.
  assert.ok(Number.isNaN(new Float32Array(Uint8Array.of(255, 255, 255, 255).buffer)[0]!));
});

test("allGatherBytes over 3 real threads (shared memory): every rank gets every rank's bytes, in segments when long", async () => {
  const world = await sharedMemoryWorld({ slotBytes: 1024, mailboxBytes: 4096 })(3, { timeoutMs: 10_000 });
  try {
    for (const [length, segmentBytes] of [
      [0, 1024],
      [10, 1024],
      [5000, 1024],
      [5000, 1 << 20],
    ] as const) {
      const results = (await world.run('allGatherBytes', { length, segmentBytes })) as {
        gathered: number[][];
        stats: { messagesSent: number };
      }[];
      const expected = [0, 1, 2].map((rank) => Array.from({ length: length + rank }, (_, i) => (i * 31 + rank * 7) & 0xff));
      results.forEach((result, rank) => {
        assert.deepEqual(result.gathered, expected, `n=${length}, segments of ${segmentBytes}: rank ${rank}`);
        const segments = Math.max(1, Math.ceil(Math.ceil(((length + rank) * 8) / 31) / Math.floor(segmentBytes / 4)));
        assert.equal(result.stats.messagesSent, 2 * segments, `rank ${rank} sends ${segments} message(s) to each of 2 peers`);
      });
    }
  } finally {
    await world.close();
  }
});
