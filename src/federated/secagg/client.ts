/**
 * One client of a secure aggregation round (Bonawitz et al., CCS 2017, §4, the honest-but-curious
 * protocol), as a state machine over byte messages: `handle(null)` starts the round and every later
 * server message returns the client's answer. It never awaits and never touches a socket, so the same
 * code runs under the in-process driver (simulate.ts) and over any transport.
 *
 *   advertise     → send (c_pk, s_pk): a channel key pair and a mask key pair (X25519)
 *   roster        → Shamir-share the self-mask seed b and the mask private key s_sk among the roster
 *                   (threshold t); send each peer its shares, encrypted under the channel key
 *   forwarded     → keep the peers' shares; send y = q(x) + PRG(b) + Σ_{v≠u} ±PRG(s_uv) mod 2^32,
 *                   + when u < v, − when u > v, so every pairwise mask cancels in the sum
 *   survivors     → for each peer that sent shares: the share of its b if it survived (its self mask
 *                   must go), else the share of its s_sk (its pairwise masks must go). Never both.
 */
import { ConfigError } from '../../core/errors.js';
import {
  agree,
  deriveKey,
  expandMask,
  generateKeyPair,
  open,
  publicKeyObject,
  seal,
  systemRandom,
  type KeyPair,
  type RandomSource,
} from './crypto.js';
import type { KeyObject } from 'node:crypto';
import { SecAggError, type SecAggPhase } from './errors.js';
import { quantize } from './fixed-point.js';
import {
  channelContext,
  decode,
  decodeSharePlaintext,
  encode,
  encodeSharePlaintext,
  MalformedMessage,
  SERVER_ID,
  type Message,
  type MessageKind,
  type PublicKeys,
  type RevealedShare,
} from './messages.js';
import { resolveParameters, type ResolvedParameters, type SecAggParameters } from './parameters.js';
import { bigintToBytes, SHARE_BYTES, split } from './shamir.js';

type ClientState = 'start' | 'advertised' | 'shared' | 'masked' | 'done';

const EXPECTED: Record<Exclude<ClientState, 'start' | 'done'>, { kind: MessageKind; phase: SecAggPhase }> = {
  advertised: { kind: 'roster', phase: 'share' },
  shared: { kind: 'forwarded', phase: 'masked-input' },
  masked: { kind: 'survivors', phase: 'unmask' },
};

/** The shares this client holds of one peer's secrets. */
interface HeldShares {
  selfMask: Uint8Array;
  maskKey: Uint8Array;
}

export class SecAggClient {
  readonly id: number;
  private readonly parameters: ResolvedParameters;
  private readonly random: RandomSource;
  private state: ClientState = 'start';
  private readonly channelKeys: KeyPair;
  private readonly maskKeys: KeyPair;
  private selfSeed: Uint8Array | undefined;
  private roster = new Map<number, PublicKeys>();
  private readonly parsedKeys = new Map<string, KeyObject>();
  private readonly channelKeysByPeer = new Map<number, Uint8Array>();
  private readonly held = new Map<number, HeldShares>();
  private input: Float64Array | undefined;
  /** Bytes of the messages this client sent and received, and values clamped into the fixed-point range. */
  readonly stats = { bytesSent: 0, bytesReceived: 0, clampedValues: 0 };

  constructor(id: number, parameters: SecAggParameters, options: { random?: RandomSource } = {}) {
    if (!Number.isInteger(id) || id < 0 || id >= SERVER_ID)
      throw new ConfigError(`a secure aggregation client id must be an integer in [0, 2^32 − 1), found ${id}`, { field: 'clients' });
    this.id = id;
    this.parameters = resolveParameters(parameters);
    this.random = options.random ?? systemRandom;
    this.channelKeys = generateKeyPair(this.random);
    this.maskKeys = generateKeyPair(this.random);
  }

  /** The vector to aggregate; needed before the server's `forwarded` message arrives. */
  setInput(vector: Float64Array): void {
    if (vector.length !== this.parameters.vectorLength)
      throw new ConfigError(
        `client ${this.id}: the input has ${vector.length} values, the round aggregates ${this.parameters.vectorLength}`,
        {
          field: 'secure-aggregation',
        },
      );
    this.input = vector;
  }

