/**
 * One rank of the distributed benchmarks (bench/distributed.ts, bench/allreduce.ts), in its own
 * process: joins a ZeroMQ world as its parent says over IPC (CURVE over loopback TCP, or the local
 * ipc:// path when given a folder), then times float32 or float64 sum all-reduces, or acts as a raw
 * TCP sink. Started by the benchmarks only (SHARDLEARN_BENCH_WORKER=1).
 */
import { createServer } from 'node:net';
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
      segmentBytes?: number;
      collectiveLane?: boolean;
      laneFiles?: boolean;
      laneBoard?: boolean;
      /** Rank 0's address (default loopback) and this rank's own (bench/allreduce-hosts.ts: namespace addresses). */
      masterAddr?: string;
      host?: string;
      /** Plain TCP without CURVE (`--insecure-transport`). */
      insecure?: boolean;
    }
  | { type: 'allreduce'; bytes: number; repeats: number; dtype?: 'float32' | 'float64'; warmups?: number }
  | { type: 'sink'; bytes: number }
  | { type: 'exit' };

if (process.env['SHARDLEARN_BENCH_WORKER'] === '1' && process.send !== undefined) {
  const send = (message: unknown): void => void process.send!(message);
  let comm: ZmqCommunicator | null = null;
  process.on('disconnect', () => process.exit(0));
  process.on('message', (request: Request) => {
    switch (request.type) {
      case 'join':
        void ZmqCommunicator.join({
          rank: request.rank,
          size: request.size,
          masterAddr: request.masterAddr ?? '127.0.0.1',
          masterPort: request.masterPort,
          ...(request.host === undefined ? {} : { host: request.host }),
          ...(request.insecure === undefined ? {} : { insecure: request.insecure }),
          secret: Buffer.from(request.secret, 'hex'),
          jobId: request.jobId,
          algorithm: request.algorithm,
          maxMessageBytes: 128 * 1024 * 1024,
          timeoutMs: 120_000,
          ...(request.ipcDir === undefined ? {} : { ipcDir: request.ipcDir }),
          ...(request.segmentBytes === undefined ? {} : { segmentBytes: request.segmentBytes }),
          ...(request.collectiveLane === undefined ? {} : { collectiveLane: request.collectiveLane }),
          ...(request.laneFiles === undefined ? {} : { laneFiles: request.laneFiles }),
          ...(request.laneBoard === undefined ? {} : { laneBoard: request.laneBoard }),
          onListening: (port) => send({ type: 'listening', port }),
        }).then(
          (joined) => {
            comm = joined;
            send({ type: 'ready', transport: joined.collectiveTransport });
          },
          (error: unknown) => {
            process.stderr.write(`rank ${request.rank} could not join: ${String(error)}\n`);
            process.exit(3);
          },
        );
        return;
      case 'allreduce': {
        const buffer =
          request.dtype === 'float32'
            ? new Float32Array(request.bytes / 4).fill(comm!.rank + 1)
            : new Float64Array(request.bytes / 8).fill(comm!.rank + 1);
        void (async () => {
          const seconds: number[] = [];
          // Refilled before each all-reduce: a thousand in-place sums of 1 and 2 would reach Infinity.
          for (let i = 0; i < (request.warmups ?? 1); i++) await comm!.allReduce(buffer.fill(comm!.rank + 1), 'sum'); // untimed (allreduce-rows.ts warmupsFor)
          for (let i = 0; i < request.repeats; i++) {
            buffer.fill(comm!.rank + 1);
            await comm!.barrier();
            const started = performance.now();
            await comm!.allReduce(buffer, 'sum');
            seconds.push((performance.now() - started) / 1000);
          }
          send({ type: 'timed', seconds });
        })();
        return;
      }
      case 'sink': {
        // Raw TCP: count bytes until `bytes` arrived, then answer one byte.
        const server = createServer((socket) => {
          let received = 0;
          socket.on('data', (chunk) => {
            received += chunk.length;
            if (received >= request.bytes) {
              received -= request.bytes;
              socket.write('k');
            }
          });
        });
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          send({ type: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0 });
        });
        return;
      }
      case 'exit':
        void (comm?.close() ?? Promise.resolve()).finally(() => process.exit(0));
        return;
    }
  });
}
