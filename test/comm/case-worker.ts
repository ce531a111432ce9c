/**
 * One rank of a shared-memory test world: builds its communicator from the world's shared buffers
 * and runs conformance cases by name as the test thread asks. Loaded by `sharedMemoryWorld` only;
 * when the test runner loads this file itself (it collects every file under test/), it does nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SharedMemoryCommunicator } from '../../src/comm/shm/communicator.js';
import type { SharedWorld } from '../../src/comm/shm/world.js';
import type { CaseName } from './communicator-cases.js';
import { runCase } from './communicator-cases.js';

interface CaseWorkerData {
  world: SharedWorld;
  rank: number;
  timeoutMs: number;
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const { world, rank, timeoutMs } = workerData as CaseWorkerData;
  const comm = new SharedMemoryCommunicator(world, rank, { timeoutMs });
  port.on('message', (request: { id: number; name: CaseName; args: unknown }) => {
    runCase(request.name, comm, request.args).then(
      (result) => port.postMessage({ id: request.id, result }),
      (error: unknown) =>
        port.postMessage({ id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
}
