/**
 * Which peers the ZeroMQ transport has lost, and why: its failure detector.
 *
 * libzmq's I/O thread sends ZMTP heartbeats and reports each socket's life on a monitor: a CURVE
 * handshake that completed or failed, a connection that closed. This file turns those events into
 * peer state. A peer whose connection drops without a `bye` (killed, crashed, unplugged, silent past
 * `peerTimeoutMs`) is lost: every wait on it, and every any-source wait, fails at once with PEER_LOST,
 * and later waits and sends on it fail immediately. A peer that said `bye` has left instead; why a
 * wait on it can never be met is zmq/departures.ts's business.
 *
 * It is separate from zmq/transport.ts because it is the one place that decides a peer is gone: the
 * transport (which owns the sockets) only starts a watch per socket and asks `reason(peer)`.
 *
 * @example
 * const loss = new PeerLoss({ size, mailbox, departures, log, hostOf, failJoin, isClosed, isClosing });
 * void loss.watch(router.events, null);   // the router: handshake failures of unknown connections
 * void loss.watch(dealer.events, peer);   // a dealer: its peer's handshake and hang-up
 * loss.reason(peer);                      // why `peer` is lost, or null
 */
import type { Observer } from 'zeromq';
import { CommError } from '../../core/errors.js';
import type { Mailbox } from './mailbox.js';
import type { Departures } from './departures.js';
import { MAX_LOGGED_DROPS } from './options.js';

/** What a PeerLoss needs from its transport. */
export interface PeerLossParts {
  size: number;
  /** Where the waits that a lost peer fails are. */
  mailbox: Mailbox;
  /** Who said goodbye: their hang-up is no loss. */
  departures: Departures;
  log: (line: string) => void;
  /** The host a rank runs on, for error messages. */
  hostOf: (rank: number) => string;
  /** While the transport joins: fail the join with `error`; afterwards nothing. */
  failJoin: (error: Error) => void;
  /** The transport has closed: socket events then mean nothing, and nothing is lost any more. */
  isClosed: () => boolean;
  /** The transport is closing: both sides hang up, so a disconnect is expected. */
  isClosing: () => boolean;
  /** Told of each peer once it is lost (after its waits are failed). */
  onLost?: ((peer: number, reason: string) => void) | undefined;
}

/** Per peer: lost (with the reason) or not, and whether its security handshake completed. */
export class PeerLoss {
  private readonly lostReason: (string | null)[];
  private readonly handshaken: boolean[];
  private handshakeFailures = 0;
  private acceptFailures = 0;

  constructor(private readonly parts: PeerLossParts) {
    this.lostReason = new Array<string | null>(parts.size).fill(null);
    this.handshaken = new Array<boolean>(parts.size).fill(false);
  }

  /** Why `peer` is lost, or null while it is not. */
  reason(peer: number): string | null {
    return this.lostReason[peer] ?? null;
  }

  /** Every lost rank, lowest first. */
  lostRanks(): number[] {
    return this.lostReason.flatMap((reason, rank) => (reason === null ? [] : [rank]));
  }

  /** The lowest lost rank, or -1 when none is lost. */
  firstLost(): number {
    return this.lostReason.findIndex((reason) => reason !== null);
  }

  /** The PEER_LOST error of a wait or send on `peer`, gone because `why`. */
  goneError(peer: number, why: string): CommError {
    const host = this.parts.hostOf(peer);
    return new CommError('PEER_LOST', `rank ${peer} (${host}) is gone: ${why}`, { rank: peer, host });
  }

  /** Fail every wait on `peer` (and every any-source wait) with PEER_LOST; later waits on it fail at once. */
  markLost(peer: number, reason: string): void {
    if (this.lostReason[peer] !== null || this.parts.isClosed()) return;
    this.lostReason[peer] = reason;
    this.parts.log(`lost rank ${peer} (${this.parts.hostOf(peer)}): ${reason}`);
    const error = this.goneError(peer, reason);
    this.parts.failJoin(error);
    this.parts.mailbox.rejectWhere(
      (w) => w.from === peer || w.from === undefined,
      () => error,
    );
    this.parts.onLost?.(peer, reason);
  }

  /** Follow a socket's monitor until it closes: `peer` is the dealer's peer, null for the router. */
  async watch(events: Observer, peer: number | null): Promise<void> {
    const { log, hostOf, departures } = this.parts;
    try {
      for await (const event of events) {
        if (this.parts.isClosed()) return;
        if (event.type === 'accept:error' && ++this.acceptFailures === 1) {
          // Typically EMFILE: connections pending their handshake hold every file descriptor; each is
          // closed after handshakeTimeoutMs, and a real rank's connection waits in the listen backlog until then.
          log(
            `could not accept a connection on ${event.address}: ${event.error.message} (${event.error.code ?? 'no code'}); a flood of idle connections or a low \`ulimit -n\` (further accept failures not logged)`,
          );
        }
        if (event.type === 'handshake:error:protocol' || event.type === 'handshake:error:auth' || event.type === 'handshake:error:other') {
          const detail = (event as { error?: Error }).error?.message ?? event.type;
          if (peer === null) {
            if (++this.handshakeFailures <= MAX_LOGGED_DROPS) {
              log(
                `dropped a connection on ${event.address}: security handshake failed (${detail}) — a peer with another secret, another protocol, or garbage on the port${this.handshakeFailures === MAX_LOGGED_DROPS ? ' (further handshake failures not logged)' : ''}`,
              );
            }
          } else {
            const error = new CommError(
              'COMM',
              `the CURVE handshake with rank ${peer} at ${hostOf(peer)} failed (${detail}): do all ranks have the same SHARDLEARN_SECRET and job id?`,
              { rank: peer, host: hostOf(peer) },
            );
            this.parts.failJoin(error);
            this.markLost(peer, `security handshake failed (${detail})`);
          }
        } else if (event.type === 'handshake' && peer !== null) {
          this.handshaken[peer] = true;
        } else if (event.type === 'disconnect' && peer !== null && this.parts.isClosing()) {
          departures.markHungUp(peer); // both sides are closing: a peer may hang up before its goodbye arrives
        } else if (event.type === 'disconnect' && peer !== null && !departures.hasLeft(peer)) {
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
}
