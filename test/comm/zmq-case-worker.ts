/**
 * One rank of a ZeroMQ test world, in its own process: joins the world over loopback TCP with the
 * secret and job id its parent sends over IPC, then runs conformance cases by name. Started by
 * `zmqWorld` only (it sets SHARDLEARN_CASE_WORKER); when the test runner loads this file itself it
 * does nothing.
 */
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';
import type { CaseName } from './communicator-cases.js';
import { runCase } from './communicator-cases.js';

interface JoinRequest {
  type: 'join';
  rank: number;
  size: number;
  masterPort: number;
  secret: string;
  jobId: string;
  timeoutMs: number;
  algorithm?: 'direct' | 'ring';
  segmentBytes?: number;
  maxMessageBytes?: number;
  handshakeTimeoutMs?: number;
  ipcDir?: string;
  laneFiles?: boolean;
  laneFileMinBytes?: number;
  laneBoard?: boolean;
}
type Request = JoinRequest | { type: 'case'; id: number; name: CaseName; args: unknown } | { type: 'exit' };

if (process.env['SHARDLEARN_CASE_WORKER'] === '1' && process.send !== undefined) {
  const send = (message: unknown): void => {
    process.send!(message);
  };
  let comm: ZmqCommunicator | null = null;
  process.on('disconnect', () => process.exit(0)); // the test process is gone: do not linger
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
          timeoutMs: request.timeoutMs,
          ...(request.algorithm === undefined ? {} : { algorithm: request.algorithm }),
          ...(request.segmentBytes === undefined ? {} : { segmentBytes: request.segmentBytes }),
          ...(request.maxMessageBytes === undefined ? {} : { maxMessageBytes: request.maxMessageBytes }),
          ...(request.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: request.handshakeTimeoutMs }),
          ...(request.ipcDir === undefined ? {} : { ipcDir: request.ipcDir }),
          ...(request.laneFiles === undefined ? {} : { laneFiles: request.laneFiles }),
          ...(request.laneFileMinBytes === undefined ? {} : { laneFileMinBytes: request.laneFileMinBytes }),
          ...(request.laneBoard === undefined ? {} : { laneBoard: request.laneBoard }),
          onListening: (port) => send({ type: 'listening', port }),
        }).then(
          (joined) => {
            comm = joined;
            send({ type: 'ready' });
          },
          (error: unknown) => send({ type: 'failed', error: error instanceof Error ? error.message : String(error) }),
        );
        return;
      case 'case':
        runCase(request.name, comm!, request.args).then(
          (result) => send({ type: 'result', id: request.id, result }),
          (error: unknown) =>
            send({ type: 'result', id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
        );
        return;
      case 'exit':
        void (comm?.close() ?? Promise.resolve()).finally(() => process.exit(0));
        return;
    }
  });
}
