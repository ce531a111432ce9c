/**
 * The k largest magnitudes of a vector, as ascending indices: top-k's selection. Quickselect on a
 * copy of the magnitudes finds the k-th largest in O(n) (a full sort of 10⁶ values costs ~80 ms a
 * step); ties at the threshold go to the lower indices, so the choice is deterministic.
 */

/** Ascending indices of the `k` entries of `values` largest in magnitude (1 ≤ k ≤ n). */
export function largestIndices(values: Float64Array, k: number): Uint32Array {
  const n = values.length;
  const out = new Uint32Array(k);
  if (k >= n) {
    for (let i = 0; i < n; i++) out[i] = i;
    return out;
  }
  const magnitudes = new Float64Array(n);
  for (let i = 0; i < n; i++) magnitudes[i] = Math.abs(values[i]!);
  const threshold = kthLargest(magnitudes, k);
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(values[i]!) > threshold) above++;
  let ties = k - above;
  let at = 0;
  for (let i = 0; i < n && at < k; i++) {
    const a = Math.abs(values[i]!);
    if (a > threshold) out[at++] = i;
    else if (a === threshold && ties > 0) {
      out[at++] = i;
      ties--;
    }
  }
  return out;
}

/** The k-th largest value of `a` (1-based k); reorders `a`. Hoare quickselect with a median-of-three pivot. */
export function kthLargest(a: Float64Array, k: number): number {
  const target = k - 1; // index in descending order
  let left = 0;
  let right = a.length - 1;
  while (left < right) {
    const middle = (left + right) >>> 1;
    const x = a[left]!;
    const y = a[middle]!;
    const z = a[right]!;
    const pivot = x > y ? (y > z ? y : x > z ? z : x) : x > z ? x : y > z ? z : y;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) right = j;
    else if (target >= i) left = i;
    else return a[target]!;
  }
  return a[target]!;
}
