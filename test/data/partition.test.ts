import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contiguousPartition, dirichletPartition, iidPartition, partitionRows } from '../../src/data/partition.js';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';

/** Every row exactly once across parts, each part sorted. */
function assertCover(parts: Uint32Array[], rows: number): void {
  const seen = new Uint8Array(rows);
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      assert.equal(seen[part[i]!], 0, `row ${part[i]} twice`);
      seen[part[i]!] = 1;
      if (i > 0) assert.ok(part[i - 1]! < part[i]!);
    }
  }
  assert.ok(seen.every((v) => v === 1));
}

const labels = Float64Array.from({ length: 3000 }, (_, i) => i % 10);

/** Mean over workers of the entropy (bits) of the worker's label mix. */
function meanLabelEntropy(parts: Uint32Array[]): number {
  return (
    parts.reduce((total, part) => {
      const counts = new Array<number>(10).fill(0);
      for (const i of part) counts[labels[i]!]!++;
      return total + counts.reduce((h, c) => (c === 0 ? h : h - (c / part.length) * Math.log2(c / part.length)), 0);
    }, 0) / parts.length
  );
}

test('contiguous: consecutive ranges of near-equal size covering every row', () => {
  const parts = contiguousPartition(10, 3);
  assert.deepEqual(
    parts.map((p) => Array.from(p)),
    [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8, 9],
    ],
  );
  assertCover(contiguousPartition(1001, 7), 1001);
});

test('iid: seeded, sizes differ by at most one, label mix like the whole', () => {
  const parts = iidPartition(3000, 4, 1);
  assertCover(parts, 3000);
  assert.deepEqual(
    parts.map((p) => p.length),
    [750, 750, 750, 750],
  );
  assert.deepEqual(iidPartition(3000, 4, 1), parts);
  assert.notDeepEqual(iidPartition(3000, 4, 2), parts);
  assert.ok(meanLabelEntropy(parts) > 3.3); // log2(10) = 3.32
});

test('dirichlet: covers every row, seeded, skew grows as alpha falls', () => {
  const skewed = dirichletPartition(labels, 5, { alpha: 0.1, seed: 3 });
  assertCover(skewed, 3000);
  assert.deepEqual(dirichletPartition(labels, 5, { alpha: 0.1, seed: 3 }), skewed);
  const mild = dirichletPartition(labels, 5, { alpha: 100, seed: 3 });
  assertCover(mild, 3000);
  assert.ok(skewed.every((part) => part.length >= 1));
  const hSkewed = meanLabelEntropy(skewed);
  const hMild = meanLabelEntropy(mild);
  assert.ok(hSkewed < 2.5 && hMild > 3.25, `entropy alpha 0.1: ${hSkewed}, alpha 100: ${hMild}`);
});

test('dirichlet: minRowsPerWorker is honoured or a ConfigError says what to change', () => {
  const rng = new Rng(1);
  const few = Float64Array.from({ length: 40 }, () => rng.int(2));
  const parts = dirichletPartition(few, 4, { alpha: 0.5, seed: 2, minRowsPerWorker: 5 });
  assert.ok(parts.every((part) => part.length >= 5));
  assert.throws(
    () => dirichletPartition(few, 4, { alpha: 1, minRowsPerWorker: 11 }),
    (e: unknown) => e instanceof ConfigError && e.field === 'minRowsPerWorker',
  );
  assert.throws(
    () => dirichletPartition(few, 4, { alpha: 0 }),
    (e: unknown) => e instanceof ConfigError && e.field === 'alpha',
  );
  assert.throws(() => partitionRows('dirichlet', { rows: 40, workers: 2 }), ConfigError);
  assert.deepEqual(partitionRows('contiguous', { rows: 4, workers: 2 }), contiguousPartition(4, 2));
});
