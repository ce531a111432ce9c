// The runner keeps going when a cell cannot run: a fit that fails on configuration is recorded once
// and its other repeats skipped; data that cannot be loaded skips its cells; the rest still runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { parseMatrix } from '../../src/compare/matrix.js';
import { runMatrix } from '../../src/compare/runner.js';

test('failing and unloadable cells are recorded or skipped, and the other cells still run', async () => {
  const matrix = parseMatrix({
    models: [
      { name: 'kmeans', params: { k: 40 }, data: ['synthetic:blobs?rows=30&cols=2&seed=1'] },
      { name: 'kmeans', params: { k: 2 }, data: ['synthetic:blobs?rows=60&cols=2&centers=2&seed=1', 'synthetic:nonsense?rows=10'] },
    ],
    paradigms: ['sequential'],
    repeats: 3,
    warmup: false,
  });
  const result = await runMatrix(matrix, {});
  const failed = result.records.filter((r) => r.status === 'failed');
  assert.equal(failed.length, 1, 'a configuration failure is not repeated');
  assert.match(failed[0]!.error!, /k = 40 clusters needs at least 40 rows/);
  assert.ok(result.skipped.some((s) => /k = 40/.test(s.reason)));
  assert.ok(result.skipped.some((s) => s.data.includes('nonsense') && /could not be loaded/.test(s.reason)));
  const ok = result.records.filter((r) => r.status === 'ok');
  assert.equal(ok.length, 3);
  assert.ok(ok.every((r) => r.params.k === 2 && r.score !== null && r.scoreName === 'inertia'));
  assert.deepEqual(ok.map((r) => r.repeat), [0, 1, 2]);
});
