/**
 * Shamir secret sharing (1979) of 32-byte secrets over the prime field GF(p), p = 2^256 + 297 (the
 * smallest prime above 2^256, so every 32-byte string is a field element; checked by Miller–Rabin in
 * the test). A secret is the constant term of a random polynomial of degree t − 1; client `id` holds the
 * value at x = id + 1 (x = 0 would be the secret itself). Any t shares give the secret back by Lagrange
 * interpolation at 0; t − 1 shares say nothing about it.
 */
import type { RandomSource } from './crypto.js';

export const PRIME = (1n << 256n) + 297n;
/** Bytes of one share on the wire (a field element, little-endian). */
export const SHARE_BYTES = 33;

export function bytesToBigint(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

export function bigintToBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = 0; i < length; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

const mod = (a: bigint): bigint => ((a % PRIME) + PRIME) % PRIME;

function inverse(a: bigint): bigint {
  // extended Euclid
  let [oldR, r] = [mod(a), PRIME];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS);
}

/** A uniform field element: 40 random bytes reduced mod p (bias below 2^-60). */
function randomElement(random: RandomSource): bigint {
  return bytesToBigint(random(40)) % PRIME;
}

/** Shares of `secret` (≤ 32 bytes) for the points `xs` (distinct, nonzero), any `threshold` of which recover it. */
export function split(secret: Uint8Array, xs: readonly number[], threshold: number, random: RandomSource): bigint[] {
  const coefficients = [bytesToBigint(secret)];
  for (let i = 1; i < threshold; i++) coefficients.push(randomElement(random));
  return xs.map((x) => {
    const point = BigInt(x);
    let value = 0n;
    for (let i = coefficients.length - 1; i >= 0; i--) value = (value * point + coefficients[i]!) % PRIME;
    return value;
  });
}

/** λᵢ = Π_{j≠i} xⱼ/(xⱼ − xᵢ) mod p: the weights that interpolate at 0 from the points `xs`. */
export function lagrangeAtZero(xs: readonly number[]): bigint[] {
  return xs.map((xi, i) => {
    let numerator = 1n;
    let denominator = 1n;
    xs.forEach((xj, j) => {
      if (j === i) return;
      numerator = (numerator * BigInt(xj)) % PRIME;
      denominator = mod(denominator * BigInt(xj - xi));
    });
    return (numerator * inverse(denominator)) % PRIME;
  });
}

/** Σ λᵢ yᵢ mod p: the secret, given the shares at the points the weights were made for. */
export function combine(ys: readonly bigint[], weights: readonly bigint[]): bigint {
  let value = 0n;
  for (let i = 0; i < ys.length; i++) value = (value + ys[i]! * weights[i]!) % PRIME;
  return value;
}
