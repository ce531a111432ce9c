// Search spaces: parsing with errors naming the field, seeded sampling, grids, conditions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { gridOf, paramsKey, parseSpace, sampleSpace } from '../../src/automl/space.js';

const SPACE = {
  solver: { type: 'choice', values: ['lbfgs', 'sgd'] },
  l2: { type: 'log-uniform', low: 1e-4, high: 1 },
  lr: { type: 'uniform', low: 0.01, high: 0.5, when: { solver: 'sgd' } },
  epochs: { type: 'int', low: 2, high: 6, when: { solver: ['sgd'] } },
  seed: 3,
};

test('sampling: same seed same points; every value inside its domain; conditional only when active', () => {
  const space = parseSpace(SPACE, 'space.json');
  const draw = (seed: number): object[] => {
    const rng = new Rng(seed);
    return Array.from({ length: 200 }, () => sampleSpace(space, rng));
  };
  const points = draw(5);
  assert.deepEqual(points, draw(5));
  assert.notDeepEqual(points, draw(6));
  let sgd = 0;
  for (const p of points as Record<string, number | string>[]) {
    assert.equal(p['seed'], 3);
    assert.ok((p['l2'] as number) >= 1e-4 && (p['l2'] as number) <= 1);
    if (p['solver'] === 'sgd') {
      sgd++;
      assert.ok((p['lr'] as number) >= 0.01 && (p['lr'] as number) < 0.5);
      assert.ok(Number.isInteger(p['epochs']) && (p['epochs'] as number) >= 2 && (p['epochs'] as number) <= 6);
    } else {
      assert.equal('lr' in p, false);
      assert.equal('epochs' in p, false);
    }
  }
  assert.ok(sgd > 60 && sgd < 140, `about half sgd, found ${sgd}/200`);
  // log-uniform: about half the draws below the geometric middle 1e-2.
  const below = (points as Record<string, number>[]).filter((p) => p['l2']! < 1e-2).length;
  assert.ok(below > 70 && below < 130, `log-uniform median near 1e-2, found ${below}/200 below`);
});

test("list values (an MLP's hidden sizes) as choices, fixed values and conditions", () => {
  const lists = parseSpace({
    hidden: { type: 'choice', values: [[8], [16, 8]] },
    dropout: { type: 'uniform', low: 0, high: 0.5, when: { hidden: [[16, 8]] } },
    batchSize: [32] as unknown as number,
  });
  const grid = gridOf(
    parseSpace({
      hidden: { type: 'choice', values: [[8], [16, 8]] },
      dropout: { type: 'choice', values: [0, 0.2], when: { hidden: [[16, 8]] } },
    }),
  );
  assert.deepEqual(grid, [{ hidden: [8] }, { hidden: [16, 8], dropout: 0 }, { hidden: [16, 8], dropout: 0.2 }]);
  const rng = new Rng(2);
  for (let i = 0; i < 20; i++) {
    const p = sampleSpace(lists, rng);
    assert.deepEqual(p['batchSize'], [32]);
    assert.equal('dropout' in p, JSON.stringify(p['hidden']) === '[16,8]');
  }
});

test('integer domains reach both ends; log integers favour small values', () => {
  const space = parseSpace({ n: { type: 'int', low: 1, high: 100, log: true }, m: { type: 'int', low: 0, high: 2 } });
  const rng = new Rng(1);
  const draws = Array.from({ length: 2000 }, () => sampleSpace(space, rng));
  const ms = new Set(draws.map((d) => d['m']));
  assert.deepEqual([...ms].sort(), [0, 1, 2]);
  const small = draws.filter((d) => (d['n'] as number) <= 10).length;
  assert.ok(small > 800 && small < 1200, `log-int: ~half ≤ 10, found ${small}/2000`);
});

test('grid: last parameter fastest, conditional parameters only under their branch, no repeats', () => {
  const space = parseSpace({
    solver: { type: 'choice', values: ['lbfgs', 'sgd'] },
    l2: { type: 'log-uniform', low: 0.001, high: 0.1, steps: 3 },
    epochs: { type: 'int', low: 1, high: 2, when: { solver: 'sgd' } },
  });
  const grid = gridOf(space);
  assert.equal(grid.length, 3 + 3 * 2);
  const rounded = grid.map((p) => ({ ...p, l2: Number((p['l2'] as number).toPrecision(12)) }));
  assert.deepEqual(rounded.slice(0, 5), [
    { solver: 'lbfgs', l2: 0.001 },
    { solver: 'lbfgs', l2: 0.01 },
    { solver: 'lbfgs', l2: 0.1 },
    { solver: 'sgd', l2: 0.001, epochs: 1 },
    { solver: 'sgd', l2: 0.001, epochs: 2 },
  ]);
  assert.equal(new Set(grid.map(paramsKey)).size, grid.length);
});

test('errors name the file and the field at fault', () => {
  const cases: [unknown, string, RegExp][] = [
    [{ lr: { type: 'uniform', low: '0.1', high: 1 } }, 'lr.low', /space\.json: 'lr\.low' must be a finite number, found "0\.1"/],
    [{ lr: { type: 'uniform', low: 1, high: 0.1 } }, 'lr.high', /≥ low/],
    [{ lr: { type: 'gaussian', low: 1, high: 2 } }, 'lr.type', /one of uniform, log-uniform, int, choice/],
    [{ lr: { type: 'log-uniform', low: 0, high: 1 } }, 'lr.low', /cannot reach 0/],
    [{ n: { type: 'int', low: 1.5, high: 3 } }, 'n.low', /whole number/],
    [{ a: { type: 'choice', values: [] } }, 'a.values', /non-empty array/],
    [{ a: { type: 'choice', values: [1, null] } }, 'a.values[1]', /number, string, boolean or list of numbers/],
    [{ a: { type: 'uniform', low: 0, high: 1, step: 2 } }, 'a.step', /absent/],
    [{ lr: { type: 'uniform', low: 0, high: 1, when: { solver: 'sgd' } } }, 'lr.when.solver', /declared before/],
    [
      { solver: { type: 'choice', values: ['a', 'b'] }, lr: { type: 'uniform', low: 0, high: 1, when: { solver: 'c' } } },
      'lr.when.solver',
      /one of \["a","b"\]/,
    ],
    [
      { x: { type: 'uniform', low: 0, high: 1 }, y: { type: 'uniform', low: 0, high: 1, when: { x: 0.5 } } },
      'y.when.x',
      /'choice' or fixed/,
    ],
    [{ a: null }, 'a', /domain object/],
    [{ a: ['x'] }, 'a', /domain object/],
    [[], '(top level)', /object mapping/],
  ];
  for (const [raw, field, message] of cases) {
    assert.throws(
      () => parseSpace(raw, 'space.json'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.field, field, error.message);
        assert.match(error.message, message);
        return true;
      },
    );
  }
});
