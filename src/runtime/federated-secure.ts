/**
 * Secure aggregation (Bonawitz et al. 2017) for the federated paradigm's synchronous rounds, the
 * server's side: the SecAgg server state machine (federated/secagg/server.ts) driven over the client
 * hosts. Each sampled client's side of the protocol runs in the host that trains it
 * (federated-secure-client.ts): its key pairs, shares, unmasked update and masks never leave that
 * host. What the server receives is, per phase, public keys; share ciphertexts sealed to their
 * recipient, which it relays; the masked inputs (added into one running sum on arrival); and the
 * unmasking shares. The step comes from the unmasked sum alone.
 *
 * Each sampled client contributes [wΔ/s, w/s] (w its rows, s the mean rows per client, a public
 * scale that keeps the values in the fixed-point range), so the sum gives FedAvg's weighted mean
 * Σ wΔ / Σ w; under client-side DP a client contributes [Δ, 1] and the mean divides by the expected
 * clients per round instead.
 *
 * Dropouts: a sampled client that drops out (the seeded `dropout`) advertises its keys and shares its
 * seeds, then leaves before sending its masked input; the unmasking phase removes its pairwise masks
 * (the survivors' Shamir shares of its mask key), and the round completes with the others' sum. A
 * client whose host is lost, or that misses a phase's deadline, is dropped by the protocol the same
 * way. The threshold t is a strict majority of the clients sampled, fixed before the round (the
 * paper's t); a round with fewer than t clients left at any phase applies no step.
 *
 * Every phase waits at most the round's deadline. Bytes up and down are the protocol's messages plus
 * the global weights sent with each task (the SecAgg bytes travel as byte frames, comm-message.ts:
 * the transport's own counters show the protocol's bytes plus each message's envelope).
 *
 * @example
 * const round = await secureRound({ settings, hosts, round: 3, global, taskFor, scale, unweighted: false, secretSeed: null, dropped });
 */
import type { Message } from '../comm/communicator.js';
import { encodeMessage, PROTOCOL_VERSION, wireBytes } from '../comm/zmq/wire.js';
import { ConfigError } from '../core/errors.js';
import { SecAggError } from '../federated/secagg/errors.js';
import type { FixedPoint } from '../federated/secagg/fixed-point.js';
import { majorityThreshold } from '../federated/secagg/parameters.js';
import { SecAggServer } from '../federated/secagg/server.js';
import { dropsOut, sampleClients } from '../federated/sampling.js';
import type { FederatedSettings } from '../federated/settings.js';
import type { ClientTask } from './federated-client.js';
import type { ClientHosts } from './federated-hosts.js';
import { clientFailure, isLoss } from './federated-hosts.js';
import type { SecureAnswer, SecureSpec } from './federated-secure-client.js';
import { readAnswer, secureProtocolMessage, secureTrainMessage } from './federated-secure-client.js';

export interface SecureRoundInput {
  settings: FederatedSettings;
  hosts: ClientHosts;
  round: number;
  global: Float64Array;
  taskFor: (round: number, client: number) => ClientTask;
  /** Public scale dividing each client's weight (the mean rows per client). */
  scale: number;
  /** Under client-side DP: the sum of the deltas is divided by the clients per round (weights ignored). */
  unweighted: boolean;
  /** Test-only: derive the clients' secrets from this seed (SecureSpec.secretSeed); null for the OS CSPRNG. */
  secretSeed: number | null;
  /** Drops counted here by cause. */
  dropped: { dropout: number; deadline: number; lost: number };
}

export interface SecureRoundOutcome {
  /** The step to add to the global weights; null when the round could not complete (too few clients left, or no weight). */
  step: Float64Array | null;
  /** Clients whose inputs are in the sum. */
  included: number[];
  /** Clients whose update was not finite (they never masked it). */
  nonFinite: number[];
  /** Bytes the clients sent and received this round: the protocol's messages, and the tasks' global weights. */
  bytesUp: number;
  bytesDown: number;
}

