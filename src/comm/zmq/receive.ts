/**
 * The receive path of the ZeroMQ transport: what it does with every message that reaches this rank.
 *
 * On the router arrive the peers' messages. A connection is anonymous until its `hello` is admitted
 * (zmq/hello.ts); after that its `user` and `coll` messages go to the mailbox, counted for the
 * peer's `bye` (zmq/departures.ts), and its `bye` fails the waits on it that can never be met. A
 * malformed message from an admitted peer loses that peer; traffic from an unidentified connection
 * is dropped and logged (at most MAX_LOGGED_DROPS times each, so garbage cannot flood the log). On
 * each dealer arrive only the replies to this rank's own hello: a `refuse`, or rank 0's `welcome`.
 *
 * It is separate from zmq/transport.ts, which sets up the sockets, sends and closes, because this is
 * the one place that trusts or distrusts what a peer sent; keeping it apart keeps that reviewable.
 *
 * @example
 * const receiver = new Receiver({ router, mailbox, departures, peerLoss, identity, size, log, hostOf, … });
 * void receiver.routerLoop();              // once the router is bound
 * void receiver.replyLoop(dealer, peer);   // for each dealer this rank opens
 */
import type * as zmq from 'zeromq';
import { CommError } from '../../core/errors.js';
import type { Envelope } from './wire.js';
import { PROTOCOL_VERSION, WireError, decodeMessage, encodeMessage, wireBytes } from './wire.js';
import type { Mailbox } from './mailbox.js';
import type { Departures } from './departures.js';
import type { PeerLoss } from './peer-loss.js';
import type { HelloIdentity, Rendezvous } from './hello.js';
import { helloProblem, welcomeEndpoints, welcomeLanes } from './hello.js';
import { MAX_LOGGED_DROPS } from './options.js';

/** What a Receiver needs from its transport. */
export interface ReceiverParts {
  router: zmq.Router;
  mailbox: Mailbox;
  departures: Departures;
  peerLoss: PeerLoss;
  /** This rank's job, generation, rank and size: what a peer's hello must match (a renewed world's is its new job's). */
  identity: () => HelloIdentity;
  log: (line: string) => void;
  /** The host a rank runs on, for error messages. */
  hostOf: (rank: number) => string;
  /** While the transport joins: fail the join with `error`; afterwards nothing. */
  failJoin: (error: Error) => void;
  /** The transport has closed: a failing router is then expected. */
  isClosed: () => boolean;
  /** Rank 0 while joining: the rendezvous collecting the others' endpoints; else null. */
  rendezvous: () => Rendezvous | null;
  /** Rank > 0 while joining: whether it still waits for rank 0's welcome. */
  awaitingWelcome: () => boolean;
  /** Hand rank 0's welcome (every rank's endpoint, and lane port when they have lanes between hosts) to the join; called at most once. */
  welcome: (endpoints: string[], lanes: number[] | null) => void;
  /** Whether this rank has a collective lane between hosts (its welcome must then list every rank's lane port). */
  hasLane: boolean;
}

/** Reads the router and the dealers' replies, and keeps which connection is which rank (see the top of this file). */
export class Receiver {
  /** Routing id of an admitted connection → the rank its hello named. */
  private readonly peerOf = new Map<string, number>();
  /** Routing id of an unidentified connection → messages dropped from it. */
  private readonly drops = new Map<string, number>();
  private routerChain: Promise<unknown> = Promise.resolve();

  constructor(private readonly parts: ReceiverParts) {}

  /** Read the router until it closes; a router that fails while open fails every wait. */
  async routerLoop(): Promise<void> {
    try {
      for await (const [routingId, ...frames] of this.parts.router) {
        if (routingId === undefined) continue;
        this.onFrames(routingId, frames);
      }
    } catch (error) {
      if (!this.parts.isClosed()) {
        const failure = new CommError('COMM', `the receiving socket failed: ${(error as Error).message}`, { cause: error });
        this.parts.mailbox.rejectWhere(
          () => true,
          () => failure,
        );
      }
    }
  }

