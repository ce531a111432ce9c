// Every codec passes the conformance suite (codec-suite.ts); then the properties each codec claims:
// unbiasedness (QSGD, random-k, TernGrad), error feedback (top-k, sign), exactness (PowerSGD on
// rank-r matrices), DGC's warm-up schedule, and the registry's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecSuite, testVector } from './codec-suite.js';
import { createCodec, registerCodec, noneCodecForTest } from './codec-fixtures.js';
import { ConfigError, ShardlearnError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { fromHalfBits, toHalfBits, toBfloat16Bits, fromBfloat16Bits } from '../../src/comm/codecs/bits.js';

const SPECS = [
  'none',
  'fp16',
  'bf16',
  'topk:0.01',
  'topk:0.1:0.9',
  'topk16:0.01',
  'topk16:0.1:0.9',
  'randomk:0.05',
  'qsgd:4',
  'qsgd:255',
  'terngrad',
  'signsgd',
  'powersgd:1',
  'powersgd:4',
];
for (const spec of SPECS) codecSuite(spec);

/** Mean of decode(encode(g)) over `draws` independently seeded states, against g: max |mean − g| / (its standard error bound). */
function unbiasedness(spec: string, g: Float64Array, draws: number, stepBound: number): number {
  const codec = createCodec(spec);
  const mean = new Float64Array(g.length);
  for (let seed = 0; seed < draws; seed++) {
    const decoded = codec.decode(codec.encode(g, codec.createState(g.length, { seed })), g.length);
    for (let i = 0; i < g.length; i++) mean[i]! += decoded[i]! / draws;
  }
  // Each draw of element i lies in an interval of width ≤ stepBound, so its standard deviation is
  // ≤ stepBound/2 and the mean's ≤ stepBound/(2√draws): report the worst element in those units.
  let worst = 0;
  for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(mean[i]! - g[i]!) / (stepBound / (2 * Math.sqrt(draws))));
  return worst;
}

test('QSGD is unbiased: the mean of 4000 seeded draws is within 5 standard errors of g on every element', () => {
  const g = testVector(200, 31).map((x) => x / 100 + 0.01);
  let norm = 0;
  for (const x of g) norm += x * x;
  const worst = unbiasedness('qsgd:4', g, 4000, Math.sqrt(norm) / 4);
  assert.ok(worst < 5, `worst element ${worst} standard errors from g`);
  // Sanity: the test can fail — a deterministic round-down quantiser is biased by far more.
  const biased = g.map((x) => (Math.floor((Math.abs(x) / Math.sqrt(norm)) * 4) * Math.sqrt(norm) * Math.sign(x)) / 4);
  let off = 0;
  for (let i = 0; i < g.length; i++) off = Math.max(off, Math.abs(biased[i]! - g[i]!) / (Math.sqrt(norm) / 4 / (2 * Math.sqrt(4000))));
  assert.ok(off > 5, `round-down would be ${off} standard errors off`);
});

test('random-k is unbiased: the mean of 4000 seeded draws is within 5 standard errors of g', () => {
  const g = testVector(100, 32).map((x) => x + 0.5);
  let m = 0;
  for (const x of g) m = Math.max(m, Math.abs(x));
  // A draw of element i is 0 or g_i·n/k: width ≤ max|g|·n/k = 10·max|g| for ratio 0.1.
  const worst = unbiasedness('randomk:0.1', g, 4000, m * 10);
  assert.ok(worst < 5, `worst element ${worst} standard errors from g`);
});

test('TernGrad is unbiased: the mean of 4000 seeded draws is within 5 standard errors of g', () => {
  const g = testVector(100, 33);
  let m = 0;
  for (const x of g) m = Math.max(m, Math.abs(x));
  const worst = unbiasedness('terngrad', g, 4000, m);
  assert.ok(worst < 5, `worst element ${worst} standard errors from g`);
});

test('random-k sends 4 + 4k bytes: the indices are regenerated from a seed, not sent', () => {
  const codec = createCodec('randomk:0.01');
  assert.equal(codec.encodedBytes(10000), 4 + 4 * 100);
});

