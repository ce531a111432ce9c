// The comparison's tuning checks (claim 'automl-tuning', the seed's §6): validated matrix entries, a
// check that tunes on the training rows only and scores both models on held-out rows, and the
// checks stored, resumed and reported like runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { heldOutScore } from '../../src/automl/index.js';
import { evaluateClaims } from '../../src/compare/claims.js';
import { loadSession, resumeCompare, runCompare } from '../../src/compare/compare.js';
import { trainAndTest } from '../../src/compare/data.js';
import { defaultMatrix, parseMatrix } from '../../src/compare/matrix.js';
import { renderReport } from '../../src/compare/report.js';
import { parseTuningList, runTuningCheck } from '../../src/compare/tuning.js';
import { ConfigError } from '../../src/core/errors.js';
import { loadData } from '../../src/data/index.js';

const DATA = 'synthetic:classification?rows=1500&cols=8&seed=3';
// An MLP at a learning rate far too small for its one epoch: the "defaults" a search should beat.
const CHECK = {
  model: 'mlp',
  params: { hidden: [8], epochs: 1, lr: 1e-5 },
  data: DATA,
  space: { lr: { type: 'log-uniform', low: 1e-3, high: 0.1 } },
  trials: 4,
  cv: 3,
};

test('tuning entries are validated, naming the field at fault', () => {
  const bad: [unknown, RegExp][] = [
    [{ ...CHECK, searcher: 'asha' }, /tuning\[0\]\.searcher.*random, tpe, grid/],
    [{ ...CHECK, model: 'kmeans' }, /tuning\[0\]\.model.*classifier or a regressor/],
    [{ ...CHECK, space: {} }, /tuning\[0\]\.space/],
    [{ ...CHECK, cv: 1 }, /tuning\[0\]\.cv/],
    [{ ...CHECK, folds: 3 }, /unknown field 'tuning\[0\]\.folds'/],
  ];
  for (const [entry, message] of bad) {
    assert.throws(
      () => parseTuningList('tuning', [entry]),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
    );
  }
  const [spec] = parseTuningList('tuning', [CHECK]);
  assert.deepEqual({ searcher: spec!.searcher, seed: spec!.seed }, { searcher: 'random', seed: 0 });
  assert.deepEqual(parseMatrix({ models: ['kmeans'] }).tuning, []);
  // The default comparison carries one check, so its report can read the claim.
  assert.equal(defaultMatrix({ rows: 2000, repeats: 1 }).tuning!.length, 1);
});

test('a tuning check beats poor defaults on held-out rows, and its scores are the held-out fits it names', async () => {
  const [spec] = parseTuningList('tuning', [CHECK]);
  const split = trainAndTest(await loadData(DATA), 0.2, 1);
  const result = await runTuningCheck(spec!, split);
  assert.equal(result.error, null);
  assert.equal(result.trainRows + result.testRows, 1500);
  const lr = result.bestParams.lr as number;
  assert.ok(lr >= 1e-3 && lr <= 0.1, `best lr ${lr}`);
  assert.equal(result.bestParams.epochs, 1, 'the fixed params stay fixed');
  assert.ok(result.tunedScore! > result.defaultScore! + 0.05, `tuned ${result.tunedScore} vs default ${result.defaultScore}`);
  // Reference: the same held-out fits made directly.
  const tuned = await heldOutScore(split.train, split.test, { model: 'mlp', params: { ...CHECK.params, lr } });
  assert.equal(result.tunedScore, tuned.score);
  // Seeded: the same check gives the same result.
  const again = await runTuningCheck(spec!, split);
  assert.deepEqual({ ...again, seconds: 0 }, { ...result, seconds: 0 });

  const claim = evaluateClaims([], undefined, { tuning: [result] }).find((c) => c.id === 'automl-tuning')!;
  assert.equal(claim.verdict, 'supported');
  const worse = { ...result, tunedScore: result.defaultScore! - 0.1 };
  assert.equal(evaluateClaims([], undefined, { tuning: [worse] }).find((c) => c.id === 'automl-tuning')!.verdict, 'contradicted');
  assert.equal(evaluateClaims([]).find((c) => c.id === 'automl-tuning')!.verdict, 'not measured yet');
});

test('tuning checks are stored with the session, not run again on resume, and reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-tuning-'));
  try {
    const dbPath = join(dir, 'r.duckdb');
    const matrix = parseMatrix({
      name: 'tuning',
      models: [{ name: 'logistic-regression', params: { solver: 'sgd', epochs: 1 }, data: [DATA] }],
      paradigms: ['sequential'],
      workers: [1],
      repeats: 1,
      warmup: false,
      tuning: [CHECK],
    });
    const first = await runCompare(matrix, { dbPath, reportPath: null });
    assert.equal(first.tuning.length, 1);
    assert.equal(first.tuning[0]!.error, null);
    const stored = await loadSession(dbPath);
    assert.deepEqual(stored.tuning, first.tuning);
    let started = 0;
    const resumed = await resumeCompare(dbPath, { reportPath: null, onProgress: (e) => void (e.type === 'tuning-start' && started++) });
    assert.equal(started, 0, 'a stored check is not run again');
    assert.deepEqual(resumed.tuning, first.tuning);
    const html = await renderReport(stored);
    assert.match(html, /<tr id="claim-automl-tuning">.*verdict-supported/);
    assert.match(html, /Tuning: defaults against tuned/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
