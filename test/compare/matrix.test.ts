// The matrix parser: every bad config is refused with a ConfigError that names the field and the
// allowed values; a good one expands into the cells the docs promise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import '../../src/index.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMatrix, expandMatrix, parallelismOptions, parseMatrix, trainsBySgd } from '../../src/compare/matrix.js';
import { resolveMatrix } from '../../src/compare/matrix-file.js';

const good = {
  models: [{ name: 'logistic-regression', params: { solver: 'sgd' } }, 'kmeans'],
  data: ['synthetic:classification?rows=100&cols=3&seed=1'],
  paradigms: ['sequential', 'threads', 'processes'],
  workers: [2, 1],
  strategies: ['allreduce', 'hogwild'],
  repeats: 2,
};

function rejects(config: unknown, field: string, mentions: RegExp[]): void {
  assert.throws(
    () => parseMatrix(config as Record<string, unknown>),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      assert.equal(error.field, field);
      for (const pattern of mentions) assert.match(error.message, pattern);
      return true;
    },
  );
}

test('unknown model: names the field and lists the registered models', () => {
  rejects({ ...good, models: ['random-forest'] }, 'models[0].name', [/random-forest/, /logistic-regression/, /kmeans/]);
});

test('unknown paradigm: lists sequential, threads, processes, cluster', () => {
  rejects({ ...good, paradigms: ['sequential', 'gpu'] }, 'paradigms[1]', [/'gpu'/, /sequential, threads, processes, cluster/]);
});

test('unknown strategy, at the top level and per model', () => {
  rejects({ ...good, strategies: ['allreduce', 'gossip'] }, 'strategies[1]', [
    /'gossip'/,
    /allreduce, hogwild, ps-sync, ps-async, pipeline, ps-ssp:<s>/,
  ]);
  rejects({ ...good, models: [{ name: 'kmeans', strategies: ['ps'] }] }, 'models[0].strategies[0]', [/'ps'/, /allreduce, hogwild/]);
});

test('workers < 1, non-integer workers, repeats < 1', () => {
  rejects({ ...good, workers: [0] }, 'workers[0]', [/integer >= 1/, /found 0/]);
  rejects({ ...good, workers: [1, 1.5] }, 'workers[1]', [/integer >= 1/, /1\.5/]);
  rejects({ ...good, repeats: 0 }, 'repeats', [/integer >= 1/, /found 0/]);
});

test('unknown keys at every level', () => {
  rejects({ ...good, repeat: 3 }, 'repeat', [/unknown field 'repeat'/, /repeats/]);
  rejects({ ...good, models: [{ name: 'kmeans', param: {} }] }, 'models[0].param', [/unknown field/, /params/]);
  rejects({ ...good, target: { accuracy: 0.9 } }, 'target.accuracy', [/unknown field/, /loss, score/]);
});

test('empty lists, bad data specs, bad fractions, bad JSON', () => {
  rejects({ ...good, models: [] }, 'models', [/non-empty list/]);
  rejects({ ...good, paradigms: [] }, 'paradigms', [/non-empty list/]);
  rejects({ ...good, data: [''] }, 'data[0]', [/data spec/]);
  rejects({ ...good, testFraction: 1 }, 'testFraction', [/between 0 and 1/]);
  rejects({ models: ['kmeans'], target: { loss: 'low' } }, 'target.loss', [/finite number/]);
  assert.throws(
    () => parseMatrix('{ "models": [kmeans] }'),
    (e: unknown) => e instanceof ConfigError && e.field === 'matrix' && /not valid JSON/.test(e.message),
  );
});

test("a model's own bad option is refused at parse time, under the model's field", () => {
  rejects({ ...good, models: [{ name: 'kmeans', params: { clusters: 3 } }] }, 'models[0].params', [/clusters/]);
});

test('JSON text and objects give the same matrix, with the documented defaults', () => {
  const fromText = parseMatrix(JSON.stringify({ models: ['kmeans'] }));
  assert.deepEqual(fromText, parseMatrix({ models: ['kmeans'] }));
  assert.deepEqual(fromText.workers, [1, 2]);
  assert.deepEqual(fromText.strategies, ['allreduce']);
  assert.equal(fromText.repeats, 3);
  assert.equal(fromText.testFraction, 0.2);
  assert.deepEqual(fromText.data, ['synthetic:blobs?rows=200000&cols=20&centers=8&seed=1']);
});

