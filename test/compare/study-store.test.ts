// Tuning studies in a real DuckDB file beside the comparison's tables: attempts, trials read back
// whole, settings checked on resume, the summary per study.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { ResultsStore, SCHEMA_VERSION } from '../../src/compare/store.js';
import { StudyStore } from '../../src/compare/study-store.js';
import { extensionSettingsOf } from './extension-settings.js';

const trial = (
  id: number,
  status: string,
  score: number | null,
): {
  id: number;
  status: string;
  score: number | null;
  resource: number | null;
  params: Record<string, unknown>;
  foldScores: number[] | null;
} => ({ id, status, score, resource: null, params: { l2: id / 10 }, foldScores: score === null ? null : [score, score] });

test('studies: attempts, trials read back in order, changed settings refused, summary; the runs tables untouched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-study-'));
  const path = join(dir, 'results.duckdb');
  try {
    // A file the comparison made first keeps its schema version.
    (await ResultsStore.open(path)).close();
    let store = await StudyStore.open(path);
    const settings = { model: 'mlp', seed: 1, space: { lr: { type: 'uniform', low: 0, high: 1 } } };
    const first = await store.begin('s', 'mlp', settings);
    assert.deepEqual(first, { attempt: 1, previous: [] });
    await store.writeTrial('s', 1, trial(0, 'ok', 0.8));
    await store.writeTrial('s', 1, trial(1, 'failed', null));
    store.close();

    store = await StudyStore.open(path);
    const second = await store.begin<ReturnType<typeof trial>>('s', 'mlp', settings);
    assert.equal(second.attempt, 2);
    assert.deepEqual(second.previous, [trial(0, 'ok', 0.8), trial(1, 'failed', null)]);
    await store.writeTrial('s', 2, trial(0, 'ok', 0.9));
    await assert.rejects(
      store.begin('s', 'mlp', { ...settings, seed: 2 }),
      (e: unknown) => e instanceof ConfigError && e.field === 'seed' && /was run with seed = 1, now 2/.test(e.message),
    );
    await store.begin('other', 'logistic-regression', {});
    const summary = await store.studies();
    assert.deepEqual(
      summary.map(({ createdAt: _, ...rest }) => rest),
      [
        { study: 's', model: 'mlp', attempts: 2, trials: 3, failed: 1, bestScore: 0.9 },
        { study: 'other', model: 'logistic-regression', attempts: 1, trials: 0, failed: 0, bestScore: null },
      ],
    );
    store.close();
    const results = await ResultsStore.open(path);
    assert.equal(await results.schemaVersion(), SCHEMA_VERSION);
    results.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a study store opens DuckDB as the results store does: no extension installed or loaded behind our back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-study-'));
  try {
    const store = await StudyStore.open(join(dir, 'results.duckdb'));
    try {
      assert.deepEqual(await extensionSettingsOf(store), [{ install: false, load: false }]);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
