/**
 * Growth under the static rendezvous (MASTER_ADDR/MASTER_PORT): a newcomer started with the job's
 * environment and `SHARDLEARN_JOIN=1` (RANK is then ignored) joins a running `cluster` fit at its
 * next epoch boundary (runtime/elastic-growth.ts).
 *
 * Where a newcomer finds the current master: the ORIGINAL rank 0 (RANK=0) of a job with a restart
 * policy listens for joins, for its whole life, on MASTER_ADDR:SHARDLEARN_JOIN_PORT (default
 * MASTER_PORT + 1000; `shardlearn launch` sets a free one). It stays rank 0 of every generation
 * while it lives: survivors keep their order and newcomers are appended (elastic.ts `nextPlace`,
 * elastic-growth.ts `grownPlace`), so the join port never moves. Once the original rank 0 is lost
 * the re-formed world's rank 0 is another process (elastic.ts `reformedMaster`) that holds no join
 * port: newcomers are refused (connection refused, said with the address) and the world can only
 * shrink.
 *
 * The join channel (newline-delimited JSON over TCP) proves both sides hold the job secret: each
 * sends a random nonce and answers the other's with HMAC-SHA256(secret, role | job id | nonce). A
 * newcomer with the wrong secret (or of another job) is refused with a message, and rank 0 says so
 * on stderr. An accepted newcomer is an announcement: rank 0 numbers it (member id = first world
 * size + announcement index) and keeps the connection open until the members admit it, then sends
 * its place and where the grown generation meets (MASTER_ADDR, MASTER_PORT + generation).
 *
 * Every member sees the same announcements: at each epoch boundary rank 0 broadcasts its list
 * (`sync`, called by `agreeMembership`), −1 for a newcomer whose connection dropped before its
 * admission, so no world waits on it.
 *
 * @example
 * // another host, same environment as the job's ranks: MASTER_ADDR, MASTER_PORT, WORLD_SIZE, SHARDLEARN_SECRET
 * SHARDLEARN_JOIN=1 shardlearn train … --paradigm cluster --min-workers 2 --max-workers 4
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import { createConnection, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Communicator } from '../comm/communicator.js';
import { CommError, ConfigError } from '../core/errors.js';
import type { ElasticPlace, ElasticPolicy } from './elastic.js';
import type { Membership } from './elastic-growth.js';
import { grownPlace } from './elastic-growth.js';

/** The variable that makes a process a newcomer to a running static job (RANK is then ignored). */
export const JOIN_VARIABLE = 'SHARDLEARN_JOIN';
/** The variable naming the original rank 0's join port. */
export const JOIN_PORT_VARIABLE = 'SHARDLEARN_JOIN_PORT';
/** The join port's default distance above MASTER_PORT. */
export const JOIN_PORT_OFFSET = 1000;
/** How long a newcomer waits to be admitted: a few epochs of a slow run. */
export const ADMISSION_TIMEOUT_MS = 30 * 60_000;
/** How long the handshake may take. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Whether this process is a newcomer (SHARDLEARN_JOIN=1). */
export function joiningFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[JOIN_VARIABLE];
  if (value === undefined || value === '' || value === '0') return false;
  if (value !== '1') throw new ConfigError(`${JOIN_VARIABLE}=${value}: expected 1 (join a running job) or 0`, { field: JOIN_VARIABLE });
  return true;
}

/** The original rank 0's join port: SHARDLEARN_JOIN_PORT, else MASTER_PORT + 1000. */
export function joinPortFromEnv(masterPort: number, env: NodeJS.ProcessEnv = process.env): number {
  const text = env[JOIN_PORT_VARIABLE];
  const port = text === undefined || text === '' ? masterPort + JOIN_PORT_OFFSET : Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ConfigError(
      text === undefined || text === ''
        ? `the join port MASTER_PORT + ${JOIN_PORT_OFFSET} = ${port} is no TCP port: set ${JOIN_PORT_VARIABLE}`
        : `${JOIN_PORT_VARIABLE}=${text}: expected a TCP port 1..65535`,
      { field: JOIN_PORT_VARIABLE },
    );
  return port;
}

function proof(secret: Buffer, role: 'master' | 'newcomer', jobId: string, nonce: string): string {
  return createHmac('sha256', secret).update(`${role}|${jobId}|${nonce}`).digest('hex');
}

function sameProof(a: unknown, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

type Message =
  | { type: 'hello'; job: string; nonce: string }
  | { type: 'challenge'; nonce: string; proof: string }
  | { type: 'proof'; proof: string }
  | { type: 'announced'; id: number }
  | { type: 'admitted'; place: ElasticPlace; masterAddr: string; masterPort: number }
  | { type: 'refused'; reason: string }
  | { type: 'ended' };

function send(socket: Socket, message: Message): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
}

