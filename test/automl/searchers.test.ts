// Searchers on a known objective (a pure function of the configuration and the budget), so the
// schedule each one keeps can be checked exactly: rung sizes, promotions, budgets, brackets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpace } from '../../src/automl/space.js';
import {
  AsyncSuccessiveHalving,
  GridSearcher,
  HyperBand,
  RandomSearcher,
  SuccessiveHalving,
  rankOutcomes,
} from '../../src/automl/searchers.js';
import { TpeSearcher } from '../../src/automl/tpe.js';
import type { Searcher, TrialRequest } from '../../src/automl/searchers.js';
import { runStudy } from '../../src/automl/study.js';
import type { TrialRecord } from '../../src/automl/study.js';
import { dominates, paretoFront, paretoRanks } from '../../src/automl/pareto.js';

const space = parseSpace({ x: { type: 'uniform', low: 0, high: 1 } });

/** Score rises with the budget and peaks at x = 0.7: the ranking at any budget is the final one. */
function objective(request: TrialRequest): number {
  const x = request.params['x'] as number;
  return 1 - (x - 0.7) ** 2 - 1 / (request.resource ?? 1);
}

async function run(searcher: Searcher, concurrency = 1, delayMs = 0): Promise<TrialRecord[]> {
  const { trials } = await runStudy(
    searcher,
    async (request) => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs * (1 + (request.configId % 3))));
      const mean = objective(request);
      return { scores: [mean], mean, std: 0, fitSeconds: 0 };
    },
    { concurrency },
  );
  return trials;
}

test('grid and random: the given number of trials, no budget; random is seeded', async () => {
  const grid = await run(new GridSearcher(parseSpace({ x: { type: 'uniform', low: 0, high: 1, steps: 5 } }), 100));
  assert.deepEqual(
    grid.map((t) => t.params['x']),
    [0, 0.25, 0.5, 0.75, 1],
  );
  const a = await run(new RandomSearcher(space, 7, 1));
  const b = await run(new RandomSearcher(space, 7, 1));
  assert.equal(a.length, 7);
  assert.deepEqual(
    a.map((t) => t.params),
    b.map((t) => t.params),
  );
  assert.ok(a.every((t) => t.resource === null));
});

test('successive halving: 9 configurations at 1, the best 3 at 3, the best 1 at 9 (27 budget units)', async () => {
  const configs = Array.from({ length: 9 }, (_, configId) => ({ configId, params: { x: configId / 8 } }));
  const trials = await run(new SuccessiveHalving(configs, 1, 9, 3), 2);
  const atRung = (r: number): TrialRecord[] => trials.filter((t) => t.rung === r);
  assert.deepEqual(
    [0, 1, 2].map((r) => atRung(r).length),
    [9, 3, 1],
  );
  assert.deepEqual(
    [0, 1, 2].map((r) => atRung(r)[0]!.resource),
    [1, 3, 9],
  );
  // x = k/8 closest to 0.7: 6/8, then 5/8, then 7/8.
  assert.deepEqual(
    atRung(1)
      .map((t) => t.configId)
      .sort(),
    [5, 6, 7],
  );
  assert.deepEqual(
    atRung(2).map((t) => t.configId),
    [6],
  );
  assert.equal(
    trials.reduce((s, t) => s + t.resource!, 0),
    27,
  );
  // Synchronous: no rung-1 trial starts before every rung-0 trial has finished.
  const lastRung0End = Math.max(...atRung(0).map((t) => t.startedAt + t.seconds));
  assert.ok(atRung(1).every((t) => t.startedAt >= lastRung0End - 1e-6));
});

test('ASHA: each promotion was in the top 1/eta of its rung when made; at most `trials` configurations', async () => {
  const trials = await run(new AsyncSuccessiveHalving(space, 30, { min: 1, max: 9, eta: 3 }, 4), 3, 2);
  const configs = new Set(trials.map((t) => t.configId));
  assert.equal(configs.size, 30);
  for (const promoted of trials.filter((t) => t.rung > 0)) {
    // Trials of the rung below that had finished when this one started.
    const below = trials.filter((t) => t.rung === promoted.rung - 1 && t.startedAt + t.seconds <= promoted.startedAt + 1e-6);
    const ranked = below.map((t) => t.score!).sort((p, q) => q - p);
    const own = below.find((t) => t.configId === promoted.configId)!;
    assert.ok(own !== undefined, `config ${promoted.configId} promoted before finishing rung ${promoted.rung - 1}`);
    assert.ok(own.score! >= ranked[Math.floor(below.length / 3) - 1]!, `config ${promoted.configId} promoted from outside the top third`);
  }
  const top = trials.filter((t) => t.resource === 9);
  assert.ok(top.length >= 1, 'some configuration reached the full budget');
});

