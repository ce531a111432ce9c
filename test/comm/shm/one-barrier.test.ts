// A small all-reduce on shared memory costs one barrier, a large one two per chunk (shm/communicator.ts):
// counted on the barrier's generation word, which every barrier bumps once. Real worker threads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ONE_BARRIER_MAX_LENGTH } from '../../../src/comm/shm/communicator.js';
import type { SharedWorld } from '../../../src/comm/shm/world.js';
import { BARRIER_GENERATION, createSharedWorld } from '../../../src/comm/shm/world.js';

interface Outcome {
  result: number[];
  stats: { bytesSent: number; bytesReceived: number; collectives: number };
}

async function allReduceOnThreads(world: SharedWorld, length: number, calls: number): Promise<Outcome[]> {
  const workers = Array.from(
    { length: world.size },
    (_, rank) => new Worker(new URL('./allreduce-worker.js', import.meta.url), { workerData: { world, rank, length, calls } }),
  );
  try {
    return await Promise.all(
      workers.map(
        (worker) =>
          new Promise<Outcome>((resolve, reject) => {
            worker.once('message', (reply: Outcome & { error?: string }) =>
              reply.error === undefined ? resolve(reply) : reject(new Error(reply.error)),
            );
            worker.once('error', reject);
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

const generation = (world: SharedWorld): number => Atomics.load(new Int32Array(world.control), BARRIER_GENERATION);

for (const size of [2, 3]) {
  test(`a 51-value all-reduce over ${size} threads passes one barrier and sums in rank order`, async () => {
    const world = createSharedWorld(size);
    const outcomes = await allReduceOnThreads(world, 51, 200);
    assert.equal(generation(world), 200, 'one barrier per all-reduce');
    // Σ_r (r + 1 + i/8), summed in ascending rank order as the chunked path does.
    const expected = Array.from({ length: 51 }, (_, i) => {
      let sum = 1 + i / 8;
      for (let r = 1; r < size; r++) sum += r + 1 + i / 8;
      return sum;
    });
    for (const { result, stats } of outcomes) {
      assert.deepEqual(result, expected);
      assert.equal(stats.collectives, 200);
      assert.equal(stats.bytesSent, 200 * 51 * 8);
      assert.equal(stats.bytesReceived, 200 * (size - 1) * 51 * 8);
    }
  });
}

test('an all-reduce longer than ONE_BARRIER_MAX_LENGTH keeps the reduce-scatter: two barriers per chunk', async () => {
  const world = createSharedWorld(2);
  const length = ONE_BARRIER_MAX_LENGTH + 1;
  const outcomes = await allReduceOnThreads(world, length, 3);
  assert.equal(generation(world), 6);
  for (const { result } of outcomes)
    assert.deepEqual(
      result,
      Array.from({ length }, (_, i) => 3 + i / 4),
    );
});

test('a buffer longer than one slot takes the chunked path even when it is short', async () => {
  const world = createSharedWorld(2, { slotBytes: 64 }); // 8 float64 values per slot
  const outcomes = await allReduceOnThreads(world, 20, 2);
  assert.equal(generation(world), 2 * 2 * 3, 'three chunks, two barriers each, per call');
  for (const { result } of outcomes)
    assert.deepEqual(
      result,
      Array.from({ length: 20 }, (_, i) => 3 + i / 4),
    );
});