test('top-k with error feedback: what it drops is owed, accumulates, and is eventually sent', () => {
  const codec = createCodec('topk:0.1');
  const n = 50;
  const state = codec.createState(n);
  // A constant gradient: each step sends the 5 largest of what is owed.
  const g = new Float64Array(n).map((_, i) => 1 + i / n);
  const sent = new Float64Array(n);
  const steps = 40;
  for (let step = 0; step < steps; step++) {
    const decoded = codec.decode(codec.encode(g, state), n);
    for (let i = 0; i < n; i++) sent[i]! += decoded[i]!;
    // Conservation: sent so far + still owed = everything given so far (up to rounding).
    for (let i = 0; i < n; i++) {
      const given = g[i]! * (step + 1);
      assert.ok(Math.abs(sent[i]! + state.residual![i]! - given) < 1e-9 * given, `step ${step}, element ${i}`);
    }
  }
  // Every element has been sent, the smallest included, and none is owed more than 2·n/k steps' worth.
  for (let i = 0; i < n; i++) {
    assert.ok(sent[i]! > 0, `element ${i} was never sent`);
    assert.ok(state.residual![i]! < 20 * g[i]!, `element ${i} owes ${state.residual![i]} (> 20 steps of ${g[i]})`);
  }
  // Without the feedback the smallest would never be sent: check the test could fail.
  const fresh = codec.decode(codec.encode(g, codec.createState(n)), n);
  assert.equal(fresh[0], 0);
});

test('topk16 selects what topk selects, in 4 bytes a pair plus 4 a block of 65,536, across block boundaries', () => {
  const n = 140000; // three blocks
  const g = testVector(n, 41);
  const wide = createCodec('topk:0.01');
  const narrow = createCodec('topk16:0.01');
  const k = Math.round(0.01 * n);
  const bytes = narrow.encode(g, narrow.createState(n));
  assert.equal(bytes.byteLength, 4 * 3 + 4 * k);
  assert.equal(narrow.encodedBytes(n), bytes.byteLength);
  const a = wide.decode(wide.encode(g, wide.createState(n)), n);
  const b = narrow.decode(bytes, n);
  let chosen = 0;
  for (let i = 0; i < n; i++) {
    assert.equal(a[i] !== 0, b[i] !== 0, `index ${i}: chosen by one format only`);
    if (b[i] !== 0) {
      chosen++;
      assert.ok(Math.abs(a[i]! - b[i]!) <= Math.abs(g[i]!) * 2 ** -11, `index ${i}: ${b[i]} is not ${g[i]} to half precision`);
    }
  }
  assert.ok(chosen > 0.99 * k, `${chosen} of ${k} pairs decoded`);
  // A count that runs past the pairs is refused, not misread.
  const corrupt = bytes.slice();
  new Uint32Array(corrupt.buffer, 0, 3)[0] = k + 1;
  assert.throws(() => narrow.decode(corrupt, n), ShardlearnError);
});

test("topk16: a value below half precision's range is owed by the residual until it has grown enough to be sent", () => {
  const codec = createCodec('topk16:1');
  const state = codec.createState(1);
  let sent = 0;
  for (let step = 0; step < 100; step++) sent += codec.decode(codec.encode(new Float64Array([1e-9]), state), 1)[0]!;
  // 1e-9 is below the smallest half (6e-8): each step flushes to 0 until ~60 steps are owed.
  assert.ok(Math.abs(sent + state.residual![0]! - 1e-7) < 1e-15, `sent ${sent}, owed ${state.residual![0]}`);
  assert.ok(sent > 0, 'the owed sum was sent once it reached the half range');
});

test('top-k with DGC momentum correction: sent coordinates restart their velocity (momentum factor masking)', () => {
  const codec = createCodec('topk:0.5:0.9');
  const state = codec.createState(4);
  const g = Float64Array.of(4, 3, 2, 1);
  const first = codec.decode(codec.encode(g, state), 4);
  assert.deepEqual([...first], [4, 3, 0, 0]);
  assert.deepEqual([...state.velocity!], [0, 0, 2, 1]);
  // Step 2: u = 0.9·u + g = [4, 3, 3.8, 1.9]; owed = [4, 3, 5.8, 2.9] → send 5.8 and 4.
  const second = codec.decode(codec.encode(g, state), 4);
  assert.deepEqual(
    [...second].map((x) => Math.fround(x)),
    [4, 0, Math.fround(5.8), 0],
  );
});

test('DGC warm-up: density falls exponentially over the warm-up epochs, then stays at the ratio', () => {
  const codec = createCodec('topk:0.001');
  const n = 100000;
  const state = codec.createState(n, { warmupEpochs: 4 });
  const densities: number[] = [];
  for (let epoch = 0; epoch < 6; epoch++) {
    state.epoch = epoch;
    densities.push(codec.encodedBytes(n, state) / 8 / n);
  }
  // DGC's schedule: 25%, 6.25%, 1.56%, 0.4%, then 0.1%.
  const expected = [0.2512, 0.0631, 0.01585, 0.00398, 0.001, 0.001];
  densities.forEach((d, e) => assert.ok(Math.abs(d - expected[e]!) < 1e-4, `epoch ${e}: density ${d}, expected ${expected[e]}`));
});

