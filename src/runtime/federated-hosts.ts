/**
 * Where federated clients train, behind one small interface (Vitest's pool idea): the server asks
 * `run(task, global)` and gets the client's reply and update, or a CommError PEER_LOST when the
 * client's host is gone; under secure aggregation it asks `secure(message)` instead, and the client's
 * side of the protocol answers from inside the host (federated-secure-client.ts). Placements:
 *
 * - inline: the launcher's own thread (tests, and the reference);
 * - threads: simulated clients on worker threads sharing the training rows in shared memory; a task
 *   goes to the least-loaded thread, which copies out that client's rows for the task only;
 * - processes: real clients in child processes over ZeroMQ's local path (ipc:// in a 0700 folder,
 *   per-job secret), client c living in process c mod P with only its own rows; the launcher is the
 *   server, rank 0 of the world. A process that dies is detected by the transport (PEER_LOST): its
 *   pending and later tasks fail as lost, and the server drops them;
 * - hosts: the same world over TCP with CURVE, the client hosts on other machines (WorldHosts, started
 *   by federated-remote.ts).
 *
 * Bytes: inline and threads encode every task and reply with the wire format and count the frames;
 * processes and hosts report the ZeroMQ communicator's own counters. Under `--compression` every host encodes
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
import type { Message } from '../comm/communicator.js';
import type { Dataset } from '../data/dataset.js';
import type { ClientJob, ClientReply, ClientTask } from './federated-client.js';
import { decodeReply, decodeTask, encodeReply, encodeTask, runClientTask, wireBytes } from './federated-client.js';
import { SECURE_TRAIN_TAG, SecureClientSide } from './federated-secure-client.js';
import type { FederatedProcessStart, FederatedThreadMessage, FederatedThreadReply } from './federated-worker.js';
import { reapAll } from './reap.js';
import type { Codec } from '../comm/codecs/index.js';
import { createCodec } from '../comm/codecs/index.js';
import { decodeUpload, keepsClientMemory, uploadEncoder } from './federated-upload.js';

const WORKER_URL = new URL('./federated-worker.js', import.meta.url);

export interface ClientResult {
  reply: ClientReply;
  delta: Float64Array;
}

/**
 * Sees every message the server receives from a client host, as it arrived, before anything else
 * reads it (FederatedOptions.onServerReceive: audits of what the server process holds).
 */
export type ServerAudit = (client: number, message: Message) => void;

export interface ClientHosts {
  run(task: ClientTask, global: Float64Array): Promise<ClientResult>;
  /**
   * Secure aggregation: carry one server message ('secure-train' or 'secagg', header.client naming
   * the client) to the client's side of the protocol in its host (federated-secure-client.ts), and
   * return its answer. A client's later messages go to the host that holds its session.
   */
  secure(message: Message): Promise<Message>;
  /** Bytes the clients sent (up) and received (down) so far. */
  bytes(): { up: number; down: number };
  close(): Promise<void>;
}

/** The codec the server decodes uploads with (its own, not the clients'), or null for dense uploads. */
function serverCodec(job: ClientJob): Codec | null {
  return job.upload === null ? null : createCodec(job.upload.codec);
}

/** The error a client's own failure (a bad model setting, a data error) becomes on the server. */
export function clientFailure(client: number, message: string, code: string | undefined): Error {
  return code === 'CONFIG' || code === 'DATA_VALUE' || code === 'DATA_FORMAT' || code === 'DATA_MISSING'
    ? new ShardlearnError(code, `client ${client}: ${message}`)
    : new WorkerError(client, `federated client ${client} failed: ${message}`);
}

/** Whether a client's failure is its host's loss (drop the client) rather than its own error (fail the fit). */
export function isLoss(error: unknown): boolean {
  return error instanceof ShardlearnError && (error.code === 'PEER_LOST' || error.code === 'TIMEOUT');
}

/** Clients on the launcher's thread, one at a time in the order asked (serialised messages counted). */
export class InlineHosts implements ClientHosts {
  private up = 0;
  private down = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly encoder;
  private readonly codec;
  private readonly side = new SecureClientSide();

