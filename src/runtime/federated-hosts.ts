/**
 * Where federated clients train, behind one small interface (Vitest's pool idea): the server asks
 * `run(task, global)` and gets the client's reply and update, or a CommError PEER_LOST when the
 * client's host is gone. Three placements:
 *
 * - inline: the launcher's own thread (tests, and the reference);
 * - threads: simulated clients on worker threads sharing the training rows in shared memory; a task
 *   goes to the least-loaded thread, which copies out that client's rows for the task only;
 * - processes: real clients in child processes over ZeroMQ's local path (ipc:// in a 0700 folder,
 *   per-job secret), client c living in process c mod P with only its own rows; the launcher is the
 *   server, rank 0 of the world. A process that dies is detected by the transport (PEER_LOST): its
 *   pending and later tasks fail as lost, and the server drops them.
 *
 * Bytes: inline and threads encode every task and reply with the wire format and count the frames;
 * processes report the ZeroMQ communicator's own counters. Under `--compression` every host encodes
 * a client's update with its own UploadEncoder (runtime/federated-upload.ts) and the server decodes
 * it with its own codec; when clients keep error-feedback memory, a client always runs on the same
 * thread (client mod threads), as it does on the same process.
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ZmqCommunicator } from '../comm/zmq/communicator.js';
import { createLocalDir } from '../comm/zmq/local.js';
import { CommError, ShardlearnError, WorkerError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { ClientJob, ClientReply, ClientTask } from './federated-client.js';
import { decodeReply, decodeTask, encodeReply, encodeTask, runClientTask, wireBytes } from './federated-client.js';
import type { FederatedProcessStart, FederatedThreadMessage, FederatedThreadReply } from './federated-worker.js';
import { reapAll } from './processes.js';
import type { Codec } from '../comm/codecs/index.js';
import { createCodec } from '../comm/codecs/index.js';
import { decodeUpload, keepsClientMemory, uploadEncoder } from './federated-upload.js';

const WORKER_URL = new URL('./federated-worker.js', import.meta.url);

export interface ClientResult {
  reply: ClientReply;
  delta: Float64Array;
}

export interface ClientHosts {
  run(task: ClientTask, global: Float64Array): Promise<ClientResult>;
  /** Bytes the clients sent (up) and received (down) so far. */
  bytes(): { up: number; down: number };
  close(): Promise<void>;
}

/** The codec the server decodes uploads with (its own, not the clients'), or null for dense uploads. */
function serverCodec(job: ClientJob): Codec | null {
  return job.upload === null ? null : createCodec(job.upload.codec);
}

/** The error a client's own failure (a bad model setting, a data error) becomes on the server. */
function clientFailure(client: number, message: string, code: string | undefined): Error {
  return code === 'CONFIG' || code === 'DATA_VALUE' || code === 'DATA_FORMAT' || code === 'DATA_MISSING'
    ? new ShardlearnError(code, `client ${client}: ${message}`)
    : new WorkerError(client, `federated client ${client} failed: ${message}`);
}

/** Clients on the launcher's thread, one at a time in the order asked (serialised messages counted). */
export class InlineHosts implements ClientHosts {
  private up = 0;
  private down = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly encoder;
  private readonly codec;

  constructor(
    private readonly job: ClientJob,
    private readonly data: Dataset,
    private readonly parts: readonly Uint32Array[],
  ) {
    this.encoder = uploadEncoder(job.upload);
    this.codec = serverCodec(job);
  }

