/**
 * The wire format of secure aggregation: every message is bytes, so what a client sends and receives
 * is counted from the real encoding, and any transport (an in-process call, ZeroMQ) can carry it.
 *
 * Header (12 bytes, little-endian): 0x53 ('S'), version 1, kind, 0, round (u32), sender (u32; the
 * server is 0xFFFFFFFF). Bodies, n the clients in the roster, L the vector length:
 *   advertise    c_pk[32] s_pk[32]                                   client → server   76 B
 *   roster       count, count × (id, c_pk[32], s_pk[32])             server → client   16 + 68n B
 *   shares       count, count × (to, ciphertext[102])                client → server   16 + 106(n−1) B
 *   forwarded    count, count × (from, ciphertext[102])              server → client   16 + 106(n−1) B
 *   masked-input length, length × u32                                client → server   16 + 4L B
 *   survivors    count, count × id                                   server → client   16 + 4n B
 *   unmask       count, count × (about, kind u8, share[33])          client → server   16 + 38n B
 * A ciphertext is nonce[12] ‖ AES-GCM(from, to, share of b, share of s_sk) ‖ tag[16] = 102 bytes.
 */
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES } from './crypto.js';
import { SHARE_BYTES } from './shamir.js';

export const SERVER_ID = 0xffffffff;
const MAGIC = 0x53;
const VERSION = 1;
export const HEADER_BYTES = 12;
/** The plaintext of one share ciphertext: from, to, the share of the self-mask seed and of the mask key. */
export const SHARE_PLAINTEXT_BYTES = 8 + 2 * SHARE_BYTES;
export const CIPHERTEXT_BYTES = NONCE_BYTES + SHARE_PLAINTEXT_BYTES + TAG_BYTES;

