/**
 * Tree-structured Parzen Estimator (Bergstra et al., NeurIPS 2011), the independent variant Optuna
 * uses by default: after `startup` random configurations, split the finished trials into the best
 * `gamma` fraction ("good") and the rest, fit a density to each option's values in each group, and
 * choose, among `candidates` draws from the good density l(x), the one with the largest l(x)/g(x).
 *
 * - numbers: a Parzen estimator — a Gaussian per observation (σ = the larger gap to its sorted
 *   neighbours, clipped to [range/min(100, n+1), range]) plus a wide prior Gaussian over the range,
 *   each truncated to the range; on the log scale for log-uniform and log-int options, integers
 *   sampled on [low − 0.5, high + 0.5] and rounded;
 * - choices: counts smoothed by one per category;
 * - conditional options are modelled only from the trials where they were active.
 * Trials are ranked as successive halving ranks them (Pareto rank first for several objectives).
 * Trials still running when a configuration is chosen are ignored (no "constant liar").
 */
import { assertUnreachable } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { rankOutcomes } from './searchers.js';
import type { Searcher, TrialOutcome, TrialRequest } from './searchers.js';
import type { Domain, ParamValue, Params, SearchSpace, SpaceParam } from './space.js';
import { sampleSpace } from './space.js';

export interface TpeOptions {
  /** Random configurations before the model is used (default 10). */
  startup?: number;
  /** Draws from l(x) compared per option (default 24). */
  candidates?: number;
  /** Fraction of the finished trials called good (default 0.25; at most 25 trials). */
  gamma?: number;
}

export class TpeSearcher implements Searcher {
  private readonly rng: Rng;
  private readonly finished: TrialOutcome[] = [];
  private started = 0;
  private readonly startup: number;
  private readonly candidates: number;
  private readonly gamma: number;

  constructor(
    private readonly space: SearchSpace,
    private readonly trials: number,
    seed: number,
    options: TpeOptions = {},
  ) {
    this.rng = new Rng(seed);
    this.startup = options.startup ?? 10;
    this.candidates = options.candidates ?? 24;
    this.gamma = options.gamma ?? 0.25;
  }

  ask(): TrialRequest | null {
    if (this.started >= this.trials) return null;
    const ranked = rankOutcomes(this.finished);
    const params = ranked.length < Math.max(this.startup, 2) ? sampleSpace(this.space, this.rng) : this.suggest(ranked);
    return { configId: this.started++, params, rung: 0, resource: null, bracket: 0 };
  }

  tell(outcome: TrialOutcome): void {
    this.finished.push(outcome);
  }

  private suggest(ranked: readonly TrialOutcome[]): Params {
    const goodCount = Math.max(1, Math.min(25, Math.ceil(this.gamma * ranked.length)));
    const good = ranked.slice(0, goodCount).map((o) => o.request.params);
    const bad = ranked.slice(goodCount).map((o) => o.request.params);
    const chosen: Params = {};
    for (const param of this.space.params) {
      if (!isActive(param, chosen)) continue;
      chosen[param.name] = this.choose(param, good, bad);
    }
    return chosen;
  }

  private choose(param: SpaceParam, good: readonly Params[], bad: readonly Params[]): ParamValue {
    const domain = param.domain;
    const valuesOf = (group: readonly Params[]): ParamValue[] => group.filter((p) => param.name in p).map((p) => p[param.name]!);
    if (domain.type === 'fixed') return domain.value;
    if (domain.type === 'choice') {
      const keys = domain.values.map((v) => JSON.stringify(v));
      const weights = (values: ParamValue[]): number[] => {
        const counts = keys.map((key) => values.filter((v) => JSON.stringify(v) === key).length + 1);
        const total = counts.reduce((s, c) => s + c, 0);
        return counts.map((c) => c / total);
      };
      const l = weights(valuesOf(good));
      const g = weights(valuesOf(bad));
      let best = 0;
      let bestRatio = -Infinity;
      for (let n = 0; n < this.candidates; n++) {
        const i = drawIndex(l, this.rng);
        const ratio = Math.log(l[i]!) - Math.log(g[i]!);
        if (ratio > bestRatio) {
          bestRatio = ratio;
          best = i;
        }
      }
      return domain.values[best]!;
    }
    const scale = numericScale(domain);
    const l = parzen(
      valuesOf(good).map((v) => scale.to(v as number)),
      scale.low,
      scale.high,
    );
    const g = parzen(
      valuesOf(bad).map((v) => scale.to(v as number)),
      scale.low,
      scale.high,
    );
    let best = 0;
    let bestRatio = -Infinity;
    for (let n = 0; n < this.candidates; n++) {
      const x = l.sample(this.rng);
      const ratio = l.logDensity(x) - g.logDensity(x);
      if (ratio > bestRatio) {
        bestRatio = ratio;
        best = x;
      }
    }
    return scale.from(best);
  }
}