test('expansion: one sequential baseline per model and data, strategies only for SGD models, missing paradigms skipped', () => {
  const matrix = parseMatrix(good);
  assert.equal(trainsBySgd('logistic-regression', { solver: 'sgd' }), true);
  assert.equal(trainsBySgd('logistic-regression', {}), false); // L-BFGS by default
  assert.equal(trainsBySgd('kmeans', {}), false);
  const { cells, skipped } = expandMatrix(matrix, ['sequential', 'threads']);
  const labels = cells.map((c) => `${c.model} ${c.paradigm} ${c.workers} ${c.strategy}`);
  assert.deepEqual(labels, [
    'logistic-regression sequential 1 allreduce',
    'logistic-regression threads 1 allreduce',
    'logistic-regression threads 1 hogwild',
    'logistic-regression threads 2 allreduce',
    'logistic-regression threads 2 hogwild',
    'kmeans sequential 1 allreduce',
    'kmeans threads 1 allreduce',
    'kmeans threads 2 allreduce',
  ]);
  assert.equal(new Set(cells.map((c) => c.id)).size, cells.length);
  assert.equal(skipped.length, 6); // processes × 2 workers × (2 strategies + 1)
  assert.ok(skipped.every((s) => s.paradigm === 'processes' && /not available/.test(s.reason)));
});

test('the default matrix: every model family at two sizes, sequential vs threads vs processes, 1 and 2 workers, hogwild on logistic regression, 3 repeats, one cluster cell, two codec cells', () => {
  const matrix = defaultMatrix();
  const families = ['linear-regression', 'logistic-regression', 'linear-svm', 'kmeans', 'pca', 'mlp', 'cnn', 'rnn'];
  assert.deepEqual(
    matrix.models.map((m) => m.name),
    [...families, 'logistic-regression', 'mlp', 'q-learning', 'dqn', 'logistic-regression'],
  );
  assert.deepEqual(matrix.paradigms, ['sequential', 'threads', 'processes']);
  assert.deepEqual(matrix.workers, [1, 2]);
  assert.equal(matrix.repeats, 3);
  const rows = (name: string): string[] => matrix.models.find((m) => m.name === name)!.data!.map((d) => /rows=(\d+)/.exec(d)![1]!);
  assert.deepEqual(rows('logistic-regression'), ['20000', '200000']);
  assert.deepEqual(rows('cnn'), ['1000', '10000']);
  // every model accepts its data's shape: 8×8 images for the CNN, 8 steps of 2 features for the RNN
  assert.match(matrix.models.find((m) => m.name === 'cnn')!.data![0]!, /cols=64/);
  assert.match(matrix.models.find((m) => m.name === 'rnn')!.data![0]!, /cols=16/);
  const { cells, skipped } = expandMatrix(matrix, ['sequential', 'threads', 'processes', 'cluster'], () => null);
  // per size: logistic 1 + threads 2×2 + processes 2×1 (hogwild needs shared memory); the other seven
  // 1 + 2 + 2 (allreduce only); the MLP also as a pipeline on threads×2 and processes×2; one
  // cluster×2 allreduce cell of logistic regression on the larger set; the MLP's threads×2 cell on the
  // larger set again with two codecs; and the agents' sequential, threads×2 and processes×2 cells on
  // their environments (rl-cells.ts); one fault pair (fault-cells.ts): processes×3 undisturbed and SIGKILLed
  assert.equal(cells.length, 2 * (7 + 7 * 5 + 2) + 1 + 2 + 2 * 3 + 2);
  assert.deepEqual(
    cells
      .filter((c) => c.fault !== undefined)
      .map((c) => [c.model, c.paradigm, c.workers, c.strategy, c.fault, /rows=(\d+)/.exec(c.data)![1]]),
    [
      ['logistic-regression', 'processes', 3, 'allreduce', 'none', '20000'],
      ['logistic-regression', 'processes', 3, 'allreduce', 'kill', '20000'],
    ],
  );
  assert.equal(
    expandMatrix(defaultMatrix({ rows: 20_000 }), ['sequential', 'threads', 'processes'], () => null).cells.filter(
      (c) => c.fault !== undefined,
    ).length,
    0,
    '--quick has no fault cell',
  );
  assert.deepEqual(
    cells.filter((c) => c.strategy === 'pipeline').map((c) => `${c.model} ${c.paradigm}×${c.workers}`),
    ['mlp threads×2', 'mlp processes×2', 'mlp threads×2', 'mlp processes×2'],
  );
  assert.deepEqual(
    cells
      .filter((c) => c.compression !== 'none')
      .map((c) => [c.model, c.paradigm, c.workers, c.compression, /rows=(\d+)/.exec(c.data)![1]]),
    [
      ['mlp', 'threads', 2, 'topk16:0.01', '50000'],
      ['mlp', 'threads', 2, 'powersgd:2', '50000'],
    ],
  );
  for (const family of families)
    assert.ok(
      cells.some((c) => c.model === family && c.paradigm === 'processes' && c.workers === 2),
      family,
    );
  const cluster = cells.filter((c) => c.paradigm === 'cluster');
  assert.deepEqual(
    cluster.map((c) => [c.model, c.workers, c.strategy, c.network.name, /rows=(\d+)/.exec(c.data)![1]]),
    [['logistic-regression', 2, 'allreduce', 'loopback', '200000']],
  );
  // Skipped per size: hogwild on processes ×1 and ×2 (no shared memory), the one-worker MLP pipelines.
  assert.equal(skipped.length, 2 * 4);
  const hogwild = skipped.filter((s) => s.strategy === 'hogwild');
  assert.equal(hogwild.length, 4);
  assert.ok(hogwild.every((s) => s.paradigm === 'processes' && /shared memory/.test(s.reason)));
  assert.ok(skipped.filter((s) => s.strategy === 'pipeline').every((s) => s.workers === 1 && /one stage/.test(s.reason)));
  // --quick's size: a tenth of the rows, the neural models still at least 100 rows at the small size
  assert.deepEqual(
    defaultMatrix({ rows: 20_000 })
      .models.find((m) => m.name === 'rnn')!
      .data!.map((d) => /rows=(\d+)/.exec(d)![1]),
    ['100', '1000'],
  );
});

