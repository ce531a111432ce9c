/**
 * The ZeroMQ point-to-point transport between the ranks of one job (TCP, CURVE-encrypted; or, when
 * every rank is on this host, the local path: ipc:// sockets in a 0700 folder, NULL mechanism, see
 * zmq/local.ts).
 *
 * Topology: every rank binds one ROUTER socket (rank 0's at MASTER_ADDR:MASTER_PORT) and connects
 * one DEALER to every other rank's ROUTER; a message from i to j goes out on i's dealer to j and in
 * on j's router. ZeroMQ gives framing, reconnection and back-pressure; libzmq's I/O thread sends
 * ZMTP heartbeats, so a silent or dead peer is noticed even while JavaScript is busy computing.
 *
 * Rendezvous (the torchrun convention): rank r > 0 sends rank 0 a `hello` { job, generation, rank,
 * size, endpoint }; when all size − 1 have arrived, rank 0 answers each with a `welcome` listing
 * every rank's endpoint, and every rank connects to every other, opening each connection with the
 * same `hello`. A router accepts traffic only from connections whose hello matched its job id,
 * generation, world size and protocol version; any other is refused with the reason, logged, and
 * its messages dropped — a stale or replayed peer never reaches the run.
 *
 * Failure: every wait has a timeout naming the rank and host waited for; a peer whose connection
 * drops without a `bye` (killed, crashed, unplugged) fails every wait on it at once with PEER_LOST.
 * A `bye` carries how many messages its sender sent and the error it stopped on, if any, so a wait on
 * a peer that left says exactly why it can never be met (zmq/departures.ts).
 *
 * This file holds the sockets and the transport's life: joining, sending, taking, closing. Around it:
 * where a rank listens and its join timeout (zmq/join.ts), the hello handshake and rank 0's
 * rendezvous (zmq/hello.ts), everything that arrives (zmq/receive.ts), which peers are lost
 * (zmq/peer-loss.ts), the options and their defaults (zmq/options.ts).
 */
import { randomBytes } from 'node:crypto';
import * as zmq from 'zeromq';
import { CommError } from '../../core/errors.js';
import type { FloatArray } from '../../core/storage.js';
import type { Envelope, WireKind } from './wire.js';
import { PROTOCOL_VERSION, encodeMessage, wireBytes } from './wire.js';
import type { CurveKeys } from './security.js';
import { checkSecret, deriveCurveKeys, startZapHandler, zapDomainFor } from './security.js';
import type { Channel, Incoming } from './mailbox.js';
import { Mailbox } from './mailbox.js';
import { Departures } from './departures.js';
import type { HelloIdentity } from './hello.js';
import { Rendezvous, helloFields } from './hello.js';
import { PeerLoss } from './peer-loss.js';
import { Receiver } from './receive.js';
import { LOCAL_HOST, joinTimeoutError, listen, masterEndpoint } from './join.js';
import { helloProof } from './local.js';
import type { RenewalIdentity } from './renewal.js';
import { renewalFields, renewalProblem } from './renewal.js';
import { warnWhileWaiting } from './straggler.js';
import type { ZmqTransportOptions } from './options.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_TIMEOUT_MS,
  HEARTBEAT_INTERVAL_MS,
  STRAGGLER_WARNING_MS,
  handshakeTimeoutFor,
  maxMessageBytesFromEnv,
} from './options.js';

export type { Incoming } from './mailbox.js';
export type { ZmqTransportOptions } from './options.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './options.js';

