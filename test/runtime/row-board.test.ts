// Row passes shared out among threads (runtime/row-board.ts, TrainContext.sumRows): every row is
// summed once per pass whoever takes it, a slow rank leaves its chunks to the others, the result is
// the same bits run after run, and the models that use row passes (exact OLS, PCA, L-BFGS logistic
// regression, k-means) agree with sequential on data large enough for the board (below 2 chunks of 1,024 rows
// per rank a pass is the plain local sum plus an all-reduce).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { loadData } from '../../src/data/index.js';
import { createModel } from '../../src/models/registry.js';
import { chunkStart } from '../../src/runtime/row-board.js';
import { RowPassModel } from './fixtures/fixture-models.js';
import { stateDifference } from './model-cases.js';

const workerModules = [new URL('./fixtures/fixture-models.js', import.meta.url).href];
const data = (await loadData('synthetic:regression?rows=30011&cols=8&seed=5')).train;
const column = Array.from({ length: data.rows }, (_, i) => data.x[i * data.cols]!);
const exact = [data.rows, column.reduce((a, b) => a + b, 0), column.reduce((a, b) => a + b * b, 0)];

test('a row pass over threads sums every row once, and the board, not a static split, shares the rows', async () => {
  for (const workers of [2, 3]) {
    const model = await new RowPassModel({ passes: 3 }).fit(data, { paradigm: 'threads', workers, workerModules });
    const { sums, summedBy, dynamic } = model.state;
    assert.equal(dynamic, 1, `${workers} workers: the threads runtime offers sumRows`);
    assert.equal(sums[0], data.rows, `${workers} workers: rows counted`);
    for (const k of [1, 2])
      assert.ok(Math.abs(sums[k]! - exact[k]!) <= 1e-9 * Math.abs(exact[k]!), `${workers} workers: sum ${k} ${sums[k]} vs ${exact[k]}`);
    assert.equal(
      summedBy.reduce((a, b) => a + b, 0),
      3 * data.rows,
      `${workers} workers: each row once per pass`,
    );
  }
});

test('chunk boundaries cover the rows once, large chunks first, the last ones small', () => {
  for (const [rows, chunks] of [
    [1_000_000, 64],
    [30_011, 29],
    [4_096, 4],
    [7, 3],
  ] as const) {
    assert.equal(chunkStart(0, chunks, rows), 0);
    assert.equal(chunkStart(chunks, chunks, rows), rows);
    const sizes = Array.from({ length: chunks }, (_, c) => chunkStart(c + 1, chunks, rows) - chunkStart(c, chunks, rows));
    assert.ok(
      sizes.every((size) => size >= 0),
      `${rows}/${chunks}: ${sizes.join(',')}`,
    );
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      rows,
    );
    // Non-increasing up to the floor's one row.
    sizes.forEach((size, c) =>
      assert.ok(c === 0 || size <= sizes[c - 1]! + 1, `${rows}/${chunks}: chunk ${c} ${size} after ${sizes[c - 1]}`),
    );
  }
  const sizes = Array.from({ length: 64 }, (_, c) => chunkStart(c + 1, 64, 1_000_000) - chunkStart(c, 64, 1_000_000));
  assert.ok(Math.abs(sizes[0]! - (2 * 1_000_000) / 64) < 1_000_000 / 64 / 32, `first ${sizes[0]}`);
  assert.ok(sizes[63]! <= 1_000_000 / 64 / 32, `last ${sizes[63]}`);
});

test('a rank that is slow at every chunk leaves most of the rows to the other', async () => {
  const model = await new RowPassModel({ passes: 2, slowRank: 0, slowMs: 20 }).fit(data, {
    paradigm: 'threads',
    workers: 2,
    workerModules,
  });
  const [slow, fast] = model.state.summedBy;
  assert.equal(slow! + fast!, 2 * data.rows);
  // A static split gives each rank half; the fast rank takes every chunk the slow one is not sleeping over.
  assert.ok(fast! > 0.75 * 2 * data.rows, `the fast rank summed ${fast} of ${2 * data.rows} rows (the slow one ${slow})`);
  assert.equal(model.state.sums[0], data.rows);
});

