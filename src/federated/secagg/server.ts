/**
 * The server of a secure aggregation round (Bonawitz et al. 2017, §4), as a state machine over byte
 * messages: `receive(from, bytes)` takes one client message of the current phase (refusing anything
 * else with a SecAggError naming the client), `close()` ends the phase (whoever has not answered is
 * dropped) and returns the messages to send, per client. After the unmask phase `result()` is the sum.
 *
 * What the server holds: public keys, ciphertexts it cannot open (they are encrypted client to
 * client), the running sum of masked inputs (each masked input is added on arrival and not kept), and
 * in the last phase, for each client, either the seed of its self mask (it survived) or its mask
 * private key (it dropped before sending its input), never both, since each client reveals only one
 * share kind per peer and a masked input that arrives after the survivors list is out is refused.
 */
import { ConfigError } from '../../core/errors.js';
import { agree, deriveKey, expandMask, privateKeyObject, publicKeyObject, publicKeyOf } from './crypto.js';
import type { KeyObject } from 'node:crypto';
import { SecAggError, type SecAggPhase } from './errors.js';
import { dequantize } from './fixed-point.js';
import {
  decode,
  encode,
  MalformedMessage,
  SERVER_ID,
  type Envelope,
  type Message,
  type PublicKeys,
  type RevealedShare,
} from './messages.js';
import { resolveParameters, type ResolvedParameters, type SecAggParameters } from './parameters.js';
import { bigintToBytes, bytesToBigint, combine, lagrangeAtZero, PRIME } from './shamir.js';

type ServerPhase = 'advertise' | 'share' | 'masked-input' | 'unmask' | 'result';

const EXPECTED_KIND = { advertise: 'advertise', share: 'shares', 'masked-input': 'masked-input', unmask: 'unmask' } as const;

export interface SecAggOutcome {
  /** Σ of the surviving clients' inputs, within the fixed-point precision. */
  sum: Float64Array;
  /** Clients whose inputs are in the sum (sent their masked input). */
  included: number[];
  /** Clients that advertised keys but whose inputs are not in the sum. */
  dropped: number[];
}

export class SecAggServer {
  private readonly parameters: ResolvedParameters;
  private current: ServerPhase = 'advertise';
  private readonly keys = new Map<number, PublicKeys>();
  private readonly sharers = new Set<number>();
  private readonly mailboxes = new Map<number, Envelope[]>();
  private readonly maskedSenders = new Set<number>();
  private readonly revealed = new Map<number, Map<number, bigint>>();
  private readonly responders = new Set<number>();
  private sum: Uint32Array;
  private outcome: SecAggOutcome | undefined;
  readonly stats = { bytesReceived: 0, bytesSent: 0 };

  constructor(parameters: SecAggParameters) {
    this.parameters = resolveParameters(parameters);
    this.sum = new Uint32Array(this.parameters.vectorLength);
  }

  get phase(): ServerPhase {
    return this.current;
  }

  /** The vectors the server holds right now (for audits: only the running sum of masked inputs). */
  heldVectors(): Uint32Array[] {
    return [this.sum.slice()];
  }

  private fail(message: string, client?: number): never {
    throw new SecAggError('COMM', { round: this.parameters.round, phase: this.current, client }, message);
  }

  private tooFew(what: string, count: number): never {
    throw new SecAggError(
      'PEER_LOST',
      { round: this.parameters.round, phase: this.current },
      `only ${count} clients ${what}, fewer than the threshold ${this.parameters.threshold}; the round cannot complete`,
    );
  }

  /** Take one message from client `from` (the transport's idea of the sender, which the message must agree with). */
  receive(from: number, bytes: Uint8Array): void {
    if (this.current === 'result') this.fail('the round is over; no more messages are accepted', from);
    let message: Message;
    try {
      message = decode(bytes);
    } catch (error) {
      if (error instanceof MalformedMessage) this.fail(`malformed message: ${error.message}`, from);
      throw error;
    }
    const expected = EXPECTED_KIND[this.current];
    if (message.sender !== from) this.fail(`the message claims to come from client ${message.sender}`, from);
    if (message.round !== this.parameters.round)
      this.fail(`the message is for round ${message.round}, this is round ${this.parameters.round}`, from);
    if (message.kind !== expected)
      this.fail(`sent a ${message.kind} message during the ${this.current} phase, which takes ${expected} messages only`, from);
    this.stats.bytesReceived += bytes.length;
    switch (message.kind) {
      case 'advertise':
        if (this.keys.has(from)) this.fail('advertised its keys twice', from);
        this.keys.set(from, message.keys);
        return;
      case 'shares':
        return this.takeShares(from, message.envelopes);
      case 'masked-input':
        return this.takeMaskedInput(from, message.vector);
      case 'unmask':
        return this.takeUnmask(from, message.shares);
      default:
        return this.fail(`unexpected message kind`, from);
    }
  }

