/**
 * The ZeroMQ point-to-point transport between the ranks of one job (TCP, CURVE-encrypted).
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
 * a peer that left says exactly why it can never be met (zmq-departures.ts). The hello handshake and
 * rank 0's rendezvous are in zmq-hello.ts, the options and their defaults in zmq-options.ts.
 */
import { lookup } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import * as zmq from 'zeromq';
import { CommError } from '../core/errors.js';
import type { FloatArray } from '../core/storage.js';
import type { Envelope, WireKind } from './zmq-wire.js';
import { PROTOCOL_VERSION, WireError, decodeMessage, encodeMessage, wireBytes } from './zmq-wire.js';
import { deriveCurveKeys, startZapHandler, zapDomainFor } from './zmq-security.js';
import type { Channel, Incoming, Waiter } from './zmq-mailbox.js';
import { Mailbox } from './zmq-mailbox.js';
import { Departures } from './zmq-departures.js';
import type { HelloIdentity } from './zmq-hello.js';
import { Rendezvous, helloFields, helloProblem, welcomeEndpoints } from './zmq-hello.js';
import type { ZmqTransportOptions } from './zmq-options.js';
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, MAX_LOGGED_DROPS, defaultHost, maxMessageBytesFromEnv } from './zmq-options.js';

export type { Incoming } from './zmq-mailbox.js';
export type { ZmqTransportOptions } from './zmq-options.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './zmq-options.js';

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
  private routerChain: Promise<unknown> = Promise.resolve();
  private readonly peerOf = new Map<string, number>();
  private readonly drops = new Map<string, number>();
  private readonly hosts: string[];
  private readonly lostReason: (string | null)[];
  private readonly departures: Departures;
  private readonly handshaken: boolean[];
  private handshakeFailures = 0;
  private readonly mailbox: Mailbox;
  private closed = false;
  private closing = false;
  private closeZap: () => void = () => undefined;
  /** This transport's own ZeroMQ context: its sockets and its ZAP handler (zmq-security.ts) live in it. */
  private readonly context = new zmq.Context();
  /** Rank 0, while joining: the other ranks' endpoints gathered so far. */
  private rendezvous: Rendezvous | null = null;
  private fatal: ((error: Error) => void) | null = null;

  private constructor(
    private readonly options: ZmqTransportOptions,
    private readonly log: (line: string) => void,
  ) {
    this.rank = options.rank;
    this.size = options.size;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxMessageBytes = options.maxMessageBytes ?? maxMessageBytesFromEnv() ?? DEFAULT_MAX_MESSAGE_BYTES;
    const keys = deriveCurveKeys(options.secret, options.jobId);
    this.keys = keys;
    this.router = new zmq.Router({
      context: this.context,
      curveServer: true,
      curveSecretKey: keys.serverSecretKey,
      zapDomain: zapDomainFor(options.jobId),
      maxMessageSize: this.maxMessageBytes,
      handshakeInterval: options.handshakeTimeoutMs ?? 10_000,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      heartbeatTimeout: options.peerTimeoutMs ?? 10_000,
      linger: 0,
    });
    this.dealers = new Array<zmq.Dealer | null>(this.size).fill(null);
    this.sendChains = new Array<Promise<unknown>>(this.size).fill(Promise.resolve());
    this.hosts = new Array<string>(this.size).fill('unknown host');
    this.lostReason = new Array<string | null>(this.size).fill(null);
    this.departures = new Departures(this.size);
    this.handshaken = new Array<boolean>(this.size).fill(false);
    this.mailbox = new Mailbox(this.size);
  }

  private readonly keys: ReturnType<typeof deriveCurveKeys>;

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
    const { rank, size, masterAddr, masterPort } = this.options;
    this.closeZap = await startZapHandler(this.context, zapDomainFor(this.options.jobId), this.keys.clientPublicKey, this.log);
    void this.watchEvents(this.router.events, null);
    let host: string;
    if (rank === 0) {
      // MASTER_ADDR may be a name (a Kubernetes headless service): listen on what it resolves to,
      // or on every interface when that is not an address of this host (NAT, a load balancer).
      host = this.options.host ?? (await lookup(masterAddr, { family: 4 })).address;
      try {
        await this.bind(host, masterPort);
      } catch (error) {
        if (this.options.host !== undefined) throw error;
        this.log(`MASTER_ADDR ${masterAddr} (${host}) is not an address of this host; listening on all interfaces, port ${masterPort}`);
        await this.bind('0.0.0.0', masterPort);
      }
      host = masterAddr;
    } else {
      host = this.options.host ?? (await defaultHost(masterAddr));
      await this.bind(host, 0);
    }
    const bound = this.router.lastEndpoint!;
    this.hosts[rank] = host;
    const boundPort = Number(bound.slice(bound.lastIndexOf(':') + 1));
    this.options.onListening?.(boundPort);
    const advertise = this.options.advertisePort;
    const endpoint = advertise === undefined ? bound : `${bound.slice(0, bound.lastIndexOf(':') + 1)}${await advertise(boundPort)}`;
    void this.receiveLoop();
    if (size === 1) return;

    const joinTimeoutMs = this.options.joinTimeoutMs ?? this.timeoutMs;
    const failure = new Promise<never>((_, reject) => {
      this.fatal = reject;
    });
    failure.catch(() => undefined); // only awaited while joining
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.joinTimeout(joinTimeoutMs)), joinTimeoutMs);
    });
    try {
      if (rank === 0) {
        this.rendezvous = new Rendezvous(size, endpoint);
        const endpoints = await Promise.race([this.rendezvous.done, failure, timeout]);
        this.rendezvous = null;
        for (let peer = 1; peer < size; peer++) this.connect(peer, endpoints[peer]!);
      } else {
        const masterEndpoint = `tcp://${masterAddr.includes(':') ? `[${masterAddr}]` : masterAddr}:${masterPort}`;
        this.hosts[0] = masterAddr;
        this.connect(0, masterEndpoint, endpoint);
        const endpoints = await Promise.race([this.awaitWelcome(), failure, timeout]);
        for (let peer = 1; peer < size; peer++) if (peer !== rank) this.connect(peer, endpoints[peer]!);
      }
    } finally {
      clearTimeout(timer);
      this.fatal = null;
    }
  }

  private joinTimeout(ms: number): CommError {
    if (this.rank === 0) {
      const missing = this.rendezvous?.missing() ?? [];
      return new CommError('TIMEOUT', `rank${missing.length === 1 ? '' : 's'} ${missing.join(', ')} did not join within ${ms} ms (are all WORLD_SIZE=${this.size} ranks started, with the same SHARDLEARN_SECRET, and can they reach ${this.options.masterAddr}:${this.router.lastEndpoint?.split(':').pop()}?)`, missing[0] === undefined ? {} : { rank: missing[0] });
    }
    return new CommError('TIMEOUT', `rank 0 at ${this.options.masterAddr}:${this.options.masterPort} did not welcome this rank within ${ms} ms (is rank 0 running, are MASTER_ADDR/MASTER_PORT right, does every rank have the same SHARDLEARN_SECRET?)`, { rank: 0, host: this.options.masterAddr });
  }

  private async bind(host: string, port: number): Promise<void> {
    const address = `tcp://${host.includes(':') ? `[${host}]` : host}:${port === 0 ? '*' : port}`;
    try {
      await this.router.bind(address);
    } catch (error) {
      throw new CommError('COMM', `cannot listen on ${address}: ${(error as Error).message} (is the port in use, or the address not one of this host's?)`, { cause: error });
    }
  }

  private get identity(): HelloIdentity {
    return { jobId: this.options.jobId, generation: this.options.generation ?? 0, rank: this.rank, size: this.size };
  }

  /** Open the dealer to `peer` and say hello on it (the first message on every connection). */
  private connect(peer: number, endpoint: string, ownEndpoint?: string): void {
    const dealer = new zmq.Dealer({
      context: this.context,
      routingId: `${this.rank}.${randomBytes(6).toString('hex')}`,
      curveServerKey: this.keys.serverPublicKey,
      curvePublicKey: this.keys.clientPublicKey,
      curveSecretKey: this.keys.clientSecretKey,
      maxMessageSize: this.maxMessageBytes,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      heartbeatTimeout: this.options.peerTimeoutMs ?? 10_000,
      sendTimeout: this.timeoutMs,
      linger: 2000,
    });
    this.dealers[peer] = dealer;
    const host = endpoint.slice('tcp://'.length, endpoint.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    this.hosts[peer] = host;
    dealer.connect(endpoint);
    void this.watchEvents(dealer.events, peer);
    void this.dealerLoop(dealer, peer);
    void this.sendFrames(peer, encodeMessage({ v: PROTOCOL_VERSION, k: 'hello', h: helloFields(this.identity, ownEndpoint) })).catch(() => undefined);
  }

  private welcomeReceived: ((endpoints: string[]) => void) | null = null;
  private awaitWelcome(): Promise<string[]> {
    return new Promise((resolve) => {
      this.welcomeReceived = resolve;
    });
  }

  private onHello(routingId: Buffer, id: string, fields: Record<string, unknown> | undefined): void {
    const problem = helloProblem(this.identity, fields, this.peerOf.values());
    if (problem !== null) {
      this.log(`refused a peer claiming rank ${JSON.stringify(fields?.['rank'])}: ${problem}`);
      this.routerSend(routingId, encodeMessage({ v: PROTOCOL_VERSION, k: 'refuse', h: { reason: problem } }));
      return;
    }
    const peer = fields!['rank'] as number;
    const endpointProblem = this.rendezvous?.add(peer, id, fields!['endpoint'], (to, endpoints) => {
      this.routerSend(Buffer.from(to, 'latin1'), encodeMessage({ v: PROTOCOL_VERSION, k: 'welcome', h: { endpoints } }));
    });
    if (endpointProblem !== undefined && endpointProblem !== null) {
      this.log(`refused rank ${peer}: ${endpointProblem}`);
      this.routerSend(routingId, encodeMessage({ v: PROTOCOL_VERSION, k: 'refuse', h: { reason: 'bad endpoint' } }));
      return;
    }
    this.peerOf.set(id, peer);
  }

  private routerSend(routingId: Buffer, frames: Buffer[]): void {
    this.routerChain = this.routerChain.then(() => this.router.send([routingId, ...frames])).catch(() => undefined);
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const [routingId, ...frames] of this.router) {
        if (routingId === undefined) continue;
        this.onFrames(routingId, frames);
      }
    } catch (error) {
      if (!this.closed) this.failAll(new CommError('COMM', `the receiving socket failed: ${(error as Error).message}`, { cause: error }));
    }
  }

  private onFrames(routingId: Buffer, frames: Buffer[]): void {
    const id = routingId.toString('latin1');
    const peer = this.peerOf.get(id);
    let decoded: ReturnType<typeof decodeMessage>;
    try {
      decoded = decodeMessage(frames);
    } catch (error) {
      const reason = error instanceof WireError ? error.reason : String(error);
      if (peer === undefined) this.dropUnidentified(id, reason);
      else this.markLost(peer, `it sent a malformed message (${reason})`);
      return;
    }
    const { envelope, arrays } = decoded;
    if (envelope.k === 'hello') {
      if (peer === undefined) this.onHello(routingId, id, envelope.h);
      else this.log(`ignored a second hello from rank ${peer}`);
      return;
    }
    if (peer === undefined) {
      this.dropUnidentified(id, `a '${envelope.k}' message before its hello`);
      return;
    }
    if (envelope.k === 'bye') {
      // Everything the peer sent before its bye came first on this connection (see zmq-departures.ts).
      this.departures.onBye(peer, envelope.h);
      const reason = this.departures.goneReason(peer)!;
      this.rejectWaiters((w) => w.from === peer, () => this.goneError(peer, reason));
      return;
    }
    if (envelope.k !== 'user' && envelope.k !== 'coll') {
      this.log(`ignored an unexpected '${envelope.k}' message from rank ${peer}`);
      return;
    }
    this.departures.countReceived(peer);
    this.mailbox.deliver(envelope.k, { from: peer, envelope, arrays, bytes: wireBytes(frames) });
  }

  private dropUnidentified(id: string, reason: string): void {
    const count = (this.drops.get(id) ?? 0) + 1;
    this.drops.set(id, count);
    if (count <= MAX_LOGGED_DROPS) this.log(`dropped a message from an unidentified connection: ${reason}${count === MAX_LOGGED_DROPS ? ' (further drops from it not logged)' : ''}`);
  }

  /** Replies on a dealer: welcome or refuse. */
  private async dealerLoop(dealer: zmq.Dealer, peer: number): Promise<void> {
    try {
      for await (const frames of dealer) {
        let envelope: Envelope;
        try {
          envelope = decodeMessage(frames).envelope;
        } catch (error) {
          this.log(`dropped a malformed reply from rank ${peer}: ${(error as Error).message}`);
          continue;
        }
        if (envelope.k === 'refuse') {
          const reason = typeof envelope.h?.['reason'] === 'string' ? envelope.h['reason'] : 'no reason given';
          this.fatal?.(new CommError('COMM', `rank ${peer} (${this.hostOf(peer)}) refused this rank: ${reason}`, { rank: peer, host: this.hostOf(peer) }));
          this.markLost(peer, `it refused this rank: ${reason}`);
        } else if (envelope.k === 'welcome' && peer === 0 && this.welcomeReceived !== null) {
          const endpoints = welcomeEndpoints(envelope.h, this.size);
          if (endpoints === null) {
            this.fatal?.(new CommError('COMM', `rank 0 sent a welcome without ${this.size} endpoints`, { rank: 0 }));
            continue;
          }
          const resolve = this.welcomeReceived;
          this.welcomeReceived = null;
          resolve(endpoints);
        }
      }
    } catch {
      // Closed.
    }
  }

  private async watchEvents(events: zmq.Observer, peer: number | null): Promise<void> {
    try {
      for await (const event of events) {
        if (this.closed) return;
        if (event.type === 'handshake:error:protocol' || event.type === 'handshake:error:auth' || event.type === 'handshake:error:other') {
          const detail = (event as { error?: Error }).error?.message ?? event.type;
          if (peer === null) {
            if (++this.handshakeFailures <= MAX_LOGGED_DROPS) {
              this.log(`dropped a connection on ${event.address}: security handshake failed (${detail}) — a peer with another secret, another protocol, or garbage on the port${this.handshakeFailures === MAX_LOGGED_DROPS ? ' (further handshake failures not logged)' : ''}`);
            }
          } else {
            const error = new CommError('COMM', `the CURVE handshake with rank ${peer} at ${this.hostOf(peer)} failed (${detail}): do all ranks have the same SHARDLEARN_SECRET and job id?`, { rank: peer, host: this.hostOf(peer) });
            this.fatal?.(error);
            this.markLost(peer, `security handshake failed (${detail})`);
          }
        } else if (event.type === 'handshake' && peer !== null) {
          this.handshaken[peer] = true;
        } else if (event.type === 'disconnect' && peer !== null && this.closing) {
          this.departures.markHungUp(peer); // both sides are closing: a peer may hang up before its goodbye arrives
        } else if (event.type === 'disconnect' && peer !== null && !this.departures.hasLeft(peer)) {
          this.markLost(
            peer,
            this.handshaken[peer]
              ? 'its connection closed without a goodbye (the process exited or was killed, its host became unreachable, or it dropped this rank for sending a message above its maxMessageBytes)'
              : 'the connection closed during the security handshake: does every rank have the same SHARDLEARN_SECRET and job id, and is a shardlearn rank listening there?',
          );
        }
      }
    } catch {
      // Observer closed with the socket.
    }
  }

  private goneError(peer: number, why: string): CommError {
    return new CommError('PEER_LOST', `rank ${peer} (${this.hostOf(peer)}) is gone: ${why}`, { rank: peer, host: this.hostOf(peer) });
  }

  /** Fail every wait on `peer` (and every any-source wait) with PEER_LOST; later waits on it fail at once. */
  markLost(peer: number, reason: string): void {
    if (this.lostReason[peer] !== null || this.closed) return;
    this.lostReason[peer] = reason;
    this.log(`lost rank ${peer} (${this.hostOf(peer)}): ${reason}`);
    const error = this.goneError(peer, reason);
    this.fatal?.(error);
    this.rejectWaiters((w) => w.from === peer || w.from === undefined, () => error);
  }

  private failAll(error: Error): void {
    this.rejectWaiters(() => true, () => error);
  }

  private rejectWaiters(match: (waiter: Waiter) => boolean, error: () => Error): void {
    this.mailbox.rejectWhere(match, error);
  }

  /**
   * The next message on `channel` from `from` (any peer when undefined). Rejects with TIMEOUT after
   * `timeoutMs` naming the rank waited for, or PEER_LOST when that rank is gone.
   */
  take(channel: Channel, from: number | undefined, what: string): Promise<Incoming> {
    const queued = this.mailbox.takeQueued(channel, from);
    if (queued !== null) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new CommError('COMM', `${what}: the communicator is closed`));
    if (from !== undefined) {
      const lost = this.lostReason[from] ?? null;
      if (lost !== null) return Promise.reject(this.goneError(from, lost));
      const gone = this.departures.goneReason(from);
      if (gone !== null) return Promise.reject(this.goneError(from, gone));
    } else {
      const lost = this.lostReason.findIndex((reason) => reason !== null);
      if (lost >= 0) return Promise.reject(this.goneError(lost, this.lostReason[lost]!));
    }
    return this.mailbox.wait(channel, from, this.timeoutMs, () =>
      from === undefined
        ? new CommError('TIMEOUT', `${what}: no message from any rank within ${this.timeoutMs} ms (raise timeoutMs if a step legitimately takes longer)`)
        : new CommError('TIMEOUT', `${what}: no message from rank ${from} (${this.hostOf(from)}) within ${this.timeoutMs} ms; it is stuck, much slower, or not taking part (raise timeoutMs if a step legitimately takes longer)`, { rank: from, host: this.hostOf(from) }),
    );
  }

  /** Why a message to `to` cannot be queued (no connection, the peer is lost, a frame is too large), or null. */
  private sendRefusal(to: number, frames: readonly Buffer[]): CommError | null {
    if (this.dealers[to] === null || this.dealers[to] === undefined) return new CommError('COMM', `no connection to rank ${to}`, { rank: to });
    const lost = this.lostReason[to] ?? null;
    if (lost !== null) return this.goneError(to, lost);
    for (const frame of frames) {
      if (frame.byteLength > this.maxMessageBytes) {
        return new CommError('COMM', `a frame of ${frame.byteLength} bytes exceeds the maximum message size of ${this.maxMessageBytes} bytes; send smaller pieces or raise SHARDLEARN_MAX_MESSAGE_BYTES on every rank`);
      }
    }
    return null;
  }

  /** Queue `frames` to `to` (one send at a time per socket, as ZeroMQ requires). Returns the bytes sent. */
  sendFrames(to: number, frames: Buffer[]): Promise<number> {
    const refusal = this.sendRefusal(to, frames);
    return refusal !== null ? Promise.reject(refusal) : this.enqueue(to, frames);
  }

  private enqueue(to: number, frames: Buffer[]): Promise<number> {
    const dealer = this.dealers[to]!;
    const sent = this.sendChains[to]!.catch(() => undefined).then(() => dealer.send(frames));
    this.sendChains[to] = sent;
    return sent.then(
      () => wireBytes(frames),
      (error: unknown) => {
        const reason = this.lostReason[to] ?? null;
        throw reason !== null
          ? this.goneError(to, reason)
          : new CommError('TIMEOUT', `sending to rank ${to} (${this.hostOf(to)}) did not complete within ${this.timeoutMs} ms: ${(error as Error).message}`, { rank: to, host: this.hostOf(to), cause: error });
      },
    );
  }

  /** Send a data message of `kind` with `arrays` as raw frames (counted for the bye, see zmq-departures.ts). */
  send(to: number, kind: WireKind, envelope: Omit<Envelope, 'v' | 'k' | 'd'>, arrays: readonly FloatArray[]): Promise<number> {
    const frames = encodeMessage({ v: PROTOCOL_VERSION, k: kind, ...envelope }, arrays);
    const refusal = this.sendRefusal(to, frames);
    if (refusal !== null) return Promise.reject(refusal);
    this.departures.countSent(to);
    return this.enqueue(to, frames);
  }

  /**
   * Say goodbye to every peer, then close the sockets. Idempotent. `error`: this rank leaves because
   * it failed; the peers' errors then say so instead of "it finished and left".
   */
  async close(error?: string): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    const byes = this.dealers.map((dealer, peer) =>
      dealer === null || this.lostReason[peer] !== null ? Promise.resolve() : this.sendFrames(peer, encodeMessage({ v: PROTOCOL_VERSION, k: 'bye', h: this.departures.byeFields(peer, error) })).catch(() => undefined),
    );
    // Wait (bounded) for every peer's bye too: a bye is the last message on its connection, so once
    // all have arrived nothing is in flight toward this rank and its sockets can close cleanly.
    const deadline = performance.now() + CLOSE_WAIT_MS;
    await Promise.race([Promise.all(byes), sleep(CLOSE_WAIT_MS)]);
    const waiting = (peer: number): boolean => peer !== this.rank && !this.departures.settled(peer) && this.lostReason[peer] === null && this.dealers[peer] !== null;
    while (performance.now() < deadline && this.dealers.some((_, peer) => waiting(peer))) await sleep(10);
    this.closed = true;
    this.failAll(new CommError('COMM', 'the communicator was closed while waiting'));
    this.dealers.forEach((dealer, peer) => {
      if (dealer === null) return;
      // Flush queued messages to live peers; to a lost one nothing can arrive, and lingering would retry its handshake.
      if (this.lostReason[peer] !== null) dealer.linger = 0;
      dealer.close();
    });
    this.router.close();
    this.closeZap();
  }
}
