/**
 * One rank for one-barrier.test.ts: all-reduces `calls` buffers of `length` float64 values (rank r
 * contributes r + 1 + i/8 at element i) and posts the last result. When the test runner loads this
 * file itself (it collects every file under test/), it does nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SharedMemoryCommunicator } from '../../../src/comm/shm/communicator.js';
import type { SharedWorld } from '../../../src/comm/shm/world.js';

interface AllReduceWorkerData {
  world: SharedWorld;
  rank: number;
  length: number;
  calls: number;
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const { world, rank, length, calls } = workerData as AllReduceWorkerData;
  const comm = new SharedMemoryCommunicator(world, rank, { timeoutMs: 20_000 });
  const buffer = new Float64Array(length);
  const run = async (): Promise<void> => {
    for (let call = 0; call < calls; call++) {
      for (let i = 0; i < length; i++) buffer[i] = rank + 1 + i / 8;
      await comm.allReduce(buffer, 'sum');
    }
  };
  run().then(
    () => port.postMessage({ result: Array.from(buffer), stats: { ...comm.stats } }),
    (error: unknown) => port.postMessage({ error: String(error) }),
  );
}
