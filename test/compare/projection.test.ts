// Beyond this machine: the cost model's predictions for 1–64 hosts, 3 link classes and 1–100× the
// data, calibrated on hand-made runs of a compute-heavy k-means (half the time divides over
// workers, so bigger data and more hosts pay) — checked for internal consistency against predict().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINKS, PROJECTED_WORKERS, SIZE_FACTORS, projectBeyond } from '../../src/compare/projection.js';
import { record } from './records.js';

function kmeansRuns(): ReturnType<typeof record>[] {
  const runs = [];
  for (const [rows, seconds] of [
    [8000, 2],
    [80_000, 20],
  ] as const) {
    const data = `synthetic:blobs?rows=${rows}&cols=20&seed=1`;
    for (let repeat = 0; repeat < 3; repeat++) {
      const common = { model: 'kmeans', params: { k: 8 }, data, trainRows: rows, cols: 20, repeat };
      runs.push(record({ ...common, paradigm: 'sequential', wallSeconds: seconds }));
      runs.push(record({ ...common, paradigm: 'threads', workers: 2, wallSeconds: seconds / 1.9 + 0.1 }));
      runs.push(record({ ...common, paradigm: 'processes', workers: 2, wallSeconds: seconds / 1.8 + 0.6, commMs: 50 }));
    }
  }
  return runs;
}

test('projections cover 1–64 hosts, 3 links and 1–100× the data, and the crossover is the first cluster faster than this host', () => {
  const [projection] = projectBeyond(kmeansRuns(), 2);
  assert.ok(projection !== undefined);
  assert.equal(projection.model, 'kmeans');
  assert.equal(projection.measuredRows, 80_000);
  assert.deepEqual(
    projection.rows.map((r) => r.rows),
    SIZE_FACTORS.map((f) => 80_000 * f),
  );
  for (const row of projection.rows) {
    assert.match(row.hostLabel, /^(sequential|threads×2)$/);
    for (const link of LINKS) {
      const times = row.cluster[link.name]!;
      assert.equal(times.length, PROJECTED_WORKERS.length);
      assert.ok(times.every((t) => Number.isFinite(t) && t > 0));
      const crossover = row.crossover[link.name]!;
      const first = PROJECTED_WORKERS.findIndex((w, i) => w > 1 && times[i]! < row.hostSeconds);
      assert.equal(crossover, first < 0 ? null : PROJECTED_WORKERS[first]);
    }
  }
  // Compute that divides over workers: at 100× the data some cluster beats a 2-core host on every link,
  // and a faster link never predicts a slower cluster.
  const largest = projection.rows[projection.rows.length - 1]!;
  for (const link of LINKS) assert.notEqual(largest.crossover[link.name], null, `${link.name}: ${largest.cluster[link.name]}`);
  for (let i = 1; i < LINKS.length; i++) {
    const slower = largest.cluster[LINKS[i - 1]!.name]!;
    const faster = largest.cluster[LINKS[i]!.name]!;
    faster.forEach((t, w) => assert.ok(t <= slower[w]! + 1e-12, `${LINKS[i]!.name} at ${PROJECTED_WORKERS[w]} hosts`));
  }
  // More data: the host's predicted time grows with it.
  assert.ok(projection.rows[2]!.hostSeconds > projection.rows[0]!.hostSeconds);
  assert.deepEqual(projectBeyond([], 2), []);
  // An agent's cells (an environment's step budget, 0 rows) are not projected.
  const agent = record({ model: 'q-learning', modelKind: 'agent', paradigm: 'sequential', wallSeconds: 0.03, trainRows: 0 });
  assert.deepEqual(
    projectBeyond([...kmeansRuns(), agent], 2).map((p) => p.model),
    ['kmeans'],
  );
});
