// FitOptions.inject with real child processes: the planned rank is the one signalled, at the seeded
// point of the run; the same seed plans the same fault; a SIGSTOPped rank is resumed and the run
// completes on every worker; no child outlives the fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import { trainTestSplit } from '../../src/data/split.js';
import { createModel } from '../../src/models/registry.js';
import type { FitOptions } from '../../src/models/paradigm.js';
import { FAULT_WINDOW, planFault } from '../../src/runtime/fault-injection.js';
import { ELASTIC_MODEL, ELASTIC_SPEC, ELASTIC_SPLIT } from './fixtures/elastic-settings.js';
import { childPids } from './child-pids.js';

const whole = trainTestSplit((await loadData(ELASTIC_SPEC)).train, ELASTIC_SPLIT);

test('planFault: the same seed plans the same rank and point; seeds spread over every rank, points inside the window', () => {
  assert.deepEqual(planFault({ signal: 'SIGKILL', seed: 11 }, 3), planFault({ signal: 'SIGKILL', seed: 11 }, 3));
  const plans = Array.from({ length: 40 }, (_, seed) => planFault({ signal: 'SIGKILL', seed }, 3));
  assert.deepEqual([...new Set(plans.map((p) => p.rank))].sort(), [0, 1, 2]);
  for (const plan of plans) assert.ok(plan.atFraction >= FAULT_WINDOW.from && plan.atFraction < FAULT_WINDOW.to, String(plan.atFraction));
  // Fixing the rank leaves the seeded point where it was.
  assert.equal(planFault({ signal: 'SIGKILL', seed: 5, rank: 2 }, 3).atFraction, planFault({ signal: 'SIGKILL', seed: 5 }, 3).atFraction);
  assert.throws(() => planFault({ signal: 'SIGKILL', rank: 3 }, 3), { code: 'CONFIG', field: 'inject.rank' });
  assert.throws(() => planFault({ signal: 'SIGHUP' as 'SIGKILL' }, 3), { code: 'CONFIG', field: 'inject.signal' });
});

test('threads refuses an injection (its ranks are not processes)', async () => {
  await assert.rejects(
    createModel(ELASTIC_MODEL.name, ELASTIC_MODEL.params).fit(whole.train, {
      paradigm: 'threads',
      workers: 2,
      inject: { signal: 'SIGKILL' },
    }),
    { code: 'CONFIG', field: 'inject' },
  );
});

async function fit(options: FitOptions) {
  const before = new Set(childPids());
  const model = await createModel(ELASTIC_MODEL.name, ELASTIC_MODEL.params).fit(whole.train.slice(0, 0), {
    paradigm: 'processes',
    workers: 3,
    source: { spec: ELASTIC_SPEC, split: ELASTIC_SPLIT },
    timeoutMs: 20_000,
    ...options,
  });
  assert.deepEqual(
    childPids().filter((pid) => !before.has(pid)),
    [],
    'every worker process was reaped',
  );
  return model.fitInfo!;
}

test('SIGKILL at a seeded point: the planned rank is the one lost, after rank 0 passed the planned fraction of its epochs', async () => {
  // A seed whose victim is not rank 0, so rank 0's history runs on through the fault.
  const seed = Array.from({ length: 20 }, (_, s) => s).find((s) => planFault({ signal: 'SIGKILL', seed: s }, 3).rank !== 0)!;
  const plan = planFault({ signal: 'SIGKILL', seed }, 3);
  const info = await fit({ minWorkers: 2, inject: { signal: 'SIGKILL', seed } });
  assert.deepEqual(
    { ...info.injected, firedAtMs: null },
    { signal: 'SIGKILL', rank: plan.rank, atFraction: plan.atFraction, firedAtMs: null },
  );
  assert.ok(info.injected!.firedAtMs !== null, 'the signal was sent');
  assert.equal(info.faults?.length, 1, JSON.stringify(info.faults));
  assert.equal(info.faults![0]!.rank, plan.rank, 'the fault names the rank the plan chose');
  // The two survivors, plus the replacement the policy starts if it joined before the run ended.
  assert.equal(info.workers, 2 + (info.joins?.length ?? 0), JSON.stringify(info.joins));
  // The point: the signal went after the first progress event at or past the planned fraction, not before it.
  const total = ELASTIC_MODEL.params.epochs;
  const crossing = info.history.find((event) => event.iteration / total >= plan.atFraction);
  assert.ok(crossing !== undefined);
  assert.ok(info.faults![0]!.resumedStep! > 0, 'trained steps before the fault');
  const before = info.history.filter((event) => event.elapsedMs < info.injected!.firedAtMs! - 50);
  assert.ok(
    before.every((event) => event.iteration <= crossing.iteration),
    'no epoch past the planned point finished long before the signal',
  );
  assert.equal(info.history.at(-1)?.iteration, total, 'every epoch was trained');
});

test('SIGSTOP for 1 s under allreduce: the rank is resumed, the run completes on all 3 workers with no re-form', async () => {
  const info = await fit({ inject: { signal: 'SIGSTOP', seed: 3, holdMs: 1000 } });
  assert.equal(info.workers, 3);
  assert.equal(info.faults, undefined);
  assert.ok(info.injected!.firedAtMs !== null);
  assert.ok(info.injected!.heldMs! >= 1000, JSON.stringify(info.injected));
  assert.equal(info.history.at(-1)?.iteration, ELASTIC_MODEL.params.epochs);
});