  constructor(
    private readonly job: ClientJob,
    private readonly data: Dataset,
    private readonly parts: readonly Uint32Array[],
    private readonly audit: ServerAudit = () => undefined,
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
      const answer = decodeReply(back, this.codec, global.length);
      this.audit(task.client, { tag: 'update', header: { ...answer.reply }, arrays: [answer.delta] });
      return answer;
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  secure(message: Message): Promise<Message> {
    const client = (message.header as { client: number }).client;
    const result = this.queue.then(async () => {
      if (this.closed) throw new CommError('PEER_LOST', `the federated fit ended before client ${client} answered`);
      const answer = await this.side.handle(message, { job: this.job, rowsOf: (id) => this.data.take(this.parts[id]!) });
      this.audit(client, answer);
      return answer;
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
  resolve: (result: ClientResult | Message) => void;
  reject: (error: Error) => void;
  client: number;
  thread: number;
  /** The global model's parameter count (the update's length; 0 for a secure aggregation message, which is not decoded here). */
  length: number;
}

/** Clients on worker threads reading the training rows from shared memory. */
export class ThreadHosts implements ClientHosts {
  private up = 0;
  private down = 0;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly load: number[];
  /** The thread holding each client's secure aggregation session, by `round:client`. */
  private readonly sessions = new Map<string, number>();

  private readonly codec: Codec | null;
  /** Clients keep codec memory on their thread: client c always runs on thread c mod threads. */
  private readonly pinned: boolean;

  private constructor(
    private readonly workers: Worker[],
    private readonly parts: readonly Uint32Array[],
    job: ClientJob,
    private readonly audit: ServerAudit,
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

  static async start(
    job: ClientJob,
    data: Dataset,
    parts: readonly Uint32Array[],
    threads: number,
    audit: ServerAudit = () => undefined,
  ): Promise<ThreadHosts> {
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
    return new ThreadHosts(workers, parts, job, audit);
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
      this.pending.set(id, {
        resolve: resolve as (result: ClientResult | Message) => void,
        reject,
        client: task.client,
        thread,
        length: global.length,
      });
      this.workers[thread]!.postMessage({ type: 'task', id, frames, rows: this.parts[task.client]! } satisfies FederatedThreadMessage);
    });
  }

  secure(message: Message): Promise<Message> {
    const { round, client } = message.header as { round: number; client: number };
    const key = `${round}:${client}`;
    let thread = this.sessions.get(key);
    if (message.tag === SECURE_TRAIN_TAG) {
      for (const [other] of this.sessions) if (Number(other.split(':')[0]) < round) this.sessions.delete(other);
      thread = this.load.indexOf(Math.min(...this.load));
      this.sessions.set(key, thread);
    }
    if (thread === undefined || this.load[thread] === Infinity)
      return Promise.reject(new CommError('PEER_LOST', `the thread holding client ${client}'s secure aggregation session is gone`));
    const id = this.nextId++;
    this.load[thread]!++;
    const rows = message.tag === SECURE_TRAIN_TAG ? this.parts[client]! : new Uint32Array(0);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: ClientResult | Message) => void, reject, client, thread, length: 0 });
      this.workers[thread]!.postMessage({ type: 'secure', id, message, rows } satisfies FederatedThreadMessage);
    });
  }

  private receive(message: FederatedThreadReply): void {
    if (message.type === 'online') return;
    const pending = this.pending.get(message.id);
    if (pending === undefined) return;
    this.pending.delete(message.id);
    this.load[pending.thread]!--;
    if (message.type === 'failed') return pending.reject(clientFailure(pending.client, message.message, message.code));
    if (message.type === 'secure-reply') {
      this.audit(pending.client, message.message);
      return pending.resolve(message.message);
    }
    this.up += wireBytes(message.frames);
    try {
      const decoded = decodeReply(message.frames, this.codec, pending.length);
      this.audit(pending.client, { tag: 'update', header: { ...decoded.reply }, arrays: [decoded.delta] });
      pending.resolve(decoded);
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

/**
 * Client hosts that are the ranks 1..H of a ZeroMQ world whose rank 0 is this process (the server):
 * client c lives on rank (c mod H) + 1. Child processes on the local path (ProcessHosts), or hosts
 * anywhere over TCP with CURVE (federated-remote.ts).
 */
export class WorldHosts implements ClientHosts {
  private readonly pending = new Map<string, { resolve: (message: Message) => void; reject: (error: Error) => void }>();
  private readonly lost: (Error | null)[];
  private closed = false;
  private readonly baseline: { up: number; down: number };
  private readonly codec: Codec | null;

  constructor(
    private readonly comm: ZmqCommunicator,
    /** The client hosts (ranks 1..hostCount). */
    readonly hostCount: number,
    private readonly remove: () => Promise<void>,
    /** The job the hosts serve: the server decodes their uploads with its codec. */
    job: ClientJob,
    private readonly audit: ServerAudit,
    /** The rank hosting each client: (c mod H) + 1 unless the hosts brought their own clients (cross-silo). */
    private readonly rankOf: (client: number) => number = (client) => (client % hostCount) + 1,
  ) {
    this.codec = serverCodec(job);
    this.lost = Array.from({ length: hostCount }, () => null);
    this.baseline = { up: comm.stats.bytesReceived, down: comm.stats.bytesSent };
    for (let rank = 1; rank <= hostCount; rank++) void this.listen(rank);
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
      const header = message.header as { round: number; client: number; message?: string; code?: string };
      this.audit(header.client, message);
      const waiting = this.pending.get(this.key(header.round, header.client));
      if (waiting === undefined) continue; // a reply after its deadline: dropped already
      this.pending.delete(this.key(header.round, header.client));
      if (message.tag === 'failed') waiting.reject(clientFailure(header.client, header.message ?? '?', header.code));
      else waiting.resolve(message);
    }
  }

  private loseRank(rank: number, error: Error): void {
    this.lost[rank - 1] = error;
    for (const [key, waiting] of this.pending) {
      const client = Number(key.split(':')[1]);
      if (this.rankOf(client) !== rank) continue;
      this.pending.delete(key);
      waiting.reject(new CommError('PEER_LOST', `client ${client}'s process (rank ${rank}) is gone: ${error.message}`, { rank }));
    }
  }

  /** Send `message` to the process hosting `client`; its answer for (round, client). */
  private request(round: number, client: number, message: Message): Promise<Message> {
    const rank = this.rankOf(client);
    const gone = this.lost[rank - 1];
    if (gone !== null && gone !== undefined)
      return Promise.reject(new CommError('PEER_LOST', `client ${client}'s process (rank ${rank}) is gone: ${gone.message}`, { rank }));
    return new Promise((resolve, reject) => {
      this.pending.set(this.key(round, client), { resolve, reject });
      this.comm.send(rank, message).catch((error: unknown) => {
        this.loseRank(rank, error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  async run(task: ClientTask, global: Float64Array): Promise<ClientResult> {
    const message = await this.request(task.round, task.client, { tag: 'train', header: { ...task }, arrays: [global] });
    const header = message.header as unknown as ClientReply & { codec?: string };
    const upload = { client: task.client, codec: header.codec, arrays: message.arrays ?? [], bytes: message.bytes ?? [] };
    return { reply: header, delta: decodeUpload(this.codec, upload, global.length) };
  }

  secure(message: Message): Promise<Message> {
    const { round, client } = message.header as { round: number; client: number };
    return this.request(round, client, message);
  }

  bytes(): { up: number; down: number } {
    return { up: this.comm.stats.bytesReceived - this.baseline.up, down: this.comm.stats.bytesSent - this.baseline.down };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.lost.map((gone, index) =>
        gone === null ? this.comm.send(index + 1, { tag: 'stop' }).catch(() => undefined) : Promise.resolve(),
      ),
    );
    await this.comm.close();
    await this.remove();
  }
}

/** Real clients in child processes, the launcher as the ZeroMQ world's rank 0 (the server). */
export class ProcessHosts extends WorldHosts {
  private constructor(
    comm: ZmqCommunicator,
    private readonly children: ChildProcess[],
    remove: () => Promise<void>,
    job: ClientJob,
    audit: ServerAudit,
  ) {
    super(comm, children.length, remove, job, audit);
  }

  /** Fork `processes` client hosts, each given only its clients' rows, and join them in one world. */
  static async start(
    job: ClientJob,
    data: Dataset,
    parts: readonly Uint32Array[],
    processes: number,
    timeoutMs: number,
    audit: ServerAudit = () => undefined,
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
        job,
        audit,
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
}
