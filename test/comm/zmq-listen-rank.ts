/**
 * Rank 0 of a two-rank ZeroMQ world in its own process, for tests that must give it its own limits
 * (zmq-join.test.ts runs it under `ulimit -n`). Prints `port <n>` once listening and `joined` once
 * rank 1 has joined, then closes and exits; a failed join prints `failed <message>` and exits 1. The
 * secret and job id come from the environment; when the test runner loads this file itself it does
 * nothing.
 */
import { ZmqCommunicator } from '../../src/comm/zmq/communicator.js';

if (process.env['SHARDLEARN_LISTEN_RANK'] === '1') {
  try {
    const comm = await ZmqCommunicator.join({
      rank: 0,
      size: 2,
      masterAddr: '127.0.0.1',
      masterPort: 0,
      secret: Buffer.from(process.env['SHARDLEARN_SECRET']!, 'hex'),
      jobId: process.env['SHARDLEARN_JOB_ID']!,
      timeoutMs: 30_000,
      onListening: (port) => process.stdout.write(`port ${port}\n`),
    });
    process.stdout.write('joined\n');
    await comm.close();
  } catch (error) {
    process.stdout.write(`failed ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
