// Forward passes against naive loops written straight from the definitions (the gradient checks
// only show backward agrees with forward; these show forward computes the right function).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import '../../src/core/index.js';
import type { LayerSpec } from '../../src/nn/layer.js';
import { Network } from '../../src/nn/network.js';

function run(specs: LayerSpec[], inputShape: number[], batch: number, seed = 1): { x: Float64Array; y: Float64Array; w: Float64Array } {
  const rng = new Rng(seed);
  const net = new Network(specs, inputShape, 'float64');
  net.store.initialize(rng);
  for (let i = 0; i < net.size; i++) net.store.values[i] = rng.normal() * 0.5;
  const x = Float64Array.from({ length: batch * inputShape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  const y = Float64Array.from(net.forward({ shape: [batch, ...inputShape], data: x }, { training: false, rowSeeds: null }).data);
  return { x, y, w: Float64Array.from(net.store.values) };
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-12, `entry ${i}: ${a[i]} vs ${b[i]}`);
};

test('conv2d (stride 2, padding 1, 2 channels in, 3 out) equals the direct convolution sum', () => {
  const [H, W, C, F, K, S, P] = [7, 6, 2, 3, 3, 2, 1];
  const { x, y, w } = run([{ type: 'conv2d', filters: F, kernelSize: K, stride: S, padding: P }], [H, W, C], 2);
  const OH = Math.floor((H + 2 * P - K) / S) + 1;
  const OW = Math.floor((W + 2 * P - K) / S) + 1;
  const expected: number[] = [];
  for (let n = 0; n < 2; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let f = 0; f < F; f++) {
          let sum = w[F * K * K * C + f]!; // bias follows the F×K×K×C kernel
          for (let ky = 0; ky < K; ky++)
            for (let kx = 0; kx < K; kx++)
              for (let c = 0; c < C; c++) {
                const iy = oy * S - P + ky;
                const ix = ox * S - P + kx;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                  sum += w[((f * K + ky) * K + kx) * C + c]! * x[((n * H + iy) * W + ix) * C + c]!;
              }
          expected.push(sum);
        }
  close(y, expected);
});

test('max-pool 3×3 stride 2 takes the maximum of each window per channel', () => {
  const [H, W, C] = [7, 5, 2];
  const { x, y } = run([{ type: 'maxPool2d', size: 3, stride: 2 }], [H, W, C], 2);
  const expected: number[] = [];
  for (let n = 0; n < 2; n++)
    for (let oy = 0; oy < 3; oy++)
      for (let ox = 0; ox < 2; ox++)
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) best = Math.max(best, x[((n * H + oy * 2 + ky) * W + ox * 2 + kx) * C + c]!);
          expected.push(best);
        }
  close(y, expected);
});

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/** One sample's recurrence written per unit, from the equations in recurrent.ts. */
function naiveRecurrence(cell: 'rnn' | 'lstm' | 'gru', x: Float64Array, w: Float64Array, T: number, F: number, H: number): number[] {
  const G = { rnn: 1, lstm: 4, gru: 3 }[cell] * H;
  const wx = (g: number, f: number): number => w[g * F + f]!;
  const wh = (g: number, j: number): number => w[G * F + g * H + j]!;
  const b = (g: number): number => w[G * F + G * H + g]!;
  const bh = (g: number): number => w[G * F + G * H + G + g]!;
  let h = new Array<number>(H).fill(0);
  let c = new Array<number>(H).fill(0);
  for (let t = 0; t < T; t++) {
    const xp = (g: number): number => {
      let s = b(g);
      for (let f = 0; f < F; f++) s += wx(g, f) * x[t * F + f]!;
      return s;
    };
    const hp = (g: number): number => {
      let s = 0;
      for (let j = 0; j < H; j++) s += wh(g, j) * h[j]!;
      return s;
    };
    const next = new Array<number>(H);
    const nextC = new Array<number>(H);
    for (let u = 0; u < H; u++) {
      if (cell === 'rnn') next[u] = Math.tanh(xp(u) + hp(u));
      else if (cell === 'lstm') {
        const [i, f, g, o] = [
          sig(xp(u) + hp(u)),
          sig(xp(H + u) + hp(H + u)),
          Math.tanh(xp(2 * H + u) + hp(2 * H + u)),
          sig(xp(3 * H + u) + hp(3 * H + u)),
        ];
        nextC[u] = f * c[u]! + i * g;
        next[u] = o * Math.tanh(nextC[u]!);
      } else {
        const r = sig(xp(u) + hp(u) + bh(u));
        const z = sig(xp(H + u) + hp(H + u) + bh(H + u));
        const n = Math.tanh(xp(2 * H + u) + r * (hp(2 * H + u) + bh(2 * H + u)));
        next[u] = (1 - z) * n + z * h[u]!;
      }
    }
    h = next;
    c = nextC;
  }
  return h;
}

for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  test(`${cell} forward equals the per-unit recurrence of its equations`, () => {
    const [T, F, H, B] = [4, 3, 5, 2];
    const { x, y, w } = run([{ type: cell, units: H, returnSequences: false }], [T, F], B, 3);
    const expected: number[] = [];
    for (let n = 0; n < B; n++) expected.push(...naiveRecurrence(cell, x.subarray(n * T * F, (n + 1) * T * F), w, T, F, H));
    close(y, expected);
  });
}
