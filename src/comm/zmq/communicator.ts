/**
 * The `Communicator` of the `processes` and `cluster` paradigms: ZeroMQ over TCP, CURVE-encrypted,
 * one process per rank. Collectives are the transport-agnostic ones of collectives/link.ts; point-to-point
 * messages carry their arrays as raw frames (zmq/wire.ts).
 *
 * What arrives from the wire is checked before it reaches the model: a NaN or infinite value in a
 * sum all-reduce, a broadcast or a point-to-point payload fails the operation with a CommError naming
 * the sending rank (it diverged or its bytes are corrupt); max and min reductions admit ±∞, their
 * identity elements, and refuse NaN. Ranks that call collectives in different orders are detected by
 * the collective sequence number every collective message carries.
 *
 * @example
 * const comm = await ZmqCommunicator.join({ rank, size, masterAddr: '127.0.0.1', masterPort: 29500, secret, jobId: 'job-1' });
 * await comm.allReduce(gradient, 'sum');
 * await comm.close();
 */
import { CommError } from '../../core/errors.js';
import type { FloatArray } from '../../core/storage.js';
import type { Communicator, CommStats, Message, ReduceOp } from '../communicator.js';
import { emptyStats } from '../communicator.js';
import type { AllReduceAlgorithm, CollectiveLink } from '../collectives/link.js';
import { allReduceWith, allToAllBarrier, directBroadcast } from '../collectives/link.js';
import type { Incoming, ZmqTransportOptions } from './transport.js';
import { ZmqTransport } from './transport.js';
import { firstInvalid } from './wire.js';
import type { LaneOptions, LaneTcp } from './lane.js';
import { FILE_MIN_BYTES, Lane, nameHash } from './lane.js';
import type { LaneBoard } from './lane-board.js';
import { onTmpfs } from './lane-files.js';
import { helloProof } from './local.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_TIMEOUT_MS,
  STRAGGLER_WARNING_MS,
  handshakeTimeoutFor,
  maxMessageBytesFromEnv,
} from './options.js';

export interface ZmqCommunicatorOptions extends ZmqTransportOptions {
  /** All-reduce algorithm; `direct` keeps the rank-order sum (see collectives/link.ts). Default 'direct'. */
  algorithm?: AllReduceAlgorithm;
  /** Largest collective message in bytes (buffers are cut into segments). Default 4 MiB. */
  segmentBytes?: number;
  /**
   * Carry the collectives over the lane (zmq/lane.ts) instead of ZeroMQ: on the local path (`ipcDir`)
   * its Unix stream sockets, default on; between hosts TCP, every record sealed with AES-256-GCM
   * (plain with `insecure`), default off — CURVE stays the default between hosts (HOST_LANE_NOTE) —
   * and never when a launcher advertises a proxy in front of each rank (`advertisePort`), which the
   * lane would bypass. SHARDLEARN_COLLECTIVE_LANE=0 turns it off everywhere, =1 on everywhere. Every
   * rank of a job must agree.
   */
  collectiveLane?: boolean;
  /**
   * With the lane: send its large segments through segment files when the job's folder is on tmpfs
   * (zmq/lane-files.ts). Default false — measured slower than the socket here (see LANE_FILES_NOTE);
   * SHARDLEARN_LANE_FILES=1 turns it on, with the folder on tmpfs (TMPDIR=/dev/shm).
   */
  laneFiles?: boolean;
  /** With segment files: the smallest payload sent through one (default FILE_MIN_BYTES, zmq/lane.ts). */
  laneFileMinBytes?: number;
  /**
   * With the lane on the local path: all-reduces of at most BOARD_MAX_BYTES through the lane's board
   * of polled files when the job's folder is on tmpfs (zmq/lane-board.ts). Default true;
   * SHARDLEARN_LANE_BOARD=0 turns it off. Every rank of a job must agree.
   */
  laneBoard?: boolean;
}

const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;

/**
 * How a world of `size` ranks joined over the local folder `dir` with the default options carries
 * its collectives, by the rules `join` follows (for FitInfo.transport): 'zmq-ipc' (the lane off),
 * 'lane-ipc' (the lane's sockets), 'lane-shm' (the lane, its large segments through files on tmpfs)
 * or 'lane-board' (the lane, its small all-reduces through the board on tmpfs: zmq/lane-board.ts).
 */