/** Bits for the sum of up to `clients` inputs, the rest (of 26) for the fraction: values up to ±32 per client. */
export function secureFixedPoint(clients: number): FixedPoint {
  const clientBits = Math.max(1, Math.ceil(Math.log2(clients + 1)));
  if (clientBits > 20)
    throw new ConfigError(`secure aggregation sums at most 2^20 clients per round, found ${clients}`, { field: 'secure-aggregation' });
  return { fractionBits: 26 - clientBits, clientBits };
}

/** What became of one message sent to a client's side. */
type Outcome = SecureAnswer | 'deadline' | 'lost';

export async function secureRound(input: SecureRoundInput): Promise<SecureRoundOutcome> {
  const { settings, hosts, round, global, dropped } = input;
  const sampled = sampleClients(settings, round);
  const dimension = global.length;
  const parameters = {
    round,
    vectorLength: dimension + 1,
    threshold: majorityThreshold(sampled.length),
    fixedPoint: secureFixedPoint(settings.perRound),
  };
  const server = new SecAggServer(parameters);
  const bytes = { up: 0, down: 0 };
  const nonFinite: number[] = [];
  const leaving = new Set(sampled.filter((client) => dropsOut(settings, round, client)));
  dropped.dropout += leaving.size;

  /** Send each message (by client), wait for the answers until the deadline, and give the server the protocol messages in client order. */
  const phase = async (messages: Map<number, Message>, countDrops: boolean): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), settings.deadlineMs)));
    try {
      const outcomes = await Promise.all(
        [...messages].map(async ([client, message]): Promise<[number, Outcome]> => {
          bytes.down += wireBytes(
            encodeMessage({ v: PROTOCOL_VERSION, k: 'user', tag: message.tag, h: message.header ?? {} }, message.arrays, message.bytes),
          );
          const asked = hosts.secure(message).then((answer) => readAnswer(answer, { round, client }));
          asked.catch(() => undefined);
          const first = await Promise.race([asked, expired]).catch((error: unknown) => {
            if (isLoss(error)) return 'lost' as const;
            throw error;
          });
          return [client, first];
        }),
      );
      for (const [client, outcome] of outcomes.sort(([a], [b]) => a - b)) {
        if (outcome === 'deadline' || outcome === 'lost') {
          if (countDrops && !leaving.has(client)) dropped[outcome]++;
          continue;
        }
        if (outcome.status === 'failed') throw clientFailure(client, outcome.message ?? '?', outcome.code);
        if (outcome.status === 'non-finite') nonFinite.push(client);
        if (outcome.status !== 'message') continue;
        bytes.up += outcome.bytes!.length;
        server.receive(client, outcome.bytes!);
      }
    } finally {
      clearTimeout(timer);
    }
  };

  const spec = (client: number): SecureSpec => ({
    vectorLength: dimension + 1,
    threshold: parameters.threshold,
    fixedPoint: parameters.fixedPoint,
    scale: input.scale,
    unweighted: input.unweighted,
    leaveBeforeInput: leaving.has(client),
    secretSeed: input.secretSeed,
  });
  const none = { step: null, included: [], nonFinite, bytesUp: 0, bytesDown: 0 };
  try {
    await phase(new Map(sampled.map((client) => [client, secureTrainMessage(input.taskFor(round, client), spec(client), global)])), true);
    // advertise → roster → shares → forwarded → masked input → survivors → unmasking shares
    for (let step = 0; step < 3; step++) {
      const outgoing = server.close();
      // A client lost in the last phase (unmasking) has sent its masked input: its update is in the sum, not dropped.
      const countDrops = step < 2;
      await phase(new Map([...outgoing].map(([client, message]) => [client, secureProtocolMessage(round, client, message)])), countDrops);
    }
    server.close();
  } catch (error) {
    // Too few clients left to go on or to unmask: the round applies no step.
    if (error instanceof SecAggError) return { ...none, bytesUp: bytes.up, bytesDown: bytes.down };
    throw error;
  }
  const { sum, included } = server.result();
  const denominator = input.unweighted ? settings.perRound : sum[dimension]!;
  const step = denominator > 0 ? sum.slice(0, dimension).map((v) => v / denominator) : null;
  return { step, included, nonFinite, bytesUp: bytes.up, bytesDown: bytes.down };
}
