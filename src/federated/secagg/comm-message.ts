/**
 * Secure aggregation's byte messages on a `Communicator`, whose messages carry float arrays and whose
 * transports refuse non-finite values (src/comm/zmq/communicator.ts: "non-finite values from the
 * wire never reach the model"). Raw bytes viewed as float64 would often be NaN, so each float64
 * carries 6 bytes as an integer in [0, 2^48) — always finite, always exact — at 4/3 the bytes.
 *
 * That overhead is the transport's, not the protocol's: a Communicator with a byte payload would carry
 * the messages at their own size (the figures in docs/federated-privacy.md are the protocol's).
 */
import type { Message } from '../../comm/communicator.js';
import { SecAggError, type SecAggPhase } from './errors.js';

export const SECAGG_TAG = 'secagg';
const BYTES_PER_WORD = 6;

/** `bytes` as a Communicator message (tag 'secagg', header {bytes}, one float64 array). */
export function toCommMessage(bytes: Uint8Array): Message {
  const words = new Float64Array(Math.ceil(bytes.length / BYTES_PER_WORD));
  for (let w = 0; w < words.length; w++) {
    let value = 0;
    for (let k = BYTES_PER_WORD - 1; k >= 0; k--) value = value * 256 + (bytes[w * BYTES_PER_WORD + k] ?? 0);
    words[w] = value;
  }
  return { tag: SECAGG_TAG, header: { bytes: bytes.length }, arrays: [words] };
}

/** The bytes `toCommMessage` packed; a message that is not one throws a SecAggError naming `from`. */
export function fromCommMessage(message: Message, where: { from: number; round: number; phase: SecAggPhase }): Uint8Array {
  const fail = (why: string): never => {
    throw new SecAggError(
      'COMM',
      { round: where.round, phase: where.phase, client: where.from },
      `not a secure aggregation message: ${why}`,
    );
  };
  const length = message.header?.['bytes'];
  const words = message.arrays?.[0];
  if (message.tag !== SECAGG_TAG) fail(`tag '${message.tag}', expected '${SECAGG_TAG}'`);
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) fail('its header has no byte count');
  if (words === undefined || message.arrays!.length !== 1 || words.length !== Math.ceil((length as number) / BYTES_PER_WORD))
    fail(`expected one array of ${Math.ceil((length as number) / BYTES_PER_WORD)} words for ${length as number} bytes`);
  const bytes = new Uint8Array(length as number);
  for (let w = 0; w < words!.length; w++) {
    let value = words![w]!;
    if (!(Number.isInteger(value) && value >= 0 && value < 2 ** 48)) fail(`word ${w} is ${value}, not an integer in [0, 2^48)`);
    for (let k = 0; k < BYTES_PER_WORD; k++) {
      const at = w * BYTES_PER_WORD + k;
      const byte = value % 256;
      value = (value - byte) / 256;
      if (at < bytes.length) bytes[at] = byte;
      else if (byte !== 0) fail('nonzero padding after the last byte');
    }
  }
  return bytes;
}
