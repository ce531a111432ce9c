/**
 * The ring secure aggregation sums in: Z_{2^32}. A client's float values are clamped to
 * [−R, R − 2^−f] and rounded to integers in units of 2^−f (f = `fractionBits`), stored as 32-bit
 * two's complement. With R = 2^(31 − f − k), the sum of up to 2^k clients (k = `clientBits`) stays in
 * [−2^31, 2^31 − 2^k], so it decodes exactly: no wrap-around, whatever the masks did on the way.
 *
 * Defaults f = 16, k = 10: values in [−32, 32), resolution 2^−16 ≈ 1.5e−5, each client's rounding
 * error at most 2^−17 ≈ 7.6e−6 per coordinate (so a mean of n clients is off by at most 7.6e−6), up to
 * 1,024 clients. Trade range for clients or precision by moving bits between f and k (f + k ≤ 30).
 */
import { ConfigError } from '../../core/errors.js';

export interface FixedPoint {
  fractionBits: number;
  clientBits: number;
}

export const DEFAULT_FIXED_POINT: FixedPoint = { fractionBits: 16, clientBits: 10 };

export function checkFixedPoint({ fractionBits, clientBits }: FixedPoint): void {
  if (
    !Number.isInteger(fractionBits) ||
    !Number.isInteger(clientBits) ||
    fractionBits < 0 ||
    clientBits < 0 ||
    fractionBits + clientBits > 30
  )
    throw new ConfigError(
      `secure aggregation's fixed point needs integers fractionBits, clientBits >= 0 with fractionBits + clientBits <= 30, found ${fractionBits} and ${clientBits}`,
      { field: 'secure-aggregation' },
    );
}

/** The largest magnitude a client's value may have: R = 2^(31 − f − k). */
export function fixedPointRange({ fractionBits, clientBits }: FixedPoint): number {
  return 2 ** (31 - fractionBits - clientBits);
}

/** `values` in the ring, and how many had to be clamped into [−R, R − 2^−f] (NaN counts and becomes 0). */
export function quantize(values: Float64Array, fixed: FixedPoint): { ring: Uint32Array; clamped: number } {
  const scale = 2 ** fixed.fractionBits;
  const high = fixedPointRange(fixed) * scale - 1;
  const low = -fixedPointRange(fixed) * scale;
  const ring = new Uint32Array(values.length);
  let clamped = 0;
  for (let i = 0; i < values.length; i++) {
    let q = Math.round(values[i]! * scale);
    if (!(q >= low && q <= high)) {
      clamped++;
      q = Number.isNaN(q) ? 0 : q > high ? high : low;
    }
    ring[i] = q; // ToUint32: two's complement
  }
  return { ring, clamped };
}

/** A ring element (a sum of at most 2^k quantised vectors) back to floats. */
export function dequantize(ring: Uint32Array, fixed: FixedPoint): Float64Array {
  const scale = 2 ** fixed.fractionBits;
  return Float64Array.from(ring, (v) => (v | 0) / scale);
}