  /** The answer to a server message (null: start the round). */
  handle(bytes: Uint8Array | null): Uint8Array {
    const reply = this.respond(bytes);
    if (bytes !== null) this.stats.bytesReceived += bytes.length;
    this.stats.bytesSent += reply.length;
    return reply;
  }

  private fail(phase: SecAggPhase, message: string, client?: number): never {
    throw new SecAggError('COMM', { round: this.parameters.round, phase, client }, message);
  }

  private respond(bytes: Uint8Array | null): Uint8Array {
    if (this.state === 'start') {
      if (bytes !== null) this.fail('advertise', `client ${this.id} expected to start the round (null), got a message`);
      this.state = 'advertised';
      return encode({
        kind: 'advertise',
        round: this.parameters.round,
        sender: this.id,
        keys: { channel: this.channelKeys.publicKey, mask: this.maskKeys.publicKey },
      });
    }
    if (this.state === 'done') this.fail('result', `client ${this.id} has finished this round; it expects no more messages`);
    const expected = EXPECTED[this.state];
    if (bytes === null) this.fail(expected.phase, `client ${this.id} expected a ${expected.kind} message, got none`);
    let message: Message;
    try {
      message = decode(bytes);
    } catch (error) {
      if (error instanceof MalformedMessage)
        this.fail(expected.phase, `client ${this.id} received a malformed message from the server: ${error.message}`);
      throw error;
    }
    if (message.kind !== expected.kind || message.round !== this.parameters.round || message.sender !== SERVER_ID)
      this.fail(
        expected.phase,
        `client ${this.id} expected a ${expected.kind} message of round ${this.parameters.round} from the server, got ${message.kind} of round ${message.round} from sender ${message.sender}`,
      );
    switch (message.kind) {
      case 'roster':
        return this.shareKeys(message.entries);
      case 'forwarded':
        return this.maskInput(message.envelopes);
      case 'survivors':
        return this.unmask(message.ids);
      default:
        return this.fail(expected.phase, `unexpected ${message.kind}`);
    }
  }

  private shareKeys(entries: readonly { id: number; channel: Uint8Array; mask: Uint8Array }[]): Uint8Array {
    const { round, threshold, fixedPoint } = this.parameters;
    const phase = 'share';
    if (entries.length < threshold) this.fail(phase, `the roster has ${entries.length} clients, fewer than the threshold ${threshold}`);
    if (entries.length > 2 ** fixedPoint.clientBits)
      this.fail(
        phase,
        `the roster has ${entries.length} clients; the fixed-point ring sums at most 2^${fixedPoint.clientBits} without overflow`,
      );
    const keys = new Set<string>();
    for (const entry of entries) {
      if (this.roster.has(entry.id)) this.fail(phase, `the roster lists client ${entry.id} twice`, entry.id);
      for (const key of [entry.channel, entry.mask]) {
        const text = Buffer.from(key).toString('hex');
        if (keys.has(text)) this.fail(phase, `client ${entry.id} advertises a public key another roster entry also has`, entry.id);
        keys.add(text);
      }
      this.roster.set(entry.id, { channel: entry.channel, mask: entry.mask });
    }
    const own = this.roster.get(this.id);
    if (own === undefined || !equal(own.channel, this.channelKeys.publicKey) || !equal(own.mask, this.maskKeys.publicKey))
      this.fail(phase, `the roster does not list client ${this.id} with the keys it advertised`);
    this.selfSeed = this.random(32);
    const ids = [...this.roster.keys()].sort((a, b) => a - b);
    const xs = ids.map((id) => id + 1);
    const selfShares = split(this.selfSeed, xs, threshold, this.random);
    const keyShares = split(this.maskKeys.privateKey, xs, threshold, this.random);
    const envelopes = [];
    for (let i = 0; i < ids.length; i++) {
      const peer = ids[i]!;
      const selfMask = bigintToBytes(selfShares[i]!, SHARE_BYTES);
      const maskKey = bigintToBytes(keyShares[i]!, SHARE_BYTES);
      if (peer === this.id) {
        this.held.set(peer, { selfMask, maskKey });
        continue;
      }
      const key = this.channelKey(peer, phase);
      envelopes.push({
        peer,
        ciphertext: seal(key, encodeSharePlaintext(this.id, peer, selfMask, maskKey), channelContext(round, this.id, peer), this.random),
      });
    }
    this.state = 'shared';
    return encode({ kind: 'shares', round, sender: this.id, envelopes });
  }