  private takeShares(from: number, envelopes: readonly Envelope[]): void {
    if (!this.keys.has(from)) this.fail('sent shares without being in the roster', from);
    if (this.sharers.has(from)) this.fail('sent its shares twice', from);
    const peers = new Set(envelopes.map((e) => e.peer));
    const expected = this.keys.size - 1;
    if (peers.size !== envelopes.length || peers.size !== expected || peers.has(from) || [...peers].some((peer) => !this.keys.has(peer)))
      this.fail(
        `must send one share ciphertext to each of the ${expected} other roster clients, sent ${envelopes.length} to other or repeated clients`,
        from,
      );
    this.sharers.add(from);
    for (const { peer, ciphertext } of envelopes) {
      const box = this.mailboxes.get(peer) ?? [];
      box.push({ peer: from, ciphertext });
      this.mailboxes.set(peer, box);
    }
  }

  private takeMaskedInput(from: number, vector: Uint32Array): void {
    if (!this.sharers.has(from)) this.fail('sent a masked input without having shared its keys', from);
    if (this.maskedSenders.has(from)) this.fail('sent its masked input twice', from);
    if (vector.length !== this.parameters.vectorLength)
      this.fail(`sent a masked input of ${vector.length} values, the round aggregates ${this.parameters.vectorLength}`, from);
    this.maskedSenders.add(from);
    const sum = this.sum;
    for (let i = 0; i < sum.length; i++) sum[i]! += vector[i]!;
  }

  private takeUnmask(from: number, shares: readonly RevealedShare[]): void {
    if (!this.maskedSenders.has(from)) this.fail('sent unmasking shares without having sent its masked input', from);
    if (this.responders.has(from)) this.fail('sent its unmasking shares twice', from);
    const about = new Set(shares.map((s) => s.about));
    if (about.size !== shares.length || about.size !== this.sharers.size || [...about].some((id) => !this.sharers.has(id)))
      this.fail(`must reveal one share for each of the ${this.sharers.size} clients that shared keys, revealed ${shares.length}`, from);
    const values: [number, bigint][] = [];
    for (const share of shares) {
      const wanted = this.maskedSenders.has(share.about) ? 'self-mask' : 'mask-key';
      if (share.kind !== wanted)
        this.fail(`revealed a ${share.kind} share of client ${share.about}; the server may only learn its ${wanted} share`, from);
      const value = bytesToBigint(share.share);
      if (value >= PRIME) this.fail(`its share of client ${share.about} is not a field element`, from);
      values.push([share.about, value]);
    }
    this.responders.add(from);
    for (const [id, value] of values) {
      const shares = this.revealed.get(id) ?? new Map<number, bigint>();
      shares.set(from, value);
      this.revealed.set(id, shares);
    }
  }

