/**
 * The collective lane of the local path: plain Unix stream sockets (node:net) between the ranks of
 * one host, in the job's 0700 folder beside the ZeroMQ sockets (zmq/local.ts), carrying only the
 * collectives' segments. Point-to-point messages, rendezvous, goodbyes and peer loss stay on ZeroMQ.
 *
 * Between hosts (`tcp` instead of `dir`) the same lane runs over TCP on the address the rank's router
 * bound, its port advertised in the ZeroMQ join; each connection then adds a key handshake to the
 * hello and every frame travels as AES-256-GCM records (zmq/lane-sealed.ts, zmq/lane-seal.ts), or
 * plain with --insecure-transport only. The hook is in `accept`, `open` and `sendNow`.
 *
 * Why a second socket: over ZeroMQ every message crosses two extra threads (libzmq's I/O thread on
 * each side) and is copied out of libzmq's buffer; on the shared 2-core machine those hand-offs,
 * not the bytes, were the cost. Here the sender's own thread writes the socket and the receiver's
 * event loop reads each payload straight into the typed array it will hand to the collective (`onread`
 * with a buffer per read). Measured before building it (/tmp prototype, 2 processes, load ≈ 20):
 * an exchange of 4 KiB took 17 µs median against 150–200 µs over ZeroMQ ipc and gloo's 97 µs.
 *
 * A receive may give the memory to read its payload into (`recv`'s `into`: the collectives give the
 * WASM kernels' staging area, collectives/reduce.ts `stage`, so a segment is reduced where it landed).
 *
 * Authentication is the local path's: the socket is in the job's 0700 folder, and every connection
 * opens with the same hello as ZeroMQ's (job id, generation, world size, rank, proof of the job
 * secret; zmq/hello.ts), refused with a logged reason when it does not match — a stale generation,
 * a wrong secret, a duplicate rank. A connection that sends anything but a valid hello within the
 * handshake timeout, or more than MAX_HELLO_BYTES, is dropped; after the hello an accepted connection
 * may only be written to (the acceptor never reads data from it again: anything it sends is
 * garbage and closes it). A frame announcing more than `maxMessageBytes` closes the connection
 * before anything is allocated, and its peer is lost.
 *
 * Topology: rank r listens on lane-r.sock and connects to every other rank's; it writes to a peer on
 * the connection that peer opened, and reads from a peer on the connection it opened (Node supports
 * reading into caller-supplied memory on connections it opens, not on accepted ones).
 *
 * Frame (little-endian): u32 magic, u8 dtype (0 none, 1 f32, 2 f64), u8 kind, u8 slot, 1 byte 0,
 * u32 payload bytes, u32 collective name hash, f64 collective sequence; then the payload
 * (zmq/lane-frame.ts).
 *
 * Opt-in (`fileMinBytes`; slower than the socket on this machine, see zmq/communicator.ts's
 * LANE_FILES_NOTE): large segments skip the socket when the job's folder is on tmpfs; the sender
 * writes them into a segment file and sends a notice, the receiver reads the file straight into its
 * array and acknowledges (zmq/lane-files.ts, which says why and what is checked). The notice, the
 * acknowledgement and the order of frames ride the socket, so a pair's frames stay in FIFO order
 * whichever way their payloads travel.
 *
 * @example
 * const lane = await Lane.listen({ dir, identity, maxMessageBytes, timeoutMs, handshakeTimeoutMs, log });
 * // … after every rank listens (the ZeroMQ join) …
 * await lane.connect(joinTimeoutMs);
 * await lane.send(1, { seq: 7, name: nameHash('allReduce(sum)') }, segment);
 * const frame = await lane.recv(1, 'allReduce(sum) (collective #7)');
 */
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { NetworkError } from '../../core/errors.js';
import { join } from 'node:path';
import { CommError } from '../../core/errors.js';
import type { FloatArray } from '../../core/storage.js';
import type { HelloIdentity } from './hello.js';
import { helloFields, helloProblem } from './hello.js';
import { MAX_LOGGED_DROPS } from './options.js';
import type { LaneFrame, ReaderFiles } from './lane-frame.js';
import { ADMITTED, HEADER_BYTES, Reader, encodeAck, encodeHeader, encodeHeaderInto } from './lane-frame.js';
import { LaneFiles, segmentId } from './lane-files.js';
import { LaneBoard } from './lane-board.js';
import type { ByteSink } from './lane-sealed.js';
import { ANSWER_BYTES, SealedReader, SealedWriter, acceptorHandshake, handshakeNonce, helloNonce } from './lane-sealed.js';

import { stragglerLine } from './straggler.js';
import type { TimedWait } from './deadlines.js';
import { Deadlines } from './deadlines.js';

export type { LaneFrame } from './lane-frame.js';
export { nameHash } from './lane-frame.js';