  private channelKey(peer: number, phase: SecAggPhase): Uint8Array {
    let key = this.channelKeysByPeer.get(peer);
    if (key === undefined) {
      key = deriveKey(
        'shardlearn secagg channel',
        this.parameters.round,
        this.id,
        peer,
        this.agreeWith(peer, 'channel', this.channelKeys, phase),
      );
      this.channelKeysByPeer.set(peer, key);
    }
    return key;
  }

  private agreeWith(peer: number, which: 'channel' | 'mask', own: KeyPair, phase: SecAggPhase): Uint8Array {
    try {
      const cacheKey = `${which} ${peer}`;
      let theirs = this.parsedKeys.get(cacheKey);
      if (theirs === undefined) {
        theirs = publicKeyObject(this.roster.get(peer)![which]);
        this.parsedKeys.set(cacheKey, theirs);
      }
      return agree(own.privateObject, theirs);
    } catch (error) {
      return this.fail(phase, `its ${which} public key is not a usable X25519 key (${(error as Error).message})`, peer);
    }
  }

  private maskInput(envelopes: readonly { peer: number; ciphertext: Uint8Array }[]): Uint8Array {
    const { round, threshold, vectorLength, fixedPoint } = this.parameters;
    const phase = 'masked-input';
    if (this.input === undefined)
      throw new ConfigError(`client ${this.id}: call setInput before the masked-input phase`, { field: 'secure-aggregation' });
    for (const { peer, ciphertext } of envelopes) {
      if (peer === this.id || !this.roster.has(peer) || this.held.has(peer))
        this.fail(phase, `the server forwarded shares from client ${peer}, which is not a distinct peer of the roster`, peer);
      const plain = open(this.channelKey(peer, phase), ciphertext, channelContext(round, peer, this.id));
      const shares = plain === null ? null : decodeSharePlaintext(plain);
      if (shares === null || shares.from !== peer || shares.to !== this.id)
        this.fail(phase, `the shares client ${peer} sent to client ${this.id} do not decrypt and authenticate`, peer);
      this.held.set(peer, { selfMask: shares.selfMask, maskKey: shares.maskKey });
    }
    if (this.held.size < threshold) this.fail(phase, `only ${this.held.size} clients shared keys, fewer than the threshold ${threshold}`);
    const { ring, clamped } = quantize(this.input, fixedPoint);
    this.stats.clampedValues += clamped;
    const selfMask = expandMask(deriveKey('shardlearn secagg self mask', round, this.id, this.id, this.selfSeed!), vectorLength);
    for (let i = 0; i < vectorLength; i++) ring[i]! += selfMask[i]!;
    for (const peer of this.held.keys()) {
      if (peer === this.id) continue;
      const mask = expandMask(
        deriveKey('shardlearn secagg mask', round, this.id, peer, this.agreeWith(peer, 'mask', this.maskKeys, phase)),
        vectorLength,
      );
      if (this.id < peer) for (let i = 0; i < vectorLength; i++) ring[i]! += mask[i]!;
      else for (let i = 0; i < vectorLength; i++) ring[i]! -= mask[i]!;
    }
    this.state = 'masked';
    this.input = undefined;
    return encode({ kind: 'masked-input', round, sender: this.id, vector: ring });
  }

  private unmask(ids: readonly number[]): Uint8Array {
    const { round, threshold } = this.parameters;
    const phase = 'unmask';
    const survivors = new Set(ids);
    if (survivors.size !== ids.length) this.fail(phase, 'the survivors list names a client twice');
    if (survivors.size < threshold)
      this.fail(phase, `only ${survivors.size} clients sent masked inputs, fewer than the threshold ${threshold}`);
    if (!survivors.has(this.id)) this.fail(phase, `the survivors list does not include client ${this.id}, which sent its masked input`);
    for (const id of survivors)
      if (!this.held.has(id))
        this.fail(phase, `the survivors list names client ${id}, which did not share keys with client ${this.id}`, id);
    const shares: RevealedShare[] = [];
    for (const [about, held] of this.held)
      shares.push(
        survivors.has(about) ? { about, kind: 'self-mask', share: held.selfMask } : { about, kind: 'mask-key', share: held.maskKey },
      );
    this.state = 'done';
    return encode({ kind: 'unmask', round, sender: this.id, shares });
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
