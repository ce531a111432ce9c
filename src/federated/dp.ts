/**
 * Client-level differential privacy for federated averaging (DP-FedAvg, McMahan et al., ICLR 2018):
 * every client's delta is clipped to L2 norm C, so one client changes the sum by at most C, and
 * Gaussian noise of std σ·C is added to the sum; the mean uses the *expected* number of clients per
 * round as its fixed denominator, so the number that actually arrived does not leak through it.
 * σ (the noise multiplier) and the sampling rate feed the accountant (dp-accountant.ts).
 *
 * Two placements of the same mechanism:
 * - server-side (`privateMean`, `createDpAggregator`): the server clips what it receives and adds all
 *   the noise. Protects the released model from anyone who sees it; the server itself is trusted.
 * - client-side (`privatizeLocally`): each client clips and adds its share N(0, σ²C²/m) of the noise
 *   (m the expected clients per round), so the sum of m shares carries N(0, σ²C²). Paired with secure
 *   aggregation the server only ever sees the noisy sum (distributed DP). If fewer than m clients
 *   survive, the sum carries less noise than accounted: pick m as the number expected to *finish*.
 *
 * Example weights are ignored (uniform weighting): a weight would scale a client's influence beyond C.
 * All randomness comes from the caller's seeded `Rng`.
 *
 * @example
 * const step = privateMean(updates, { clip: 1, noiseMultiplier: 1.1, expectedClients: 10 }, rng);
 */
import { ConfigError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Aggregator, ClientUpdate } from './aggregator.js';

export interface DpOptions {
  /** L2 norm every client delta is clipped to (C). */
  clip: number;
  /** Noise std over the clip norm (σ): the sum gets N(0, σ²C²) per coordinate. */
  noiseMultiplier: number;
  /** Clients per round the mean divides by (the sampling fraction times the population). */
  expectedClients: number;
}

function checkOptions({ clip, noiseMultiplier, expectedClients }: DpOptions): void {
  if (!(clip > 0) || !Number.isFinite(clip))
    throw new ConfigError(`the DP clip norm must be a finite number > 0, found ${clip}`, { field: 'dp-clip' });
  if (!(noiseMultiplier >= 0) || !Number.isFinite(noiseMultiplier))
    throw new ConfigError(`the DP noise multiplier must be a finite number >= 0, found ${noiseMultiplier}`, { field: 'dp-noise' });
  if (!(expectedClients > 0) || !Number.isFinite(expectedClients))
    throw new ConfigError(`the expected clients per round must be > 0, found ${expectedClients}`, { field: 'clients' });
}

export function l2Norm(vector: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  return Math.sqrt(sum);
}

/**
 * `delta` scaled down to L2 norm `clip` when longer (a new array), with its norm before clipping. A
 * non-finite delta cannot be bounded and becomes zeros (scale 0): it never reaches the model.
 */
export function clipToNorm(delta: Float64Array, clip: number): { clipped: Float64Array; norm: number; scale: number } {
  const norm = l2Norm(delta);
  const scale = !Number.isFinite(norm) ? 0 : norm > clip ? clip / norm : 1;
  return { clipped: scale === 0 ? new Float64Array(delta.length) : delta.map((v) => v * scale), norm, scale };
}

/** `vector` plus independent N(0, std²) per coordinate (a new array). */
export function addGaussianNoise(vector: Float64Array, std: number, rng: Rng): Float64Array {
  if (std === 0) return vector.slice();
  return vector.map((v) => v + std * rng.normal());
}

/** Client-side DP: clip to C and add this client's share N(0, σ²C²/m) of the round's noise. */
export function privatizeLocally(delta: Float64Array, options: DpOptions, rng: Rng): Float64Array {
  checkOptions(options);
  const { clipped } = clipToNorm(delta, options.clip);
  return addGaussianNoise(clipped, (options.noiseMultiplier * options.clip) / Math.sqrt(options.expectedClients), rng);
}

/** Server-side DP: (Σ clip(Δᵢ, C) + N(0, σ²C²)) / m. */
export function privateMean(updates: readonly ClientUpdate[], options: DpOptions, rng: Rng): Float64Array {
  checkOptions(options);
  const dimension = updates[0]?.delta.length ?? 0;
  const sum = new Float64Array(dimension);
  for (const update of updates) {
    if (update.delta.length !== dimension)
      throw new ConfigError(`client ${update.client} sent a delta of ${update.delta.length} values, expected ${dimension}`, {
        field: 'aggregator',
      });
    const { clipped } = clipToNorm(update.delta, options.clip);
    for (let j = 0; j < dimension; j++) sum[j]! += clipped[j]!;
  }
  const noisy = addGaussianNoise(sum, options.noiseMultiplier * options.clip, rng);
  return noisy.map((v) => v / options.expectedClients);
}

/** The mean with a fixed denominator m, for deltas already clipped and noised by their clients. */
export function fixedDenominatorMean(updates: readonly ClientUpdate[], dimension: number, expectedClients: number): Float64Array {
  const out = new Float64Array(dimension);
  for (const { delta } of updates) for (let j = 0; j < dimension; j++) out[j]! += delta[j]!;
  return out.map((v) => v / expectedClients);
}

/**
 * DP-FedAvg as an Aggregator. `placement: 'server'` clips and adds the noise here; `'client'` expects
 * deltas that `privatizeLocally` already clipped and noised and only averages them with the fixed
 * denominator. Every round draws from `rng` (seed it; fork it per run).
 */
export function createDpAggregator(options: DpOptions & { placement: 'server' | 'client' }, rng: Rng): Aggregator {
  checkOptions(options);
  return {
    name: `dp-fedavg-${options.placement}`,
    aggregate(updates, global) {
      if (options.placement === 'client') return fixedDenominatorMean(updates, global.length, options.expectedClients);
      return updates.length === 0
        ? addGaussianNoise(new Float64Array(global.length), (options.noiseMultiplier * options.clip) / options.expectedClients, rng)
        : privateMean(updates, options, rng);
    },
  };
}