test('DGC warm-up over a fraction of an epoch: one stage at √ratio until the warm-up ends part-way through epoch 0', () => {
  const codec = createCodec('topk16:0.01');
  const n = 10000;
  const state = codec.createState(n, { warmupEpochs: 0.25 });
  const density = (epoch: number): number => {
    state.epoch = epoch;
    return (codec.encodedBytes(n, state) - 4) / 4 / n;
  };
  assert.equal(density(0), 0.1);
  assert.equal(density(0.24), 0.1);
  assert.equal(density(0.25), 0.01);
  assert.equal(density(2), 0.01);
  // 2.5 epochs: three stages of 5/6 epoch each, at 0.01^(1/4), 0.01^(2/4), 0.01^(3/4).
  const longer = codec.createState(n, { warmupEpochs: 2.5 });
  const at = (epoch: number): number => {
    longer.epoch = epoch;
    return Math.round((codec.encodedBytes(n, longer) - 4) / 4);
  };
  assert.deepEqual(
    [at(0), at(0.9), at(1.7), at(2.5)],
    [Math.round(n * 0.01 ** 0.25), Math.round(n * 0.1), Math.round(n * 0.01 ** 0.75), 100],
  );
});

test('signSGD with error feedback: the running sum of what was sent tracks the running sum of gradients', () => {
  const codec = createCodec('signsgd');
  const n = 64;
  const state = codec.createState(n);
  const total = new Float64Array(n);
  const sent = new Float64Array(n);
  for (let step = 0; step < 200; step++) {
    const g = testVector(n, 100 + step).map((x) => x / 1000 + 0.001 * Math.sin(step));
    const decoded = codec.decode(codec.encode(g, state), n);
    for (let i = 0; i < n; i++) {
      total[i]! += g[i]!;
      sent[i]! += decoded[i]!;
    }
  }
  for (let i = 0; i < n; i++) assert.ok(Math.abs(total[i]! - sent[i]! - state.residual![i]!) < 1e-9, `element ${i}: conservation`);
});

test('PowerSGD is exact on matrices of rank ≤ r (within float32 rounding)', () => {
  for (const [rows, rank] of [
    [40, 1],
    [40, 2],
    [50, 4],
  ] as const) {
    // n = rows·cols with cols = ⌈√n⌉ = rows: the flat vector is exactly a rows × rows matrix of rank `rank`.
    const rng = new Rng(rows + rank);
    const u = Array.from({ length: rank }, () => Float64Array.from({ length: rows }, () => rng.normal()));
    const v = Array.from({ length: rank }, () => Float64Array.from({ length: rows }, () => rng.normal()));
    const m = new Float64Array(rows * rows);
    for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) for (let c = 0; c < rank; c++) m[i * rows + j]! += u[c]![i]! * v[c]![j]!;
    const codec = createCodec(`powersgd:${rank}`);
    const decoded = codec.decode(codec.encode(m, codec.createState(m.length, { seed: 3 })), m.length);
    let scale = 0;
    let error = 0;
    for (let i = 0; i < m.length; i++) {
      scale = Math.max(scale, Math.abs(m[i]!));
      error = Math.max(error, Math.abs(decoded[i]! - m[i]!));
    }
    assert.ok(error < 1e-5 * scale, `rank ${rank} matrix ${rows}×${rows}, powersgd:${rank}: max error ${error} (scale ${scale})`);
    // One rank short is far from exact: the test can fail.
    if (rank > 1) {
      const short = createCodec(`powersgd:${rank - 1}`);
      const approx = short.decode(short.encode(m, short.createState(m.length, { seed: 3 })), m.length);
      let shortError = 0;
      for (let i = 0; i < m.length; i++) shortError = Math.max(shortError, Math.abs(approx[i]! - m[i]!));
      assert.ok(shortError > 1e-2 * scale, `powersgd:${rank - 1} on rank ${rank}: error ${shortError}`);
    }
  }
});

test('PowerSGD warm start: Q is kept in the caller-owned state and carried from step to step', () => {
  const codec = createCodec('powersgd:2');
  const m = testVector(400, 40);
  const state = codec.createState(400, { seed: 1 });
  const q0 = (codec.encode(m, state), Float64Array.from(state.q!));
  codec.encode(m, state);
  assert.notDeepEqual([...state.q!], [...q0], 'Q is carried and updated between steps');
});

