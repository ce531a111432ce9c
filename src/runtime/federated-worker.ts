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
import type { ClientJob } from './federated-client.js';
import { decodeTask, encodeReply, runClientTask } from './federated-client.js';
import { uploadEncoder } from './federated-upload.js';
import type { UploadEncoder } from './federated-upload.js';
import { failure, serveClients } from './federated-serve.js';
import { SecureClientSide } from './federated-secure-client.js';

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

function serveThread(port: NonNullable<typeof parentPort>): void {
  let job: ClientJob | null = null;
  let data: Dataset | null = null;
  let encoder: UploadEncoder | null = null;
  let queue = Promise.resolve();
  const side = new SecureClientSide();
  port.on('message', (message: FederatedThreadMessage) => {
    if (message.type === 'start') {
      job = message.job;
      data = new Dataset(message.data);
      encoder = uploadEncoder(message.job.upload);
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
        const { reply, delta, encoded } = await runClientTask(job!, task, global, data!.take(message.rows), encoder);
        const frames = encodeReply(reply, encoded ?? delta);
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
  const rowsOf = (client: number): Dataset => {
    const rows = start.clients[String(client)];
    if (rows === undefined) throw new ShardlearnError('CONFIG', `client ${client} is not hosted by process rank ${start.rank}`);
    return data.take(rows);
  };
  try {
    await serveClients(comm, start.job, rowsOf);
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
