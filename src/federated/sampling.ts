/**
 * The server's seeded choices for each round: which clients it samples, and (simulation) which of
 * them drop out or straggle. Each is a pure function of (seed, round, client), so a run is
 * reproducible and a client's fate does not depend on who else was sampled.
 *
 * @example
 * const sampled = sampleClients(settings, round); // sorted client ids
 * if (dropsOut(settings, round, client)) …
 */
import { Rng, hashUniform } from '../core/rng.js';

/** `perRound` distinct clients of `clients` for `round`, sorted. */
export function sampleClients(options: { clients: number; perRound: number; seed: number }, round: number): number[] {
  return Array.from(new Rng(options.seed).fork(0x5a3 + round).sample(options.clients, options.perRound)).sort((a, b) => a - b);
}

/** A uniform draw in [0, 1) for (seed, round, client, purpose). */
function draw(seed: number, round: number, client: number, purpose: number): number {
  return hashUniform(seed ^ Math.imul(purpose, 0x2545f491), round * 1_000_003 + client);
}

/** Whether `client` drops out of `round` (probability `dropout`). */
export function dropsOut(options: { dropout: number; seed: number }, round: number, client: number): boolean {
  return options.dropout > 0 && draw(options.seed, round, client, 1) < options.dropout;
}

/** The delay in ms `client` straggles by in `round` (0 unless it is drawn as a straggler). */
export function stragglerDelayMs(
  options: { stragglers: { fraction: number; delayMs: number }; seed: number },
  round: number,
  client: number,
): number {
  const { fraction, delayMs } = options.stragglers;
  return fraction > 0 && draw(options.seed, round, client, 2) < fraction ? delayMs : 0;
}

/** The seed a client's local training uses in `round` (its batch order and dropout masks). */
export function clientSeed(seed: number, round: number, client: number): number {
  return Math.floor(draw(seed, round, client, 3) * 0x7fffffff);
}