export function localTransportName(dir: string, size: number): 'zmq-ipc' | 'lane-ipc' | 'lane-shm' | 'lane-board' {
  if (size < 2 || !laneFromEnv(true)) return 'zmq-ipc';
  if (!onTmpfs(dir)) return 'lane-ipc';
  return laneFilesFromEnv() ? 'lane-shm' : laneBoardFromEnv() ? 'lane-board' : 'lane-ipc';
}

/** SHARDLEARN_LANE_BOARD: 0 off; unset or anything else: on. */
function laneBoardFromEnv(): boolean {
  return process.env['SHARDLEARN_LANE_BOARD'] !== '0';
}

/** SHARDLEARN_COLLECTIVE_LANE: 0 off, 1 on; unset: on for the local path, off between hosts (HOST_LANE_NOTE). */
function laneFromEnv(local: boolean): boolean {
  const value = process.env['SHARDLEARN_COLLECTIVE_LANE'];
  return value === '0' ? false : value === '1' ? true : local;
}

/*
 * HOST_LANE_NOTE — why the sealed lane between hosts is opt-in. Measured with bench/allreduce-hosts.ts
 * (2 ranks in 2 network namespaces on a bridge, gloo interleaved, float32, 2 rounds, machine quiet,
 * warm-up by volume): our bandwidth ÷ gloo's from 64 KiB to 32 MiB, sealed lane 0.52–0.75× (medians of
 * the rounds), CURVE 0.21–0.48×; the plain lane 1.16–2.60×. The lane is faster than CURVE, but CURVE is
 * the default promised for untrusted networks, so the lane is asked for: `collectiveLane`
 * (`--collective-lane`) or SHARDLEARN_COLLECTIVE_LANE=1, on every rank. Its cost is node:crypto's:
 * every record sealed or opened lands in freshly allocated memory, and a first touch of a page costs
 * ~11 µs on these VMs, so a process's first ~64 MB of records run at a tenth of AES speed (every run
 * and the reasons in docs/distributed.md, "Across hosts").
 */

function laneFilesFromEnv(): boolean {
  return process.env['SHARDLEARN_LANE_FILES'] === '1';
}

/*
 * LANE_FILES_NOTE — why segment files are off by default. A Unix socket's buffer holds ~200 KiB, so a
 * multi-MiB segment crosses it in pieces; the files were to skip that bound. Measured on this 2-core
 * machine under load 17–20 (2 processes, lane ping-pong, median round trip): 512 KiB 0.30–0.38 ms over
 * the socket vs 0.44–2.4 ms through files, 4 MiB 1.4–1.5 ms vs 16–20 ms, although one 4 MiB
 * writeSync or readSync alone took 0.9 ms. Both move the bytes with two copies; the socket pipelines
 * them (the receiver copies piece k out while the sender copies piece k+1 in, on the other core),
 * the file serialises a whole segment's copy-in, a wake-up, and its copy-out — and under load each
 * wake-up after a long burst of CPU waits for the scheduler. The lane's sockets now carry every size
 * (they had carried ≤ 1 MiB, larger on ZeroMQ, from a measurement taken before the in-place
 * reduction of collectives/link.ts; see docs/distributed.md for the figures).
 */

export class ZmqCommunicator implements Communicator {
  readonly rank: number;
  readonly size: number;
  readonly stats: CommStats = emptyStats();
  private collectiveSeq = 0;

  private constructor(
    private readonly transport: ZmqTransport,
    private readonly algorithm: AllReduceAlgorithm,
    private readonly segmentBytes: number,
    private readonly lane: Lane | null,
  ) {
    this.rank = transport.rank;
    this.size = transport.size;
  }

