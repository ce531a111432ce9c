import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/core/index.js'; // symmetricEigen runs on the registered kernels
import { choleskySolve, symmetricEigen } from '../../src/core/linalg.js';
import { SYNTHETIC_BLOCK_ROWS, syntheticGenerator } from '../../src/data/synthetic.js';
import type { SyntheticKind } from '../../src/data/synthetic.js';
import { ConfigError } from '../../src/core/errors.js';
import { assertShardsEqualWhole } from './support.js';

test('any row range equals the slice of the whole (1..3 shards and odd ranges), every kind', () => {
  for (const kind of ['regression', 'classification', 'blobs', 'lowrank'] as SyntheticKind[]) {
    const generator = syntheticGenerator({ kind, rows: 3 * SYNTHETIC_BLOCK_ROWS + 17, cols: 4, seed: 9 });
    const whole = generator.generate();
    for (let worldSize = 1; worldSize <= 3; worldSize++) {
      const shards = Array.from({ length: worldSize }, (_, rank) =>
        generator.generate(Math.floor((rank * whole.rows) / worldSize), Math.floor(((rank + 1) * whole.rows) / worldSize)),
      );
      assertShardsEqualWhole(whole, shards);
    }
    const middle = generator.generate(1000, 1100);
    assert.deepEqual(Array.from(middle.x), Array.from(whole.slice(1000, 1100).x));
    assert.equal(middle.rowKey(0), 1000);
  }
});

test('same seed same data; another seed other data', () => {
  const a = syntheticGenerator({ kind: 'regression', rows: 100, seed: 1 }).generate();
  const b = syntheticGenerator({ kind: 'regression', rows: 100, seed: 1 }).generate();
  const c = syntheticGenerator({ kind: 'regression', rows: 100, seed: 2 }).generate();
  assert.deepEqual(a.x, b.x);
  assert.notDeepEqual(a.x, c.x);
});

test('regression: least squares on the data recovers the known weights and intercept', () => {
  const cols = 5;
  const generator = syntheticGenerator({ kind: 'regression', rows: 20000, cols, seed: 4, noise: 0.1, intercept: 2.5 });
  const data = generator.generate();
  // normal equations with an intercept column: (AᵀA) β = Aᵀy, A = [x, 1]
  const d = cols + 1;
  const ata = new Float64Array(d * d);
  const aty = new Float64Array(d);
  const row = new Float64Array(d);
  for (let i = 0; i < data.rows; i++) {
    row.set(data.row(i));
    row[cols] = 1;
    for (let p = 0; p < d; p++) {
      aty[p]! += row[p]! * data.labels()[i]!;
      for (let q = 0; q < d; q++) ata[p * d + q]! += row[p]! * row[q]!;
    }
  }
  const beta = choleskySolve(ata, d, aty);
  assert.equal(generator.truth.kind, 'regression');
  if (generator.truth.kind !== 'regression') return;
  // standard error ≈ noise / sqrt(n) = 0.1 / 141 ≈ 7e-4; allow 5e-3
  for (let j = 0; j < cols; j++)
    assert.ok(Math.abs(beta[j]! - generator.truth.weights[j]!) < 5e-3, `weight ${j}: ${beta[j]} vs ${generator.truth.weights[j]}`);
  assert.ok(Math.abs(beta[cols]! - 2.5) < 5e-3);
});

test('blobs: per-label means sit at the known centers; classification: nearest true mean is right when separated', () => {
  const blobs = syntheticGenerator({ kind: 'blobs', rows: 6000, cols: 3, centers: 4, std: 0.5, seed: 2 });
  const data = blobs.generate();
  if (blobs.truth.kind !== 'blobs') throw new Error('kind');
  const sums = new Float64Array(4 * 3);
  const counts = new Float64Array(4);
  for (let i = 0; i < data.rows; i++) {
    const c = data.labels()[i]!;
    counts[c]!++;
    for (let j = 0; j < 3; j++) sums[c * 3 + j]! += data.row(i)[j]!;
  }
  for (let k = 0; k < 12; k++) assert.ok(Math.abs(sums[k]! / counts[Math.floor(k / 3)]! - blobs.truth.centers[k]!) < 0.05);

  const accuracy = (separation: number): number => {
    const g = syntheticGenerator({ kind: 'classification', rows: 4000, cols: 10, classes: 3, separation, seed: 5 });
    if (g.truth.kind !== 'classification') throw new Error('kind');
    const means = g.truth.means;
    const set = g.generate();
    let right = 0;
    for (let i = 0; i < set.rows; i++) {
      let best = -1;
      let bestDistance = Infinity;
      for (let c = 0; c < 3; c++) {
        let distance = 0;
        for (let j = 0; j < 10; j++) distance += (set.row(i)[j]! - means[c * 10 + j]!) ** 2;
        if (distance < bestDistance) [best, bestDistance] = [c, distance];
      }
      if (best === set.labels()[i]) right++;
    }
    return right / set.rows;
  };
  assert.ok(accuracy(8) > 0.99, 'separated classes');
  const overlapping = accuracy(0.5);
  assert.ok(overlapping < 0.8 && overlapping > 0.34, `overlapping classes: ${overlapping}`);
});

test('lowrank: the sample covariance has the known spectrum and principal subspace', () => {
  const cols = 8;
  const rank = 3;
  const generator = syntheticGenerator({ kind: 'lowrank', rows: 20000, cols, rank, seed: 6, noise: 0.01 });
  if (generator.truth.kind !== 'lowrank') throw new Error('kind');
  const data = generator.generate();
  const covariance = new Float64Array(cols * cols);
  for (let i = 0; i < data.rows; i++) {
    const r = data.row(i);
    for (let p = 0; p < cols; p++) for (let q = 0; q < cols; q++) covariance[p * cols + q]! += (r[p]! * r[q]!) / data.rows;
  }
  const { values, vectors } = symmetricEigen(covariance, cols);
  // eigenvalues ≈ s² = 9, 4, 1 (within sampling error ~ 2·s²/sqrt(n) ≈ 2%); the rest ≈ noise² = 1e-4
  generator.truth.singularValues.forEach((s, k) =>
    assert.ok(Math.abs(values[k]! / (s * s) - 1) < 0.05, `eigenvalue ${k}: ${values[k]} vs ${s * s}`),
  );
  assert.ok(values[rank]! < 1e-3);
  // each top eigenvector lies in the true subspace: its projection onto the components has norm ≈ 1
  for (let k = 0; k < rank; k++) {
    let projected = 0;
    for (let m = 0; m < rank; m++) {
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += vectors[k * cols + j]! * generator.truth.components[m * cols + j]!;
      projected += dot * dot;
    }
    assert.ok(Math.abs(projected - 1) < 1e-4, `eigenvector ${k} projection ${projected}`);
  }
});

test('bad generator settings are ConfigErrors naming the field', () => {
  assert.throws(
    () => syntheticGenerator({ kind: 'lowrank', rows: 10, cols: 3, rank: 4 }),
    (e: unknown) => e instanceof ConfigError && e.field === 'rank',
  );
  assert.throws(
    () => syntheticGenerator({ kind: 'classification', rows: 10, classes: 1 }),
    (e: unknown) => e instanceof ConfigError && e.field === 'classes',
  );
  assert.throws(
    () => syntheticGenerator({ kind: 'regression', rows: -1 }),
    (e: unknown) => e instanceof ConfigError && e.field === 'rows',
  );
});
