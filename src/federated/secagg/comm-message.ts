/**
 * Secure aggregation's byte messages on a `Communicator`: the protocol's bytes travel as one byte
 * frame (Message.bytes; comm/zmq/wire.ts carries byte frames as they are, with no finiteness check,
 * which applies to float arrays only), so the transport carries each message at its own size plus
 * the envelope. Until byte frames existed the bytes were packed 6 per float64 word (4/3 the bytes).
 *
 * @example
 * const message = toCommMessage(bytes); // { tag: 'secagg', header: { bytes: n }, bytes: [bytes] }
 * fromCommMessage(message, { from: 3, round: 1, phase: 'share' }); // the same bytes
 */
import type { Message } from '../../comm/communicator.js';
import { SecAggError, type SecAggPhase } from './errors.js';

export const SECAGG_TAG = 'secagg';

/** `bytes` as a Communicator message (tag 'secagg', header {bytes}, one byte frame). */
export function toCommMessage(bytes: Uint8Array): Message {
  return { tag: SECAGG_TAG, header: { bytes: bytes.length }, bytes: [bytes] };
}

/** The bytes of a `toCommMessage` message; a message that is not one throws a SecAggError naming `from`. */
export function fromCommMessage(message: Message, where: { from: number; round: number; phase: SecAggPhase }): Uint8Array {
  const fail = (why: string): never => {
    throw new SecAggError(
      'COMM',
      { round: where.round, phase: where.phase, client: where.from },
      `not a secure aggregation message: ${why}`,
    );
  };
  const length = message.header?.['bytes'];
  const frame = message.bytes?.[0];
  if (message.tag !== SECAGG_TAG) fail(`tag '${message.tag}', expected '${SECAGG_TAG}'`);
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) fail('its header has no byte count');
  if ((message.arrays?.length ?? 0) !== 0) fail(`it carries ${message.arrays!.length} float arrays, expected none`);
  if (frame === undefined || message.bytes!.length !== 1) fail(`expected one byte frame, found ${message.bytes?.length ?? 0}`);
  if (frame!.length !== length) fail(`its byte frame has ${frame!.length} bytes, the header announces ${length as number}`);
  // A plain view (a socket delivers a Buffer; its bytes are not copied).
  return new Uint8Array(frame!.buffer, frame!.byteOffset, frame!.byteLength);
}
