/**
 * A client's side of secure aggregation (Bonawitz et al. 2017), run by the host that trains the
 * client (the launcher's thread, a worker thread, a child process, another machine): the client's
 * key pairs, its Shamir shares, its unmasked update and its masked input exist only here. The server
 * (runtime/federated-secure.ts) sends this side protocol messages and gets back protocol messages:
 * public keys, share ciphertexts sealed to their recipient (AES-GCM under the X25519-agreed channel
 * key, so relaying them through the server reveals nothing), the masked input, unmasking shares.
 *
 * Messages on every placement are `Message`s (comm/communicator.ts), the SecAgg bytes in one byte
 * frame (federated/secagg/comm-message.ts):
 *   server → host  'secure-train' {task, secure} [global]  train, build the input, answer 'advertise'
 *                  'secagg' {round, client} [bytes]         the next server message of the protocol
 *   host → server  'secagg' {round, client, status} [bytes] status 'message' (the answer), 'left' (the
 *                  client dropped out before its masked input), 'non-finite' (its update was not
 *                  finite: an honest client never masks one), or 'failed' {message, code}
 *
 * The vector a client contributes is [wΔ/s, w/s] (w its rows, s the public mean rows per client), or
 * [Δ, 1] under client-side DP, exactly as before this side moved out of the server.
 *
 * @example
 * const side = new SecureClientSide();
 * const answer = await side.handle(message, { job, rowsOf: (client) => rowsOfClient });
 */