  /** Join the world described by `options` (rendezvous through rank 0). */
  static async join(options: ZmqCommunicatorOptions): Promise<ZmqCommunicator> {
    const segmentBytes = Math.min(options.segmentBytes ?? DEFAULT_SEGMENT_BYTES, options.maxMessageBytes ?? Infinity);
    const local = options.ipcDir !== undefined;
    const laneWanted = options.size > 1 && (options.collectiveLane ?? laneFromEnv(local));
    // Between hosts the lane is TCP; not behind a launcher's proxies (the processes paradigm's network profiles), which it would bypass.
    const tcpLane = laneWanted && !local && options.advertisePort === undefined;
    const useLane = laneWanted && local;
    // The lane listens before the ZeroMQ join ends, so once it is done every rank's lane socket exists.
    let gone: (peer: number) => CommError | null = () => null;
    let hostOf: (rank: number) => string = (rank) => `rank ${rank}`;
    const laneFiles = options.laneFiles ?? laneFilesFromEnv();
    const laneOptions = (place: { dir: string } | { tcp: LaneTcp }): LaneOptions => ({
      ...place,
      identity: {
        jobId: options.jobId,
        generation: options.generation ?? 0,
        rank: options.rank,
        size: options.size,
        proof: helloProof(options.secret, options.jobId),
      },
      maxMessageBytes: options.maxMessageBytes ?? maxMessageBytesFromEnv() ?? DEFAULT_MAX_MESSAGE_BYTES,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      handshakeTimeoutMs: handshakeTimeoutFor(options),
      log: options.log ?? ((line: string) => process.stderr.write(`[shardlearn rank ${options.rank}] ${line}\n`)),
      goneError: (peer) => gone(peer),
      hostOf: (rank) => hostOf(rank),
      board: options.laneBoard ?? laneBoardFromEnv(),
      stragglerWarningMs: options.stragglerWarningMs ?? STRAGGLER_WARNING_MS,
      ...(laneFiles ? { fileMinBytes: options.laneFileMinBytes ?? FILE_MIN_BYTES } : {}),
    });
    let lane: Lane | null = useLane ? await Lane.listen(laneOptions({ dir: options.ipcDir! })) : null;
    // Between hosts the lane listens once the router is bound, on its address (a bind failure is then the router's, naming MASTER_ADDR).
    const laneListen = async (host: string): Promise<number> => {
      lane = await Lane.listen(laneOptions({ tcp: { host, secret: options.insecure === true ? null : options.secret } }));
      return lane.port!;
    };
    let transport: ZmqTransport;
    try {
      transport = await ZmqTransport.join(tcpLane ? { ...options, laneListen } : options);
    } catch (error) {
      await lane?.close();
      throw error;
    }
    gone = (peer) => transport.goneError(peer);
    hostOf = (rank) => transport.hostOf(rank);
    try {
      await lane?.connect(options.joinTimeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS, transport.lanePeers() ?? undefined);
    } catch (error) {
      await Promise.all([lane?.close(), transport.close(error instanceof Error ? error.message : String(error))]);
      throw error;
    }
    return new ZmqCommunicator(transport, options.algorithm ?? 'direct', segmentBytes, lane);
  }

  /**
   * The transport the collectives run on: ZeroMQ, the local lane's sockets (zmq/lane.ts), the lane with
   * its segment files (zmq/lane-files.ts), or the lane between hosts over TCP, sealed or plain.
   */
  get collectiveTransport(): 'zmq' | 'lane' | 'lane-files' | 'lane-board' | 'lane-tcp-aesgcm' | 'lane-tcp-plain' {
    if (this.lane === null) return 'zmq';
    if (this.lane.port !== null) return this.lane.sealed ? 'lane-tcp-aesgcm' : 'lane-tcp-plain';
    return this.lane.hasFiles ? 'lane-files' : this.lane.board !== null ? 'lane-board' : 'lane';
  }

  /** The host `rank` runs on (for messages). */
  hostOf(rank: number): string {
    return this.transport.hostOf(rank);
  }

  private checkRank(rank: number, what: string): void {
    if (!(Number.isInteger(rank) && rank >= 0 && rank < this.size)) {
      throw new CommError('COMM', `${what} rank ${rank} does not exist in a world of size ${this.size} (ranks are 0..${this.size - 1})`);
    }
  }

  private checkPayload(from: number, arrays: FloatArray[], allowInfinity: boolean, what: string): void {
    for (const array of arrays) {
      const bad = firstInvalid(array, allowInfinity);
      if (bad !== null) {
        throw new CommError(
          'COMM',
          `${what}: rank ${from} (${this.hostOf(from)}) sent ${bad.value} at element ${bad.index}; non-finite values from the wire never reach the model (its training diverged, or the bytes were corrupted)`,
          { rank: from, host: this.hostOf(from) },
        );
      }
    }
  }

