// L-BFGS against known minima: the Rosenbrock valley (a classic hard case for line searches) and a
// strictly convex quadratic whose minimiser is the solution of a linear system built in the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { minimizeLbfgs } from '../../src/models/solvers/lbfgs.js';

test('finds the Rosenbrock minimum (1, 1) from (−1.2, 1), each evaluation awaited', async () => {
  let evaluations = 0;
  const result = await minimizeLbfgs(
    async (x, g) => {
      await new Promise((resolve) => setImmediate(resolve)); // a real await, as an all-reduce is
      evaluations++;
      const [a, b] = [x[0]!, x[1]!];
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      g[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    },
    Float64Array.of(-1.2, 1),
    { maxIter: 200, tol: 1e-8 },
  );
  assert.equal(result.stop, 'gradient');
  assert.ok(Math.abs(result.x[0]! - 1) < 1e-6 && Math.abs(result.x[1]! - 1) < 1e-6, `x = ${Array.from(result.x)}`);
  assert.equal(result.evaluations, evaluations);
  assert.ok(result.iterations < 100, `${result.iterations} iterations`);
});

test('minimises an ill-conditioned quadratic ½xᵀAx − bᵀx to A⁻¹b', async () => {
  const n = 30;
  const rng = new Rng(3);
  // A = diag(1..1000 log-spaced) in a random orthogonal-ish basis would need a QR; a diagonal plus a
  // rank-one coupling keeps the reference solution exact by the Sherman–Morrison formula instead.
  const diag = Float64Array.from({ length: n }, (_, i) => Math.pow(1000, i / (n - 1)));
  const u = Float64Array.from({ length: n }, () => rng.normal());
  const b = Float64Array.from({ length: n }, () => rng.normal());
  const apply = (x: Float64Array, out: Float64Array): void => {
    let ux = 0;
    for (let i = 0; i < n; i++) ux += u[i]! * x[i]!;
    for (let i = 0; i < n; i++) out[i] = diag[i]! * x[i]! + u[i]! * ux;
  };
  // (D + uuᵀ)⁻¹b = D⁻¹b − D⁻¹u (uᵀD⁻¹b) / (1 + uᵀD⁻¹u)
  let uDb = 0;
  let uDu = 0;
  for (let i = 0; i < n; i++) {
    uDb += (u[i]! * b[i]!) / diag[i]!;
    uDu += (u[i]! * u[i]!) / diag[i]!;
  }
  const expected = Float64Array.from({ length: n }, (_, i) => b[i]! / diag[i]! - ((u[i]! / diag[i]!) * uDb) / (1 + uDu));
  const ax = new Float64Array(n);
  const result = await minimizeLbfgs(
    async (x, g) => {
      apply(x, ax);
      let f = 0;
      for (let i = 0; i < n; i++) {
        g[i] = ax[i]! - b[i]!;
        f += 0.5 * x[i]! * ax[i]! - b[i]! * x[i]!;
      }
      return f;
    },
    new Float64Array(n),
    { maxIter: 500, tol: 1e-9, ftol: 0 },
  );
  // Near the minimum f changes below its round-off (f − f* ≈ ‖g‖²/2λ), which bounds how close an
  // Armijo line search can get (√ε-relative in x): either stop is fine, and 1e-6 is that limit.
  assert.ok(result.stop === 'gradient' || result.stop === 'function', result.stop);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(result.x[i]! - expected[i]!) < 1e-6, `x[${i}] = ${result.x[i]} vs ${expected[i]}`);
});

test('stops at maxIter, reporting every iteration, and is deterministic', async () => {
  const run = async (): Promise<{ x: Float64Array; seen: number[] }> => {
    const seen: number[] = [];
    const result = await minimizeLbfgs(
      async (x, g) => {
        g[0] = 4 * x[0]! ** 3;
        g[1] = 2 * (x[1]! - 2);
        return x[0]! ** 4 + (x[1]! - 2) ** 2;
      },
      Float64Array.of(3, -3),
      { maxIter: 5, tol: 0, onIteration: (iteration) => seen.push(iteration) },
    );
    assert.equal(result.stop, 'maxIter');
    assert.equal(result.iterations, 5);
    return { x: result.x, seen };
  };
  const first = await run();
  const second = await run();
  assert.deepEqual(first.seen, [1, 2, 3, 4, 5]);
  assert.deepEqual(first.x, second.x);
});