  private onFrames(routingId: Buffer, frames: Buffer[]): void {
    const { departures, peerLoss } = this.parts;
    const id = routingId.toString('latin1');
    const peer = this.peerOf.get(id);
    let decoded: ReturnType<typeof decodeMessage>;
    try {
      decoded = decodeMessage(frames);
    } catch (error) {
      const reason = error instanceof WireError ? error.reason : String(error);
      if (peer === undefined) this.dropUnidentified(id, reason);
      else peerLoss.markLost(peer, `it sent a malformed message (${reason})`);
      return;
    }
    const { envelope, arrays, bytes: byteFrames } = decoded;
    if (envelope.k === 'hello') {
      if (peer === undefined) this.onHello(routingId, id, envelope.h);
      else this.parts.log(`ignored a second hello from rank ${peer}`);
      return;
    }
    if (peer === undefined) {
      this.dropUnidentified(id, `a '${envelope.k}' message before its hello`);
      return;
    }
    if (envelope.k === 'bye') {
      // Everything the peer sent before its bye came first on this connection (see zmq/departures.ts).
      departures.onBye(peer, envelope.h);
      const reason = departures.goneReason(peer)!;
      this.parts.mailbox.rejectWhere(
        (w) => w.from === peer,
        () => peerLoss.goneError(peer, reason),
      );
      return;
    }
    if (envelope.k === 'renew') {
      // Not counted for the bye (zmq/departures.ts): a renewal belongs to no job's traffic.
      this.parts.mailbox.deliver('renew', { from: peer, envelope, arrays, byteFrames, bytes: wireBytes(frames) });
      return;
    }
    if (envelope.k !== 'user' && envelope.k !== 'coll') {
      this.parts.log(`ignored an unexpected '${envelope.k}' message from rank ${peer}`);
      return;
    }
    departures.countReceived(peer);
    this.parts.mailbox.deliver(envelope.k, { from: peer, envelope, arrays, byteFrames, bytes: wireBytes(frames) });
  }

  /** Admit the connection `id` as the rank its hello names, or refuse it with the reason. */
  private onHello(routingId: Buffer, id: string, fields: Record<string, unknown> | undefined): void {
    const problem = helloProblem(this.parts.identity(), fields, this.peerOf.values());
    if (problem !== null) {
      this.parts.log(`refused a peer claiming rank ${JSON.stringify(fields?.['rank'])}: ${problem}`);
      this.routerSend(routingId, encodeMessage({ v: PROTOCOL_VERSION, k: 'refuse', h: { reason: problem } }));
      return;
    }
    const peer = fields!['rank'] as number;
    const endpointProblem = this.parts.rendezvous()?.add(
      peer,
      id,
      fields!['endpoint'],
      (to, endpoints, lanes) => {
        const h = lanes === null ? { endpoints } : { endpoints, lanes };
        this.routerSend(Buffer.from(to, 'latin1'), encodeMessage({ v: PROTOCOL_VERSION, k: 'welcome', h }));
      },
      fields!['lane'],
    );
    if (endpointProblem !== undefined && endpointProblem !== null) {
      this.parts.log(`refused rank ${peer}: ${endpointProblem}`);
      this.routerSend(routingId, encodeMessage({ v: PROTOCOL_VERSION, k: 'refuse', h: { reason: endpointProblem } }));
      return;
    }
    this.peerOf.set(id, peer);
  }

  /** Reply on the router (one send at a time, as ZeroMQ requires). */
  private routerSend(routingId: Buffer, frames: Buffer[]): void {
    this.routerChain = this.routerChain.then(() => this.parts.router.send([routingId, ...frames])).catch(() => undefined);
  }

  private dropUnidentified(id: string, reason: string): void {
    const count = (this.drops.get(id) ?? 0) + 1;
    this.drops.set(id, count);
    if (count <= MAX_LOGGED_DROPS)
      this.parts.log(
        `dropped a message from an unidentified connection: ${reason}${count === MAX_LOGGED_DROPS ? ' (further drops from it not logged)' : ''}`,
      );
  }

  /** Read the replies to this rank's hello on the dealer to `peer` until it closes: welcome or refuse. */
  async replyLoop(dealer: zmq.Dealer, peer: number): Promise<void> {
    const { log, hostOf, failJoin } = this.parts;
    const identity = this.parts.identity();
    try {
      for await (const frames of dealer) {
        let envelope: Envelope;
        try {
          envelope = decodeMessage(frames).envelope;
        } catch (error) {
          log(`dropped a malformed reply from rank ${peer}: ${(error as Error).message}`);
          continue;
        }
        if (envelope.k === 'refuse') {
          const reason = typeof envelope.h?.['reason'] === 'string' ? envelope.h['reason'] : 'no reason given';
          failJoin(
            new CommError('COMM', `rank ${peer} (${hostOf(peer)}) refused this rank: ${reason}`, { rank: peer, host: hostOf(peer) }),
          );
          this.parts.peerLoss.markLost(peer, `it refused this rank: ${reason}`);
        } else if (envelope.k === 'welcome' && peer === 0 && this.parts.awaitingWelcome()) {
          const endpoints = welcomeEndpoints(envelope.h, identity.size);
          if (endpoints === null) {
            failJoin(new CommError('COMM', `rank 0 sent a welcome without ${identity.size} endpoints`, { rank: 0 }));
            continue;
          }
          const lanes = this.parts.hasLane ? welcomeLanes(envelope.h, identity.size) : null;
          if (this.parts.hasLane && lanes === null) {
            failJoin(
              new CommError(
                'COMM',
                `rank 0 sent a welcome without ${identity.size} collective lane ports: it has no lane between hosts while this rank has (every rank must agree on --collective-lane (SHARDLEARN_COLLECTIVE_LANE))`,
                { rank: 0 },
              ),
            );
            continue;
          }
          this.parts.welcome(endpoints, lanes);
        }
      }
    } catch {
      // Closed.
    }
  }
}
