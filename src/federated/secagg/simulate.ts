/**
 * An in-process driver for one secure aggregation round with simulated clients: it carries the
 * clients' and the server's byte messages by function call, in the order a network would, and lets
 * chosen clients stop answering before a phase (a dropout). Every byte is counted from the messages.
 *
 * @example
 * const { sum, bytes } = runSecAggRound({
 *   parameters: { round: 0, vectorLength: 1000, threshold: 6 },
 *   inputs: new Map([[0, x0], [1, x1], ...]),
 *   dropouts: new Map([[3, 'masked-input']]), // client 3 leaves after sharing its keys
 * });
 */
import { Rng } from '../../core/rng.js';
import { SecAggClient } from './client.js';
import { seededRandomSource, systemRandom, type RandomSource } from './crypto.js';
import type { SecAggParameters } from './parameters.js';
import { SecAggServer, type SecAggOutcome } from './server.js';

/** The phase a client stops answering before: it never sends that phase's message (nor any later one). */
export type DropPoint = 'share' | 'masked-input' | 'unmask';

export interface SimulatedRound {
  parameters: SecAggParameters;
  inputs: ReadonlyMap<number, Float64Array>;
  dropouts?: ReadonlyMap<number, DropPoint>;
  /** Derive every client's secrets from this seed (reproducible, NOT private); default: the OS CSPRNG. */
  seed?: number;
  /** Sees every message the server receives, before it does (audits, fault injection: return other bytes). */
  intercept?: (from: number, bytes: Uint8Array) => Uint8Array;
}

export interface SimulatedOutcome extends SecAggOutcome {
  /** Bytes each client sent and received over the round. */
  bytes: Map<number, { sent: number; received: number }>;
  server: SecAggServer;
}

const ORDER: readonly DropPoint[] = ['share', 'masked-input', 'unmask'];

export function runSecAggRound(round: SimulatedRound): SimulatedOutcome {
  const { parameters, inputs, dropouts = new Map<number, DropPoint>(), intercept = (_from, bytes) => bytes } = round;
  const rng = round.seed === undefined ? undefined : new Rng(round.seed);
  const randomFor = (id: number): RandomSource => (rng === undefined ? systemRandom : seededRandomSource(rng.fork(id)));
  const clients = new Map([...inputs.keys()].map((id) => [id, new SecAggClient(id, parameters, { random: randomFor(id) })]));
  const server = new SecAggServer(parameters);
  const answers = (id: number, phase: DropPoint): boolean => {
    const drop = dropouts.get(id);
    return drop === undefined || ORDER.indexOf(phase) < ORDER.indexOf(drop);
  };
  for (const [id, client] of clients) {
    client.setInput(inputs.get(id)!);
    server.receive(id, intercept(id, client.handle(null)));
  }
  for (const phase of ORDER) {
    const outgoing = server.close();
    for (const [id, bytes] of outgoing) if (answers(id, phase)) server.receive(id, intercept(id, clients.get(id)!.handle(bytes)));
  }
  server.close();
  const bytes = new Map([...clients].map(([id, client]) => [id, { sent: client.stats.bytesSent, received: client.stats.bytesReceived }]));
  return { ...server.result(), bytes, server };
}
