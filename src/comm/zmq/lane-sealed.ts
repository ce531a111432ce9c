/**
 * The sealed byte stream of the collective lane over TCP (zmq/lane.ts): the handshake that gives a
 * connection its keys, the writer that cuts frames into sealed records, and the reader that opens
 * them before the lane's frame reader (zmq/lane-frame.ts) sees a byte. The crypto is zmq/lane-seal.ts.
 *
 * Handshake, on each connection (the connector opened it and reads frames on it; the acceptor writes):
 *   1. connector → acceptor: its hello (zmq/hello.ts: job, generation, rank, size, proof of the
 *      secret) with a fresh `nonce` (32 bytes, hex);
 *   2. acceptor → connector, if the hello matches: CHALLENGE, its own fresh 32-byte nonce, and the
 *      key confirmation of the acceptor→connector key (the tag of an empty record 0);
 *   3. connector → acceptor: the key confirmation of the connector→acceptor key;
 *   4. acceptor → connector: record 1, sealed, holding the lane's ADMITTED byte; frames follow.
 * A hello replayed by someone who saw it on the network passes step 1 but cannot answer step 3 (the
 * keys need the secret and the acceptor's fresh nonce); an acceptor without the secret fails step 2.
 *
 * Reading: a failed tag, a record longer than MAX_RECORD_BYTES, or a bad challenge calls `refused`
 * with the reason (the lane then loses that peer and closes the connection); nothing of a record is
 * handed on before its tag is checked. `partial` tells the lane, when the stream ends, whether it
 * ended inside a record (a truncated stream).
 *
 * Writing: records of up to MAX_RECORD_BYTES; a frame of several records yields to the event loop
 * between them (setImmediate), so the kernel sends record i, and this rank reads and opens its peer's
 * records, while it seals record i+1. Frames leave in call order.
 *
 * @example
 * const reader = new SealedReader({ secret, context, inner: frameReader, answer: (b) => socket.write(b), refused });
 * connect({ host, port, onread: { buffer: () => reader.buffer(), callback: (n) => (reader.read(n), true) } });
 * const writer = new SealedWriter(acceptedSocket, keys.acceptorToConnector);
 * writer.write([header, payload], (error) => …);
 */
import type { Socket } from 'node:net';
import type { CipherKey } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import type { LaneKeyContext } from './lane-seal.js';
import {
  HANDSHAKE_NONCE_BYTES,
  MAX_RECORD_BYTES,
  RECORD_HEADER_BYTES,
  TAG_BYTES,
  confirmation,
  confirms,
  laneKeys,
  openRecord,
  sealRecord,
  sealingKey,
} from './lane-seal.js';

/** The first byte of an acceptor's challenge (step 2). */
export const CHALLENGE = 0x02;
export const CHALLENGE_BYTES = 1 + HANDSHAKE_NONCE_BYTES + TAG_BYTES;
/** The connector's answer (step 3): a key confirmation. */
export const ANSWER_BYTES = TAG_BYTES;

/** A fresh handshake nonce. */
export function handshakeNonce(): Buffer {
  return randomBytes(HANDSHAKE_NONCE_BYTES);
}

/** A hello's `nonce` field as bytes, or null when it is not 32 bytes of hex. */
export function helloNonce(field: unknown): Buffer | null {
  if (typeof field !== 'string' || !new RegExp(`^[0-9a-f]{${2 * HANDSHAKE_NONCE_BYTES}}$`).test(field)) return null;
  return Buffer.from(field, 'hex');
}

/** The acceptor's side of steps 2 and 3: its challenge, and the check of the connector's answer. */
export function acceptorHandshake(
  secret: Uint8Array,
  context: Omit<LaneKeyContext, 'acceptorNonce'>,
): { challenge: Buffer; answered: (answer: Uint8Array) => boolean; sendKey: Buffer } {
  const acceptorNonce = handshakeNonce();
  const keys = laneKeys(secret, { ...context, acceptorNonce });
  return {
    challenge: Buffer.concat([Buffer.of(CHALLENGE), acceptorNonce, confirmation(keys.acceptorToConnector)]),
    answered: (answer) => confirms(keys.connectorToAcceptor, answer),
    sendKey: keys.acceptorToConnector,
  };
}

/** Where a SealedReader hands the plaintext: the lane's frame reader (zmq/lane-frame.ts `Reader`). */
export interface ByteSink {
  buffer(): Uint8Array;
  read(bytes: number): void;
}

export interface SealedReaderParts {
  secret: Uint8Array;
  /** The connection's context but the acceptor's nonce, which its challenge brings. */
  context: Omit<LaneKeyContext, 'acceptorNonce'>;
  inner: ByteSink;
  /** Write the connector's answer (step 3) to the acceptor. */
  answer: (bytes: Buffer) => void;
  /** The stream is refused (the lane loses the peer and closes the connection). */
  refused: (reason: string) => void;
}

/** Reads the sealed stream on a connection this rank opened (see the top of this file). */
export class SealedReader {
  /** Room for two whole records: the one being read and the start of the next. */
  private readonly scratch = Buffer.alloc(2 * (RECORD_HEADER_BYTES + MAX_RECORD_BYTES + TAG_BYTES));
  private start = 0;
  private end = 0;
  private key: CipherKey | null = null;
  private counter = 1;
  private failed = false;

  constructor(private readonly parts: SealedReaderParts) {}

  /** Bytes held of an unfinished challenge or record: nonzero when the stream ended inside one (truncated). */
  get partial(): number {
    return this.end - this.start;
  }