/** Longest a closing rank waits for its peers' goodbyes. */
const CLOSE_WAIT_MS = 3000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ZmqTransport {
  readonly rank: number;
  readonly size: number;
  readonly timeoutMs: number;
  readonly maxMessageBytes: number;
  private readonly router: zmq.Router;
  private readonly dealers: (zmq.Dealer | null)[];
  private readonly sendChains: Promise<unknown>[];
  private readonly hosts: string[];
  private readonly departures: Departures;
  private readonly mailbox: Mailbox;
  private readonly peerLoss: PeerLoss;
  private readonly receiver: Receiver;
  private closed = false;
  private closing = false;
  /** Set by `abort`: every wait and send fails with it from then on. */
  private aborted: Error | null = null;
  private closeZap: () => void = () => undefined;
  /** This transport's own ZeroMQ context: its sockets and its ZAP handler (zmq/security.ts) live in it. */
  private readonly context = new zmq.Context();
  /** Rank 0, while joining: the other ranks' endpoints gathered so far. */
  private rendezvous: Rendezvous | null = null;
  /** Rank > 0, while joining: where rank 0's welcome goes. */
  private welcomeReceived: ((endpoints: string[]) => void) | null = null;
  /** With a collective lane between hosts (options.laneListen): this rank's lane port, and every rank's once joined. */
  private lanePort: number | undefined;
  private lanes: number[] | null = null;
  /** While joining: fails the join. */
  private fatal: ((error: Error) => void) | null = null;

  private constructor(
    private readonly options: ZmqTransportOptions,
    private readonly log: (line: string) => void,
  ) {
    this.rank = options.rank;
    this.size = options.size;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxMessageBytes = options.maxMessageBytes ?? maxMessageBytesFromEnv() ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.local = options.ipcDir !== undefined;
    this.plain = this.local || options.insecure === true;
    // Without CURVE no key is used: only the secret's length is checked (deriving the keys took ~1.3 ms of a warm start-up).
    if (this.plain) checkSecret(options.secret);
    const keys = this.plain ? null : deriveCurveKeys(options.secret, options.jobId);
    this.keys = keys;
    this.jobId = options.jobId;
    this.proof = this.plain ? helloProof(options.secret, options.jobId) : undefined;
    this.router = new zmq.Router({
      context: this.context,
      // The local path: NULL mechanism; the 0700 folder and the hello's proof authenticate (zmq/local.ts).
      // Insecure TCP (asked for by name): NULL mechanism, the hello's proof the only check.
      ...(this.plain ? {} : { curveServer: true, curveSecretKey: keys!.serverSecretKey, zapDomain: zapDomainFor(options.jobId) }),
      maxMessageSize: this.maxMessageBytes,
      handshakeInterval: handshakeTimeoutFor(options),
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      heartbeatTimeout: options.peerTimeoutMs ?? 10_000,
      linger: 0,
    });
    this.dealers = new Array<zmq.Dealer | null>(this.size).fill(null);
    this.sendChains = new Array<Promise<unknown>>(this.size).fill(Promise.resolve());
    this.hosts = new Array<string>(this.size).fill('unknown host');
    this.departures = new Departures(this.size);
    this.mailbox = new Mailbox(this.size);
    const hostOf = (rank: number): string => this.hostOf(rank);
    const failJoin = (error: Error): void => this.fatal?.(error);
    const isClosed = (): boolean => this.closed;
    const { mailbox, departures } = this;
    this.peerLoss = new PeerLoss({
      size: this.size,
      mailbox,
      departures,
      log,
      hostOf,
      failJoin,
      isClosed,
      isClosing: () => this.closing,
      onLost: options.onPeerLost,
    });
    this.receiver = new Receiver({
      router: this.router,
      mailbox,
      departures,
      peerLoss: this.peerLoss,
      identity: () => this.identity,
      log,
      hostOf,
      failJoin,
      isClosed,
      rendezvous: () => this.rendezvous,
      awaitingWelcome: () => this.welcomeReceived !== null,
      hasLane: options.laneListen !== undefined,
      welcome: (endpoints, lanes) => {
        this.lanes = lanes;
        const resolve = this.welcomeReceived;
        this.welcomeReceived = null;
        resolve?.(endpoints);
      },
    });
  }

  private readonly keys: CurveKeys | null;
  /** On the local path (ipc:// in a 0700 folder, NULL mechanism; zmq/local.ts): true. */
  private readonly local: boolean;
  /** No CURVE: the local path, or insecure TCP asked for by name (options.insecure). */
  private readonly plain: boolean;
  /** The job this world serves: the one it joined for, or the last it was renewed for (zmq/renewal.ts). */
  private jobId: string;
  /** Without CURVE: the proof of the job secret in every hello (the renewed job's, once renewed). */
  private proof: string | undefined;

  /**
   * Join the world: bind, rendezvous through rank 0, connect to every peer. Resolves when this rank
   * knows every peer's endpoint; rejects with a CommError saying who did not answer or why this rank
   * was refused.
   */
  static async join(options: ZmqTransportOptions): Promise<ZmqTransport> {
    const { rank, size } = options;
    if (!(Number.isInteger(size) && size >= 1 && Number.isInteger(rank) && rank >= 0 && rank < size)) {
      throw new CommError('COMM', `rank ${rank} of world size ${size} is not a valid rank (expected 0 ≤ rank < size)`);
    }
    const log = options.log ?? ((line: string) => process.stderr.write(`[shardlearn rank ${rank}] ${line}\n`));
    const transport = new ZmqTransport(options, log);
    try {
      await transport.start();
    } catch (error) {
      await transport.close();
      throw error;
    }
    return transport;
  }

  /** The host a rank runs on (from its endpoint), for error messages. */
  hostOf(rank: number): string {
    return this.hosts[rank] ?? 'unknown host';
  }

  private async start(): Promise<void> {
    const { rank, size, masterAddr } = this.options;
    if (!this.plain)
      this.closeZap = await startZapHandler(this.context, zapDomainFor(this.options.jobId), this.keys!.clientPublicKey, this.log);
    void this.peerLoss.watch(this.router.events, null);
    const { host, endpoint } = await listen(this.router, this.options, this.log);
    this.hosts[rank] = host;
    if (this.options.laneListen !== undefined) {
      const bound = this.router.lastEndpoint!;
      this.lanePort = await this.options.laneListen(bound.slice('tcp://'.length, bound.lastIndexOf(':')).replace(/^\[|\]$/g, ''));
    }
    void this.receiver.routerLoop();
    if (size === 1) return;

    const joinTimeoutMs = this.options.joinTimeoutMs ?? this.timeoutMs;
    const failure = new Promise<never>((_, reject) => {
      this.fatal = reject;
    });
    failure.catch(() => undefined); // only awaited while joining
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            joinTimeoutError(this.options, {
              timeoutMs: joinTimeoutMs,
              missing: this.rendezvous?.missing() ?? [],
              boundEndpoint: this.router.lastEndpoint,
            }),
          ),
        joinTimeoutMs,
      );
    });
    try {
      if (rank === 0) {
        this.rendezvous = new Rendezvous(size, endpoint, this.options.ipcDir, this.lanePort);
        const endpoints = await Promise.race([this.rendezvous.done, failure, timeout]);
        this.lanes = this.rendezvous.lanePorts();
        this.rendezvous = null;
        for (let peer = 1; peer < size; peer++) this.connect(peer, endpoints[peer]!);
      } else {
        this.hosts[0] = this.local ? LOCAL_HOST : masterAddr;
        this.connect(0, masterEndpoint(this.options), endpoint);
        const endpoints = await Promise.race([this.awaitWelcome(), failure, timeout]);
        for (let peer = 1; peer < size; peer++) if (peer !== rank) this.connect(peer, endpoints[peer]!);
      }
    } finally {
      clearTimeout(timer);
      this.fatal = null;
    }
  }

  /**
   * Where every peer's collective lane listens between hosts (index = rank; null for this rank): the
   * host its endpoint names and the lane port it advertised in the join. Null without lanes.
   */
  lanePeers(): ({ host: string; port: number } | null)[] | null {
    const lanes = this.lanes;
    if (lanes === null) return null;
    return lanes.map((port, rank) => (rank === this.rank ? null : { host: this.hosts[rank]!, port }));
  }

  private get identity(): HelloIdentity {
    return {
      jobId: this.jobId,
      generation: this.options.generation ?? 0,
      rank: this.rank,
      size: this.size,
      ...(this.proof === undefined ? {} : { proof: this.proof }),
    };
  }

  /** Open the dealer to `peer` and say hello on it (the first message on every connection). */
  private connect(peer: number, endpoint: string, ownEndpoint?: string): void {
    const dealer = new zmq.Dealer({
      context: this.context,
      routingId: `${this.rank}.${randomBytes(6).toString('hex')}`,
      ...(this.plain
        ? {}
        : {
            curveServerKey: this.keys!.serverPublicKey,
            curvePublicKey: this.keys!.clientPublicKey,
            curveSecretKey: this.keys!.clientSecretKey,
          }),
      maxMessageSize: this.maxMessageBytes,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      heartbeatTimeout: this.options.peerTimeoutMs ?? 10_000,
      sendTimeout: this.timeoutMs,
      linger: 2000,
      // On the local path the ranks start together (runtime/processes.ts), so a rank may dial a peer's
      // socket path before the peer binds it: retry after 2 ms, doubling to 100 ms, not ZeroMQ's 100 ms.
      ...(this.local ? { reconnectInterval: 2, reconnectMaxInterval: 100 } : {}),
    });
    this.dealers[peer] = dealer;
    const host = this.local ? LOCAL_HOST : endpoint.slice('tcp://'.length, endpoint.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    this.hosts[peer] = host;
    dealer.connect(endpoint);
    void this.peerLoss.watch(dealer.events, peer);
    void this.receiver.replyLoop(dealer, peer);
    const lane = ownEndpoint === undefined ? undefined : this.lanePort;
    void this.sendFrames(peer, encodeMessage({ v: PROTOCOL_VERSION, k: 'hello', h: helloFields(this.identity, ownEndpoint, lane) })).catch(
      () => undefined,
    );
  }

  private awaitWelcome(): Promise<string[]> {
    return new Promise((resolve) => {
      this.welcomeReceived = resolve;
    });
  }

  /** Why `peer` can no longer send to this rank (its bye, or its loss), as the error a wait on it fails with; null while it is here. */
  goneError(peer: number): CommError | null {
    const reason = this.peerLoss.reason(peer) ?? this.departures.goneReason(peer);
    return reason === null ? null : this.peerLoss.goneError(peer, reason);
  }

  /** Fail every wait on `peer` (and every any-source wait) with PEER_LOST; later waits on it fail at once. */
  markLost(peer: number, reason: string): void {
    this.peerLoss.markLost(peer, reason);
  }

  /** Every peer found lost so far, lowest first. */
  lostRanks(): number[] {
    return this.peerLoss.lostRanks();
  }

  /**
   * Give up on this world: every wait fails now with `error`, and every later wait and send too. The
   * elastic runtime calls it when a peer is lost, so a rank blocked on a live peer (which is itself
   * leaving to re-form) does not wait out its timeout. Close the transport afterwards.
   */
  abort(error: Error): void {
    this.aborted ??= error;
    this.mailbox.rejectWhere(
      () => true,
      () => error,
    );
  }

  /**
   * The next message on `channel` from `from` (any peer when undefined). Rejects with TIMEOUT after
   * `timeoutMs` (the transport's by default) naming the rank waited for, or PEER_LOST when that rank
   * is gone. A collective's wait on one peer that lasts `stragglerWarningMs` logs a warning naming that peer.
   */
  take(channel: Channel, from: number | undefined, what: string, timeoutMs = this.timeoutMs): Promise<Incoming> {
    if (this.aborted !== null) return Promise.reject(this.aborted);
    const queued = this.mailbox.takeQueued(channel, from);
    if (queued !== null) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new CommError('COMM', `${what}: the communicator is closed`));
    if (from !== undefined) {
      const lost = this.peerLoss.reason(from);
      if (lost !== null) return Promise.reject(this.peerLoss.goneError(from, lost));
      const gone = this.departures.goneReason(from);
      if (gone !== null) return Promise.reject(this.peerLoss.goneError(from, gone));
    } else {
      const lost = this.peerLoss.firstLost();
      if (lost >= 0) return Promise.reject(this.peerLoss.goneError(lost, this.peerLoss.reason(lost)!));
    }
    const waiting = this.mailbox.wait(channel, from, timeoutMs, () =>
      from === undefined
        ? new CommError(
            'TIMEOUT',
            `${what}: no message from any rank within ${timeoutMs} ms (raise timeoutMs if a step legitimately takes longer)`,
          )
        : new CommError(
            'TIMEOUT',
            `${what}: no message from rank ${from} (${this.hostOf(from)}) within ${timeoutMs} ms; it is stuck, much slower, or not taking part (raise timeoutMs if a step legitimately takes longer)`,
            { rank: from, host: this.hostOf(from) },
          ),
    );
    if (channel !== 'coll' || from === undefined) return waiting;
    return warnWhileWaiting(waiting, {
      warnMs: this.options.stragglerWarningMs ?? STRAGGLER_WARNING_MS,
      timeoutMs: this.timeoutMs,
      log: (line) => this.log(line),
      what,
      rank: from,
      host: this.hostOf(from),
    });
  }

  /**
   * Why this joined world cannot be kept for another job (zmq/renewal.ts), or null: it is closed or
   * aborted, a peer is lost or has said goodbye, or a message waits unread or a reader waits.
   */
  idleProblem(): string | null {
    if (!this.local) return 'only a world on the local path is kept';
    if (this.closed || this.closing) return 'it is closed';
    if (this.aborted !== null) return `it was aborted (${this.aborted.message})`;
    for (let peer = 0; peer < this.size; peer++) {
      if (peer === this.rank) continue;
      const gone = this.peerLoss.reason(peer) ?? this.departures.goneReason(peer);
      if (gone !== null) return `rank ${peer} is gone (${gone})`;
    }
    if (this.mailbox.busy('user') || this.mailbox.busy('coll')) return 'a message of the last job waits unread';
    return null;
  }

  /**
   * Take this kept world over for the next job of the same ranks (zmq/renewal.ts): prove `next`'s
   * secret to every peer, check theirs and that nothing of the last job waits unread, then agree.
   * Resolves null when every rank renewed (hellos must then prove the new job), else why this world
   * cannot serve the job: every rank then closes it and joins a fresh world. Each wait is bounded by
   * `timeoutMs`. `ownProblem`: why this rank cannot go on with it (its lane's state), said in the vote.
   */
  async renew(next: { jobId: string; secret: Uint8Array }, timeoutMs: number, ownProblem: string | null = null): Promise<string | null> {
    const idle = this.idleProblem();
    if (idle !== null) return idle;
    checkSecret(next.secret);
    const own: RenewalIdentity = { jobId: next.jobId, proof: helloProof(next.secret, next.jobId) };
    const peers = Array.from({ length: this.size }, (_, rank) => rank).filter((rank) => rank !== this.rank);
    const exchange = async (round: 1 | 2, ok?: boolean): Promise<(string | null)[]> => {
      const frames = encodeMessage({ v: PROTOCOL_VERSION, k: 'renew', h: renewalFields(own, round, ok) });
      await Promise.all(peers.map((peer) => this.sendFrames(peer, frames)));
      return Promise.all(
        peers.map(async (peer) => {
          const message = await this.take('renew', peer, `the renewal of the kept world (round ${round})`, timeoutMs);
          const problem = renewalProblem(own, round, message.envelope.h);
          if (problem !== null) return `rank ${peer}: ${problem}`;
          return round === 2 && message.envelope.h?.['ok'] !== true ? `rank ${peer} cannot renew it` : null;
        }),
      );
    };
    try {
      const proofs = await exchange(1);
      const problem = proofs.find((found) => found !== null) ?? this.idleProblem() ?? ownProblem;
      const verdicts = await exchange(2, problem === null);
      const refusal = problem ?? verdicts.find((found) => found !== null) ?? null;
      if (refusal !== null) return refusal;
    } catch (error) {
      return (error as Error).message;
    }
    this.jobId = own.jobId;
    this.proof = own.proof;
    return null;
  }

  /** Why a message to `to` cannot be queued (no connection, the peer is lost, a frame is too large), or null. */
  private sendRefusal(to: number, frames: readonly Buffer[], closing = false): Error | null {
    if (this.aborted !== null && !closing) return this.aborted;
    if (this.dealers[to] === null || this.dealers[to] === undefined)
      return new CommError('COMM', `no connection to rank ${to}`, { rank: to });
    const lost = this.peerLoss.reason(to);
    if (lost !== null) return this.peerLoss.goneError(to, lost);
    for (const frame of frames) {
      if (frame.byteLength > this.maxMessageBytes) {
        return new CommError(
          'COMM',
          `a frame of ${frame.byteLength} bytes exceeds the maximum message size of ${this.maxMessageBytes} bytes; send smaller pieces or raise SHARDLEARN_MAX_MESSAGE_BYTES on every rank`,
        );
      }
    }
    return null;
  }

  /** Queue `frames` to `to` (one send at a time per socket, as ZeroMQ requires). Returns the bytes sent. */
  sendFrames(to: number, frames: Buffer[], closing = false): Promise<number> {
    const refusal = this.sendRefusal(to, frames, closing);
    return refusal !== null ? Promise.reject(refusal) : this.enqueue(to, frames);
  }

  private enqueue(to: number, frames: Buffer[]): Promise<number> {
    const dealer = this.dealers[to]!;
    const sent = this.sendChains[to]!.catch(() => undefined).then(() => dealer.send(frames));
    this.sendChains[to] = sent;
    return sent.then(
      () => wireBytes(frames),
      (error: unknown) => {
        const reason = this.peerLoss.reason(to);
        throw reason !== null
          ? this.peerLoss.goneError(to, reason)
          : new CommError(
              'TIMEOUT',
              `sending to rank ${to} (${this.hostOf(to)}) did not complete within ${this.timeoutMs} ms: ${(error as Error).message}`,
              { rank: to, host: this.hostOf(to), cause: error },
            );
      },
    );
  }

  /** Send a data message of `kind` with `arrays` and `bytes` as raw frames (counted for the bye, see zmq/departures.ts). */
  send(
    to: number,
    kind: WireKind,
    envelope: Omit<Envelope, 'v' | 'k' | 'd' | 'b'>,
    arrays: readonly FloatArray[],
    bytes: readonly Uint8Array[] = [],
  ): Promise<number> {
    const frames = encodeMessage({ v: PROTOCOL_VERSION, k: kind, ...envelope }, arrays, bytes);
    const refusal = this.sendRefusal(to, frames);
    if (refusal !== null) return Promise.reject(refusal);
    this.departures.countSent(to);
    return this.enqueue(to, frames);
  }

  /**
   * Say goodbye to every peer, then close the sockets. Idempotent. `error`: this rank leaves because
   * it failed; the peers' errors then say so instead of "it finished and left". `waitMs`: longest
   * wait for the peers' goodbyes (default CLOSE_WAIT_MS).
   */
  async close(error?: string, waitMs = CLOSE_WAIT_MS): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    const byes = this.dealers.map((dealer, peer) =>
      dealer === null || this.peerLoss.reason(peer) !== null
        ? Promise.resolve()
        : this.sendFrames(peer, encodeMessage({ v: PROTOCOL_VERSION, k: 'bye', h: this.departures.byeFields(peer, error) }), true).catch(
            () => undefined,
          ),
    );
    // Wait (bounded) for every peer's bye too: a bye is the last message on its connection, so once
    // all have arrived nothing is in flight toward this rank and its sockets can close cleanly.
    const deadline = performance.now() + waitMs;
    await Promise.race([Promise.all(byes), sleep(waitMs)]);
    const waiting = (peer: number): boolean =>
      peer !== this.rank && !this.departures.settled(peer) && this.peerLoss.reason(peer) === null && this.dealers[peer] !== null;
    while (performance.now() < deadline && this.dealers.some((_, peer) => waiting(peer))) await sleep(10);
    this.closed = true;
    this.mailbox.rejectWhere(
      () => true,
      () => new CommError('COMM', 'the communicator was closed while waiting'),
    );
    this.dealers.forEach((dealer, peer) => {
      if (dealer === null) return;
      // Flush queued messages to live peers; to a lost one nothing can arrive, and lingering would retry its handshake.
      if (this.peerLoss.reason(peer) !== null) dealer.linger = 0;
      dealer.close();
    });
    this.router.close();
    this.closeZap();
  }
}
