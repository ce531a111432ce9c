/**
 * A Rényi-DP accountant for the sampled Gaussian mechanism: each round samples every client with
 * probability q (the sampling rate), clips each update to L2 norm C and adds N(0, σ²C²) to the sum.
 * That is client-level DP-FedAvg (McMahan et al., ICLR 2018); its privacy loss per round is the RDP of the
 * sampled Gaussian mechanism (Mironov, Talwar & Zhang 2019), rounds compose by adding RDP, and the
 * total converts to an (ε, δ) guarantee.
 *
 * Orders are integers (the closed binomial sum of Mironov et al. §3.3, the one Opacus and TF-Privacy's
 * `compute_rdp` use for integer α); fractional orders would tighten ε slightly and are not computed.
 * The RDP → (ε, δ) conversion is Balle et al. 2020 (Thm 21), as Opacus's `get_privacy_spent`:
 *   ε = RDP(α) + log((α−1)/α) − (log δ + log α)/(α−1),
 * or, with `conversion: 'classic'`, Mironov 2017 (Prop. 3): ε = RDP(α) + log(1/δ)/(α−1). ε is the
 * minimum over the orders. Checked against numerical integration in scripts/fixtures/dp_rdp.py.
 *
 * @example
 * const accountant = new RdpAccountant();
 * for (let round = 1; round <= 50; round++) {
 *   accountant.step({ sampleRate: 0.1, noiseMultiplier: 1.0 });
 *   console.log(accountant.describe(1e-5)); // "round 50: ε = 6.021, δ = 0.00001 (order 4)"
 * }
 */
import { ConfigError } from '../core/errors.js';

/** One round of the mechanism: the probability a client is sampled and the noise std over the clip norm. */
export interface SampledGaussian {
  sampleRate: number;
  noiseMultiplier: number;
}

export type RdpConversion = 'balle2020' | 'classic';

/** 2..64 and a few larger orders: where the optimum lies for the ε of a few tenths to a few tens used in practice. */
export const DEFAULT_ORDERS: readonly number[] = [...Array.from({ length: 63 }, (_, i) => i + 2), 80, 96, 128, 192, 256, 512];

/** log n! for n = 0..max, by summing logs (exact enough: every term is a double's log). */
function logFactorials(max: number): Float64Array {
  const out = new Float64Array(max + 1);
  for (let n = 1; n <= max; n++) out[n] = out[n - 1]! + Math.log(n);
  return out;
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const high = Math.max(a, b);
  return high + Math.log1p(Math.exp(-Math.abs(a - b)));
}

function checkMechanism({ sampleRate, noiseMultiplier }: SampledGaussian): void {
  if (!(sampleRate >= 0 && sampleRate <= 1))
    throw new ConfigError(`the sampling rate must be in [0, 1] (the fraction of clients per round), found ${sampleRate}`, {
      field: 'fraction',
    });
  if (!(noiseMultiplier >= 0) || !Number.isFinite(noiseMultiplier))
    throw new ConfigError(`the noise multiplier must be a finite number >= 0, found ${noiseMultiplier}`, { field: 'dp-noise' });
}

/**
 * RDP of one step of the sampled Gaussian mechanism at integer order α ≥ 2:
 * (1/(α−1)) · log Σ_{i=0..α} C(α,i) (1−q)^{α−i} q^i exp((i²−i)/(2σ²)).
 * q = 1 gives the Gaussian mechanism's α/(2σ²); σ = 0 (no noise) gives +∞; q = 0 gives 0.
 */
