import assert from 'node:assert/strict';

/**
 * The largest element-wise difference between `actual` and `reference`, relative to the reference's
 * largest magnitude (at least 1, so vectors near zero are compared absolutely). The measure the
 * paradigm-equivalence tests state their tolerances in.
 *
 * @example
 * relativeDifference(threaded.state.params, sequential.state.params) < 1e-10
 */
export function relativeDifference(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  assert.equal(actual.length, reference.length, 'vectors of different lengths');
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - reference[i]!));
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return worst / scale;
}
