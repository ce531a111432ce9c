/**
 * Who has left the world, and whether everything they sent arrived first.
 *
 * A closing rank sends every peer a `bye` carrying how many data messages (user and collective) it
 * sent that peer, and the error it stopped on, if any. The bye travels on the same connection as
 * those messages (the sender's dealer to the receiver's router) and ZeroMQ keeps order per
 * connection, so when the bye arrives every message sent before it has arrived too — unless some
 * were lost, for instance in a connection that dropped and was re-established. The count makes that
 * visible: the receiver compares it with what it received and says exactly which case it is, instead
 * of a bare "it left" that hides the cause.
 *
 * @example
 * const departures = new Departures(size);
 * departures.countSent(to);                              // for every data message queued to `to`
 * encodeMessage({ v, k: 'bye', h: departures.byeFields(to) });
 * departures.onBye(from, envelope.h);                    // on the peer's bye
 * departures.goneReason(from);                           // why a wait on `from` can never be met, or null
 */

/** Longest error text a bye carries. */
const MAX_ERROR_CHARS = 2000;

/** A peer's goodbye, as received. */
export interface Bye {
  /** Data messages the peer sent this rank before its bye. */
  sent: number;
  /** The error the peer stopped on, when it left because it failed. */
  error: string | null;
}

/** Per peer: data messages sent to it and received from it, and its bye once it arrives (see the example above). */
export class Departures {
  private readonly sent: number[];
  private readonly received: number[];
  private readonly byes: (Bye | null)[];
  private readonly hungUp: boolean[];

  constructor(size: number) {
    this.sent = new Array<number>(size).fill(0);
    this.received = new Array<number>(size).fill(0);
    this.byes = new Array<Bye | null>(size).fill(null);
    this.hungUp = new Array<boolean>(size).fill(false);
  }

  /** A data message to `peer` was queued. */
  countSent(peer: number): void {
    this.sent[peer]!++;
  }

  /** A data message from `peer` arrived. */
  countReceived(peer: number): void {
    this.received[peer]!++;
  }

  /** The fields of this rank's bye to `peer`; `error` when this rank leaves because it failed. */
  byeFields(peer: number, error?: string): Record<string, unknown> {
    // Cut a long message: the envelope that carries it is capped at MAX_ENVELOPE_BYTES (zmq/wire.ts).
    return {
      sent: this.sent[peer]!,
      ...(error === undefined ? {} : { error: error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS)}…` : error }),
    };
  }

  /** Record `peer`'s bye (a malformed count reads as unknown: nothing is then claimed lost). */
  onBye(peer: number, fields: Record<string, unknown> | undefined): void {
    const sent = fields?.['sent'];
    const error = fields?.['error'];
    this.byes[peer] = {
      sent: Number.isSafeInteger(sent) && (sent as number) >= 0 ? (sent as number) : this.received[peer]!,
      error: typeof error === 'string' ? error : null,
    };
  }

  /** Whether `peer` said goodbye. */
  hasLeft(peer: number): boolean {
    return this.byes[peer] !== null;
  }

  /** While this rank closes, `peer` hung up: it need not wait for that peer's bye any more. */
  markHungUp(peer: number): void {
    this.hungUp[peer] = true;
  }

  /** Whether this rank, closing, has nothing more to wait for from `peer`. */
  settled(peer: number): boolean {
    return this.byes[peer] !== null || this.hungUp[peer]!;
  }

  /** Why a wait for a message from `peer` can never be met (it left), or null while it is here. */
  goneReason(peer: number): string | null {
    const bye = this.byes[peer];
    if (bye === null || bye === undefined) return null;
    const received = this.received[peer]!;
    const lost =
      bye.sent > received
        ? `; it had sent this rank ${bye.sent} messages, of which only ${received} arrived: ${bye.sent - received} were lost in transit (a connection dropped and was re-established?)`
        : '';
    if (bye.error !== null) return `it stopped on an error and left (${bye.error})${lost}`;
    if (lost !== '') return `it finished and left${lost}`;
    return `it finished and left after all ${received} of its messages to this rank arrived (this rank expected more: do all ranks call the same collectives in the same order?)`;
  }
}
