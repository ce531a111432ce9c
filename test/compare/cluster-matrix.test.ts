// Cluster cells in the comparison matrix: tbf profiles (`name:tbf:<n>mbit`, { kind: 'tbf' }) are
// validated with ConfigErrors naming the field; processes cells take the proxy profiles and cluster
// cells the tbf ones (both take loopback); per-model paradigms/workers; flags that replace them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { expandMatrix, parseMatrix, parseNetworksFlag } from '../../src/compare/matrix.js';
import { resolveMatrix } from '../../src/compare/matrix-file.js';
import { ConfigError } from '../../src/core/errors.js';

const base = {
  models: [{ name: 'logistic-regression', params: { solver: 'sgd' } }],
  data: ['synthetic:classification?rows=200&cols=3&seed=1'],
  repeats: 1,
  warmup: false,
};
const permitted = (): null => null;

function refusedAt(field: string, value: Record<string, unknown>, message?: RegExp): void {
  assert.throws(
    () => parseMatrix({ ...base, ...value }),
    (error: unknown) => error instanceof ConfigError && error.field === field && (message === undefined || message.test(error.message)),
    `expected a ConfigError on '${field}' for ${JSON.stringify(value)}`,
  );
}

test('--networks name:tbf:<n>mbit is a tbf profile; proxy profiles are unchanged', () => {
  assert.deepEqual(parseNetworksFlag('loopback,lan:tbf:1000mbit,wan:5ms:100mbit,slow:TBF:2.5mbit'), [
    { name: 'loopback' },
    { name: 'lan', kind: 'tbf', bandwidthMbit: 1000 },
    { name: 'wan', latencyMs: 5, bandwidthMbit: 100 },
    { name: 'slow', kind: 'tbf', bandwidthMbit: 2.5 },
  ]);
  const refused = (text: string, message: RegExp): void =>
    assert.throws(
      () => parseNetworksFlag(text),
      (error: unknown) => error instanceof ConfigError && error.field === 'networks' && message.test(error.message),
      text,
    );
  refused('lan:tbf', /needs its rate, e.g. 'lan:tbf:1000mbit'/);
  refused('lan:tbf:5ms:100mbit', /takes only a rate.*found '5ms'.*netem/);
  refused('lan:tbf:100mbit:2jitter', /found '2jitter'/);
  refused('lan:tbf:100gbit', /name:tbf:<n>mbit/);
});

test('tbf entries in the matrix: a rate is required, latency/jitter/seed and unknown kinds are refused, naming the field', () => {
  refusedAt('networks[0].bandwidthMbit', { networks: [{ name: 'lan', kind: 'tbf' }] }, /tbf rate/);
  refusedAt(
    'networks[1].latencyMs',
    { networks: [{ name: 'loopback' }, { name: 'lan', kind: 'tbf', bandwidthMbit: 100, latencyMs: 5 }] },
    /netem/,
  );
  refusedAt('networks[0].jitterMs', { networks: [{ name: 'lan', kind: 'tbf', bandwidthMbit: 100, jitterMs: 1 }] });
  refusedAt('networks[0].seed', { networks: [{ name: 'lan', kind: 'tbf', bandwidthMbit: 100, seed: 1 }] });
  refusedAt('networks[0].kind', { networks: [{ name: 'lan', kind: 'netem', bandwidthMbit: 100 }] }, /proxy, tbf/);
  refusedAt('networks[0].bandwidthMbit', { networks: [{ name: 'lan', kind: 'tbf', bandwidthMbit: 0 }] });
  refusedAt('networks[0].name', { networks: [{ name: 'loopback', kind: 'tbf', bandwidthMbit: 10 }] });
  assert.deepEqual(
    parseMatrix({ ...base, networks: [{ name: 'lan', kind: 'proxy', bandwidthMbit: 10 }] }).networks,
    [{ name: 'lan', bandwidthMbit: 10 }],
    "kind 'proxy' is the default, spelled out",
  );
});

test('processes cells run under loopback and proxy profiles, cluster cells under loopback (the veth) and tbf profiles', () => {
  const matrix = parseMatrix({
    ...base,
    paradigms: ['sequential', 'processes', 'cluster'],
    workers: [2],
    networks: parseNetworksFlag('loopback,wan:5ms:100mbit,lan:tbf:1000mbit'),
  });
  const { cells, skipped } = expandMatrix(matrix, ['sequential', 'processes', 'cluster'], permitted);
  assert.deepEqual(
    cells.map((c) => `${c.paradigm}@${c.network.name}`),
    ['sequential@loopback', 'processes@loopback', 'processes@wan', 'cluster@loopback', 'cluster@lan'],
  );
  assert.deepEqual(skipped, []);
  assert.equal(new Set(cells.map((c) => c.id)).size, cells.length, 'every cell has its own id');
  assert.deepEqual(cells.find((c) => c.network.name === 'lan')!.network, { name: 'lan', kind: 'tbf', bandwidthMbit: 1000 });
});

test('a paradigm no profile applies to is skipped with the reason', () => {
  const matrix = parseMatrix({
    ...base,
    paradigms: ['processes', 'cluster'],
    workers: [2],
    networks: parseNetworksFlag('lan:tbf:100mbit'),
  });
  const { cells, skipped } = expandMatrix(matrix, ['sequential', 'processes', 'cluster'], permitted);
  assert.deepEqual(
    cells.map((c) => `${c.paradigm}@${c.network.name}`),
    ['cluster@lan'],
  );
  assert.equal(skipped.length, 1);
  assert.match(skipped[0]!.reason, /none of the networks \(lan\) applies to processes/);
});

test('per-model paradigms and workers: validated, applied, and replaced by --paradigms/--workers without running a cell twice', async () => {
  refusedAt('models[0].paradigms[0]', { models: [{ name: 'kmeans', paradigms: ['grid'] }] });
  refusedAt('models[0].workers[1]', { models: [{ name: 'kmeans', workers: [2, 0] }] });
  refusedAt('models[0].paradigms', { models: [{ name: 'kmeans', paradigms: [] }] });
  const sgd = base.models[0]!;
  const matrix = parseMatrix({
    ...base,
    models: [sgd, { ...sgd, paradigms: ['cluster'], workers: [2] }],
    paradigms: ['sequential', 'threads'],
    workers: [1, 2],
  });
  const { cells } = expandMatrix(matrix, ['sequential', 'threads', 'cluster'], permitted);
  assert.deepEqual(
    cells.map((c) => `${c.paradigm}×${c.workers} ${c.strategy}`),
    ['sequential×1 allreduce', 'threads×1 allreduce', 'threads×2 allreduce', 'cluster×2 allreduce'],
  );
  const flagged = await resolveMatrix({ paradigms: ['sequential', 'threads'], rows: 1000 });
  const expanded = expandMatrix(flagged, ['sequential', 'threads', 'cluster'], permitted).cells;
  assert.ok(
    expanded.every((c) => c.paradigm !== 'cluster'),
    '--paradigms replaces the default cluster entry too',
  );
  assert.equal(new Set(expanded.map((c) => c.id)).size, expanded.length, 'entries naming the same cell run it once');
});
