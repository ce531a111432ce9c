// ZeroMQ ranks in several threads of one process. zeromq.js shares its default context between
// worker threads, and with it the single inproc ZAP endpoint: while the transport used that context,
// the second thread's rank could not start its ZAP handler (EADDRINUSE after a 5 s retry). Each
// transport now has its own context; here two worker threads and the test's own thread each run a
// rank, in two worlds one after the other (a thread's second transport starts right after its first closed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';

function threadRank(data: { rank: number; size: number; port: number; secret: string; jobId: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./zmq-thread-rank.js', import.meta.url), { workerData: data });
    worker.once('message', (value: number) => resolve(value));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`rank ${data.rank}'s thread exited with code ${code} before reporting`)));
  });
}

test('three ZeroMQ ranks in three threads of one process all-reduce, twice in a row', async () => {
  for (const world of [1, 2]) {
    const secret = randomBytes(32).toString('hex');
    const jobId = `threads-${world}`;
    const size = 3;
    let threads: Promise<number>[] = [];
    // Rank 0 listens on a free port; the threads' ranks join it once it is known.
    const onListening = (port: number): void => {
      threads = [1, 2].map((rank) => threadRank({ rank, size, port, secret, jobId }));
    };
    const comm = await ZmqCommunicator.join({
      rank: 0,
      size,
      masterAddr: '127.0.0.1',
      masterPort: 0,
      onListening,
      secret: Buffer.from(secret, 'hex'),
      jobId,
      timeoutMs: 20_000,
      log: () => undefined,
    });
    const buffer = Float64Array.of(1);
    await comm.allReduce(buffer);
    await comm.close();
    assert.deepEqual([buffer[0], ...(await Promise.all(threads))], [6, 6, 6], `world ${world}: every rank holds 1 + 2 + 3`);
  }
});
