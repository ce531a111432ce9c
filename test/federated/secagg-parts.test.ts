import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { ConfigError } from '../../src/core/errors.js';
import { seededRandomSource } from '../../src/federated/secagg/crypto.js';
import { checkFixedPoint, dequantize, fixedPointRange, quantize } from '../../src/federated/secagg/fixed-point.js';
import { bigintToBytes, bytesToBigint, combine, lagrangeAtZero, PRIME, split } from '../../src/federated/secagg/shamir.js';
import { runSecAggRound } from '../../src/federated/secagg/simulate.js';

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

test('the field modulus 2^256 + 297 is prime (Miller–Rabin, 20 bases) and 2^256 + 1..296 are not', () => {
  const millerRabin = (n: bigint, bases: readonly bigint[]): boolean => {
    let d = n - 1n;
    let s = 0;
    while ((d & 1n) === 0n) {
      d >>= 1n;
      s++;
    }
    return bases.every((a) => {
      let x = modPow(a, d, n);
      if (x === 1n || x === n - 1n) return true;
      for (let i = 1; i < s; i++) {
        x = (x * x) % n;
        if (x === n - 1n) return true;
      }
      return false;
    });
  };
  const bases = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n, 43n, 47n, 53n, 59n, 61n, 67n, 71n];
  assert.ok(millerRabin(PRIME, bases));
  for (let k = 1n; k < 297n; k += 2n) assert.ok(!millerRabin((1n << 256n) + k, bases.slice(0, 4)), `2^256 + ${k}`);
});

test('Shamir: any t of n shares give the 32-byte secret back; t − 1 shares interpolate to something else', () => {
  const random = seededRandomSource(new Rng(4));
  const secret = random(32);
  const xs = [1, 4, 9, 12, 30, 31, 77];
  const shares = split(secret, xs, 4, random);
  for (const subset of [
    [0, 1, 2, 3],
    [3, 4, 5, 6],
    [0, 2, 4, 6],
    [6, 1, 5, 2],
  ]) {
    const value = combine(
      subset.map((i) => shares[i]!),
      lagrangeAtZero(subset.map((i) => xs[i]!)),
    );
    assert.deepEqual(bigintToBytes(value, 32), secret);
  }
  const three = [0, 1, 2];
  assert.notDeepEqual(
    bigintToBytes(
      combine(
        three.map((i) => shares[i]!),
        lagrangeAtZero(three.map((i) => xs[i]!)),
      ) %
        (1n << 256n),
      32,
    ),
    secret,
  );
  assert.equal(bytesToBigint(bigintToBytes(PRIME - 1n, 33)), PRIME - 1n);
});

test('fixed point: values clamp into [−R, R − 2^−f]; 2^k clients at the extremes sum without overflow', () => {
  const fixed = { fractionBits: 12, clientBits: 3 };
  const range = fixedPointRange(fixed); // 2^(31 − 12 − 3) = 65536
  assert.equal(range, 65536);
  const { ring, clamped } = quantize(Float64Array.from([1e9, -1e9, NaN, 1.5, -range]), fixed);
  assert.equal(clamped, 3);
  assert.deepEqual([...dequantize(ring, fixed)], [range - 2 ** -12, -range, 0, 1.5, -range]);
  // 8 = 2^3 clients all at the top, all at the bottom: the ring sum decodes to the true sums
  const top = quantize(Float64Array.from([range, -range]), fixed).ring;
  const sum = new Uint32Array(2);
  for (let c = 0; c < 8; c++) for (let i = 0; i < 2; i++) sum[i]! += top[i]!;
  assert.deepEqual([...dequantize(sum, fixed)], [8 * (range - 2 ** -12), -8 * range]);
  assert.throws(() => checkFixedPoint({ fractionBits: 20, clientBits: 11 }), ConfigError);
});

test('the protocol at the fixed-point extremes: 4 = 2^2 clients at ±R sum exactly through the masks', () => {
  const fixed = { fractionBits: 16, clientBits: 2 };
  const range = fixedPointRange(fixed);
  const inputs = new Map(Array.from({ length: 4 }, (_, c) => [c, Float64Array.from([range, -range, c])]));
  const outcome = runSecAggRound({ parameters: { round: 0, vectorLength: 3, threshold: 3, fixedPoint: fixed }, inputs, seed: 9 });
  assert.deepEqual([...outcome.sum], [4 * (range - 2 ** -16), -4 * range, 6]);
  // a fifth client would overflow the ring: refused before any key is shared
  const five = new Map(Array.from({ length: 5 }, (_, c) => [c, new Float64Array(3)]));
  assert.throws(
    () => runSecAggRound({ parameters: { round: 0, vectorLength: 3, threshold: 3, fixedPoint: fixed }, inputs: five, seed: 9 }),
    /at most 2\^2/,
  );
});

test('messages decode the same from a Node Buffer that is a view into a larger pool (as sockets deliver them)', async () => {
  const { decode, encode } = await import('../../src/federated/secagg/messages.js');
  const vector = Uint32Array.from({ length: 50 }, (_, i) => i * 2654435761);
  const bytes = encode({ kind: 'masked-input', round: 3, sender: 8, vector });
  const pool = Buffer.alloc(bytes.length + 3, 0xee);
  pool.set(bytes, 3);
  const view = pool.subarray(3); // a Buffer whose slice() would not copy
  const message = decode(view);
  assert.equal(message.kind, 'masked-input');
  if (message.kind === 'masked-input') assert.deepEqual(message.vector, vector);
  pool.fill(0); // the decoded message owns its bytes
  if (message.kind === 'masked-input') assert.deepEqual(message.vector, vector);
});

test('on a Communicator: bytes travel as one byte frame through the real ZeroMQ wire codec, at their own size, and back unchanged', async () => {
  const { toCommMessage, fromCommMessage } = await import('../../src/federated/secagg/comm-message.js');
  const { decodeMessage, encodeMessage, PROTOCOL_VERSION } = await import('../../src/comm/zmq/wire.js');
  const { SecAggError } = await import('../../src/federated/secagg/errors.js');
  const random = seededRandomSource(new Rng(8));
  // 0xff runs would be NaN as raw float64: byte frames are not float arrays and pass unchecked
  for (const bytes of [new Uint8Array(0), new Uint8Array(13).fill(0xff), random(1001), random(6)]) {
    const message = toCommMessage(bytes);
    assert.equal(message.arrays, undefined);
    const frames = encodeMessage({ v: PROTOCOL_VERSION, k: 'user', tag: message.tag, h: message.header! }, [], message.bytes!);
    // the payload frame is the protocol's bytes, not 4/3 of them as float64-packed words were
    assert.equal(frames.length, 2);
    assert.equal(frames[1]!.byteLength, bytes.length);
    const { envelope, arrays, bytes: back } = decodeMessage(frames);
    const read = fromCommMessage({ tag: envelope.tag!, header: envelope.h!, arrays, bytes: back }, { from: 4, round: 1, phase: 'share' });
    assert.deepEqual(read, bytes);
  }
  const good = toCommMessage(random(20));
  const where = { from: 4, round: 1, phase: 'share' as const };
  for (const bad of [
    { ...good, tag: 'push' },
    { ...good, header: {} },
    { ...good, bytes: [] },
    { ...good, bytes: [random(19)] },
    { ...good, bytes: [random(20), random(1)] },
    { ...good, arrays: [Float64Array.from([1, 2])] },
  ])
    assert.throws(
      () => fromCommMessage(bad, where),
      (error: unknown) => error instanceof SecAggError && error.client === 4,
    );
});