export function rdpSampledGaussian(mechanism: SampledGaussian, order: number): number {
  checkMechanism(mechanism);
  if (!Number.isInteger(order) || order < 2) throw new ConfigError(`RDP orders must be integers >= 2, found ${order}`, { field: 'orders' });
  const { sampleRate: q, noiseMultiplier: sigma } = mechanism;
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return order / (2 * sigma * sigma);
  const logFactorial = logFactorials(order);
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  let logA = -Infinity;
  for (let i = 0; i <= order; i++) {
    const logBinomial = logFactorial[order]! - logFactorial[i]! - logFactorial[order - i]!;
    logA = logAddExp(logA, logBinomial + i * logQ + (order - i) * log1mQ + (i * i - i) / (2 * sigma * sigma));
  }
  return logA / (order - 1);
}

/** RDP after `steps` rounds, one value per order (composition adds RDP). */
export function computeRdp(mechanism: SampledGaussian, steps: number, orders: readonly number[] = DEFAULT_ORDERS): Float64Array {
  return Float64Array.from(orders, (order) => steps * rdpSampledGaussian(mechanism, order));
}

/** The best (ε, order) for `delta` from RDP values at `orders` (see the module comment for the conversions). */
export function rdpToEpsilon(
  rdp: ArrayLike<number>,
  orders: readonly number[],
  delta: number,
  conversion: RdpConversion = 'balle2020',
): { epsilon: number; order: number } {
  if (!(delta > 0 && delta < 1)) throw new ConfigError(`δ must be in (0, 1), found ${delta}`, { field: 'dp-delta' });
  if (rdp.length !== orders.length) throw new ConfigError(`${rdp.length} RDP values for ${orders.length} orders`, { field: 'orders' });
  let best = { epsilon: Infinity, order: orders[0] ?? NaN };
  for (let k = 0; k < orders.length; k++) {
    const alpha = orders[k]!;
    const value = rdp[k]!;
    const epsilon =
      conversion === 'classic'
        ? value + Math.log(1 / delta) / (alpha - 1)
        : value + Math.log((alpha - 1) / alpha) - (Math.log(delta) + Math.log(alpha)) / (alpha - 1);
    if (epsilon < best.epsilon) best = { epsilon, order: alpha };
  }
  return { epsilon: Math.max(best.epsilon, 0), order: best.order };
}

/**
 * Privacy spent so far over a run whose rounds may differ (a sampling rate or noise that changes):
 * `step` composes one or more rounds; `epsilon(δ)` and `describe(δ)` read the total.
 */
export class RdpAccountant {
  readonly orders: readonly number[];
  readonly conversion: RdpConversion;
  private readonly total: Float64Array;
  private rounds = 0;

  constructor(options: { orders?: readonly number[]; conversion?: RdpConversion } = {}) {
    this.orders = options.orders ?? DEFAULT_ORDERS;
    this.conversion = options.conversion ?? 'balle2020';
    if (this.orders.length === 0) throw new ConfigError('the accountant needs at least one RDP order', { field: 'orders' });
    this.total = new Float64Array(this.orders.length);
  }

  /** Account `count` rounds of `mechanism`. */
  step(mechanism: SampledGaussian, count = 1): this {
    if (!Number.isInteger(count) || count < 0)
      throw new ConfigError(`a round count must be an integer >= 0, found ${count}`, { field: 'rounds' });
    const rdp = computeRdp(mechanism, count, this.orders);
    for (let k = 0; k < rdp.length; k++) this.total[k]! += rdp[k]!;
    this.rounds += count;
    return this;
  }

  get steps(): number {
    return this.rounds;
  }

  /** The accumulated RDP, one value per order. */
  rdp(): Float64Array {
    return this.total.slice();
  }

  epsilon(delta: number): { epsilon: number; delta: number; order: number } {
    return { ...rdpToEpsilon(this.total, this.orders, delta, this.conversion), delta };
  }

  /** One line for the round's log: `round 12: ε = 1.234, δ = 1e-05 (order 14)`. */
  describe(delta: number): string {
    const { epsilon, order } = this.epsilon(delta);
    return `round ${this.rounds}: ε = ${epsilon.toPrecision(4)}, δ = ${delta} (order ${order})`;
  }
}