test('ASHA on one worker (deterministic order): about half the budget of full-budget trials, and finds the best configuration', async () => {
  const trials = await run(new AsyncSuccessiveHalving(space, 30, { min: 1, max: 9, eta: 3 }, 4), 1);
  const spent = trials.reduce((s, t) => s + t.resource!, 0);
  assert.ok(spent <= (30 * 9) / 2, `ASHA spent ${spent} budget units; 30 full-budget trials would spend 270`);
  const closest = trials
    .filter((t) => t.rung === 0)
    .reduce((b, t) => (Math.abs((t.params['x'] as number) - 0.7) < Math.abs((b.params['x'] as number) - 0.7) ? t : b));
  assert.ok(
    trials.some((t) => t.resource === 9 && t.configId === closest.configId),
    'the configuration nearest the optimum reached the full budget',
  );
});

test('HyperBand (min 1, max 9, eta 3): brackets of 9@1, 5@3 and 3@9, each halving', async () => {
  const trials = await run(new HyperBand(space, 1000, { min: 1, max: 9, eta: 3 }, 2), 2);
  const bracket = (b: number, rung: number): TrialRecord[] => trials.filter((t) => t.bracket === b && t.rung === rung);
  assert.deepEqual([bracket(0, 0).length, bracket(0, 1).length, bracket(0, 2).length], [9, 3, 1]);
  assert.deepEqual([bracket(1, 0).length, bracket(1, 1).length], [5, 1]);
  assert.deepEqual([bracket(2, 0).length], [3]);
  assert.deepEqual([bracket(0, 0)[0]!.resource, bracket(1, 0)[0]!.resource, bracket(2, 0)[0]!.resource], [1, 3, 9]);
  assert.equal(new Set(trials.map((t) => t.configId)).size, 17);
});

test('Pareto helpers: dominance, the front, non-dominated sorting; promotion by Pareto rank first', () => {
  assert.ok(dominates([1, 1], [1, 0]));
  assert.ok(!dominates([1, 0], [0, 1]));
  assert.ok(!dominates([1, 1], [1, 1]));
  const points = [
    [0.9, -2],
    [0.8, -1],
    [0.7, -3],
    [0.85, -1.5],
    [0.6, -0.5],
  ];
  assert.deepEqual(paretoFront(points), [0, 1, 3, 4]);
  assert.deepEqual(paretoRanks(points), [0, 0, 1, 0, 0]);
  const outcome = (configId: number, objectives: number[] | null): { request: TrialRequest; objectives: number[] | null } => ({
    request: { configId, params: {}, rung: 0, resource: 1, bracket: 0 },
    objectives,
  });
  const ranked = rankOutcomes([outcome(0, [0.95, -10]), outcome(1, [0.9, -1]), outcome(2, [0.8, -5]), outcome(3, null)]);
  assert.deepEqual(
    ranked.map((o) => o.request.configId),
    [0, 1, 2],
  );
});

test('TPE: after its random start-up it samples near the best trials, finding a better optimum than random search with the same budget', async () => {
  // A narrow peak at x = 0.7 on a log-scaled option and a categorical with one good value.
  const hard = parseSpace({
    x: { type: 'uniform', low: 0, high: 1 },
    l: { type: 'log-uniform', low: 1e-4, high: 1 },
    c: { type: 'choice', values: ['a', 'b', 'c', 'd'] },
    n: { type: 'int', low: 1, high: 50, when: { c: 'b' } },
  });
  const score = (p: Record<string, unknown>): number =>
    -10 * ((p['x'] as number) - 0.7) ** 2 - Math.log10((p['l'] as number) / 1e-2) ** 2 - (p['c'] === 'b' ? 0 : 1);
  const bestOf = async (searcher: Searcher): Promise<number> => {
    const { trials } = await runStudy(searcher, async (request) => {
      const mean = score(request.params);
      return { scores: [mean], mean, std: 0, fitSeconds: 0 };
    });
    for (const t of trials) {
      const x = t.params['x'] as number;
      assert.ok(x >= 0 && x <= 1 && (t.params['l'] as number) >= 1e-4 && (t.params['l'] as number) <= 1);
      assert.equal('n' in t.params, t.params['c'] === 'b');
      if ('n' in t.params) assert.ok(Number.isInteger(t.params['n']) && (t.params['n'] as number) >= 1 && (t.params['n'] as number) <= 50);
    }
    return Math.max(...trials.map((t) => t.score!));
  };
  let tpeWins = 0;
  let tpeSum = 0;
  let randomSum = 0;
  for (const seed of [1, 2, 3, 4, 5]) {
    const tpe = await bestOf(new TpeSearcher(hard, 40, seed));
    const random = await bestOf(new RandomSearcher(hard, 40, seed));
    tpeSum += tpe;
    randomSum += random;
    if (tpe > random) tpeWins++;
  }
  assert.ok(tpeWins >= 4, `TPE beat random on ${tpeWins}/5 seeds (mean best ${tpeSum / 5} vs ${randomSum / 5})`);
});