/** Messages of `socket`, one at a time. */
function reader(socket: Socket): (timeoutMs: number, what: string) => Promise<Message> {
  const queue: Message[] = [];
  const waiting: { resolve: (m: Message) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | undefined;
  const lines = createInterface({ input: socket });
  lines.on('error', () => undefined); // the socket's own 'error' (below) says it
  lines.on('line', (line) => {
    let message: Message;
    try {
      message = JSON.parse(line) as Message;
    } catch {
      socket.destroy();
      return;
    }
    const next = waiting.shift();
    if (next === undefined) queue.push(message);
    else next.resolve(message);
  });
  const close = (error: Error): void => {
    ended ??= error;
    for (const next of waiting.splice(0)) next.reject(ended);
  };
  socket.on('close', () => close(new CommError('COMM', 'the join connection closed')));
  socket.on('error', (error) => close(error));
  return (timeoutMs, what) => {
    const ready = queue.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (ended !== undefined) return Promise.reject(ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(entry), 1);
        reject(new CommError('TIMEOUT', `no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const entry = {
        resolve: (m: Message) => (clearTimeout(timer), resolve(m)),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      };
      waiting.push(entry);
    });
  };
}

/**
 * The membership of a static job's rank under a restart policy. On the original rank 0 it holds
 * the join server (`listen`); on every rank it takes rank 0's list at each epoch boundary (`sync`).
 */
export class StaticMembership implements Membership {
  /** Announcements as of the last sync: the same on every member. */
  private shared: number[] = [];
  private sharedSeen: number[] = [];
  /** Rank 0: announcements as they arrive (−1: dropped before its admission), and when. */
  private readonly live: number[] = [];
  private readonly liveSeen: number[] = [];
  private readonly waiting = new Map<number, Socket>();
  private server: Server | undefined;

  constructor(private readonly job: { jobId: string; secret: Buffer; firstSize: number; masterAddr: string; masterPort: number }) {}

  /** Rank 0: accept newcomers on host:port. Resolves once listening; a ConfigError names a port in use. */
  async listen(host: string, port: number): Promise<void> {
    const server = createServer((socket) => void this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new ConfigError(`cannot accept newcomers on ${host}:${port} (${JOIN_PORT_VARIABLE}): ${error.code ?? error.message}`, {
            field: JOIN_PORT_VARIABLE,
            cause: error,
          }),
        ),
      );
      server.listen(port, host, () => resolve());
    });
  }

  private async accept(socket: Socket): Promise<void> {
    const read = reader(socket);
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const refuse = (reason: string): void => {
      process.stderr.write(`shardlearn: refused a newcomer from ${peer}: ${reason}\n`);
      send(socket, { type: 'refused', reason });
      socket.end();
    };
    try {
      const hello = await read(HANDSHAKE_TIMEOUT_MS, 'hello');
      if (hello.type !== 'hello' || typeof hello.nonce !== 'string') return refuse('not a shardlearn newcomer');
      if (hello.job !== this.job.jobId) return refuse(`it belongs to job '${String(hello.job)}', this is job '${this.job.jobId}'`);
      const nonce = randomBytes(16).toString('hex');
      send(socket, { type: 'challenge', nonce, proof: proof(this.job.secret, 'master', this.job.jobId, hello.nonce) });
      const answer = await read(HANDSHAKE_TIMEOUT_MS, 'proof');
      if (answer.type !== 'proof' || !sameProof(answer.proof, proof(this.job.secret, 'newcomer', this.job.jobId, nonce)))
        return refuse('wrong job secret (SHARDLEARN_SECRET / SHARDLEARN_SECRET_FILE)');
      const index = this.live.length;
      const id = this.job.firstSize + index;
      this.live.push(id);
      this.liveSeen.push(performance.now());
      this.waiting.set(id, socket);
      process.stderr.write(`shardlearn: newcomer ${id} from ${peer} announced; it joins at the next epoch boundary with room\n`);
      socket.on('close', () => {
        if (this.waiting.delete(id)) this.live[index] = -1; // dropped before its admission: no world waits on it
      });
      send(socket, { type: 'announced', id });
    } catch {
      socket.destroy();
    }
  }

  version(): number {
    return this.shared.length;
  }

  seenAt(version: number): number | undefined {
    return this.sharedSeen[version - 1];
  }

  placeAt(version: number, current: ElasticPlace, policy: ElasticPolicy): ElasticPlace | undefined {
    return grownPlace(current, this.shared.slice(current.version, version), policy.maxWorkers);
  }

  /** At an epoch boundary: every member takes rank 0's announcements (two broadcasts). */
  async sync(comm: Communicator): Promise<void> {
    const mine = comm.rank === 0 ? [...this.live] : [];
    const length = new Float64Array([mine.length]);
    if (comm.size > 1) await comm.broadcast(length, 0);
    const ids = comm.rank === 0 ? Float64Array.from(mine) : new Float64Array(length[0]!);
    if (comm.size > 1) await comm.broadcast(ids, 0);
    const now = performance.now();
    for (let k = this.shared.length; k < ids.length; k++) this.sharedSeen.push(comm.rank === 0 ? this.liveSeen[k]! : now);
    this.shared = Array.from(ids);
  }

  /** Rank 0 of a grown generation: tell each newcomer its place and where the generation meets. */
  admitted(place: ElasticPlace): void {
    for (const [rank, id] of place.members.entries()) {
      const socket = this.waiting.get(id);
      if (socket === undefined) continue;
      this.waiting.delete(id);
      send(socket, {
        type: 'admitted',
        place: { ...place, rank },
        masterAddr: this.job.masterAddr,
        masterPort: this.job.masterPort + place.generation,
      });
      socket.end();
    }
  }

  /** Stop accepting; newcomers still waiting hear that the run ended. */
  async stop(): Promise<void> {
    for (const socket of this.waiting.values()) {
      send(socket, { type: 'ended' });
      socket.end();
    }
    this.waiting.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** How long a newcomer retries a refused connection (rank 0 may not listen yet: it was started at the same time). */
const CONNECT_RETRY_MS = 10_000;

/** A connection to the join port, retried while refused for up to CONNECT_RETRY_MS; a CommError says where nothing listens. */
async function connect(addr: string, port: number): Promise<Socket> {
  const where = `${addr}:${port}`;
  const deadline = performance.now() + CONNECT_RETRY_MS;
  for (;;) {
    const socket = createConnection({ host: addr, port });
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
      }, HANDSHAKE_TIMEOUT_MS);
      socket.once('connect', () => (clearTimeout(timer), resolve(undefined)));
      socket.once('error', (failure: NodeJS.ErrnoException) => (clearTimeout(timer), resolve(failure)));
    });
    if (error === undefined) return socket;
    socket.destroy();
    if (error.code !== 'ECONNREFUSED' || performance.now() >= deadline)
      throw new CommError(
        'COMM',
        `nothing accepts joins at ${where} (${error.code ?? error.message}): only the job's original rank 0 does (${JOIN_PORT_VARIABLE}, default MASTER_PORT + ${JOIN_PORT_OFFSET}), under a restart policy, while it lives; after it is lost the world only shrinks`,
        { host: where, cause: error },
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * A newcomer: announce itself to the original rank 0 at `addr:port` and wait for its admission.
 * Resolves with its place and where its first generation meets; a CommError says why not (nobody
 * accepts joins there, wrong secret, the run ended, no admission within `timeoutMs`).
 */
export async function announce(
  target: { addr: string; port: number; jobId: string; secret: Buffer },
  timeoutMs = ADMISSION_TIMEOUT_MS,
): Promise<{ place: ElasticPlace; masterAddr: string; masterPort: number; announcedAt: number }> {
  const where = `${target.addr}:${target.port}`;
  const socket = await connect(target.addr, target.port);
  const read = reader(socket);
  try {
    const nonce = randomBytes(16).toString('hex');
    send(socket, { type: 'hello', job: target.jobId, nonce });
    const refused = (message: Message): never => {
      throw new CommError(
        'COMM',
        `the job's rank 0 at ${where} refused this newcomer: ${message.type === 'refused' ? message.reason : message.type}`,
        {
          host: where,
        },
      );
    };
    const challenge = await read(HANDSHAKE_TIMEOUT_MS, `challenge from ${where}`);
    if (challenge.type !== 'challenge') refused(challenge);
    const { nonce: theirs, proof: theirProof } = challenge as Extract<Message, { type: 'challenge' }>;
    if (!sameProof(theirProof, proof(target.secret, 'master', target.jobId, nonce))) {
      send(socket, { type: 'refused', reason: 'wrong job secret' }); // rank 0 says so in its log too
      throw new CommError(
        'COMM',
        `the job's rank 0 at ${where} refused this newcomer: wrong job secret (its secret and this process's SHARDLEARN_SECRET / SHARDLEARN_SECRET_FILE differ)`,
        { host: where, recoverable: false },
      );
    }
    send(socket, { type: 'proof', proof: proof(target.secret, 'newcomer', target.jobId, theirs) });
    const announced = await read(HANDSHAKE_TIMEOUT_MS, `announcement from ${where}`);
    if (announced.type !== 'announced') refused(announced);
    const announcedAt = performance.now();
    process.stderr.write(
      `shardlearn: announced to ${where} as newcomer ${(announced as { id: number }).id}; waiting for the next epoch boundary with room\n`,
    );
    const admitted = await read(timeoutMs, `admission from ${where}`).catch((error: unknown) => {
      throw error instanceof CommError && error.code === 'TIMEOUT'
        ? error
        : new CommError('COMM', `the job's rank 0 at ${where} went away before admitting this newcomer`, { host: where, cause: error });
    });
    if (admitted.type === 'ended')
      throw new CommError('COMM', `the run ended before this newcomer was admitted (no epoch boundary with room, --max-workers)`, {
        host: where,
        recoverable: false,
      });
    if (admitted.type !== 'admitted') refused(admitted);
    const { place, masterAddr, masterPort } = admitted as Extract<Message, { type: 'admitted' }>;
    return { place, masterAddr, masterPort, announcedAt };
  } finally {
    socket.destroy();
  }
}