test('where namespaces are not permitted, cluster cells are skipped with that reason', () => {
  const matrix = parseMatrix({ ...good, paradigms: ['cluster'] });
  const { cells, skipped } = expandMatrix(matrix, ['sequential', 'cluster'], () => 'network namespaces need root');
  assert.deepEqual(cells, []);
  assert.ok(skipped.length > 0 && skipped.every((s) => /need root/.test(s.reason) && /processes/.test(s.reason)));
});

test('parameter-server strategies, including the bounded-staleness family, are accepted', () => {
  assert.deepEqual(parseMatrix({ ...good, strategies: ['ps-sync', 'ps-async', 'ps-ssp:3'] }).strategies, [
    'ps-sync',
    'ps-async',
    'ps-ssp:3',
  ]);
  rejects({ ...good, strategies: ['ps-ssp:x'] }, 'strategies[0]', [/ps-ssp:<s>/]);
});

test('resolveMatrix: a matrix file with flags overriding it; errors name the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-matrix-'));
  try {
    const path = join(dir, 'matrix.json');
    writeFileSync(path, JSON.stringify({ ...good, models: ['kmeans'] }));
    const matrix = await resolveMatrix({ matrix: path, workers: [1, 2, 4], repeats: 5, targetLoss: 0.5 });
    assert.deepEqual(matrix.workers, [1, 2, 4]);
    assert.equal(matrix.repeats, 5);
    assert.deepEqual(matrix.target, { loss: 0.5 });
    assert.deepEqual(matrix.paradigms, ['sequential', 'threads', 'processes']);
    writeFileSync(path, JSON.stringify({ models: ['kmeans'], repeats: -1 }));
    await assert.rejects(
      resolveMatrix({ matrix: path }),
      (e: unknown) => e instanceof ConfigError && e.field === 'repeats' && e.message.startsWith(path),
    );
    await assert.rejects(
      resolveMatrix({ matrix: join(dir, 'missing.json') }),
      (e: unknown) => e instanceof ConfigError && /cannot read the matrix file/.test(e.message),
    );
    const flagsOnly = await resolveMatrix({ rows: 5000, data: ['synthetic:blobs?rows=100&cols=2&seed=3'], paradigms: ['sequential'] });
    assert.ok(
      flagsOnly.models.every((m) => m.data === null),
      '--data replaces the default per-model data',
    );
    assert.deepEqual(flagsOnly.data, ['synthetic:blobs?rows=100&cols=2&seed=3']);
    await assert.rejects(resolveMatrix({ workers: [0] }), (e: unknown) => e instanceof ConfigError && e.field === 'workers[0]');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("'pipeline' in a matrix: a cell of pipeline parallelism (the fit option, not a strategy) for the neural models, skipped with a reason for the others", () => {
  const matrix = parseMatrix({
    models: [
      { name: 'mlp', params: { hidden: [4], epochs: 1 } },
      { name: 'logistic-regression', params: { solver: 'sgd' } },
    ],
    data: ['synthetic:classification?rows=100&cols=3&seed=1'],
    paradigms: ['sequential', 'threads'],
    workers: [2],
    strategies: ['allreduce', 'pipeline'],
  });
  const { cells, skipped } = expandMatrix(matrix, ['sequential', 'threads']);
  assert.deepEqual(
    cells.map((c) => `${c.model} ${c.paradigm} ${c.strategy}`),
    [
      'mlp sequential allreduce',
      'mlp threads allreduce',
      'mlp threads pipeline',
      'logistic-regression sequential allreduce',
      'logistic-regression threads allreduce',
    ],
  );
  assert.deepEqual(
    skipped.map((s) => `${s.model} ${s.strategy}`),
    ['logistic-regression pipeline'],
  );
  assert.match(skipped[0]!.reason, /no pipeline trainer/);
  assert.deepEqual(parallelismOptions('pipeline'), { pipeline: {} });
  assert.deepEqual(parallelismOptions('ps-ssp:2'), { strategy: 'ps-ssp:2' });
});

test('compression: each codec is a cell of its own for SGD models under a compressing strategy; sequential, hogwild and closed-form models stay uncompressed', () => {
  const matrix = parseMatrix({
    models: [{ name: 'logistic-regression', params: { solver: 'sgd' } }, 'kmeans'],
    data: ['synthetic:classification?rows=1000&cols=4&seed=1'],
    paradigms: ['sequential', 'threads'],
    workers: [2],
    strategies: ['allreduce', 'hogwild'],
    compression: ['none', 'topk16:0.01', 'powersgd:2'],
  });
  const { cells, skipped } = expandMatrix(matrix, ['sequential', 'threads'], () => null);
  assert.deepEqual(
    cells.map((c) => `${c.model} ${c.paradigm} ${c.strategy} ${c.compression}`),
    [
      'logistic-regression sequential allreduce none',
      'logistic-regression threads allreduce none',
      'logistic-regression threads allreduce topk16:0.01',
      'logistic-regression threads allreduce powersgd:2',
      'logistic-regression threads hogwild none',
      'kmeans sequential allreduce none',
      'kmeans threads allreduce none',
    ],
  );
  // Uncompressed cells keep the ids they had before codecs; a codec is part of its cell's id.
  assert.ok(!cells[1]!.id.includes('codec') && cells[2]!.id.endsWith('|codec=topk16:0.01'));
  assert.deepEqual(
    skipped.map((s) => [s.strategy, s.compression]),
    [
      ['hogwild', 'topk16:0.01'],
      ['hogwild', 'powersgd:2'],
    ],
  );
  assert.ok(skipped.every((s) => /needs a strategy that compresses/.test(s.reason)));
  // A per-model list overrides the matrix's; a bad spec is a ConfigError naming the entry.
  assert.deepEqual(parseMatrix({ ...good, models: [{ name: 'kmeans', compression: ['fp16'] }] }).models[0]!.compression, ['fp16']);
  assert.throws(
    () => parseMatrix({ ...good, compression: ['none', 'topk:2'] }),
    (error: unknown) => error instanceof ConfigError && /compression\[1\]/.test(error.message) && /ratio in \(0, 1\]/.test(error.message),
  );
  assert.deepEqual(parseMatrix(good).compression, ['none']);
});
