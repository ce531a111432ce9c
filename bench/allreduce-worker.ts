/**
 * One rank of the all-reduce benchmark (bench/allreduce.ts), in its own process: joins a ZeroMQ
 * world as its parent says over IPC (CURVE over loopback TCP, or the local ipc:// path when given a
 * folder), then times float32 sum all-reduces. Started by the benchmark only
 * (SHARDLEARN_ALLREDUCE_WORKER=1).
 */
import { ZmqCommunicator } from '../src/comm/zmq/communicator.js';

type Request =
  | {
      type: 'join';
      rank: number;
      size: number;
      masterPort: number;
      secret: string;
      jobId: string;
      algorithm: 'direct' | 'ring';
      ipcDir?: string;
    }
  | { type: 'allreduce'; bytes: number; repeats: number }
  | { type: 'exit' };

if (process.env['SHARDLEARN_ALLREDUCE_WORKER'] === '1' && process.send !== undefined) {
  const send = (message: unknown): void => void process.send!(message);
  let comm: ZmqCommunicator | null = null;
  process.on('disconnect', () => process.exit(0));
  process.on('message', (request: Request) => {
    switch (request.type) {
      case 'join':
        ZmqCommunicator.join({
          rank: request.rank,
          size: request.size,
          masterAddr: '127.0.0.1',
          masterPort: request.masterPort,
          secret: Buffer.from(request.secret, 'hex'),
          jobId: request.jobId,
          algorithm: request.algorithm,
          timeoutMs: 120_000,
          ...(request.ipcDir === undefined ? {} : { ipcDir: request.ipcDir }),
          onListening: (port) => send({ type: 'listening', port }),
        }).then(
          (joined) => {
            comm = joined;
            send({ type: 'ready' });
          },
          (error: unknown) => {
            process.stderr.write(`rank ${request.rank} could not join: ${String(error)}\n`);
            process.exit(3);
          },
        );
        return;
      case 'allreduce': {
        const buffer = new Float32Array(request.bytes / 4).fill(comm!.rank + 1);
        void (async () => {
          const micros: number[] = [];
          await comm!.allReduce(buffer, 'sum'); // warm-up
          for (let i = 0; i < request.repeats; i++) {
            await comm!.barrier();
            const started = performance.now();
            await comm!.allReduce(buffer, 'sum');
            micros.push((performance.now() - started) * 1000);
          }
          send({ type: 'timed', micros });
        })();
        return;
      }
      case 'exit':
        void (comm?.close() ?? Promise.resolve()).finally(() => process.exit(0));
        return;
    }
  });
}