  buffer(): Uint8Array {
    return this.scratch.subarray(this.end);
  }

  read(bytes: number): void {
    this.end += bytes;
    if (this.failed) return;
    if (this.key === null && !this.challenged()) return;
    while (!this.failed && this.end - this.start >= RECORD_HEADER_BYTES) {
      const length = this.scratch.readUInt32LE(this.start);
      if (length > MAX_RECORD_BYTES) return this.refuse(`a sealed record of ${length} bytes announced (at most ${MAX_RECORD_BYTES})`);
      const total = RECORD_HEADER_BYTES + length + TAG_BYTES;
      if (this.end - this.start < total) break;
      const at = this.start;
      const plaintext = openRecord(
        this.key!,
        this.counter,
        this.scratch.subarray(at, at + RECORD_HEADER_BYTES),
        this.scratch.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + length),
        this.scratch.subarray(at + RECORD_HEADER_BYTES + length, at + total),
      );
      if (plaintext === null)
        return this.refuse(
          `sealed record #${this.counter} failed authentication (tampered, replayed, reordered, or sealed under another key)`,
        );
      this.counter++;
      this.start += total;
      this.feed(plaintext);
    }
    this.compact();
  }

  /** Step 2, once its bytes are in: derive the keys, check the acceptor's confirmation, answer. False until done. */
  private challenged(): boolean {
    if (this.end - this.start < CHALLENGE_BYTES) return false;
    const at = this.start;
    if (this.scratch[at] !== CHALLENGE) {
      this.refuse('its lane answered the hello with something other than a challenge');
      return false;
    }
    const acceptorNonce = Buffer.from(this.scratch.subarray(at + 1, at + 1 + HANDSHAKE_NONCE_BYTES));
    const keys = laneKeys(this.parts.secret, { ...this.parts.context, acceptorNonce });
    if (!confirms(keys.acceptorToConnector, this.scratch.subarray(at + 1 + HANDSHAKE_NONCE_BYTES, at + CHALLENGE_BYTES))) {
      this.refuse("its lane's key confirmation failed (it does not hold this job's secret)");
      return false;
    }
    this.key = sealingKey(keys.acceptorToConnector);
    this.start += CHALLENGE_BYTES;
    this.parts.answer(confirmation(keys.connectorToAcceptor));
    return true;
  }

  private feed(plaintext: Buffer): void {
    const { inner } = this.parts;
    for (let offset = 0; offset < plaintext.byteLength && !this.failed;) {
      const into = inner.buffer();
      if (into.byteLength === 0) return this.refuse('a sealed record held bytes the frame reader did not expect');
      const bytes = Math.min(into.byteLength, plaintext.byteLength - offset);
      into.set(plaintext.subarray(offset, offset + bytes));
      offset += bytes;
      inner.read(bytes);
    }
  }

  /** Move an unfinished record to the front when the room after it is less than a whole record. */
  private compact(): void {
    if (this.start === this.end) {
      this.start = this.end = 0;
    } else if (this.scratch.byteLength - this.start < RECORD_HEADER_BYTES + MAX_RECORD_BYTES + TAG_BYTES) {
      this.scratch.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
  }

  private refuse(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.parts.refused(reason);
  }
}

interface Job {
  parts: readonly Uint8Array[];
  /** Which part and offset the next record starts at. */
  part: number;
  offset: number;
  done: (error?: Error | null) => void;
}

/** Writes frames as sealed records on a connection this rank accepted (see the top of this file). */
export class SealedWriter {
  private readonly queue: Job[] = [];
  private busy = false;
  private readonly key: CipherKey;

  /** `counter`: the first record's (1: record 0 was the handshake's confirmation). */
  constructor(
    private readonly socket: Socket,
    key: Buffer,
    private counter = 1,
  ) {
    this.key = sealingKey(key);
  }

  /** Seal and write the concatenation of `parts`; `done` once the kernel has the last record (or with the error). */
  write(parts: readonly Uint8Array[], done: (error?: Error | null) => void): void {
    this.queue.push({ parts, part: 0, offset: 0, done });
    if (!this.busy) this.pump();
  }

  private pump(): void {
    this.busy = true;
    while (this.queue.length > 0) {
      if (this.socket.destroyed) {
        for (const job of this.queue.splice(0)) job.done(new Error('the connection closed'));
        break;
      }
      const job = this.queue[0]!;
      const last = this.sealNext(job);
      if (!last) {
        setImmediate(() => this.pump());
        return;
      }
      this.queue.shift();
    }
    this.busy = false;
  }

  /** Seal and write the job's next record; true when it was its last. */
  private sealNext(job: Job): boolean {
    const pieces: Uint8Array[] = [];
    let room = MAX_RECORD_BYTES;
    while (job.part < job.parts.length && room > 0) {
      const part = job.parts[job.part]!;
      const bytes = Math.min(room, part.byteLength - job.offset);
      if (bytes > 0) pieces.push(part.subarray(job.offset, job.offset + bytes));
      room -= bytes;
      job.offset += bytes;
      if (job.offset === part.byteLength) {
        job.part++;
        job.offset = 0;
      }
    }
    const last = job.part === job.parts.length;
    const record = sealRecord(this.key, this.counter++, pieces);
    this.socket.cork();
    this.socket.write(record.header);
    for (const piece of record.ciphertext) this.socket.write(piece);
    if (last) this.socket.write(record.tag, job.done);
    else this.socket.write(record.tag);
    this.socket.uncork();
    return last;
  }
}
