/**
 * World factories for the communicator suite: the local communicator (a world of one, run on the
 * test's thread) and the shared-memory communicator with one real worker thread per rank.
 */
import { Worker } from 'node:worker_threads';
import { LocalCommunicator } from '../../src/comm/local.js';
import type { SharedWorldOptions } from '../../src/comm/shm/world.js';
import { createSharedWorld } from '../../src/comm/shm/world.js';
import type { CaseName } from './communicator-cases.js';
import { runCase } from './communicator-cases.js';
import type { CommWorld, WorldFactory } from './communicator-suite.js';

export const localWorld: WorldFactory = (size) => {
  if (size !== 1) throw new RangeError(`the local communicator is a world of one, asked for ${size}`);
  const comm = new LocalCommunicator();
  return Promise.resolve({
    size: 1,
    run: async (name: CaseName, args?: unknown) => [await runCase(name, comm, args)],
    close: () => comm.close(),
  });
};

/** Each rank is a worker thread running case-worker.js; `memory` sets slot and mailbox sizes. */
export function sharedMemoryWorld(memory: SharedWorldOptions): WorldFactory {
  return async (size, { timeoutMs = 10_000 }) => {
    const world = createSharedWorld(size, memory);
    const workers = Array.from(
      { length: size },
      (_, rank) => new Worker(new URL('./case-worker.js', import.meta.url), { workerData: { world, rank, timeoutMs } }),
    );
    await Promise.all(workers.map((worker) => new Promise((resolve, reject) => worker.once('online', resolve).once('error', reject))));
    let nextId = 0;
    const ask = (worker: Worker, rank: number, name: CaseName, args: unknown): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const onMessage = (reply: { id: number; result?: unknown; error?: string }): void => {
          if (reply.id !== id) return;
          worker.off('message', onMessage);
          worker.off('error', reject);
          if (reply.error !== undefined) reject(new Error(`rank ${rank}: ${reply.error}`));
          else resolve(reply.result);
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
        worker.postMessage({ id, name, args });
      });
    const handle: CommWorld = {
      size,
      run: (name, args) => Promise.all(workers.map((worker, rank) => ask(worker, rank, name, args))),
      close: async () => {
        await Promise.all(workers.map((worker) => worker.terminate()));
      },
    };
    return handle;
  };
}
