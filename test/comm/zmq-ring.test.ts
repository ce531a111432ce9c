// The ring all-reduce (algorithm: 'ring') sums each chunk in ring order, not rank order: its result
// must still be bitwise identical on every rank and from one run to the next for a fixed world size,
// and close to the rank-order reference (float64 relative 1e-12 here: a handful of additions per
// element, each off by at most half an ulp). 3 rank processes, 16 KiB segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reduceInto } from '../../src/comm/communicator.js';
import type { FloatArray } from '../../src/core/storage.js';
import { inputFor } from './communicator-cases.js';
import { zmqWorld } from './zmq-worlds.js';

const SIZE = 3;
const LENGTH = 40_000;

test('ring all-reduce: bitwise identical on every rank and across runs, within 1e-12 of the rank-order sum', async () => {
  const world = await zmqWorld({ algorithm: 'ring', segmentBytes: 16 * 1024 })(SIZE, {});
  try {
    const run = async (): Promise<FloatArray[]> =>
      ((await world.run('allReduce', { dtype: 'float64', length: LENGTH, seed: 21 })) as { results: FloatArray[] }[]).map(
        (r) => r.results[0]!,
      );
    const first = await run();
    const second = await run();
    const reference = inputFor(0, 'float64', LENGTH, 21);
    for (let rank = 1; rank < SIZE; rank++) reduceInto(reference, inputFor(rank, 'float64', LENGTH, 21), 'sum');
    let scale = 1;
    for (const value of reference) scale = Math.max(scale, Math.abs(value));
    first.forEach((result, rank) => {
      assert.deepEqual(Buffer.from(result.buffer), Buffer.from(first[0]!.buffer), `rank ${rank} equals rank 0 bitwise`);
      assert.deepEqual(
        Buffer.from(second[rank]!.buffer),
        Buffer.from(result.buffer),
        `rank ${rank}: the second run repeats the first bitwise`,
      );
    });
    let worst = 0;
    first[0]!.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - reference[i]!) / scale)));
    assert.ok(worst <= 1e-12, `relative difference from the rank-order sum ${worst}`);
  } finally {
    await world.close();
  }
});