/** Longest hello (its JSON), in bytes. */
export const MAX_HELLO_BYTES = 4096;
/**
 * The receive pool's bounds: arrays kept per dtype and length, distinct lengths, smallest array worth
 * keeping — every size: a small array is cheap to keep, and a fresh one per frame (an ArrayBuffer to
 * allocate, register and sweep) is a visible share of a per-step all-reduce of a few hundred bytes.
 */
const POOL_ARRAYS_PER_SIZE = 8;
const POOL_SIZES = 16;
const POOL_MIN_BYTES = 0;
/**
 * Largest payload copied behind its header and written as one buffer (sendCopied): above it the
 * payload goes out as a view beside its header (a corked writev), as the copy would cost more than
 * the second piece. Covers the per-step gradients of compare's SGD models (3–4 KiB).
 */
const COPY_MAX_BYTES = 16 * 1024;
/** Longest a rank waits, after a peer's lane closed, for ZeroMQ to say why (its bye). */
const EXPLAIN_WAIT_MS = 1000;
/** Longest a closing lane waits for its peers to close their ends. */
const CLOSE_WAIT_MS = 1000;

/** The socket path of rank `rank`'s lane in the job's local folder. */
export function lanePath(dir: string, rank: number): string {
  return join(dir, `lane-${rank}.sock`);
}

/**
 * The lane between hosts: TCP on `host` (the address the rank's ZeroMQ router binds), each record
 * sealed with AES-256-GCM under keys from `secret` (zmq/lane-sealed.ts), or plain when `secret` is
 * null (`--insecure-transport` only).
 */
export interface LaneTcp {
  host: string;
  secret: Uint8Array | null;
}

/** Where a peer's lane listens over TCP: its host as the ZeroMQ join knows it, the port it advertised there. */
export interface LanePeerAddress {
  host: string;
  port: number;
}

export interface LaneOptions {
  /** On one host: the job's local folder (0700, checked by the ZeroMQ transport before it binds). */
  dir?: string;
  /** Between hosts (instead of `dir`): TCP, sealed unless insecure. */
  tcp?: LaneTcp;
  /** This rank's hello; `proof` is required. */
  identity: HelloIdentity;
  maxMessageBytes: number;
  timeoutMs: number;
  handshakeTimeoutMs: number;
  log: (line: string) => void;
  /** Why `peer` can no longer send, when the ZeroMQ transport knows (its bye, or its loss); else null. */
  goneError?: (peer: number) => CommError | null;
  /**
   * A wait on one peer that lasts this long logs a warning naming it (the transport's straggler
   * warning, for the collectives the lane carries); 0 or ≥ timeoutMs turns it off.
   */
  stragglerWarningMs?: number;
  /**
   * Send payloads of at least this many bytes through the page-cache channel (zmq/lane-files.ts)
   * when the folder is on tmpfs (ZmqCommunicator's default when on: FILE_MIN_BYTES). Absent or
   * Infinity: the channel is off. Each sender decides for itself: a receiver takes either.
   */
  fileMinBytes?: number;
  /**
   * Small all-reduces through the board (zmq/lane-board.ts) when the folder is on tmpfs; default
   * true. False: every collective on the sockets.
   */
  board?: boolean;
  /** The host a rank runs on, for messages (default: its rank). */
  hostOf?: (rank: number) => string;
}

/**
 * Smallest payload sent through a segment file rather than the socket, when the channel is on: below
 * it a payload fits the socket's buffer in one go, and the file's extra system calls and
 * acknowledgement cannot pay.
 */
export const FILE_MIN_BYTES = 64 * 1024;

/**
 * Where a receive wants its frame's payload (`Lane.recv`'s `into`): read into `array` when the frame
 * is of collective `seq` named `name`, has the array's dtype and length, and its header arrives while
 * the receive waits; else into a pool array. The lane stops writing `array` when the receive fails
 * (mid-payload, by closing that connection: see settleUnread), so its owner may reuse it at once.
 */
export interface LaneInto {
  seq: number;
  name: number;
  array: FloatArray;
}

/** A wait for `from`'s next frame; its timeout and straggler warning are kept by the lane's Deadlines. */
interface Waiter extends TimedWait {
  resolve: (frame: LaneFrame) => void;
  reject: (error: Error) => void;
  from: number;
  /** The collective waiting (for messages only: built when one is needed). */
  what: string | (() => string);
  hostOf: (rank: number) => string;
  into?: LaneInto;
  /** Its frame's header arrived and the payload is being read into `into.array`. */
  reading?: boolean;
}

function whatOf(waiter: Waiter): string {
  return typeof waiter.what === 'string' ? waiter.what : waiter.what();
}