  /** End the current phase; the messages to send, per client. */
  close(): Map<number, Uint8Array> {
    const { round, threshold, fixedPoint } = this.parameters;
    const out = new Map<number, Uint8Array>();
    const send = (to: number, message: Message): void => {
      const bytes = encode(message);
      this.stats.bytesSent += bytes.length;
      out.set(to, bytes);
    };
    switch (this.current) {
      case 'advertise': {
        if (this.keys.size < threshold) this.tooFew('advertised keys', this.keys.size);
        if (this.keys.size > 2 ** fixedPoint.clientBits)
          throw new ConfigError(
            `${this.keys.size} clients in one secure aggregation round; the fixed-point ring sums at most 2^${fixedPoint.clientBits} without overflow (raise clientBits)`,
            { field: 'secure-aggregation' },
          );
        const entries = [...this.keys].sort(([a], [b]) => a - b).map(([id, keys]) => ({ id, ...keys }));
        for (const id of this.keys.keys()) send(id, { kind: 'roster', round, sender: SERVER_ID, entries });
        this.current = 'share';
        break;
      }
      case 'share':
        if (this.sharers.size < threshold) this.tooFew('shared their keys', this.sharers.size);
        for (const id of this.sharers)
          send(id, {
            kind: 'forwarded',
            round,
            sender: SERVER_ID,
            envelopes: (this.mailboxes.get(id) ?? []).filter((e) => this.sharers.has(e.peer)),
          });
        this.mailboxes.clear();
        this.current = 'masked-input';
        break;
      case 'masked-input': {
        if (this.maskedSenders.size < threshold) this.tooFew('sent their masked inputs', this.maskedSenders.size);
        const ids = [...this.maskedSenders].sort((a, b) => a - b);
        for (const id of ids) send(id, { kind: 'survivors', round, sender: SERVER_ID, ids });
        this.current = 'unmask';
        break;
      }
      case 'unmask':
        if (this.responders.size < threshold) this.tooFew('sent their unmasking shares', this.responders.size);
        this.outcome = this.unmaskSum();
        this.current = 'result';
        break;
      case 'result':
        this.fail('the round is over');
    }
    return out;
  }

  /** Σ y_u − Σ PRG(b_u) ∓ the dropped clients' pairwise masks, decoded. */
  private unmaskSum(): SecAggOutcome {
    const { round, threshold, vectorLength, fixedPoint } = this.parameters;
    const phase: SecAggPhase = 'unmask';
    const helpers = [...this.responders].sort((a, b) => a - b).slice(0, threshold);
    const weights = lagrangeAtZero(helpers.map((id) => id + 1));
    const secret = (about: number): Uint8Array => {
      const shares = this.revealed.get(about)!;
      const value = combine(
        helpers.map((helper) => shares.get(helper)!),
        weights,
      );
      if (value >= 1n << 256n)
        throw new SecAggError(
          'COMM',
          { round, phase, client: about },
          'its shares reconstruct no 32-byte secret: a revealed share is corrupt',
        );
      return bigintToBytes(value, 32);
    };
    const sum = this.sum;
    const included = [...this.maskedSenders].sort((a, b) => a - b);
    for (const id of included) {
      const selfMask = expandMask(deriveKey('shardlearn secagg self mask', round, id, id, secret(id)), vectorLength);
      for (let i = 0; i < vectorLength; i++) sum[i]! -= selfMask[i]!;
    }
    // clients whose pairwise masks are in the survivors' inputs but whose own input never came
    const maskedOnly = [...this.sharers].filter((id) => !this.maskedSenders.has(id)).sort((a, b) => a - b);
    const parsed = new Map<number, KeyObject>();
    const publicOf = (id: number): KeyObject => {
      let key = parsed.get(id);
      if (key === undefined) {
        key = publicKeyObject(this.keys.get(id)!.mask);
        parsed.set(id, key);
      }
      return key;
    };
    for (const gone of maskedOnly) {
      const privateKey = secret(gone);
      const privateObject = privateKeyObject(privateKey);
      if (!equal(publicKeyOf(privateKey), this.keys.get(gone)!.mask))
        throw new SecAggError(
          'COMM',
          { round, phase, client: gone },
          'its reconstructed mask key does not match the key it advertised: a revealed share is corrupt',
        );
      for (const id of included) {
        const mask = expandMask(deriveKey('shardlearn secagg mask', round, id, gone, agree(privateObject, publicOf(id))), vectorLength);
        // y_id carries +mask when id < gone, −mask when id > gone
        if (id < gone) for (let i = 0; i < vectorLength; i++) sum[i]! -= mask[i]!;
        else for (let i = 0; i < vectorLength; i++) sum[i]! += mask[i]!;
      }
    }
    const notIncluded = [...this.keys.keys()].filter((id) => !this.maskedSenders.has(id)).sort((a, b) => a - b);
    return { sum: dequantize(sum, fixedPoint), included, dropped: notIncluded };
  }

  /** The round's result, after the unmask phase closed. */
  result(): SecAggOutcome {
    if (this.outcome === undefined)
      throw new SecAggError('COMM', { round: this.parameters.round, phase: this.current }, 'no result before the unmask phase closes');
    return this.outcome;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
