/**
 * The entry point of a federated client host: a worker thread (simulated clients) or a child process
 * (real clients over ZeroMQ) that trains the clients the server sends it, one task at a time, with
 * the one client routine (federated-client.ts).
 *
 * - Thread: the launcher posts the job and the training rows in shared memory once; each task names
 *   the client's rows, which the thread copies out for that task only (a client's state exists only
 *   while it is sampled). Task and reply are the wire format's frames, so the bytes are counted.
 * - Process: the start order arrives over IPC (never argv: it holds the job secret) with only the
 *   rows of the clients this process hosts; the process joins the ZeroMQ world as rank ≥ 1 and serves
 *   'train' messages from the server (rank 0) until 'stop' or until the server is gone.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import '../core/index.js';
import '../models/index.js';
import { ZmqCommunicator } from '../comm/zmq/communicator.js';
import { ShardlearnError } from '../core/errors.js';
import { Dataset } from '../data/dataset.js';
import type { DatasetInit } from '../data/dataset.js';
import type { Message } from '../comm/communicator.js';
import type { ClientJob, ClientTask } from './federated-client.js';
import { decodeTask, encodeReply, runClientTask } from './federated-client.js';
import { SECURE_TRAIN_TAG, SecureClientSide } from './federated-secure-client.js';
import { SECAGG_TAG } from '../federated/secagg/comm-message.js';

/** What the launcher posts to a client thread. */
export type FederatedThreadMessage =
  | { type: 'start'; job: ClientJob; data: DatasetInit }
  | { type: 'task'; id: number; frames: Uint8Array[]; rows: Uint32Array }
  /** A secure aggregation message for a client's side of the protocol (rows: the client's, with 'secure-train'). */
  | { type: 'secure'; id: number; message: Message; rows: Uint32Array };

/** What a client thread posts back. */
export type FederatedThreadReply =
  | { type: 'online' }
  | { type: 'reply'; id: number; frames: Uint8Array[] }
  | { type: 'secure-reply'; id: number; message: Message }
  | { type: 'failed'; id: number; message: string; code: string | undefined; name: string };

/** The start order of a client process. */
export interface FederatedProcessStart {
  type: 'start';
  rank: number;
  size: number;
  masterPort: number;
  secret: string;
  jobId: string;
  ipcDir: string;
  timeoutMs: number;
  job: ClientJob;
  /** The rows of the clients this process hosts, concatenated. */
  data: DatasetInit;
  /** Per hosted client id, its rows' indices in `data`. */
  clients: Record<string, Uint32Array>;
}

async function importModules(job: ClientJob): Promise<void> {
  for (const module of job.modules) await import(module);
}

function failure(error: unknown): { message: string; code: string | undefined; name: string } {
  return {
    message: error instanceof Error ? error.message : String(error),
    code: error instanceof ShardlearnError ? error.code : undefined,
    name: error instanceof Error ? error.name : 'Error',
  };
}

function serveThread(port: NonNullable<typeof parentPort>): void {
  let job: ClientJob | null = null;
  let data: Dataset | null = null;
  let queue = Promise.resolve();
  const side = new SecureClientSide();
  port.on('message', (message: FederatedThreadMessage) => {
    if (message.type === 'start') {
      job = message.job;
      data = new Dataset(message.data);
      queue = importModules(message.job);
      return;
    }
    if (message.type === 'secure') {
      queue = queue.then(async () => {
        const answer = await side.handle(message.message, { job: job!, rowsOf: () => data!.take(message.rows) });
        port.postMessage({ type: 'secure-reply', id: message.id, message: answer } satisfies FederatedThreadReply);
      });
      return;
    }
    // One task after another: a thread is one client at a time, like a device.
    queue = queue.then(async () => {
      try {
        const { task, global } = decodeTask(message.frames);
        const { reply, delta } = await runClientTask(job!, task, global, data!.take(message.rows));
        const frames = encodeReply(reply, delta);
        port.postMessage({ type: 'reply', id: message.id, frames } satisfies FederatedThreadReply);
      } catch (error) {
        port.postMessage({ type: 'failed', id: message.id, ...failure(error) } satisfies FederatedThreadReply);
      }
    });
  });
  port.postMessage({ type: 'online' } satisfies FederatedThreadReply);
}

async function serveProcess(start: FederatedProcessStart): Promise<void> {
  await importModules(start.job);
  const data = new Dataset(start.data);
  const comm = await ZmqCommunicator.join({
    rank: start.rank,
    size: start.size,
    masterAddr: '127.0.0.1',
    masterPort: start.masterPort,
    secret: Buffer.from(start.secret, 'hex'),
    jobId: start.jobId,
    timeoutMs: start.timeoutMs,
    ipcDir: start.ipcDir,
  });
  const side = new SecureClientSide();
  const rowsOf = (client: number): Dataset => {
    const rows = start.clients[String(client)];
    if (rows === undefined) throw new ShardlearnError('CONFIG', `client ${client} is not hosted by process rank ${start.rank}`);
    return data.take(rows);
  };
  try {
    for (;;) {
      let message;
      try {
        message = await comm.recv(0);
      } catch (error) {
        if (error instanceof ShardlearnError && error.code === 'TIMEOUT') continue; // not sampled for a while
        throw error;
      }
      if (message.tag === 'stop') return;
      if (message.tag === SECURE_TRAIN_TAG || message.tag === SECAGG_TAG) {
        await comm.send(0, await side.handle(message, { job: start.job, rowsOf }));
        continue;
      }
      const task = message.header as unknown as ClientTask;
      try {
        const { reply, delta } = await runClientTask(start.job, task, message.arrays![0] as Float64Array, rowsOf(task.client));
        await comm.send(0, { tag: 'update', header: { ...reply }, arrays: [delta] });
      } catch (error) {
        await comm.send(0, { tag: 'failed', header: { round: task.round, client: task.client, ...failure(error) } });
      }
    }
  } finally {
    await comm.close();
  }
}

if (!isMainThread && parentPort !== null) serveThread(parentPort);
else if (process.env['SHARDLEARN_FEDERATED_CLIENT'] === '1' && process.send !== undefined) {
  process.on('disconnect', () => process.exit(0)); // the launcher is gone: do not linger
  process.once('message', (start: FederatedProcessStart) => {
    serveProcess(start).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shardlearn federated client rank ${start.rank}: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(4);
      },
    );
  });
}