export class Lane {
  private readonly size: number;
  private readonly rank: number;
  /** Connections peers opened to this rank, admitted by their hello: where this rank writes to them. */
  private readonly writers: (Socket | null)[];
  /** Connections this rank opened: where it reads from each peer. */
  private readonly readers: (Socket | null)[];
  private readonly queues: LaneFrame[][];
  private readonly waiters: Waiter[][];
  private readonly lost: (string | null)[];
  private readonly admittedOut: boolean[];
  private readonly drops = new Map<Socket, number>();
  /** Payload arrays given back by the collectives, by dtype and length (see takeArray). */
  private readonly pool = new Map<string, FloatArray[]>();
  private closing = false;
  /** Set by `abort`: every wait and send fails with it from then on. */
  private aborted: Error | null = null;
  private progress: () => void = () => undefined;
  private failure: ((error: Error) => void) | null = null;
  /** Per peer: the buffer small frames are copied into when nothing is queued on its socket (sendCopied). */
  private readonly scratch: (Buffer | undefined)[];
  /** The last send to each peer still waiting its turn (for a free slot), or null: later sends go after it. */
  private readonly sendTails: (Promise<number> | null)[];
  private readonly fileMinBytes: number;
  /** Over sealed TCP: what writes each peer's frames as sealed records (zmq/lane-sealed.ts). */
  private readonly sealers: (SealedWriter | null)[];
  /** Every wait's timeout and straggler warning, on one timer (zmq/deadlines.ts). */
  private readonly deadlines: Deadlines<Waiter>;

