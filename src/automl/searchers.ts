/**
 * Searchers decide which configuration to try next, and at what budget. Each is an ask/tell object
 * (Optuna's and Ray Tune's searcher interface): the study asks for a trial whenever a worker is free,
 * tells the searcher each outcome, and stops when the searcher answers `null`. `'wait'` means the
 * searcher needs running trials' results first (a synchronous rung).
 *
 * - grid: every combination of the space's grid (space.ts), at most `trials` of them.
 * - random: `trials` seeded draws of the space (Bergstra & Bengio, JMLR 2012).
 * - tpe: the Tree-structured Parzen Estimator (tpe.ts).
 * - sha (successive halving; Jamieson & Talwalkar, 2016): `trials` configurations at the smallest
 *   budget, the best 1/eta of them again at eta× the budget, and so on up to the largest.
 *   Synchronous: a rung waits for all of its trials.
 * - asha (Li et al., MLSys 2020): successive halving without the wait — whenever a worker is free,
 *   promote a trial that is in the top 1/eta of the trials finished so far at its rung, else start
 *   a new configuration at the bottom rung (at most `trials` configurations).
 * - hyperband (Li et al., JMLR 2018): successive-halving brackets from aggressive (many
 *   configurations at a small budget) to none (a few at the full budget); a bracket that waits
 *   lets the next one use the free workers.
 *
 * A budget ("resource") is epochs, maxIter or training rows (cross-validate.ts); a promoted trial is
 * trained again from scratch at the larger budget (no checkpoint is carried over), so the budget
 * spent is the sum over all trials. With several objectives, trials are ranked for promotion by
 * Pareto rank (non-dominated sorting), then by the first objective — pruning that works for a
 * multi-objective study too.
 */
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { paretoRanks } from './pareto.js';
import type { Params, SearchSpace } from './space.js';
import { gridOf, sampleSpace } from './space.js';

export const SEARCHERS = ['grid', 'random', 'tpe', 'sha', 'asha', 'hyperband'] as const;
export type SearcherName = (typeof SEARCHERS)[number];

export interface TrialRequest {
  /** Which configuration (one configuration may be trained at several budgets). */
  configId: number;
  params: Params;
  /** 0 at the smallest budget; always 0 for grid, random and tpe. */
  rung: number;
  /** The budget (epochs, maxIter or rows), or null for searchers without one. */
  resource: number | null;
  /** HyperBand's bracket (0 is the most aggressive); 0 otherwise. */
  bracket: number;
}

export interface TrialOutcome {
  request: TrialRequest;
  /** Objectives oriented larger-is-better (the first is the CV score), or null when the trial failed. */
  objectives: readonly number[] | null;
}

export interface Searcher {
  ask(): TrialRequest | 'wait' | null;
  tell(outcome: TrialOutcome): void;
}

export interface Budget {
  min: number;
  max: number;
  /** Keep the best 1/eta at each rung (default 3). */
  eta: number;
}

/** The outcomes ranked best first: by Pareto rank when there are several objectives, then by the first. */
export function rankOutcomes(outcomes: readonly TrialOutcome[]): TrialOutcome[] {
  const ok = outcomes.filter((o) => o.objectives !== null);
  const ranks = paretoRanks(ok.map((o) => o.objectives!));
  const order = ok.map((o, i) => ({ o, rank: ranks[i]! }));
  order.sort((a, b) => a.rank - b.rank || b.o.objectives![0]! - a.o.objectives![0]! || a.o.request.configId - b.o.request.configId);
  return order.map((entry) => entry.o);
}

export class GridSearcher implements Searcher {
  private readonly points: Params[];
  private next = 0;

  constructor(space: SearchSpace, trials: number) {
    this.points = gridOf(space).slice(0, trials);
  }

  ask(): TrialRequest | null {
    if (this.next >= this.points.length) return null;
    const configId = this.next++;
    return { configId, params: this.points[configId]!, rung: 0, resource: null, bracket: 0 };
  }

  tell(): void {}
}

export class RandomSearcher implements Searcher {
  private readonly rng: Rng;
  private next = 0;

  constructor(
    private readonly space: SearchSpace,
    private readonly trials: number,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }

  ask(): TrialRequest | null {
    if (this.next >= this.trials) return null;
    return { configId: this.next++, params: sampleSpace(this.space, this.rng), rung: 0, resource: null, bracket: 0 };
  }

  tell(): void {}
}

/** One synchronous successive-halving run: `count` configurations at `first`, eta× the budget per rung. */
export class SuccessiveHalving implements Searcher {
  private rung = 0;
  private queue: TrialRequest[];
  private outstanding = 0;
  private results: TrialOutcome[] = [];
  private readonly rungs: { count: number; resource: number }[] = [];

  constructor(configs: readonly { configId: number; params: Params }[], first: number, max: number, eta: number, bracket = 0) {
    for (
      let count = configs.length, resource = first;
      count >= 1 && resource <= max * (1 + 1e-9);
      count = Math.floor(count / eta), resource *= eta
    ) {
      this.rungs.push({ count, resource });
    }
    if (this.rungs.length === 0) this.rungs.push({ count: configs.length, resource: max });
    this.queue = configs.map(({ configId, params }) => ({ configId, params, rung: 0, resource: this.rungs[0]!.resource, bracket }));
  }

