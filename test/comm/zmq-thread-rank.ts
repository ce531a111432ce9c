// One ZeroMQ rank in a worker thread (zmq-threads.test.ts): join, all-reduce `rank + 1`, report,
// close. `npm test` also runs this file on its own, on the main thread: there it does nothing.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';

interface RankData {
  rank: number;
  size: number;
  port: number;
  secret: string;
  jobId: string;
}

if (!isMainThread) {
  const { rank, size, port, secret, jobId } = workerData as RankData;
  const comm = await ZmqCommunicator.join({
    rank,
    size,
    masterAddr: '127.0.0.1',
    masterPort: port,
    secret: Buffer.from(secret, 'hex'),
    jobId,
    timeoutMs: 20_000,
    log: () => undefined,
  });
  const buffer = Float64Array.of(rank + 1);
  await comm.allReduce(buffer);
  await comm.close();
  parentPort!.postMessage(buffer[0]);
}