  private constructor(
    private readonly options: LaneOptions,
    private readonly server: Server,
    private readonly files: LaneFiles | null,
    /** Small all-reduces' polled files (zmq/lane-board.ts), or null: off, or not on tmpfs. */
    readonly board: LaneBoard | null,
  ) {
    this.size = options.identity.size;
    this.rank = options.identity.rank;
    this.writers = new Array<Socket | null>(this.size).fill(null);
    this.readers = new Array<Socket | null>(this.size).fill(null);
    this.queues = Array.from({ length: this.size }, () => []);
    this.waiters = Array.from({ length: this.size }, () => []);
    this.lost = new Array<string | null>(this.size).fill(null);
    this.admittedOut = new Array<boolean>(this.size).fill(false);
    this.sendTails = new Array<Promise<number> | null>(this.size).fill(null);
    this.scratch = new Array<Buffer | undefined>(this.size).fill(undefined);
    this.fileMinBytes = files === null ? Infinity : options.fileMinBytes!;
    this.sealers = new Array<SealedWriter | null>(this.size).fill(null);
    this.deadlines = new Deadlines<Waiter>({
      timeoutMs: options.timeoutMs,
      warnMs: options.stragglerWarningMs ?? 0,
      timedOut: (waiter) => this.timedOut(waiter),
      warn: (waiter, waitedMs) =>
        options.log(
          stragglerLine(
            { what: whatOf(waiter), rank: waiter.from, host: waiter.hostOf(waiter.from), timeoutMs: options.timeoutMs },
            waitedMs,
          ),
        ),
    });
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listen on this rank's lane socket (before the ZeroMQ join, so every peer's exists once the join is done). */
  static async listen(options: LaneOptions): Promise<Lane> {
    if (options.identity.proof === undefined) throw new CommError('COMM', 'the collective lane needs the hello proof of the local path');
    if ((options.dir === undefined) === (options.tcp === undefined)) throw new RangeError('a lane listens either in a folder or on TCP');
    const { identity, tcp } = options;
    const files =
      tcp !== undefined || options.fileMinBytes === undefined || options.fileMinBytes === Infinity
        ? null
        : LaneFiles.create({
            dir: options.dir!,
            id: segmentId(identity.proof!),
            generation: identity.generation,
            rank: identity.rank,
            size: identity.size,
          });
    const made: { lane?: Lane } = {}; // the board asks the lane about its peers once it exists
    let board: LaneBoard | null = null;
    try {
      board =
        tcp !== undefined || options.board === false
          ? null
          : LaneBoard.create({
              dir: options.dir!,
              id: segmentId(identity.proof!),
              generation: identity.generation,
              rank: identity.rank,
              size: identity.size,
              timeoutMs: options.timeoutMs,
              warnMs: options.stragglerWarningMs ?? 0,
              log: options.log,
              hostOf: (rank) => options.hostOf?.(rank) ?? `rank ${rank}`,
              problem: (peer) => made.lane?.problemOf(peer) ?? null,
            });
    } catch (error) {
      files?.close();
      throw error;
    }
    const server = createServer({ allowHalfOpen: false });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        const done = (): void => {
          server.off('error', reject);
          resolve();
        };
        if (tcp === undefined) server.listen(lanePath(options.dir!, identity.rank), done);
        else server.listen({ host: tcp.host, port: 0 }, done);
      });
    } catch (error) {
      files?.close();
      board?.close();
      if (tcp === undefined) throw error;
      const osCode = (error as NodeJS.ErrnoException).code;
      throw new NetworkError(`rank ${identity.rank} cannot listen for its collective lane on ${tcp.host}: ${(error as Error).message}`, {
        host: tcp.host,
        ...(osCode === undefined ? {} : { osCode }),
        cause: error,
      });
    }
    made.lane = new Lane(options, server, files, board);
    return made.lane;
  }

  /** Why this lane cannot serve another job of a kept world (zmq/renewal.ts): aborted, closed, a peer lost, a frame unread or a reader waiting; or null. */
  idleProblem(): string | null {
    if (this.aborted !== null) return `its lane was aborted (${this.aborted.message})`;
    if (this.closing) return 'its lane is closed';
    for (let peer = 0; peer < this.size; peer++) {
      if (this.lost[peer] !== null) return `the lane of rank ${peer} is lost (${this.lost[peer]})`;
      if (this.queues[peer]!.length > 0 || this.waiters[peer]!.length > 0) return `a lane frame of rank ${peer} waits unread`;
    }
    return null;
  }

  /** Why nothing more can come from `peer` (this world aborted, the peer lost or gone), or null. */
  problemOf(peer: number): Error | null {
    if (this.aborted !== null) return this.aborted;
    if (this.closing) return new CommError('COMM', 'the communicator was closed while waiting');
    if (this.lost[peer] !== null) return this.goneError(peer);
    return this.options.goneError?.(peer) ?? null;
  }

  /** Over TCP: the port this rank's lane listens on (advertised in the ZeroMQ join); else null. */
  get port(): number | null {
    const address = this.server.address();
    return this.options.tcp === undefined || address === null || typeof address === 'string' ? null : address.port;
  }

  /** Whether the frames are sealed records (TCP between hosts without --insecure-transport). */
  get sealed(): boolean {
    return (this.options.tcp?.secret ?? null) !== null;
  }

  /** Whether large segments travel through segment files (the folder is on tmpfs and the channel is on). */
  get hasFiles(): boolean {
    return this.files !== null;
  }

  private logDrop(socket: Socket, reason: string): void {
    const count = (this.drops.get(socket) ?? 0) + 1;
    this.drops.set(socket, count);
    if (count <= MAX_LOGGED_DROPS) this.options.log(`dropped a lane connection: ${reason}`);
    socket.destroy();
  }

  /**
   * A peer's connection: admit it by its hello (a u32 length, then the hello's JSON), else drop it with
   * the reason. Over sealed TCP the hello is followed by the key handshake (zmq/lane-sealed.ts): the
   * challenge, the peer's key confirmation, then admission.
   */
  private accept(socket: Socket): void {
    let received = Buffer.alloc(0);
    let peer = -1;
    /** Over sealed TCP, between the hello and the peer's key confirmation: the rank it claims and the handshake. */
    let pending: { claimed: number; handshake: ReturnType<typeof acceptorHandshake> } | null = null;
    const timer = setTimeout(
      () => this.logDrop(socket, `no valid hello within ${this.options.handshakeTimeoutMs} ms`),
      this.options.handshakeTimeoutMs,
    );
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      this.drops.delete(socket);
      if (peer >= 0 && this.writers[peer] === socket) {
        this.writers[peer] = null;
        this.sealers[peer] = null;
      }
    });
    socket.on('data', (chunk: Buffer) => {
      if (peer >= 0) {
        this.options.log(`rank ${peer} wrote on a lane connection this rank only writes to; closed it`);
        this.writers[peer] = null;
        socket.destroy();
        return;
      }
      received = Buffer.concat([received, chunk]);
      if (pending !== null) {
        if (received.byteLength < ANSWER_BYTES) return;
        if (received.byteLength > ANSWER_BYTES) return this.logDrop(socket, 'bytes after the key confirmation before it was admitted');
        if (!pending.handshake.answered(received)) {
          this.options.log(
            `refused a lane connection claiming rank ${pending.claimed}: its key confirmation failed (it does not hold this job's secret, or it replayed another connection's hello)`,
          );
          socket.destroy();
          return;
        }
        clearTimeout(timer);
        peer = this.admit(socket, pending.claimed, new SealedWriter(socket, pending.handshake.sendKey));
        return;
      }
      if (received.byteLength < 4) return;
      const length = received.readUInt32LE(0);
      if (length > MAX_HELLO_BYTES) return this.logDrop(socket, `a hello of ${length} bytes announced (at most ${MAX_HELLO_BYTES})`);
      if (received.byteLength < 4 + length) return;
      if (received.byteLength > 4 + length) return this.logDrop(socket, 'bytes after the hello before it was admitted');
      let fields: unknown;
      try {
        fields = JSON.parse(received.subarray(4).toString('utf8'));
      } catch {
        return this.logDrop(socket, 'a hello that is not JSON (not a shardlearn rank, or corrupted)');
      }
      const record =
        typeof fields === 'object' && fields !== null && !Array.isArray(fields) ? (fields as Record<string, unknown>) : undefined;
      const joined = this.writers.map((writer, rank) => (writer === null ? -1 : rank)).filter((rank) => rank >= 0);
      const problem = helloProblem(this.options.identity, record, joined);
      if (problem !== null) {
        this.options.log(`refused a lane connection claiming rank ${JSON.stringify(record?.['rank'])}: ${problem}`);
        socket.destroy();
        return;
      }
      const claimed = record!['rank'] as number;
      const secret = this.options.tcp?.secret ?? null;
      if (secret !== null) {
        const nonce = helloNonce(record!['nonce']);
        if (nonce === null) {
          this.options.log(
            `refused a lane connection claiming rank ${claimed}: its hello has no handshake nonce (this lane seals its records; every rank must agree on --insecure-transport)`,
          );
          socket.destroy();
          return;
        }
        const { jobId, generation, rank } = this.options.identity;
        pending = {
          claimed,
          handshake: acceptorHandshake(secret, { jobId, generation, connector: claimed, acceptor: rank, connectorNonce: nonce }),
        };
        received = Buffer.alloc(0);
        socket.write(pending.handshake.challenge);
        return;
      }
      clearTimeout(timer);
      peer = this.admit(socket, claimed, null);
    });
  }

  /** Take `socket` as where this rank writes to `peer` (its hello, and over sealed TCP its key confirmation, passed); -1 when a duplicate got there first. */
  private admit(socket: Socket, peer: number, sealer: SealedWriter | null): number {
    if (this.writers[peer] !== null) {
      this.options.log(`refused a lane connection claiming rank ${peer}: rank ${peer} has already joined (a duplicate or replayed peer)`);
      socket.destroy();
      return -1;
    }
    this.writers[peer] = socket;
    this.sealers[peer] = sealer;
    socket.setNoDelay(true);
    if (sealer === null) socket.write(Buffer.of(ADMITTED));
    else sealer.write([Buffer.of(ADMITTED)], () => undefined);
    this.progress();
    return peer;
  }

  /**
   * Open this rank's connection to every peer and wait until every connection both ways is admitted.
   * Over TCP `peers` says where each listens (index = rank; this rank's own entry is unused).
   */
  async connect(timeoutMs: number, peers?: readonly (LanePeerAddress | null)[]): Promise<void> {
    if (this.options.tcp !== undefined && peers === undefined) throw new RangeError('a lane over TCP connects to its peers’ addresses');
    for (let peer = 0; peer < this.size; peer++) if (peer !== this.rank) this.open(peer, peers?.[peer] ?? null);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.failure = reject;
        const check = (): void => {
          if (this.missing().length === 0) resolve();
        };
        this.progress = check;
        timer = setTimeout(
          () =>
            reject(
              new CommError(
                'TIMEOUT',
                `the collective lane to rank(s) ${this.missing().join(', ')} did not open within ${timeoutMs} ms (a rank of another job or generation, or one that stopped)`,
              ),
            ),
          timeoutMs,
        );
        check();
      });
    } finally {
      clearTimeout(timer);
      this.progress = () => undefined;
      this.failure = null;
    }
  }

  private missing(): number[] {
    const out: number[] = [];
    for (let peer = 0; peer < this.size; peer++) {
      if (peer !== this.rank && (this.writers[peer] === null || !this.admittedOut[peer])) out.push(peer);
    }
    return out;
  }

  private open(peer: number, address: LanePeerAddress | null): void {
    const reader = new Reader(
      this.options.maxMessageBytes,
      () => {
        this.admittedOut[peer] = true;
        this.progress();
      },
      (frame) => this.deliver(peer, frame),
      (reason) => {
        this.markLost(peer, `it sent a malformed lane frame (${reason})`);
        socket.destroy();
      },
      (dtype, length, seq, name) => this.payloadArray(peer, dtype, length, seq, name),
      this.files === null ? null : this.readerFiles(peer),
    );
    const secret = this.options.tcp?.secret ?? null;
    const nonce = secret === null ? null : handshakeNonce();
    const { jobId, generation } = this.options.identity;
    const sealed =
      nonce === null
        ? null
        : new SealedReader({
            secret: secret!,
            context: { jobId, generation, connector: this.rank, acceptor: peer, connectorNonce: nonce },
            inner: reader,
            answer: (bytes) => socket.write(bytes),
            refused: (reason) => {
              this.markLost(peer, `its collective lane was refused: ${reason}`);
              socket.destroy();
            },
          });
    const sink: ByteSink = sealed ?? reader;
    const onread = {
      buffer: () => sink.buffer(),
      callback: (bytes: number) => {
        sink.read(bytes);
        return true;
      },
    };
    const socket =
      address === null
        ? connect({ path: lanePath(this.options.dir!, peer), onread })
        : connect({ host: address.host, port: address.port, onread });
    this.readers[peer] = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      const fields = { ...helloFields(this.options.identity), ...(nonce === null ? {} : { nonce: nonce.toString('hex') }) };
      const hello = Buffer.from(JSON.stringify(fields), 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(hello.byteLength);
      socket.write(Buffer.concat([length, hello]));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.closing) return;
      if (!this.admittedOut[peer]) {
        const why = this.lost[peer] ?? 'see its log';
        this.failure?.(new CommError('COMM', `rank ${peer} refused this rank's collective lane (${why})`, { rank: peer }));
      }
      if (sealed !== null && sealed.partial > 0)
        this.markLost(peer, `its collective lane ended inside a sealed record (${sealed.partial} bytes of it: a truncated stream)`);
      this.closedByPeer(peer);
    });
  }

  /** The page-cache channel as `peer`'s reader sees it: a notice read is acknowledged at once. */
  private readerFiles(peer: number): ReaderFiles {
    const files = this.files!;
    return {
      read: (slot, into) => {
        const refused = files.receive(peer, slot, into);
        if (refused === null) this.writers[peer]?.write(encodeAck(slot));
        return refused;
      },
      acknowledged: (slot) => files.acknowledged(peer, slot),
    };
  }

  /**
   * `peer` closed its lane. It says why on ZeroMQ (its bye, sent as it closes, may arrive just after
   * the lane's end of stream): wait up to EXPLAIN_WAIT_MS for the transport to know, so the waits on
   * it fail with the peer's own reason ("it stopped on an error and left (…)") rather than this one.
   */
  private closedByPeer(peer: number): void {
    const deadline = Date.now() + EXPLAIN_WAIT_MS;
    const settle = (): void => {
      if (this.closing || this.lost[peer] !== null) return;
      if (this.options.goneError?.(peer) === null && Date.now() < deadline) {
        setTimeout(settle, 10).unref();
        return;
      }
      this.markLost(peer, 'its collective lane closed');
    };
    settle();
  }

  /**
   * A payload array from the pool, else a new one. Fresh arrays cost page faults and zeroing: 150–200 µs
   * for 512 KiB on this machine under load, as much as the reduction, so segments are received into
   * arrays the collectives gave back (`release`) when one of that dtype and length is free.
   */
  private takeArray(dtype: 1 | 2, length: number): FloatArray {
    const free = this.pool.get(`${dtype}:${length}`);
    const reused = free?.pop();
    if (reused !== undefined) return reused;
    return dtype === 1 ? new Float32Array(length) : new Float64Array(length);
  }

  /**
   * Where the next frame's payload from `peer` is read to: the waiting receive's `into` when the
   * header fits it (see LaneInto), else a pool array.
   */
  private payloadArray(peer: number, dtype: 1 | 2, length: number, seq: number, name: number): FloatArray {
    const waiter = this.waiters[peer]![0];
    const into = waiter?.into;
    if (
      into !== undefined &&
      into.seq === seq &&
      into.name === name &&
      into.array.length === length &&
      (into.array instanceof Float32Array ? dtype === 1 : dtype === 2)
    ) {
      waiter!.reading = true;
      return into.array;
    }
    return this.takeArray(dtype, length);
  }

  /** Give back a payload array the collective no longer reads, to receive a later segment into. */
  release(array: FloatArray): void {
    const key = `${array instanceof Float32Array ? 1 : 2}:${array.length}`;
    const free = this.pool.get(key) ?? [];
    if (free.length >= POOL_ARRAYS_PER_SIZE || array.byteLength < POOL_MIN_BYTES) return;
    free.push(array);
    this.pool.set(key, free);
    if (this.pool.size > POOL_SIZES) this.pool.delete(this.pool.keys().next().value!);
  }

  private deliver(peer: number, frame: LaneFrame): void {
    const waiter = this.waiters[peer]!.shift();
    if (waiter === undefined) {
      this.queues[peer]!.push(frame);
      return;
    }
    this.deadlines.remove(waiter);
    waiter.resolve(frame);
  }

  private goneError(peer: number): CommError {
    return (
      this.options.goneError?.(peer) ??
      new CommError('PEER_LOST', `rank ${peer} can no longer send to this rank: ${this.lost[peer] ?? 'it left'}`, { rank: peer })
    );
  }

  /**
   * `waiter`, on `peer`, fails before its frame is complete. When that frame's payload is being read
   * into its `into`, whose owner may reuse the memory as soon as the receive fails, the connection is
   * closed and the peer lost: the socket already holds that memory for its next read, and only
   * closing it (synchronously, in libuv) guarantees no later read lands there.
   */
  private settleUnread(peer: number, waiter: Waiter): void {
    this.deadlines.remove(waiter);
    if (waiter.reading !== true) return;
    this.readers[peer]?.destroy();
    this.markLost(peer, 'a receive from it failed in the middle of a frame, and its connection was closed');
  }

  /** Fail every wait on `peer` now, and every later one. */
  markLost(peer: number, reason: string): void {
    if (this.lost[peer] !== null) return;
    this.lost[peer] = reason;
    this.files?.failWaiters(peer, (p) => this.goneError(p));
    if (this.queues[peer]!.length > 0) return; // frames that arrived first are still read; the waits after them fail
    for (const waiter of this.waiters[peer]!.splice(0)) {
      this.settleUnread(peer, waiter);
      waiter.reject(this.goneError(peer));
    }
  }

  /**
   * Give up on this world (the elastic runtime re-forming it, see ZmqTransport.abort): every wait
   * fails now with `error`, and every later wait and send too.
   */
  abort(error: Error): void {
    this.aborted ??= error;
    this.files?.failWaiters(null, () => error);
    for (let peer = 0; peer < this.size; peer++) {
      for (const waiter of this.waiters[peer]!.splice(0)) {
        this.settleUnread(peer, waiter);
        waiter.reject(error);
      }
    }
  }

  /**
   * Send `array` (or nothing) to `to` as one frame: through a segment file when it is large and the
   * channel is on, else on the socket. Resolves once the kernel has the bytes: `array` may then change.
   * Frames to one peer leave in call order, also when a send waits for a free slot.
   */
  send(to: number, collective: { seq: number; name: number }, array: FloatArray | null): Promise<number> {
    const refused = this.sendProblem(to, array);
    if (refused !== null) return Promise.reject(refused);
    const inFile = array !== null && array.byteLength >= this.fileMinBytes;
    const tail = this.sendTails[to];
    if (tail === null && !(inFile && this.files!.full(to))) {
      return this.sendNow(to, collective, array, inFile);
    }
    const turn = (tail ?? Promise.resolve(0))
      .catch(() => 0)
      .then(async () => {
        // Aborted or lost while this send waited its turn: the slot waiters were failed before it came.
        const waited = this.sendProblem(to, array);
        if (waited !== null) throw waited;
        if (inFile) await this.files!.freeSlot(to, this.options.timeoutMs);
        const problem = this.sendProblem(to, array);
        if (problem !== null) throw problem;
        return this.sendNow(to, collective, array, inFile);
      });
    this.sendTails[to] = turn;
    const clear = (): void => {
      if (this.sendTails[to] === turn) this.sendTails[to] = null;
    };
    turn.then(clear, clear);
    return turn;
  }

  /** Why a frame cannot be sent to `to` now, or null. */
  private sendProblem(to: number, array: FloatArray | null): Error | null {
    if (this.aborted !== null) return this.aborted;
    const writer = this.writers[to];
    if (writer === null || writer === undefined || writer.destroyed || this.lost[to] !== null) return this.goneError(to);
    const payloadBytes = array === null ? 0 : array.byteLength;
    if (payloadBytes > this.options.maxMessageBytes) {
      return new CommError(
        'COMM',
        `a frame of ${payloadBytes} bytes exceeds the maximum message size of ${this.options.maxMessageBytes} bytes; send smaller pieces or raise SHARDLEARN_MAX_MESSAGE_BYTES on every rank`,
      );
    }
    return null;
  }

  /** Write the frame now (the caller checked `sendProblem`, and that a slot is free when `inFile`). */
  private sendNow(to: number, collective: { seq: number; name: number }, array: FloatArray | null, inFile: boolean): Promise<number> {
    const writer = this.writers[to]!;
    const payloadBytes = array === null ? 0 : array.byteLength;
    const sealer = this.sealers[to] ?? null;
    // Small frames go as one copied buffer on a plain socket; over sealed TCP every frame goes through its sealer.
    if (!inFile && sealer === null && payloadBytes <= COPY_MAX_BYTES) return this.sendCopied(writer, to, collective, array, payloadBytes);
    let header: Buffer;
    if (inFile) {
      let slot: number;
      try {
        slot = this.files!.send(to, new Uint8Array(array!.buffer, array!.byteOffset, payloadBytes));
      } catch (error) {
        return Promise.reject(
          new CommError('COMM', `writing a segment file for rank ${to} failed: ${(error as Error).message}`, { rank: to, cause: error }),
        );
      }
      header = encodeHeader(array, collective, { slot });
    } else {
      header = encodeHeader(array, collective);
    }
    return new Promise((resolve, reject) => {
      const done = (error?: Error | null): void => {
        if (error === undefined || error === null) resolve(header.byteLength + payloadBytes);
        else reject(this.sendFailed(to, error));
      };
      if (sealer !== null) {
        sealer.write(
          inFile || array === null || payloadBytes === 0
            ? [header]
            : [header, new Uint8Array(array.buffer, array.byteOffset, payloadBytes)],
          done,
        );
        return;
      }
      if (inFile || array === null || payloadBytes === 0) {
        writer.write(header, done);
        return;
      }
      writer.cork();
      writer.write(header);
      writer.write(new Uint8Array(array.buffer, array.byteOffset, payloadBytes), done);
      writer.uncork();
    });
  }

  /**
   * A small frame (≤ COPY_MAX_BYTES of payload, every per-step gradient of compare's SGD cells): the
   * payload copied behind its header, and the two written as one buffer — one write through the
   * socket's stream instead of a corked pair (a writev, and a buffered request per piece). The copy
   * goes into this peer's scratch buffer when nothing is queued on the socket (every earlier frame
   * has left, so libuv holds none of the scratch), else into a fresh buffer.
   */
  private sendCopied(
    writer: Socket,
    to: number,
    collective: { seq: number; name: number },
    array: FloatArray | null,
    payloadBytes: number,
  ): Promise<number> {
    const frameBytes = HEADER_BYTES + payloadBytes;
    let frame: Buffer;
    if (writer.writableLength === 0) {
      frame = this.scratch[to] ??= Buffer.allocUnsafeSlow(HEADER_BYTES + COPY_MAX_BYTES);
    } else {
      frame = Buffer.allocUnsafe(frameBytes);
    }
    encodeHeaderInto(frame, array, collective);
    if (array !== null) frame.set(new Uint8Array(array.buffer, array.byteOffset, payloadBytes), HEADER_BYTES);
    return new Promise((resolve, reject) => {
      writer.write(frame.subarray(0, frameBytes), (error?: Error | null) => {
        if (error === undefined || error === null) resolve(frameBytes);
        else reject(this.sendFailed(to, error));
      });
    });
  }

  /** The error of a write to `to` that failed: the peer's own reason when it is known lost. */
  private sendFailed(to: number, error: Error): CommError {
    return this.lost[to] !== null
      ? this.goneError(to)
      : new CommError('PEER_LOST', `sending to rank ${to} failed: ${error.message}`, { rank: to, cause: error });
  }

  /**
   * The next frame from `from`; TIMEOUT after `timeoutMs` naming it, PEER_LOST when it is gone. `what`:
   * the collective waiting, for the messages (a function: built only when one is needed). `into`: the
   * memory its payload is read into when it fits (see LaneInto; the frame's `array` says where it
   * landed: a frame already queued, or that does not fit, comes in a pool array).
   */
  recv(from: number, what: string | (() => string), hostOf: (rank: number) => string, into?: LaneInto): Promise<LaneFrame> {
    if (this.aborted !== null) return Promise.reject(this.aborted);
    const queued = this.queues[from]!.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.lost[from] !== null) return Promise.reject(this.goneError(from));
    return new Promise<LaneFrame>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        from,
        what,
        hostOf,
        startedMs: performance.now(),
        warned: false,
        ...(into === undefined ? {} : { into }),
      };
      this.waiters[from]!.push(waiter);
      this.deadlines.add(waiter);
    });
  }

  /** `waiter` waited `timeoutMs` (zmq/deadlines.ts has stopped watching it). */
  private timedOut(waiter: Waiter): void {
    const { from } = waiter;
    const waiting = this.waiters[from]!;
    const at = waiting.indexOf(waiter);
    if (at >= 0) waiting.splice(at, 1);
    this.settleUnread(from, waiter);
    const host = waiter.hostOf(from);
    waiter.reject(
      new CommError(
        'TIMEOUT',
        `${whatOf(waiter)}: no message from rank ${from} (${host}) within ${this.options.timeoutMs} ms; it is stuck, much slower, or not taking part (raise timeoutMs if a step legitimately takes longer)`,
        { rank: from, host },
      ),
    );
  }

  /** Close every connection (writes already queued are flushed first) and the listening socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.files?.failWaiters(null, () => new CommError('COMM', 'the communicator was closed while waiting'));
    for (let peer = 0; peer < this.size; peer++) {
      for (const waiter of this.waiters[peer]!.splice(0)) {
        this.settleUnread(peer, waiter);
        waiter.reject(new CommError('COMM', 'the communicator was closed while waiting'));
      }
    }
    this.deadlines.clear();
    for (const writer of this.writers) writer?.end();
    for (const reader of this.readers) reader?.destroy();
    // The peers close their ends when they see ours end; one that does not (hung) is cut after CLOSE_WAIT_MS.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.server.close(() => resolve())),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    for (const writer of this.writers) writer?.destroy();
    this.files?.close();
    this.board?.close();
  }
}
