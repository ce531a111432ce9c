/**
 * Secure aggregation (Bonawitz et al. 2017) for the federated paradigm's synchronous rounds: the
 * server's step is computed from the SecAgg server state machine's output, the sum of the surviving
 * clients' masked inputs, and from nothing else. Each sampled client contributes the vector
 * [wΔ/s, w/s] (w its rows, s the mean rows per client, a public scale that keeps the values in the
 * fixed-point range), so the one sum gives FedAvg's weighted mean Σ wΔ / Σ w; under client-side DP
 * a client contributes [Δ, 1] and the mean divides by the expected clients per round instead.
 *
 * A sampled client that drops out (the seeded `dropout`) has already advertised its keys and shared
 * its seeds, and stops before sending its masked input: the protocol's unmasking round removes its
 * pairwise masks (Shamir shares from the survivors), so the round completes with the others' sum.
 * A round with fewer survivors than the threshold (a strict majority) applies no step.
 *
 * Where the parties run: the clients' SecAgg state machines run in the server's process (the
 * in-process driver, federated/secagg/simulate.ts) on the updates their hosts returned. The
 * aggregation path sees only the masked messages and the sum, but this is a simulation of the
 * protocol's messages, not a trust boundary: a deployment runs each client's state machine on its own
 * host. Bytes are counted from the real SecAgg messages.
 *
 * @example
 * const round = secureRound({ round, dimension, updates, dropouts, scale, fixedMean: null });
 */
import { ConfigError } from '../core/errors.js';
import type { ClientUpdate } from '../federated/aggregator.js';
import type { DropPoint } from '../federated/secagg/simulate.js';
import { runSecAggRound } from '../federated/secagg/simulate.js';
import { majorityThreshold } from '../federated/secagg/parameters.js';
import { SecAggError } from '../federated/secagg/errors.js';
import type { FixedPoint } from '../federated/secagg/fixed-point.js';

export interface SecureRoundInput {
  round: number;
  /** The model's parameter count. */
  dimension: number;
  /** The clients that trained this round (finite updates only: an honest client checks its own). */
  updates: readonly ClientUpdate[];
  /** Sampled clients that advertised keys and shared seeds, then dropped before sending their masked input. */
  dropouts: readonly number[];
  /** Public scale dividing each client's weight (the mean rows per client). */
  scale: number;
  /** Under client-side DP: divide the sum of the deltas by this many clients (weights ignored); null for FedAvg's weighted mean. */
  fixedMean: number | null;
  /** Clients sampled per round at most: sizes the fixed point's client bits. */
  perRound: number;
}

export interface SecureRoundOutcome {
  /** The step to add to the global weights; null when the round could not complete (too few survivors, or no weight). */
  step: Float64Array | null;
  /** Clients whose inputs are in the sum. */
  included: number[];
  /** Bytes the clients sent and received in SecAgg messages this round. */
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

export function secureRound(input: SecureRoundInput): SecureRoundOutcome {
  const { dimension, updates, dropouts, scale, fixedMean } = input;
  const inputs = new Map<number, Float64Array>();
  for (const update of updates) {
    const vector = new Float64Array(dimension + 1);
    const weight = fixedMean === null ? update.weight / scale : 1;
    for (let j = 0; j < dimension; j++) vector[j] = update.delta[j]! * weight;
    vector[dimension] = weight;
    inputs.set(update.client, vector);
  }
  const drops = new Map<number, DropPoint>();
  for (const client of dropouts) {
    inputs.set(client, new Float64Array(dimension + 1)); // never sent: the client leaves before its masked input
    drops.set(client, 'masked-input');
  }
  const none = { step: null, included: [], bytesUp: 0, bytesDown: 0 };
  if (inputs.size < 2) return none;
  let outcome;
  try {
    outcome = runSecAggRound({
      parameters: {
        round: input.round,
        vectorLength: dimension + 1,
        threshold: majorityThreshold(inputs.size),
        fixedPoint: secureFixedPoint(input.perRound),
      },
      inputs,
      dropouts: drops,
    });
  } catch (error) {
    // Too few survivors to unmask (or every client gone): the round applies no step.
    if (error instanceof SecAggError) return none;
    throw error;
  }
  let bytesUp = 0;
  let bytesDown = 0;
  for (const { sent, received } of outcome.bytes.values()) {
    bytesUp += sent;
    bytesDown += received;
  }
  const { sum } = outcome;
  const denominator = fixedMean ?? sum[dimension]!;
  const step = denominator > 0 ? sum.slice(0, dimension).map((v) => v / denominator) : null;
  return { step, included: outcome.included, bytesUp, bytesDown };
}