export const MESSAGE_KINDS = ['advertise', 'roster', 'shares', 'forwarded', 'masked-input', 'survivors', 'unmask'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export interface PublicKeys {
  channel: Uint8Array;
  mask: Uint8Array;
}
export interface RosterEntry extends PublicKeys {
  id: number;
}
export interface Envelope {
  peer: number;
  ciphertext: Uint8Array;
}
export type ShareKind = 'self-mask' | 'mask-key';
export interface RevealedShare {
  about: number;
  kind: ShareKind;
  share: Uint8Array;
}

export type Body =
  | { kind: 'advertise'; keys: PublicKeys }
  | { kind: 'roster'; entries: RosterEntry[] }
  | { kind: 'shares'; envelopes: Envelope[] }
  | { kind: 'forwarded'; envelopes: Envelope[] }
  | { kind: 'masked-input'; vector: Uint32Array }
  | { kind: 'survivors'; ids: number[] }
  | { kind: 'unmask'; shares: RevealedShare[] };

export type Message = Body & { round: number; sender: number };

/** A message that does not parse; the caller names the client it came from. */
export class MalformedMessage extends Error {}

function entryBytes(kind: MessageKind): number {
  switch (kind) {
    case 'advertise':
      return 2 * KEY_BYTES;
    case 'roster':
      return 4 + 2 * KEY_BYTES;
    case 'shares':
    case 'forwarded':
      return 4 + CIPHERTEXT_BYTES;
    case 'masked-input':
    case 'survivors':
      return 4;
    case 'unmask':
      return 5 + SHARE_BYTES;
  }
}

export function encode(message: Message): Uint8Array {
  const count =
    message.kind === 'advertise'
      ? 0
      : message.kind === 'roster'
        ? message.entries.length
        : message.kind === 'shares' || message.kind === 'forwarded'
          ? message.envelopes.length
          : message.kind === 'masked-input'
            ? message.vector.length
            : message.kind === 'survivors'
              ? message.ids.length
              : message.shares.length;
  const bodyBytes = message.kind === 'advertise' ? entryBytes('advertise') : 4 + count * entryBytes(message.kind);
  const out = new Uint8Array(HEADER_BYTES + bodyBytes);
  const view = new DataView(out.buffer);
  out[0] = MAGIC;
  out[1] = VERSION;
  out[2] = MESSAGE_KINDS.indexOf(message.kind);
  view.setUint32(4, message.round >>> 0, true);
  view.setUint32(8, message.sender >>> 0, true);
  let at = HEADER_BYTES;
  if (message.kind !== 'advertise') {
    view.setUint32(at, count, true);
    at += 4;
  }
  switch (message.kind) {
    case 'advertise':
      out.set(message.keys.channel, at);
      out.set(message.keys.mask, at + KEY_BYTES);
      break;
    case 'roster':
      for (const { id, channel, mask } of message.entries) {
        view.setUint32(at, id, true);
        out.set(channel, at + 4);
        out.set(mask, at + 4 + KEY_BYTES);
        at += entryBytes('roster');
      }
      break;
    case 'shares':
    case 'forwarded':
      for (const { peer, ciphertext } of message.envelopes) {
        view.setUint32(at, peer, true);
        out.set(ciphertext, at + 4);
        at += entryBytes('shares');
      }
      break;
    case 'masked-input':
      out.set(new Uint8Array(message.vector.buffer, message.vector.byteOffset, message.vector.byteLength), at);
      break;
    case 'survivors':
      for (const id of message.ids) {
        view.setUint32(at, id, true);
        at += 4;
      }
      break;
    case 'unmask':
      for (const { about, kind, share } of message.shares) {
        view.setUint32(at, about, true);
        out[at + 4] = kind === 'self-mask' ? 0 : 1;
        out.set(share, at + 5);
        at += entryBytes('unmask');
      }
      break;
  }
  return out;
}

/** A message from its bytes; throws MalformedMessage when the bytes do not parse (sizes are checked exactly). */
export function decode(bytes: Uint8Array): Message {
  if (bytes.length < HEADER_BYTES) throw new MalformedMessage(`${bytes.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (bytes[0] !== MAGIC || bytes[1] !== VERSION)
    throw new MalformedMessage(`not a secure aggregation message (magic ${bytes[0]}, version ${bytes[1]}; expected ${MAGIC}, ${VERSION})`);
  const kind = MESSAGE_KINDS[bytes[2]!];
  if (kind === undefined) throw new MalformedMessage(`unknown message kind ${bytes[2]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const round = view.getUint32(4, true);
  const sender = view.getUint32(8, true);
  // a copy in a fresh ArrayBuffer: a Node Buffer's slice() is a view into the socket's pool, and a
  // Uint32Array over the words needs its own 4-byte-aligned buffer
  const copy = (at: number, length: number): Uint8Array => new Uint8Array(bytes.subarray(at, at + length));
  if (kind === 'advertise') {
    if (bytes.length !== HEADER_BYTES + 2 * KEY_BYTES)
      throw new MalformedMessage(`advertise has ${bytes.length} bytes, expected ${HEADER_BYTES + 2 * KEY_BYTES}`);
    return { kind, round, sender, keys: { channel: copy(HEADER_BYTES, KEY_BYTES), mask: copy(HEADER_BYTES + KEY_BYTES, KEY_BYTES) } };
  }
  if (bytes.length < HEADER_BYTES + 4) throw new MalformedMessage(`${kind} has ${bytes.length} bytes, too short for its count`);
  const count = view.getUint32(HEADER_BYTES, true);
  const size = entryBytes(kind);
  if (bytes.length !== HEADER_BYTES + 4 + count * size)
    throw new MalformedMessage(
      `${kind} announces ${count} entries of ${size} bytes but has ${bytes.length - HEADER_BYTES - 4} bytes of them`,
    );
  const start = HEADER_BYTES + 4;
  const at = (i: number): number => start + i * size;
  switch (kind) {
    case 'roster':
      return {
        kind,
        round,
        sender,
        entries: Array.from({ length: count }, (_, i) => ({
          id: view.getUint32(at(i), true),
          channel: copy(at(i) + 4, KEY_BYTES),
          mask: copy(at(i) + 4 + KEY_BYTES, KEY_BYTES),
        })),
      };
    case 'shares':
    case 'forwarded':
      return {
        kind,
        round,
        sender,
        envelopes: Array.from({ length: count }, (_, i) => ({
          peer: view.getUint32(at(i), true),
          ciphertext: copy(at(i) + 4, CIPHERTEXT_BYTES),
        })),
      };
    case 'masked-input':
      return { kind, round, sender, vector: new Uint32Array(copy(start, 4 * count).buffer) };
    case 'survivors':
      return { kind, round, sender, ids: Array.from({ length: count }, (_, i) => view.getUint32(at(i), true)) };
    case 'unmask':
      return {
        kind,
        round,
        sender,
        shares: Array.from({ length: count }, (_, i) => {
          const flag = bytes[at(i) + 4];
          if (flag !== 0 && flag !== 1) throw new MalformedMessage(`unmask entry ${i} has share kind ${flag}, expected 0 or 1`);
          return {
            about: view.getUint32(at(i), true),
            kind: flag === 0 ? ('self-mask' as const) : ('mask-key' as const),
            share: copy(at(i) + 5, SHARE_BYTES),
          };
        }),
      };
  }
}

/** The plaintext of one share ciphertext. */
export function encodeSharePlaintext(from: number, to: number, selfMask: Uint8Array, maskKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(SHARE_PLAINTEXT_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, from, true);
  view.setUint32(4, to, true);
  out.set(selfMask, 8);
  out.set(maskKey, 8 + SHARE_BYTES);
  return out;
}

export function decodeSharePlaintext(bytes: Uint8Array): { from: number; to: number; selfMask: Uint8Array; maskKey: Uint8Array } | null {
  if (bytes.length !== SHARE_PLAINTEXT_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    from: view.getUint32(0, true),
    to: view.getUint32(4, true),
    selfMask: new Uint8Array(bytes.subarray(8, 8 + SHARE_BYTES)),
    maskKey: new Uint8Array(bytes.subarray(8 + SHARE_BYTES)),
  };
}

/** Associated data binding a share ciphertext to its round and its (from, to) pair. */
export function channelContext(round: number, from: number, to: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint32(0, round >>> 0, true);
  view.setUint32(4, from, true);
  view.setUint32(8, to, true);
  return out;
}

/**
 * Bytes one client sends and receives in a round where all n clients finish, from the sizes in the
 * module comment (the simulation test checks them against the real messages): sent = advertise +
 * shares + masked input + unmask, received = roster + forwarded + survivors.
 */
export function bytesPerClient(clients: number, vectorLength: number): { sent: number; received: number } {
  const framed = (count: number, entry: number): number => HEADER_BYTES + 4 + count * entry;
  const envelope = 4 + CIPHERTEXT_BYTES;
  return {
    sent: HEADER_BYTES + 2 * KEY_BYTES + framed(clients - 1, envelope) + framed(vectorLength, 4) + framed(clients, 5 + SHARE_BYTES),
    received: framed(clients, 4 + 2 * KEY_BYTES) + framed(clients - 1, envelope) + framed(clients, 4),
  };
}
