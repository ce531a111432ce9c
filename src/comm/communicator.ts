/**
 * The contract every trainer talks to (DESIGN.md): one `Communicator` per worker, SPMD style.
 * Model code receives one and never asks which transport is underneath; the paradigm is chosen in
 * `runtime/`, once.
 *
 * Collectives are in place. A synchronous strategy with a deterministic reduction order gives the
 * same model in every paradigm: implementations must reduce in ascending rank order
 * (((b0 + b1) + b2) + …) so a fixed world size and seed give bitwise-identical results whichever
 * transport carried the bytes.
 */
import type { FloatArray } from '../core/storage.js';

export type ReduceOp = 'sum' | 'max' | 'min';

/**
 * How long a rank waits on a peer (or a launcher on its ranks) before giving up, when nobody says
 * otherwise: two minutes. The one default every transport and paradigm uses (FitOptions.timeoutMs).
 */
export const DEFAULT_TIMEOUT_MS = 120_000;

/** A point-to-point message: a small JSON-able header and optional raw numeric payloads. */
export interface Message {
  /** What the message is (e.g. 'push', 'pull', 'params'); data only, never code. */
  tag: string;
  /** Small metadata, JSON-serialisable. */
  header?: Record<string, unknown>;
  /** Numeric payloads, carried as raw bytes by transports that cross process boundaries. */
  arrays?: FloatArray[];
  /**
   * Opaque byte payloads (a codec's encoded update), after the arrays. Carried by the ZeroMQ
   * transport (wire byte frames); the shared-memory transport refuses them.
   */
  bytes?: Uint8Array[];
}

/**
 * What crossed this worker's boundary. Every byte of model state, statistics or gradient is counted
 * in `bytesSent`/`bytesReceived`, collectives included. `messagesSent`/`messagesReceived` count
 * point-to-point messages (send/recv) only; collectives are counted once per call in `collectives`,
 * whatever number of transport messages an algorithm uses (shared memory uses none), so the counts
 * compare across transports.
 */
export interface CommStats {
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  collectives: number;
  /** Wall-clock milliseconds spent inside communication calls (waiting plus copying). */
  commMs: number;
}

export interface Communicator {
  readonly rank: number;
  readonly size: number;
  /** Reduce `buffer` over all ranks, result in every rank's `buffer`. Deterministic order (ascending rank). */
  allReduce(buffer: FloatArray, op?: ReduceOp): Promise<void>;
  /** Copy `root`'s `buffer` into every rank's `buffer` (same length everywhere). */
  broadcast(buffer: FloatArray, root: number): Promise<void>;
  send(to: number, message: Message): Promise<void>;
  /** The next message from `from` (or from anyone when omitted), with the sender's rank. */
  recv(from?: number): Promise<Message & { from: number }>;
  barrier(): Promise<void>;
  readonly stats: CommStats;
  /** Release transport resources. Idempotent. */
  close(): Promise<void>;
}

export function emptyStats(): CommStats {
  return { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0, collectives: 0, commMs: 0 };
}

/** Bytes a message's numeric payload occupies on the wire (header excluded). */
export function payloadBytes(message: Message): number {
  let bytes = 0;
  for (const array of message.arrays ?? []) bytes += array.byteLength;
  for (const frame of message.bytes ?? []) bytes += frame.byteLength;
  return bytes;
}

/** Element-wise reduction of `source` into `target` (the reference used by every transport). */
export function reduceInto(target: FloatArray, source: FloatArray, op: ReduceOp, offset = 0, length = target.length - offset): void {
  const end = offset + length;
  switch (op) {
    case 'sum':
      for (let i = offset; i < end; i++) target[i]! += source[i]!;
      return;
    case 'max':
      for (let i = offset; i < end; i++) if (source[i]! > target[i]! || Number.isNaN(source[i]!)) target[i] = source[i]!;
      return;
    case 'min':
      for (let i = offset; i < end; i++) if (source[i]! < target[i]! || Number.isNaN(source[i]!)) target[i] = source[i]!;
      return;
  }
}
