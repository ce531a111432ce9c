// compare's fault axis (fault-cells.ts, fault-report.ts): which cells take a fault, the fit options
// and seeded plan of each, the claim's verdict from hand-made records, the store's migration from
// schema 6, and one real fault pair (processes×3, one rank SIGKILLed) run, stored, read back and
// judged by the claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import '../../src/index.js';
import { calibrateFromRuns } from '../../src/compare/advisor.js';
import { evaluateClaims } from '../../src/compare/claims.js';
import { runCompare } from '../../src/compare/compare.js';
import { faultFitOptions, faultOutcome, faultSeed } from '../../src/compare/fault-cells.js';
import { faultComparisons, faultToleranceVerdict, SCORE_TOLERANCE } from '../../src/compare/fault-report.js';
import { expandMatrix, parseMatrix } from '../../src/compare/matrix.js';
import { resolveMatrix } from '../../src/compare/matrix-file.js';
import type { RunRecord } from '../../src/compare/record.js';
import { ResultsStore, SCHEMA_VERSION } from '../../src/compare/store.js';
import { planFault } from '../../src/runtime/fault-injection.js';
import { record, session } from './records.js';

const PARADIGMS = ['sequential', 'threads', 'processes', 'cluster'] as const;

test('the fault axis: processes and cluster cells of ≥ 2 workers get an undisturbed twin and each fault their strategy takes', () => {
  const matrix = parseMatrix({
    models: [{ name: 'logistic-regression', params: { solver: 'sgd' } }],
    data: ['synthetic:classification?rows=1000&cols=4&seed=1'],
    paradigms: ['sequential', 'threads', 'processes'],
    workers: [1, 3],
    strategies: ['allreduce', 'ps-ssp:2'],
    faults: ['kill', 'stop'],
  });
  const { cells, skipped } = expandMatrix(matrix, [...PARADIGMS], () => null);
  const faulted = cells.filter((c) => c.fault !== undefined).map((c) => `${c.paradigm}×${c.workers} ${c.strategy} ${c.fault}`);
  assert.deepEqual(faulted, [
    'processes×3 allreduce none',
    'processes×3 allreduce kill',
    'processes×3 allreduce stop',
    'processes×3 ps-ssp:2 none',
    'processes×3 ps-ssp:2 stop',
  ]);
  // One worker, threads and sequential stay off the axis, with the ids they had before it.
  assert.ok(cells.some((c) => c.paradigm === 'processes' && c.workers === 1 && c.fault === undefined && !c.id.includes('fault=')));
  assert.ok(cells.filter((c) => c.fault !== undefined).every((c) => c.id.endsWith(`|fault=${c.fault}`)));
  const refused = skipped.filter((s) => s.fault !== undefined);
  assert.deepEqual(
    refused.map((s) => [s.strategy, s.fault]),
    [['ps-ssp:2', 'kill']],
  );
  assert.match(refused[0]!.reason, /allreduce, ps-sync and ps-async/);
  assert.throws(() => parseMatrix({ models: ['kmeans'], faults: ['crash'] }), { code: 'CONFIG', field: 'faults[0]' });
});

test('fault fit options: the twin and the faults share the restart policy where the strategy re-forms; the seed is the matrix seed and the repeat', () => {
  assert.deepEqual(faultFitOptions({ workers: 3, strategy: 'allreduce' }, 1), {});
  assert.deepEqual(faultFitOptions({ fault: 'none', workers: 3, strategy: 'allreduce' }, 1), { minWorkers: 2 });
  assert.deepEqual(faultFitOptions({ fault: 'kill', workers: 3, strategy: 'allreduce' }, 1001), {
    minWorkers: 2,
    inject: { signal: 'SIGKILL', seed: 1001 },
  });
  assert.deepEqual(faultFitOptions({ fault: 'stop', workers: 3, strategy: 'ps-ssp:2' }, 7), {
    inject: { signal: 'SIGSTOP', seed: 7, holdMs: 2000 },
  });
  assert.notEqual(faultSeed(1, 0), faultSeed(1, 1));
  // The outcome names the rank and point the launcher's plan chose for that seed.
  const plan = planFault({ signal: 'SIGKILL', seed: faultSeed(1, 2) }, 3);
  const outcome = faultOutcome({ fault: 'kill', workers: 3 }, faultSeed(1, 2), null);
  assert.deepEqual([outcome.victim, outcome.atFraction, outcome.finalWorkers], [plan.rank, plan.atFraction, null]);
});