  /**
   * The link one collective runs on: its messages carry its sequence number, and what arrives is
   * checked by the collective as it reduces or copies it (collectives/reduce.ts), against `check`.
   */
  private link(name: string, allowInfinity: boolean): CollectiveLink {
    const seq = this.collectiveSeq++;
    const what = `${name} (collective #${seq})`;
    const lane = this.lane;
    const collective = { seq, name: this.nameHashOf(name) };
    return {
      rank: this.rank,
      size: this.size,
      check: { allowInfinity },
      refused: (from, value, index) => this.refusedValue(what, from, value, index),
      ...(lane === null
        ? {}
        : {
            release: (array: FloatArray) => lane.release(array),
            sendResolvesAfterRead: true,
            recvInto: async (from: number, into: FloatArray) => {
              const frame = await lane.recv(from, what, this.hostOfRank, { seq, name: collective.name, array: into });
              this.stats.bytesReceived += frame.bytes;
              if (frame.seq !== seq || frame.name !== collective.name) throw this.outOfStep(from, frame.seq, what);
              return frame.array ?? undefined;
            },
          }),
      send: (to, arrays) => {
        if (lane === null) return this.sendOverZmq(to, name, seq, arrays);
        if (arrays.length > 1) return Promise.reject(new RangeError('a lane frame carries at most one array'));
        // Not an async function: a step's all-reduce is a few tens of µs, and each promise hop shows.
        return lane.send(to, collective, arrays[0] ?? null).then(this.countSent);
      },
      recv: async (from) => {
        if (lane !== null) {
          const frame = await lane.recv(from, what, this.hostOfRank);
          this.stats.bytesReceived += frame.bytes;
          if (frame.seq !== seq || frame.name !== collective.name) throw this.outOfStep(from, frame.seq, what);
          return frame.array === null ? [] : [frame.array];
        }
        const message: Incoming = await this.transport.take('coll', from, what);
        this.stats.bytesReceived += message.bytes;
        if (message.envelope.c !== seq || message.envelope.tag !== name) {
          throw new CommError(
            'COMM',
            `rank ${from} is in ${message.envelope.tag ?? '?'} (collective #${message.envelope.c ?? '?'}) while this rank is in ${what}: every rank must call the same collectives in the same order`,
            { rank: from },
          );
        }
        return message.arrays;
      },
    };
  }

  /** A small all-reduce through the lane's board (zmq/lane-board.ts): every rank posts its buffer, reads the others' posts. */
  private boardAllReduce(board: LaneBoard, name: string, buffer: FloatArray, op: ReduceOp): Promise<void> {
    const seq = this.collectiveSeq++;
    const bytes = buffer.byteLength * (this.size - 1);
    this.stats.bytesSent += bytes;
    this.stats.bytesReceived += bytes;
    return board.allReduce(buffer, op, { seq, name: this.nameHashOf(name) }, { allowInfinity: op !== 'sum' }, (from, value, index) =>
      this.refusedValue(`${name} (collective #${seq})`, from, value, index),
    );
  }

  /** The error when `from` sent `value` at `index` of collective `what`, refused by its check. */
  private refusedValue(what: string, from: number, value: number, index: number): CommError {
    return new CommError(
      'COMM',
      `${what}: rank ${from} (${this.hostOf(from)}) sent ${value} at element ${index}; non-finite values from the wire never reach the model (its training diverged, or the bytes were corrupted)`,
      { rank: from, host: this.hostOf(from) },
    );
  }

  /** The error when `from`'s lane frame belongs to collective #`seq`, not to `what`. */
  private outOfStep(from: number, seq: number, what: string): CommError {
    return new CommError(
      'COMM',
      `rank ${from} is in another collective (#${seq}) while this rank is in ${what}: every rank must call the same collectives in the same order`,
      { rank: from },
    );
  }

  /** A collective's message over ZeroMQ (the lane is off). */
  private async sendOverZmq(to: number, name: string, seq: number, arrays: FloatArray[]): Promise<void> {
    const bytes = await this.transport.send(to, 'coll', { tag: name, c: seq }, arrays);
    this.stats.bytesSent += bytes; // after the await: `+= await` would read the count before it
  }

  /** `hostOf`, as one function for every lane receive. */
  private readonly hostOfRank = (rank: number): string => this.hostOf(rank);

  /** Adds a lane send's bytes to the stats (one function for every send: no closure per send). */
  private readonly countSent = (bytes: number): void => {
    this.stats.bytesSent += bytes;
  };

  /** The collectives' names hashed once each (lane frames carry the hash; see lane-frame.ts). */
  private readonly nameHashes = new Map<string, number>();

  private nameHashOf(name: string): number {
    let hash = this.nameHashes.get(name);
    if (hash === undefined) {
      hash = nameHash(name);
      this.nameHashes.set(name, hash);
    }
    return hash;
  }

  private segmentElements(buffer: FloatArray): number {
    return Math.max(1, Math.floor(this.segmentBytes / buffer.BYTES_PER_ELEMENT));
  }

