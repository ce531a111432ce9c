/**
 * The centre-side half of Hamerly's bounds (Hamerly, "Making k-means even faster", SDM 2010) for
 * `Kernels.lloydStep`: after each update, how far every centre moved and half the distance from
 * every centre to its nearest other one. Each is computed from coordinate differences (no
 * cancellation) and rounded outward — shifts up, separations down — by (4d + 32) units of
 * roundoff, more than the rounding of d squared differences and a square root, so the bounds the
 * kernel derives stay bounds and its labels stay Lloyd's.
 */

const UNIT_ROUNDOFF = 2 ** -53;

/** ‖a_i − b_j‖ for rows i of `a` and j of `b` (d columns), computed from differences. */
function distance(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let sum = 0;
  for (let c = 0; c < d; c++) {
    const delta = a[i * d + c]! - b[j * d + c]!;
    sum += delta * delta;
  }
  return Math.sqrt(sum);
}

/**
 * shifts[j] = ‖current_j − previous_j‖ and halfSeparation[j] = ½·min over i ≠ j of ‖current_i − current_j‖
 * (Infinity when k = 1), for k centres of d columns (row-major), rounded outward.
 * @example
 * centreBoundsUpdate(old, next, k, d, bounds.shifts, bounds.halfSeparation);
 */
export function centreBoundsUpdate(
  previous: Float64Array,
  current: Float64Array,
  k: number,
  d: number,
  shifts: Float64Array,
  halfSeparation: Float64Array,
): void {
  const outward = (4 * d + 32) * UNIT_ROUNDOFF;
  halfSeparation.fill(Infinity, 0, k);
  for (let j = 0; j < k; j++) {
    shifts[j] = distance(current, j, previous, j, d) * (1 + outward);
    for (let i = j + 1; i < k; i++) {
      const half = 0.5 * distance(current, i, current, j, d) * (1 - outward);
      if (half < halfSeparation[i]!) halfSeparation[i] = half;
      if (half < halfSeparation[j]!) halfSeparation[j] = half;
    }
  }
}