  ask(): TrialRequest | 'wait' | null {
    const request = this.queue.shift();
    if (request !== undefined) {
      this.outstanding++;
      return request;
    }
    if (this.outstanding > 0) return 'wait';
    const next = this.rungs[this.rung + 1];
    if (next === undefined || this.results.length === 0) return null;
    const promoted = rankOutcomes(this.results).slice(0, next.count);
    this.rung++;
    this.results = [];
    this.queue = promoted.map((o) => ({ ...o.request, rung: this.rung, resource: next.resource }));
    return this.ask();
  }

  tell(outcome: TrialOutcome): void {
    this.outstanding--;
    this.results.push(outcome);
  }
}

export class AsyncSuccessiveHalving implements Searcher {
  private readonly rng: Rng;
  private readonly finished: TrialOutcome[][] = [];
  private readonly promoted: Set<number>[] = [];
  private readonly resources: number[] = [];
  private started = 0;

  constructor(
    private readonly space: SearchSpace,
    private readonly trials: number,
    private readonly budget: Budget,
    seed: number,
  ) {
    this.rng = new Rng(seed);
    for (let r = budget.min; r <= budget.max * (1 + 1e-9); r *= budget.eta) {
      this.resources.push(r);
      this.finished.push([]);
      this.promoted.push(new Set());
    }
  }

  ask(): TrialRequest | null {
    // Promote from the highest rung that has a candidate (Li et al., Algorithm 2).
    for (let rung = this.resources.length - 2; rung >= 0; rung--) {
      const done = this.finished[rung]!;
      const top = rankOutcomes(done).slice(0, Math.floor(done.length / this.budget.eta));
      const candidate = top.find((o) => !this.promoted[rung]!.has(o.request.configId));
      if (candidate !== undefined) {
        this.promoted[rung]!.add(candidate.request.configId);
        return { ...candidate.request, rung: rung + 1, resource: this.resources[rung + 1]! };
      }
    }
    if (this.started >= this.trials) return null;
    return { configId: this.started++, params: sampleSpace(this.space, this.rng), rung: 0, resource: this.resources[0]!, bracket: 0 };
  }

  tell(outcome: TrialOutcome): void {
    this.finished[outcome.request.rung]!.push(outcome);
  }
}

/**
 * HyperBand's brackets s = s_max … 0, each a successive halving of ⌈(s_max + 1)/(s + 1)·eta^s⌉
 * configurations from max·eta^-s; `trials` caps the configurations over all brackets.
 */
export class HyperBand implements Searcher {
  private readonly brackets: SuccessiveHalving[] = [];
  private readonly byBracket = new Map<number, SuccessiveHalving>();

  constructor(space: SearchSpace, trials: number, budget: Budget, seed: number) {
    const rng = new Rng(seed);
    const sMax = Math.floor(Math.log(budget.max / budget.min) / Math.log(budget.eta) + 1e-9);
    let configId = 0;
    for (let s = sMax; s >= 0 && configId < trials; s--) {
      const count = Math.min(Math.ceil(((sMax + 1) / (s + 1)) * budget.eta ** s), trials - configId);
      const configs = Array.from({ length: count }, () => ({ configId: configId++, params: sampleSpace(space, rng) }));
      const bracket = new SuccessiveHalving(configs, budget.max * budget.eta ** -s, budget.max, budget.eta, sMax - s);
      this.brackets.push(bracket);
      this.byBracket.set(sMax - s, bracket);
    }
  }

  ask(): TrialRequest | 'wait' | null {
    let waiting = false;
    for (const bracket of this.brackets) {
      const request = bracket.ask();
      if (request === 'wait') waiting = true;
      else if (request !== null) return request;
    }
    return waiting ? 'wait' : null;
  }

  tell(outcome: TrialOutcome): void {
    this.byBracket.get(outcome.request.bracket)!.tell(outcome);
  }
}

export function checkBudget(budget: Partial<Budget> | undefined, searcher: SearcherName): Budget {
  if (budget === undefined || budget.min === undefined || budget.max === undefined) {
    throw new ConfigError(
      `searcher '${searcher}' stops trials early on a budget: give resource { kind: 'epochs' | 'maxIter' | 'rows', min, max } (CLI --resource epochs:1:27)`,
      { field: 'resource' },
    );
  }
  const eta = budget.eta ?? 3;
  if (!(budget.min > 0)) throw new ConfigError(`resource min must be > 0, found ${budget.min}`, { field: 'resource.min' });
  if (!(budget.max >= budget.min))
    throw new ConfigError(`resource max must be ≥ min (${budget.min}), found ${budget.max}`, { field: 'resource.max' });
  if (!(eta > 1)) throw new ConfigError(`eta must be > 1, found ${eta}`, { field: 'eta' });
  return { min: budget.min, max: budget.max, eta };
}
