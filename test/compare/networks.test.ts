// Network profiles in the comparison matrix: the `networks` field and the --networks flag are
// validated with ConfigErrors naming the field; only processes cells multiply by profile; and a tiny
// real compare stores one row per profile, each with its name and the same score (the proxy delays
// bytes, it does not change them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { runCompare } from '../../src/compare/compare.js';
import { expandMatrix, parseMatrix, parseNetworksFlag } from '../../src/compare/matrix.js';
import { listRuns } from '../../src/compare/store.js';
import { ConfigError } from '../../src/core/errors.js';

const base = { models: ['kmeans'], data: ['synthetic:blobs?rows=200&cols=2&centers=3&seed=1'], repeats: 1, warmup: false };

function refusedAt(field: string, networks: unknown): void {
  assert.throws(
    () => parseMatrix({ ...base, networks }),
    (error: unknown) => error instanceof ConfigError && error.field === field,
    `expected a ConfigError on '${field}' for ${JSON.stringify(networks)}`,
  );
}

test('bad network entries are refused with the field named', () => {
  refusedAt('networks', []);
  refusedAt('networks', 'wan');
  refusedAt('networks[0]', ['wan']);
  refusedAt('networks[0].name', [{ latencyMs: 5 }]);
  refusedAt('networks[0].name', [{ name: 'has space' }]);
  refusedAt('networks[1].latency', [{ name: 'loopback' }, { name: 'wan', latency: 5 }]);
  refusedAt('networks[0].latencyMs', [{ name: 'wan', latencyMs: -1 }]);
  refusedAt('networks[0].jitterMs', [{ name: 'wan', jitterMs: '2' }]);
  refusedAt('networks[0].bandwidthMbit', [{ name: 'wan', bandwidthMbit: 0 }]);
  refusedAt('networks[1].name', [{ name: 'wan' }, { name: 'wan', latencyMs: 5 }]);
  refusedAt('networks[0].name', [{ name: 'loopback', latencyMs: 5 }]);
});

test('--networks: name[:<n>ms][:<n>mbit][:<n>jitter], comma-separated; a bad setting names the flag', () => {
  assert.deepEqual(parseNetworksFlag('loopback,wan:5ms:100mbit,lan:0.5ms:2jitter'), [
    { name: 'loopback' },
    { name: 'wan', latencyMs: 5, bandwidthMbit: 100 },
    { name: 'lan', latencyMs: 0.5, jitterMs: 2 },
  ]);
  assert.throws(
    () => parseNetworksFlag('wan:5s'),
    (error: unknown) => error instanceof ConfigError && error.field === 'networks' && /wan:5ms:100mbit/.test(error.message),
  );
  assert.throws(() => parseMatrix({ ...base, networks: parseNetworksFlag('wan:-5ms') }), ConfigError);
});

test('only processes cells multiply by network; loopback cells keep their ids', () => {
  const matrix = parseMatrix({
    ...base,
    paradigms: ['sequential', 'threads', 'processes'],
    workers: [2],
    networks: [{ name: 'loopback' }, { name: 'wan', latencyMs: 5 }],
  });
  const { cells } = expandMatrix(matrix);
  const described = cells.map((c) => `${c.paradigm}@${c.network.name}`);
  assert.deepEqual(described, ['sequential@loopback', 'threads@loopback', 'processes@loopback', 'processes@wan']);
  assert.equal(new Set(cells.map((c) => c.id)).size, cells.length, 'every cell has its own id');
  const loopback = cells.find((c) => c.paradigm === 'processes' && c.network.name === 'loopback')!;
  assert.ok(!loopback.id.includes('loopback'), `loopback ids are unchanged: ${loopback.id}`);
  assert.deepEqual(parseMatrix(base).networks, [{ name: 'loopback' }], 'the default is loopback alone');
});

test('a compare with two profiles stores both rows, named, with the same score', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-networks-'));
  try {
    const dbPath = join(dir, 'results.duckdb');
    const matrix = parseMatrix({
      ...base,
      models: [{ name: 'kmeans', params: { k: 3, seed: 1 } }],
      paradigms: ['processes'],
      workers: [2],
      networks: [{ name: 'loopback' }, { name: 'slow', latencyMs: 5, bandwidthMbit: 50 }],
    });
    await runCompare(matrix, { dbPath, reportPath: null });
    const runs = await listRuns(dbPath);
    assert.deepEqual(runs.map((r) => [r.paradigm, r.network, r.status]).sort(), [
      ['processes', 'loopback', 'ok'],
      ['processes', 'slow', 'ok'],
    ]);
    assert.ok(runs[0]!.score !== null, 'the runs were scored');
    assert.equal(runs[0]!.score, runs[1]!.score, 'the proxy changed the trained model');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
