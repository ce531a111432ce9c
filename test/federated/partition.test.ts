import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { clientPartition, parsePartition } from '../../src/federated/partition.js';
import { dropsOut, sampleClients } from '../../src/federated/sampling.js';

const labels = Float64Array.from({ length: 4000 }, (_, i) => (i * 7) % 10);
const rows = labels.length;

function assertCover(parts: Uint32Array[]): void {
  const seen = new Uint8Array(rows);
  for (const part of parts) for (const row of part) seen[row]!++;
  assert.ok(
    seen.every((count) => count === 1),
    'every row held by exactly one client',
  );
}

/** Mean over clients of the entropy (bits) of the client's label mix. */
function meanLabelEntropy(parts: Uint32Array[]): number {
  let total = 0;
  for (const part of parts) {
    const counts = new Array<number>(10).fill(0);
    for (const row of part) counts[labels[row]!]!++;
    total += counts.reduce((h, c) => (c === 0 ? h : h - (c / part.length) * Math.log2(c / part.length)), 0);
  }
  return total / parts.length;
}

test('partitions are deterministic for a seed and differ between seeds', () => {
  for (const spec of ['iid', 'dirichlet:0.5', 'shards:2']) {
    const a = clientPartition(spec, { rows, labels, clients: 40, seed: 3 });
    assertCover(a);
    assert.deepEqual(a, clientPartition(spec, { rows, labels, clients: 40, seed: 3 }), spec);
    assert.notDeepEqual(a, clientPartition(spec, { rows, labels, clients: 40, seed: 4 }), spec);
  }
});

test('dirichlet skews the clients’ labels more as α shrinks; shards:2 gives clients about two labels', () => {
  const entropy = (spec: string): number => meanLabelEntropy(clientPartition(spec, { rows, labels, clients: 50, seed: 1 }));
  const iid = entropy('iid');
  const [a100, a05, a01] = [entropy('dirichlet:100'), entropy('dirichlet:0.5'), entropy('dirichlet:0.1')];
  assert.ok(iid > 3.2, `iid ≈ log2(10) = 3.32 bits, got ${iid}`);
  assert.ok(a100 > a05 && a05 > a01, `entropy falls with α: 100 → ${a100}, 0.5 → ${a05}, 0.1 → ${a01}`);
  assert.ok(a01 < 1.5, `α = 0.1 leaves clients few labels: ${a01} bits`);
  const shards = clientPartition('shards:2', { rows, labels, clients: 50, seed: 1 });
  const labelsPerClient = shards.map((part) => new Set(Array.from(part, (row) => labels[row])).size);
  assert.ok(Math.max(...labelsPerClient) <= 4 && labelsPerClient.filter((n) => n <= 2).length >= 40, labelsPerClient.join(','));
});

test('partition specs are checked', () => {
  for (const bad of ['dirichlet', 'dirichlet:0', 'dirichlet:-1', 'shards:1.5', 'shards', 'iid:2', 'random'])
    assert.throws(() => parsePartition(bad), ConfigError, bad);
  assert.throws(() => clientPartition('iid', { rows: 5, labels: null, clients: 6, seed: 0 }), /at least one row/);
  assert.throws(() => clientPartition('dirichlet:1', { rows: 5, labels: null, clients: 2, seed: 0 }), /use --partition iid/);
});

test('client sampling and dropouts are seeded per round', () => {
  const options = { clients: 100, perRound: 10, seed: 5, dropout: 0.3 };
  const round1 = sampleClients(options, 1);
  assert.equal(new Set(round1).size, 10);
  assert.deepEqual(round1, sampleClients(options, 1));
  assert.notDeepEqual(round1, sampleClients(options, 2));
  let drops = 0;
  for (let round = 0; round < 100; round++) for (let client = 0; client < 100; client++) drops += dropsOut(options, round, client) ? 1 : 0;
  assert.ok(Math.abs(drops / 10000 - 0.3) < 0.02, `dropout rate ${drops / 10000}`);
  assert.equal(dropsOut({ dropout: 0, seed: 5 }, 1, 1), false);
});

test("contiguous: client c holds the c-th run of consecutive rows, unshuffled and seed-independent (a cross-silo host's split)", () => {
  assert.deepEqual(parsePartition('contiguous'), { kind: 'contiguous' });
  assert.throws(() => parsePartition('contiguous:2'), ConfigError);
  const parts = clientPartition('contiguous', { rows: 10, labels: null, clients: 3, seed: 4 });
  assert.deepEqual(
    parts.map((part) => [...part]),
    [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8, 9],
    ],
  );
  assert.deepEqual(clientPartition('contiguous', { rows: 10, labels: null, clients: 3, seed: 9 }), parts);
});