import type { Message } from '../comm/communicator.js';
import { ShardlearnError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import { SecAggClient } from '../federated/secagg/client.js';
import { fromCommMessage, SECAGG_TAG, toCommMessage } from '../federated/secagg/comm-message.js';
import { seededRandomSource, systemRandom } from '../federated/secagg/crypto.js';
import type { FixedPoint } from '../federated/secagg/fixed-point.js';
import { allFinite } from '../federated/server.js';
import type { ClientJob, ClientTask } from './federated-client.js';
import { runClientTask } from './federated-client.js';

export const SECURE_TRAIN_TAG = 'secure-train';

/** What the server tells a client about its secure aggregation round, with its task. */
export interface SecureSpec {
  /** Model parameters + 1 (the weight). */
  vectorLength: number;
  /** Shares needed to unmask: a strict majority of the clients sampled this round, fixed before the round (Bonawitz's t). */
  threshold: number;
  fixedPoint: FixedPoint;
  /** Public scale dividing the client's weight (the mean rows per client). */
  scale: number;
  /** Under client-side DP the client contributes [Δ, 1] (the server divides by the expected clients). */
  unweighted: boolean;
  /** Simulated dropout: the client advertises and shares its keys, then leaves before its masked input. */
  leaveBeforeInput: boolean;
  /**
   * Derive the client's secrets from this seed instead of the OS CSPRNG: reproducible, and NOT
   * private (whoever knows the seed knows the keys). For tests that audit what the server holds.
   */
  secretSeed: number | null;
}

export type SecureStatus = 'message' | 'left' | 'non-finite' | 'failed';

/** A host's answer, as the server reads it. */
export interface SecureAnswer {
  round: number;
  client: number;
  status: SecureStatus;
  /** The protocol message (status 'message'). */
  bytes?: Uint8Array;
  /** status 'failed': the client's error. */
  message?: string;
  code?: string | undefined;
}

/** The server's first message to a sampled client: train on the global weights, then advertise keys. */
export function secureTrainMessage(task: ClientTask, secure: SecureSpec, global: Float64Array): Message {
  return { tag: SECURE_TRAIN_TAG, header: { ...task, secure: { ...secure } }, arrays: [global] };
}

/** A protocol message from the server to a client's side. */
export function secureProtocolMessage(round: number, client: number, bytes: Uint8Array): Message {
  const packed = toCommMessage(bytes);
  return { tag: SECAGG_TAG, header: { ...packed.header, round, client }, bytes: packed.bytes! };
}

function answerMessage(answer: SecureAnswer): Message {
  const { bytes, ...rest } = answer;
  if (bytes === undefined) return { tag: SECAGG_TAG, header: { ...rest, bytes: 0 }, bytes: [new Uint8Array(0)] };
  const packed = toCommMessage(bytes);
  return { tag: SECAGG_TAG, header: { ...packed.header, ...rest }, bytes: packed.bytes! };
}

/** The server's reading of a host's answer (a SecAggError naming the client when it does not parse). */
export function readAnswer(message: Message, expected: { round: number; client: number }): SecureAnswer {
  const header = (message.header ?? {}) as Partial<SecureAnswer>;
  const status = header.status;
  const answer: SecureAnswer = { round: expected.round, client: expected.client, status: status ?? 'failed' };
  if (header.message !== undefined) answer.message = header.message;
  if (header.code !== undefined) answer.code = header.code;
  if (status === 'message')
    answer.bytes = fromCommMessage({ ...message, tag: SECAGG_TAG }, { from: expected.client, round: expected.round, phase: 'advertise' });
  return answer;
}

interface Session {
  protocol: SecAggClient;
  /** Server messages handled so far (1 roster, 2 forwarded, 3 survivors). */
  handled: number;
  leave: boolean;
}

/** Where a host finds what it needs to train a client. */
export interface SecureHostContext {
  job: ClientJob;
  /** The rows of a client this host holds. */
  rowsOf: (client: number) => Dataset;
}

/** The protocol sessions of the clients one host trains. */
export class SecureClientSide {
  private readonly sessions = new Map<string, Session>();

  /** Sessions still open (a finished or abandoned round's are dropped). */
  get open(): number {
    return this.sessions.size;
  }

  /** The answer to one server message ('secure-train' or 'secagg'); errors become a 'failed' answer. */
  async handle(message: Message, context: SecureHostContext): Promise<Message> {
    const header = (message.header ?? {}) as { round?: number; client?: number };
    const round = header.round ?? -1;
    const client = header.client ?? -1;
    try {
      return answerMessage(message.tag === SECURE_TRAIN_TAG ? await this.start(message, context) : this.exchange(message, round, client));
    } catch (error) {
      this.sessions.delete(`${round}:${client}`);
      return answerMessage({
        round,
        client,
        status: 'failed',
        message: error instanceof Error ? error.message : String(error),
        code: error instanceof ShardlearnError ? error.code : undefined,
      });
    }
  }

  private async start(message: Message, context: SecureHostContext): Promise<SecureAnswer> {
    const { secure, ...task } = message.header as unknown as ClientTask & { secure: SecureSpec };
    const { round, client } = task;
    // A new round: sessions of earlier rounds that never finished (the round failed) are abandoned.
    for (const [key] of this.sessions) if (Number(key.split(':')[0]) < round) this.sessions.delete(key);
    const random = secure.secretSeed === null ? systemRandom : seededRandomSource(new Rng(secure.secretSeed).fork(round).fork(client));
    const protocol = new SecAggClient(
      client,
      { round, vectorLength: secure.vectorLength, threshold: secure.threshold, fixedPoint: secure.fixedPoint },
      { random },
    );
    if (!secure.leaveBeforeInput) {
      const { reply, delta } = await runClientTask(context.job, task, message.arrays![0] as Float64Array, context.rowsOf(client));
      // An honest client checks its own update before masking it: a non-finite one is never sent.
      if (!allFinite(delta) || !Number.isFinite(reply.weight)) return { round, client, status: 'non-finite' };
      const weight = secure.unweighted ? 1 : reply.weight / secure.scale;
      const dimension = secure.vectorLength - 1;
      const input = new Float64Array(secure.vectorLength);
      for (let j = 0; j < dimension; j++) input[j] = delta[j]! * weight;
      input[dimension] = weight;
      protocol.setInput(input);
    }
    this.sessions.set(`${round}:${client}`, { protocol, handled: 0, leave: secure.leaveBeforeInput });
    return { round, client, status: 'message', bytes: protocol.handle(null) };
  }

  private exchange(message: Message, round: number, client: number): SecureAnswer {
    const key = `${round}:${client}`;
    const session = this.sessions.get(key);
    if (session === undefined)
      throw new ShardlearnError('COMM', `client ${client} has no secure aggregation session for round ${round} on this host`);
    const bytes = fromCommMessage(message, { from: client, round, phase: 'share' });
    session.handled++;
    if (session.leave && session.handled === 2) {
      // The simulated dropout: it shared its keys and leaves before sending its masked input.
      this.sessions.delete(key);
      return { round, client, status: 'left' };
    }
    const answer = session.protocol.handle(bytes);
    if (session.handled === 3) this.sessions.delete(key);
    return { round, client, status: 'message', bytes: answer };
  }
}