test("fp16 with error feedback: a gradient below fp16's smallest subnormal is carried until it is sent, not lost", () => {
  const codec = createCodec('fp16');
  const state = codec.createState(1);
  const g = Float64Array.of(1e-8); // rounds to 0 in fp16 (smallest subnormal 6e-8)
  let sent = 0;
  for (let step = 0; step < 100; step++) sent += codec.decode(codec.encode(g, state), 1)[0]!;
  assert.ok(Math.abs(sent - 100 * 1e-8) <= 2 ** -24, `sent ${sent} of ${100 * 1e-8}`);
  // Without the residual every step would send 0.
  assert.equal(codec.decode(codec.encode(g, codec.createState(1)), 1)[0], 0);
});

test('fp16 and bf16 conversions round to nearest even and saturate instead of overflowing', () => {
  assert.equal(fromHalfBits(toHalfBits(1)), 1);
  assert.equal(fromHalfBits(toHalfBits(65504)), 65504);
  assert.equal(fromHalfBits(toHalfBits(1e6)), 65504);
  assert.equal(fromHalfBits(toHalfBits(-1e6)), -65504);
  assert.equal(fromHalfBits(toHalfBits(1 + 2 ** -11)), 1); // tie → even
  assert.equal(fromHalfBits(toHalfBits(1 + 3 * 2 ** -11)), 1 + 2 ** -9); // tie → even (up)
  assert.equal(fromHalfBits(toHalfBits(2 ** -24)), 2 ** -24); // smallest subnormal
  assert.equal(fromBfloat16Bits(toBfloat16Bits(1 + 2 ** -8)), 1);
  assert.equal(fromBfloat16Bits(toBfloat16Bits(3.4e38)), fromBfloat16Bits(0x7f7f));
});

test('the registry: unknown and malformed specs are ConfigErrors naming the choices; a family registers once', () => {
  assert.throws(
    () => createCodec('gzip'),
    (e: unknown) => e instanceof ConfigError && /expected one of: none, fp16/.test(e.message),
  );
  assert.throws(
    () => createCodec('topk'),
    (e: unknown) => e instanceof ConfigError && /ratio/.test(e.message),
  );
  assert.throws(() => createCodec('topk:2'), ConfigError);
  assert.throws(() => createCodec('qsgd:0'), ConfigError);
  assert.throws(() => createCodec('fp16:3'), ConfigError);
  assert.throws(
    () => registerCodec('fp16', noneCodecForTest),
    (e: unknown) => e instanceof ShardlearnError && e.code === 'REGISTRY',
  );
});

// Checkpoints (models/solvers/sgd-checkpoint.ts): a state exported after some steps and imported
// into a fresh one encodes the next gradients to the same bytes as the state that went on.
test('exportCodecState / importCodecState: the restored state continues bit for bit', async () => {
  const { exportCodecState, importCodecState } = await import('../../src/comm/codecs/index.js');
  for (const spec of ['topk:0.01', 'topk:0.1:0.9', 'topk16:0.1:0.9', 'randomk:0.05', 'qsgd:4', 'terngrad', 'signsgd']) {
    const codec = createCodec(spec);
    const n = 300;
    const options = { seed: 5, rank: 1, warmupEpochs: 0.5 };
    const going = codec.createState(n, options);
    const rng = new Rng(9);
    const gradient = (): Float64Array => Float64Array.from({ length: n }, () => rng.normal());
    for (let s = 0; s < 3; s++) {
      going.epoch = s * 0.2;
      codec.encode(gradient(), going);
    }
    const arrays: Record<string, Float64Array> = {};
    const saved = JSON.parse(JSON.stringify(exportCodecState(going, 'x.', arrays))) as Parameters<typeof importCodecState>[2];
    const restored = codec.createState(n, options);
    importCodecState(restored, 'x.', saved, arrays);
    assert.equal(restored.epoch, going.epoch);
    for (let s = 3; s < 6; s++) {
      const g = gradient();
      going.epoch = restored.epoch = s * 0.2;
      const expected = codec.encode(g, going);
      assert.deepEqual(codec.encode(g, restored), expected, `${spec}, step ${s}`);
    }
    // A fresh state (nothing restored) diverges for the codecs that carry something.
    if (codec.errorFeedback) {
      const fresh = codec.createState(n, options);
      const g = gradient();
      fresh.epoch = going.epoch = 1.2;
      assert.notDeepEqual(codec.encode(g, fresh), codec.encode(g, going), spec);
    }
  }
  // A state of another shape is refused, naming the array.
  const momentum = createCodec('topk:0.1:0.9');
  const arrays: Record<string, Float64Array> = {};
  const saved = exportCodecState(createCodec('topk:0.1').createState(10), 'y.', arrays);
  assert.throws(() => importCodecState(momentum.createState(10), 'y.', saved, arrays), /codec state 'y\.': the checkpoint's velocity has no values/);
});