function isActive(param: SpaceParam, chosen: Params): boolean {
  if (param.when === null) return true;
  return Object.entries(param.when).every(
    ([other, values]) => other in chosen && values.some((v) => JSON.stringify(v) === JSON.stringify(chosen[other])),
  );
}

function drawIndex(weights: readonly number[], rng: Rng): number {
  let u = rng.uniform();
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i]!;
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** The internal (possibly log) scale of a numeric domain, and the way back. */
function numericScale(domain: Exclude<Domain, { type: 'fixed' } | { type: 'choice' }>): {
  low: number;
  high: number;
  to(v: number): number;
  from(u: number): number;
} {
  switch (domain.type) {
    case 'uniform':
      return { low: domain.low, high: domain.high, to: (v) => v, from: (u) => Math.min(domain.high, Math.max(domain.low, u)) };
    case 'log-uniform':
      return {
        low: Math.log(domain.low),
        high: Math.log(domain.high),
        to: Math.log,
        from: (u) => Math.min(domain.high, Math.max(domain.low, Math.exp(u))),
      };
    case 'int': {
      const clamp = (v: number): number => Math.min(domain.high, Math.max(domain.low, Math.round(v)));
      if (domain.log)
        return { low: Math.log(domain.low - 0.5), high: Math.log(domain.high + 0.5), to: Math.log, from: (u) => clamp(Math.exp(u)) };
      return { low: domain.low - 0.5, high: domain.high + 0.5, to: (v) => v, from: clamp };
    }
    default:
      return assertUnreachable(domain, 'numeric domain');
  }
}

interface Parzen {
  sample(rng: Rng): number;
  logDensity(x: number): number;
}

/** Equal-weight truncated Gaussians at the observations plus a prior over [low, high]. */
function parzen(observations: readonly number[], low: number, high: number): Parzen {
  const range = high - low || 1;
  const sorted = [...observations].sort((a, b) => a - b);
  const minSigma = range / Math.min(100, sorted.length + 1);
  const mus = [(low + high) / 2, ...sorted];
  const sigmas = [
    range,
    ...sorted.map((mu, i) => {
      const left = mu - (i > 0 ? sorted[i - 1]! : low);
      const right = (i + 1 < sorted.length ? sorted[i + 1]! : high) - mu;
      return Math.min(range, Math.max(minSigma, left, right));
    }),
  ];
  const masses = mus.map((mu, i) => Math.max(normalCdf((high - mu) / sigmas[i]!) - normalCdf((low - mu) / sigmas[i]!), 1e-12));
  return {
    sample(rng) {
      const i = rng.int(mus.length);
      for (let attempt = 0; attempt < 100; attempt++) {
        const x = mus[i]! + sigmas[i]! * rng.normal();
        if (x >= low && x <= high) return x;
      }
      return Math.min(high, Math.max(low, mus[i]!));
    },
    logDensity(x) {
      let sum = 0;
      for (let i = 0; i < mus.length; i++) {
        const z = (x - mus[i]!) / sigmas[i]!;
        sum += Math.exp(-0.5 * z * z) / (sigmas[i]! * Math.sqrt(2 * Math.PI) * masses[i]!);
      }
      return Math.log(sum / mus.length);
    },
  };
}

/** Φ(z) by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), enough for truncation masses. */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