/** A fault-axis record: `fault` kind, its score, ok or failed. */
function faultRun(kind: 'none' | 'kill', score: number, status: 'ok' | 'failed' = 'ok', wallSeconds = 4): RunRecord {
  return record({
    model: 'logistic-regression',
    paradigm: 'processes',
    workers: 3,
    wallSeconds,
    status,
    score,
    fault: {
      kind,
      victim: kind === 'none' ? null : 1,
      atFraction: kind === 'none' ? null : 0.5,
      firedAtMs: kind === 'none' ? null : 1500,
      heldMs: null,
      finalWorkers: status === 'failed' ? null : kind === 'none' ? 3 : 2,
      faults:
        kind === 'none' || status === 'failed'
          ? []
          : [{ rank: 1, lost: [1], generation: 1, workers: 2, detectedMs: 100, reformMs: 200, reloadMs: 50, lostMs: 350 }],
    },
  });
}

const claim = (records: RunRecord[]) => evaluateClaims([], undefined, { faultRecords: records }).find((c) => c.id === 'fault-tolerance')!;

test('claim fault-tolerance: supported only when every faulted run completed within 1 point of the undisturbed twin', () => {
  assert.equal(claim([]).verdict, 'not measured yet');
  const twin = [faultRun('none', 0.93), faultRun('none', 0.93)];
  const held = claim([...twin, faultRun('kill', 0.93 - SCORE_TOLERANCE / 2, 'ok', 5), faultRun('kill', 0.93)]);
  assert.equal(held.verdict, 'supported');
  assert.match(held.evidence, /On one machine/);
  assert.match(held.evidence, /2\/2 runs completed on 2 workers, time lost per fault \(detect \+ re-form \+ reload\) 0\.35 s/);
  assert.match(held.evidence, /wall \+0\.50 s/);
  assert.equal(claim([...twin, faultRun('kill', 0.9)]).verdict, 'contradicted', 'three points worse');
  assert.equal(
    claim([...twin, faultRun('kill', 0.93), faultRun('kill', 0.93, 'failed')]).verdict,
    'contradicted',
    'a run that did not complete',
  );
  const [comparison] = faultComparisons([...twin, faultRun('kill', 0.93)]);
  assert.deepEqual([comparison!.completed, comparison!.runs, comparison!.lostMs, comparison!.victims], [1, 1, [350], [1]]);
  assert.deepEqual(faultToleranceVerdict(twin), { forCount: 0, againstCount: 0, evidence: faultToleranceVerdict([]).evidence });
});