  run(task: ClientTask, global: Float64Array): Promise<ClientResult> {
    const result = this.queue.then(async () => {
      // Tasks still queued when the fit ends (asynchronous mode) are not run.
      if (this.closed) throw new CommError('PEER_LOST', `the federated fit ended before client ${task.client} ran`);
      const frames = encodeTask(task, global);
      this.down += wireBytes(frames);
      const decoded = decodeTask(frames);
      const { reply, delta, encoded } = await runClientTask(
        this.job,
        decoded.task,
        decoded.global,
        this.data.take(this.parts[task.client]!),
        this.encoder,
      );
      const back = encodeReply(reply, encoded ?? delta);
      this.up += wireBytes(back);
      return decodeReply(back, this.codec, global.length);
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  bytes(): { up: number; down: number } {
    return { up: this.up, down: this.down };
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

interface Pending {
  resolve: (result: ClientResult) => void;
  reject: (error: Error) => void;
  client: number;
  thread: number;
  /** The global model's parameter count (the update's length). */
  length: number;
}

/** Clients on worker threads reading the training rows from shared memory. */
export class ThreadHosts implements ClientHosts {
  private up = 0;
  private down = 0;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly load: number[];

  private readonly codec: Codec | null;
  /** Clients keep codec memory on their thread: client c always runs on thread c mod threads. */
  private readonly pinned: boolean;

  private constructor(
    private readonly workers: Worker[],
    private readonly parts: readonly Uint32Array[],
    job: ClientJob,
  ) {
    this.codec = serverCodec(job);
    this.pinned = keepsClientMemory(job.upload);
    this.load = workers.map(() => 0);
    workers.forEach((worker, thread) => {
      worker.on('message', (message: FederatedThreadReply) => this.receive(message));
      worker.on('error', (error) => this.lose(thread, error));
      worker.on('exit', (code) => this.lose(thread, new Error(`exited with code ${code}`)));
    });
  }

  static async start(job: ClientJob, data: Dataset, parts: readonly Uint32Array[], threads: number): Promise<ThreadHosts> {
    const shared = data.toShared();
    const init = shared.init();
    const workers = Array.from({ length: threads }, () => new Worker(WORKER_URL, { execArgv: [] }));
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const online = (message: FederatedThreadReply): void => {
              if (message.type !== 'online') return;
              worker.off('message', online);
              resolve();
            };
            worker.on('message', online);
            worker.once('error', reject);
          }),
      ),
    );
    for (const worker of workers) worker.postMessage({ type: 'start', job, data: init } satisfies FederatedThreadMessage);
    return new ThreadHosts(workers, parts, job);
  }

  run(task: ClientTask, global: Float64Array): Promise<ClientResult> {
    const id = this.nextId++;
    const thread = this.pinned ? task.client % this.workers.length : this.load.indexOf(Math.min(...this.load));
    if (this.load[thread] === Infinity)
      return Promise.reject(new CommError('PEER_LOST', `the thread hosting client ${task.client} is gone`, { rank: thread }));
    const frames = encodeTask(task, global);
    this.down += wireBytes(frames);
    this.load[thread]!++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, client: task.client, thread, length: global.length });
      this.workers[thread]!.postMessage({ type: 'task', id, frames, rows: this.parts[task.client]! } satisfies FederatedThreadMessage);
    });
  }

  private receive(message: FederatedThreadReply): void {
    if (message.type === 'online') return;
    const pending = this.pending.get(message.id);
    if (pending === undefined) return;
    this.pending.delete(message.id);
    this.load[pending.thread]!--;
    if (message.type === 'failed') return pending.reject(clientFailure(pending.client, message.message, message.code));
    this.up += wireBytes(message.frames);
    try {
      pending.resolve(decodeReply(message.frames, this.codec, pending.length));
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private lose(thread: number, error: Error): void {
    for (const [id, pending] of this.pending) {
      if (pending.thread !== thread) continue;
      this.pending.delete(id);
      pending.reject(new CommError('PEER_LOST', `the thread hosting client ${pending.client} is gone: ${error.message}`, { rank: thread }));
    }
    this.load[thread] = Infinity;
  }

  bytes(): { up: number; down: number } {
    return { up: this.up, down: this.down };
  }

  async close(): Promise<void> {
    for (const worker of this.workers) worker.removeAllListeners('exit');
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** Real clients in child processes, the launcher as the ZeroMQ world's rank 0 (the server). */
export class ProcessHosts implements ClientHosts {
  private readonly pending = new Map<
    string,
    { resolve: (result: ClientResult) => void; reject: (error: Error) => void; length: number }
  >();
  private readonly lost: (Error | null)[];
  private closed = false;
  private readonly baseline: { up: number; down: number };

  private constructor(
    private readonly comm: ZmqCommunicator,
    private readonly children: ChildProcess[],
    private readonly remove: () => Promise<void>,
    private readonly codec: Codec | null,
  ) {
    this.lost = children.map(() => null);
    this.baseline = { up: comm.stats.bytesReceived, down: comm.stats.bytesSent };
    children.forEach((_, index) => void this.listen(index + 1));
  }

  /** Fork `processes` client hosts, each given only its clients' rows, and join them in one world. */
  static async start(
    job: ClientJob,
    data: Dataset,
    parts: readonly Uint32Array[],
    processes: number,
    timeoutMs: number,
  ): Promise<ProcessHosts> {
    const size = processes + 1;
    const local = await createLocalDir();
    const secret = randomBytes(32).toString('hex');
    const jobId = `federated-${randomBytes(8).toString('hex')}`;
    const children = Array.from({ length: processes }, () =>
      fork(WORKER_URL, [], {
        serialization: 'advanced',
        execArgv: [],
        env: { ...process.env, SHARDLEARN_FEDERATED_CLIENT: '1' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const startOrder = (rank: number, masterPort: number): FederatedProcessStart => {
      const hosted = parts.map((_, client) => client).filter((client) => client % processes === rank - 1);
      const indices = hosted.flatMap((client) => Array.from(parts[client]!));
      const rows = data.take(indices);
      const clients: Record<string, Uint32Array> = {};
      let offset = 0;
      for (const client of hosted) {
        const count = parts[client]!.length;
        clients[String(client)] = Uint32Array.from({ length: count }, (_, i) => offset + i);
        offset += count;
      }
      const init = rows.init();
      return { type: 'start', rank, size, masterPort, secret, jobId, ipcDir: local.dir, timeoutMs, job, data: init, clients };
    };
    try {
      const exited = new Promise<never>((_, reject) =>
        children.forEach((child, index) =>
          child.once('exit', (code, signal) =>
            reject(new WorkerError(index + 1, `federated client process exited (${signal ?? code}) before joining`)),
          ),
        ),
      );
      exited.catch(() => undefined);
      const comm = await Promise.race([
        ZmqCommunicator.join({
          rank: 0,
          size,
          masterAddr: '127.0.0.1',
          masterPort: 0,
          secret: Buffer.from(secret, 'hex'),
          jobId,
          timeoutMs,
          ipcDir: local.dir,
          onListening: (port) => children.forEach((child, index) => child.send(startOrder(index + 1, port))),
        }),
        exited,
      ]);
      return new ProcessHosts(
        comm,
        children,
        async () => {
          await reapAll(children);
          await local.remove();
        },
        serverCodec(job),
      );
    } catch (error) {
      await reapAll(children);
      await local.remove();
      throw error;
    }
  }

  /** The child processes' ids (rank r is pids[r − 1]). */
  get pids(): number[] {
    return this.children.map((child) => child.pid ?? -1);
  }

  private key(round: number, client: number): string {
    return `${round}:${client}`;
  }

  /** Receive from one client process until it is gone or the hosts close. */
  private async listen(rank: number): Promise<void> {
    for (;;) {
      let message;
      try {
        message = await this.comm.recv(rank);
      } catch (error) {
        if (this.closed) return;
        if (error instanceof ShardlearnError && error.code === 'TIMEOUT') continue; // idle: none of its clients sampled
        this.loseRank(rank, error instanceof Error ? error : new Error(String(error)));
        return;
      }
      const header = message.header as { round: number; client: number; message?: string; code?: string; codec?: string };
      const waiting = this.pending.get(this.key(header.round, header.client));
      if (waiting === undefined) continue; // a reply after its deadline: dropped already
      this.pending.delete(this.key(header.round, header.client));
      if (message.tag === 'failed') waiting.reject(clientFailure(header.client, header.message ?? '?', header.code));
      else {
        try {
          const payload = { client: header.client, codec: header.codec, arrays: message.arrays ?? [], bytes: message.bytes ?? [] };
          waiting.resolve({ reply: message.header as unknown as ClientReply, delta: decodeUpload(this.codec, payload, waiting.length) });
        } catch (error) {
          waiting.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    }
  }

  private loseRank(rank: number, error: Error): void {
    this.lost[rank - 1] = error;
    for (const [key, waiting] of this.pending) {
      const client = Number(key.split(':')[1]);
      if (client % this.children.length !== rank - 1) continue;
      this.pending.delete(key);
      waiting.reject(new CommError('PEER_LOST', `client ${client}'s process (rank ${rank}) is gone: ${error.message}`, { rank }));
    }
  }

  run(task: ClientTask, global: Float64Array): Promise<ClientResult> {
    const rank = (task.client % this.children.length) + 1;
    const gone = this.lost[rank - 1];
    if (gone !== null && gone !== undefined)
      return Promise.reject(
        new CommError('PEER_LOST', `client ${task.client}'s process (rank ${rank}) is gone: ${gone.message}`, { rank }),
      );
    return new Promise((resolve, reject) => {
      this.pending.set(this.key(task.round, task.client), { resolve, reject, length: global.length });
      this.comm.send(rank, { tag: 'train', header: { ...task }, arrays: [global] }).catch((error: unknown) => {
        this.loseRank(rank, error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  bytes(): { up: number; down: number } {
    return { up: this.comm.stats.bytesReceived - this.baseline.up, down: this.comm.stats.bytesSent - this.baseline.down };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.children.map((_, index) =>
        this.lost[index] === null ? this.comm.send(index + 1, { tag: 'stop' }).catch(() => undefined) : Promise.resolve(),
      ),
    );
    await this.comm.close();
    await this.remove();
  }
}