test('one worker and small data take the plain pass: sequential bits, all rows', async () => {
  const small = data.slice(0, 3000);
  const one = await new RowPassModel({ passes: 1 }).fit(data, { paradigm: 'threads', workers: 1, workerModules });
  assert.equal(one.state.sums[0], data.rows);
  const few = await new RowPassModel({ passes: 1 }).fit(small, { paradigm: 'threads', workers: 2, workerModules });
  assert.deepEqual(Array.from(few.state.summedBy), [1500, 1500], 'under 2 chunks per rank: each rank its own shard');
});

const classification = (await loadData('synthetic:classification?rows=24007&cols=12&classes=3&seed=2')).train;
const cases: { name: string; params: Record<string, unknown>; data: typeof data }[] = [
  { name: 'linear-regression', params: { solver: 'exact' }, data },
  { name: 'pca', params: { solver: 'full', components: 4 }, data },
  { name: 'pca', params: { solver: 'randomized', components: 3 }, data },
  { name: 'logistic-regression', params: { solver: 'lbfgs', maxIter: 40 }, data: classification },
  { name: 'kmeans', params: { k: 6, init: 'random', algorithm: 'lloyd', seed: 4 }, data },
  { name: 'kmeans', params: { k: 6, init: 'random', seed: 4 }, data },
];
for (const c of cases) {
  test(`${c.name} ${JSON.stringify(c.params)} over the board: within 1e-9 of sequential, the same bits twice`, async () => {
    const sequential = (await createModel(c.name, c.params).fit(c.data)).state;
    for (const workers of [2, 3]) {
      const first = (await createModel(c.name, c.params).fit(c.data, { paradigm: 'threads', workers })).state;
      const { worst, where } = stateDifference(first, sequential);
      assert.ok(worst <= 1e-9, `${workers} workers: relative difference ${worst} at ${where}`);
      const again = (await createModel(c.name, c.params).fit(c.data, { paradigm: 'threads', workers })).state;
      const repeat = stateDifference(again, first);
      assert.equal(repeat.worst, 0, `${workers} workers twice: not bitwise identical at ${repeat.where}`);
    }
  });
}

test("the one-pass fits on threads all-reduce nothing: each rank adds up every rank's part of the shift itself", async () => {
  for (const c of cases.filter((c) => c.name === 'linear-regression' || c.params['solver'] === 'full')) {
    const model = await createModel(c.name, c.params).fit(c.data, { paradigm: 'threads', workers: 2 });
    const comm = model.fitInfo!.comm;
    assert.deepEqual(
      comm.map((stats) => stats.collectives),
      [0, 0],
      `${c.name}: the row board's barrier is the fit's only synchronisation`,
    );
    // Elsewhere the ranks agree on the shift with one all-reduce (each rank reads only its shard).
    const processes = await createModel(c.name, c.params).fit(c.data, { paradigm: 'processes', workers: 2 });
    assert.ok(
      processes.fitInfo!.comm.every((stats) => stats.collectives >= 2),
      `${c.name}: the shift's all-reduce, then the sums' (${processes.fitInfo!.comm.map((s) => s.collectives).join(', ')})`,
    );
  }
});

test("k-means on threads shares its rows out: the per-row state in one shared array, no all-reduce per iteration, Hamerly's bits Lloyd's", async () => {
  const fit = (algorithm: string, workers: number) =>
    createModel('kmeans', { k: 6, init: 'random', algorithm, seed: 4 }).fit(data, { paradigm: 'threads', workers });
  for (const workers of [2, 3]) {
    const lloyd = await fit('lloyd', workers);
    const hamerly = await fit('hamerly', workers);
    const { worst, where } = stateDifference(hamerly.state, lloyd.state);
    assert.equal(worst, 0, `${workers} workers: Hamerly differs from Lloyd at ${where}`);
    const iterations = (lloyd.state as { iterations: number }).iterations;
    assert.ok(iterations >= 4, `${workers} workers: ${iterations} iterations`);
    // Each rank held to its own rows all-reduced once per iteration (and once more for the final
    // inertia); over the board the ranks meet at its barrier, and the collectives are the set-up's:
    // the row layout, the feature variance that scales tol (two), the initial centres and the shared
    // array's address.
    for (const [algorithm, model] of [
      ['lloyd', lloyd],
      ['hamerly', hamerly],
    ] as const) {
      const collectives = model.fitInfo!.comm.map((stats) => stats.collectives);
      assert.ok(
        collectives.every((count) => count <= 5),
        `${workers} workers, ${algorithm}: ${collectives.join(', ')} collectives for ${iterations} iterations`,
      );
    }
  }
});
