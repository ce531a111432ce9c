import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/core/errors.js';
import { computeRdp, RdpAccountant, rdpSampledGaussian, rdpToEpsilon } from '../../src/federated/dp-accountant.js';

// Compiled to dist/test/federated/: three levels up is the repository root.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Budget {
  steps: number;
  delta: number;
  classic: { epsilon: number; order: number };
  balle2020: { epsilon: number; order: number };
}
interface Fixture {
  generator: string;
  orders: number[];
  cases: { sampleRate: number; noiseMultiplier: number; rdp: number[]; budgets: Budget[] }[];
}
const fixture = JSON.parse(readFileSync(join(root, 'test/fixtures/federated/dp-rdp.json'), 'utf8')) as Fixture;

const relative = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

test('the fixture says how it was made', () => {
  assert.match(fixture.generator, /scripts\/fixtures\/dp_rdp\.py .*quad/);
  assert.ok(fixture.cases.length >= 5);
});

test('RDP of the sampled Gaussian agrees with numerical integration (scipy quad) to 1e-3 relative at every order', () => {
  for (const { sampleRate, noiseMultiplier, rdp } of fixture.cases) {
    const ours = computeRdp({ sampleRate, noiseMultiplier }, 1, fixture.orders);
    fixture.orders.forEach((order, k) => {
      assert.ok(relative(ours[k]!, rdp[k]!) < 1e-3, `q=${sampleRate} σ=${noiseMultiplier} α=${order}: ${ours[k]} vs ${rdp[k]}`);
    });
  }
});

test('ε after 1, 50 and 1000 rounds agrees with the reference to 1e-3 relative, for both conversions, at the same order', () => {
  for (const { sampleRate, noiseMultiplier, budgets } of fixture.cases)
    for (const { steps, delta, classic, balle2020 } of budgets)
      for (const [conversion, reference] of [
        ['classic', classic],
        ['balle2020', balle2020],
      ] as const) {
        const accountant = new RdpAccountant({ orders: fixture.orders, conversion });
        accountant.step({ sampleRate, noiseMultiplier }, steps);
        const ours = accountant.epsilon(delta);
        const what = `q=${sampleRate} σ=${noiseMultiplier} T=${steps} δ=${delta} ${conversion}`;
        assert.ok(relative(ours.epsilon, reference.epsilon) < 1e-3, `${what}: ε ${ours.epsilon} vs ${reference.epsilon}`);
        assert.equal(ours.order, reference.order, what);
      }
});

test('q = 1 is the Gaussian mechanism: RDP(α) = α/(2σ²) exactly; q = 0 costs nothing; σ = 0 is unbounded', () => {
  for (const sigma of [0.5, 1, 3.7])
    for (const order of [2, 7, 64, 512])
      assert.ok(relative(rdpSampledGaussian({ sampleRate: 1, noiseMultiplier: sigma }, order), order / (2 * sigma * sigma)) < 1e-12);
  assert.equal(rdpSampledGaussian({ sampleRate: 0, noiseMultiplier: 1 }, 8), 0);
  assert.equal(rdpSampledGaussian({ sampleRate: 0.1, noiseMultiplier: 0 }, 8), Infinity);
  // q → 1 from below meets the closed form (the binomial sum is continuous in q)
  assert.ok(relative(rdpSampledGaussian({ sampleRate: 1 - 1e-12, noiseMultiplier: 2 }, 10), 10 / 8) < 1e-6);
});

test('the Gaussian mechanism: the classic conversion has the closed-form optimum over real α', () => {
  // T steps of RDP α/(2σ²)·T: ε(α) = Tα/(2σ²) + log(1/δ)/(α−1), minimised at α* = 1 + σ√(2 log(1/δ)/T),
  // ε* = T/(2σ²) + √(2T log(1/δ))/σ. With orders dense near α*, the discrete minimum is within 1e-3.
  const sigma = 20;
  const delta = 1e-5;
  const steps = 10;
  const orders = Array.from({ length: 400 }, (_, i) => i + 2);
  const closed = steps / (2 * sigma * sigma) + Math.sqrt(2 * steps * Math.log(1 / delta)) / sigma;
  const ours = rdpToEpsilon(computeRdp({ sampleRate: 1, noiseMultiplier: sigma }, steps, orders), orders, delta, 'classic');
  assert.ok(relative(ours.epsilon, closed) < 1e-3, `${ours.epsilon} vs ${closed}`);
});

test('the accountant composes rounds additively, grows ε monotonically and describes each round', () => {
  const accountant = new RdpAccountant();
  let previous = 0;
  for (let round = 1; round <= 5; round++) {
    accountant.step({ sampleRate: 0.1, noiseMultiplier: 1 });
    const { epsilon } = accountant.epsilon(1e-5);
    assert.ok(epsilon > previous);
    previous = epsilon;
  }
  const once = new RdpAccountant().step({ sampleRate: 0.1, noiseMultiplier: 1 }, 5);
  assert.deepEqual(once.rdp(), accountant.rdp());
  assert.match(accountant.describe(1e-5), /^round 5: ε = \d+\.\d+, δ = 0\.00001 \(order \d+\)$/);
  // Balle et al.'s conversion is never looser than the classic one
  const classic = new RdpAccountant({ conversion: 'classic' }).step({ sampleRate: 0.1, noiseMultiplier: 1 }, 5);
  assert.ok(accountant.epsilon(1e-5).epsilon <= classic.epsilon(1e-5).epsilon);
});

test('bad parameters are ConfigErrors naming the flag', () => {
  const field = (name: string) => (error: unknown) => error instanceof ConfigError && error.field === name;
  assert.throws(() => rdpSampledGaussian({ sampleRate: 1.5, noiseMultiplier: 1 }, 2), field('fraction'));
  assert.throws(() => rdpSampledGaussian({ sampleRate: 0.1, noiseMultiplier: -1 }, 2), field('dp-noise'));
  assert.throws(() => rdpSampledGaussian({ sampleRate: 0.1, noiseMultiplier: 1 }, 1.5), field('orders'));
  assert.throws(() => new RdpAccountant().epsilon(0), field('dp-delta'));
});