test('store: a schema-6 file gains fault_runs in one migration step; fault outcomes round-trip, other runs have none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-faults-'));
  const path = join(dir, 'results.duckdb');
  try {
    const plain = record({ paradigm: 'sequential', wallSeconds: 2 });
    const store = await ResultsStore.open(path);
    await store.writeRun(plain, session());
    store.close();
    // The schema-6 layout: no fault_runs table.
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(
      `DROP TABLE fault_runs; ALTER TABLE runs DROP COLUMN startup_ms; UPDATE meta SET value = '6' WHERE key = 'schema_version'`,
    );
    connection.closeSync();
    instance.closeSync();
    const migrated = await ResultsStore.open(path);
    assert.equal(await migrated.schemaVersion(), SCHEMA_VERSION);
    const killed = faultRun('kill', 0.92);
    await migrated.writeRun(killed, session());
    const runs = await migrated.listRuns();
    migrated.close();
    assert.equal(runs.find((r) => r.runId === plain.runId)!.fault, undefined);
    assert.deepEqual(runs.find((r) => r.runId === killed.runId)!.fault, killed.fault);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a compare run of one fault pair (processes×3, one rank SIGKILLed): the figures are stored and the claim reads them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-faults-'));
  try {
    const matrix = parseMatrix({
      models: [{ name: 'logistic-regression', params: { solver: 'sgd', epochs: 8, batchSize: 32, lr: 0.05 } }],
      data: ['synthetic:classification?rows=4000&cols=10&seed=3'],
      paradigms: ['processes'],
      workers: [3],
      faults: ['kill'],
      repeats: 1,
      warmup: false,
      timeoutMs: 20_000,
    });
    const dbPath = join(dir, 'results.duckdb');
    const outcome = await runCompare(matrix, { dbPath });
    const store = await ResultsStore.open(dbPath, { create: false });
    const runs = await store.listRuns();
    store.close();
    assert.deepEqual(
      runs.map((r) => [r.fault?.kind, r.status]),
      [
        ['none', 'ok'],
        ['kill', 'ok'],
      ],
      runs.map((r) => r.error).join('\n'),
    );
    const killed = runs[1]!.fault!;
    const plan = planFault({ signal: 'SIGKILL', seed: faultSeed(matrix.seed, 0) }, 3);
    assert.equal(killed.victim, plan.rank);
    assert.ok(killed.firedAtMs !== null, `the signal was sent: ${JSON.stringify(killed)}`);
    // The two survivors, plus the replacement the policy starts when it joined before the run ended (elastic-growth.ts).
    assert.ok(killed.finalWorkers === 2 || killed.finalWorkers === 3, `final workers ${killed.finalWorkers}`);
    // The terminal answer (and the report's) says what the fault cost, in plain words, on the workers the run ended with.
    assert.match(
      outcome.answer,
      new RegExp(
        `^Faults: a SIGKILLed rank of logistic-regression processes×3 allreduce cost \\d+\\.\\d\\d s per fault .*1/1 runs completed, on ${killed.finalWorkers} of 3 workers$`,
        'm',
      ),
    );
    assert.equal(killed.faults.length, 1, JSON.stringify(killed));
    assert.equal(killed.faults[0]!.rank, plan.rank, 'the re-form names the rank the plan chose');
    assert.equal(runs[0]!.fault!.finalWorkers, 3);
    const verdict = claim(runs);
    assert.ok(Math.abs(runs[1]!.score! - runs[0]!.score!) <= SCORE_TOLERANCE, `${runs[1]!.score} vs ${runs[0]!.score}`);
    assert.equal(verdict.verdict, 'supported', verdict.evidence);
    assert.match(verdict.evidence, new RegExp(`1/1 runs completed on ${killed.finalWorkers} workers`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--faults (resolveMatrix): replaces the matrix list and every model entry’s own', async () => {
  const matrix = await resolveMatrix({ models: ['logistic-regression'], paradigms: ['processes'], workers: [3], faults: ['stop'] });
  assert.deepEqual(matrix.faults, ['stop']);
  const fromDefault = await resolveMatrix({ rows: 200_000, faults: ['stop'] });
  assert.ok(
    fromDefault.models.every((m) => m.faults === undefined || m.faults === null),
    'no model keeps its own list',
  );
  await assert.rejects(resolveMatrix({ models: ['kmeans'], faults: ['explode'] }), { code: 'CONFIG', field: 'faults[0]' });
});

test('advise: the cost model is calibrated without fault cells’ runs (they time a fault, not the paradigm)', () => {
  const plain = record({ model: 'logistic-regression', params: { solver: 'sgd' }, paradigm: 'processes', workers: 3, wallSeconds: 4 });
  assert.equal(calibrateFromRuns([plain], 2).runs, 1);
  assert.equal(calibrateFromRuns([plain, faultRun('none', 0.93), faultRun('kill', 0.93)], 2).runs, 1);
});