  private async timed<T>(body: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await body();
    } finally {
      this.stats.commMs += performance.now() - started;
    }
  }

  async allReduce(buffer: FloatArray, op: ReduceOp = 'sum'): Promise<void> {
    // `timed` inlined: the all-reduce of every SGD step, where each promise and closure shows.
    const started = performance.now();
    try {
      this.stats.collectives++;
      const name = op === 'sum' ? 'allReduce(sum)' : `allReduce(${op})`;
      const board = this.lane?.board ?? null;
      if (board !== null && board.fits(buffer)) await this.boardAllReduce(board, name, buffer, op);
      else await allReduceWith(this.link(name, op !== 'sum'), buffer, op, this.algorithm, this.segmentElements(buffer));
    } finally {
      this.stats.commMs += performance.now() - started;
    }
  }

  broadcast(buffer: FloatArray, root: number): Promise<void> {
    return this.timed(async () => {
      this.checkRank(root, 'broadcast root');
      this.stats.collectives++;
      await directBroadcast(this.link(`broadcast(root ${root})`, false), buffer, root, this.segmentElements(buffer));
    });
  }

  barrier(): Promise<void> {
    return this.timed(() => allToAllBarrier(this.link('barrier', false)));
  }

  send(to: number, message: Message): Promise<void> {
    return this.timed(async () => {
      this.checkRank(to, 'send to');
      if (to === this.rank) throw new CommError('COMM', `send to rank ${to}: a rank cannot send to itself`);
      // Copies: the caller may reuse its arrays as soon as send resolves.
      const arrays = (message.arrays ?? []).map((array) => array.slice());
      const byteFrames = (message.bytes ?? []).map((frame) => frame.slice());
      const bytes = await this.transport.send(
        to,
        'user',
        { tag: message.tag, ...(message.header === undefined ? {} : { h: message.header }) },
        arrays,
        byteFrames,
      );
      this.stats.bytesSent += bytes;
      this.stats.messagesSent++;
    });
  }

  recv(from?: number): Promise<Message & { from: number }> {
    return this.timed(async () => {
      if (from !== undefined) this.checkRank(from, 'recv from');
      const incoming = await this.transport.take('user', from, from === undefined ? 'recv from any rank' : `recv from rank ${from}`);
      this.stats.bytesReceived += incoming.bytes;
      this.stats.messagesReceived++;
      this.checkPayload(incoming.from, incoming.arrays, false, `message '${incoming.envelope.tag ?? ''}'`);
      const message: Message & { from: number } = { from: incoming.from, tag: incoming.envelope.tag ?? '', arrays: incoming.arrays };
      if (incoming.envelope.h !== undefined) message.header = incoming.envelope.h;
      if (incoming.byteFrames.length > 0) message.bytes = incoming.byteFrames;
      return message;
    });
  }

  /**
   * Why this world cannot be kept for another job of the same ranks (see `renew`), or null when it
   * can: a world on the local path, joined, every peer here, nothing unread on ZeroMQ or the lane.
   */
  idleProblem(): string | null {
    return this.transport.idleProblem() ?? this.lane?.idleProblem() ?? null;
  }

  /**
   * Serve the next job of the same ranks with this kept world (zmq/renewal.ts): every rank proves the
   * next job's secret and they agree. Null when renewed (the statistics start again from zero), else
   * why not — then close this world and join a fresh one. Each wait is bounded by `timeoutMs`.
   */
  async renew(next: { jobId: string; secret: Uint8Array }, timeoutMs: number): Promise<string | null> {
    const problem = await this.transport.renew(next, timeoutMs, this.lane?.idleProblem() ?? null);
    if (problem === null) Object.assign(this.stats, emptyStats());
    return problem;
  }

  /** Fail every wait on `rank` now (the runtime calls this when it learns a rank died). */
  markLost(rank: number, reason: string): void {
    this.transport.markLost(rank, reason);
    this.lane?.markLost(rank, reason);
  }

  /** Every peer found lost so far (its connection dropped without a goodbye), lowest first. */
  lostRanks(): number[] {
    return this.transport.lostRanks();
  }

  /** Give up on this world: every wait and send fails with `error` from now on (see ZmqTransport.abort). */
  abort(error: Error): void {
    this.transport.abort(error);
    this.lane?.abort(error);
  }

  /**
   * Leave the world: say goodbye to every peer and close. `error`: why this rank leaves early, passed
   * on to the peers; `waitMs`: longest wait for the peers' goodbyes (default 3 s).
   */
  async close(error?: string, waitMs?: number): Promise<void> {
    // Both at once: ZeroMQ's goodbyes (sent first) tell the peers why this rank leaves, and a peer
    // blocked on this rank's lane learns it at once instead of after the transport's close wait.
    await Promise.all([this.transport.close(error, waitMs), this.lane?.close()]);
  }
}
