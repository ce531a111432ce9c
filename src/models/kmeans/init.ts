/**
 * k-means initialisations, distributed (SPMD): 'random', 'k-means++' (Arthur & Vassilvitskii 2007,
 * greedy variant as scikit-learn) and 'k-means||' (Bahmani et al., VLDB 2012). Every rank draws from
 * the same seeded `Rng`, so every random choice is identical on all ranks without being sent; only
 * potentials (one number per rank or per trial) and the chosen rows cross the wire.
 *
 * @example
 * const centers = await initPlusPlus(view, 8, new Rng(0)); // 8 × cols, identical on every rank
 */
import { kernels } from '../../core/kernels.js';
import type { Rng } from '../../core/rng.js';
import { hashUniform } from '../../core/rng.js';
import type { ShardView } from './shard.js';
import { BLOCK_ROWS, BlockScratch, fetchRows, locateRank, lowerMinDistances, rowNorms, searchCumulative, sum } from './shard.js';

/** k distinct rows drawn uniformly from all ranks' rows (scikit-learn's init='random'). */
export async function initRandom(view: ShardView, k: number, rng: Rng): Promise<Float64Array> {
  return fetchRows(view, rng.sample(view.layout.total, k));
}

/** Candidates tried per k-means++ step: scikit-learn's `2 + int(log(k))` (Arthur & Vassilvitskii §5). */
export function localTrials(k: number): number {
  return 2 + Math.floor(Math.log(k));
}

/**
 * Draw `count` global rows with probability ∝ `minDistances` (D²) over ALL ranks: the per-rank
 * totals are all-reduced, one seeded draw per row (identical everywhere) picks the rank and the
 * residual, and the owner finds the row. Returns the rows (count × cols), identical on every rank.
 * When every distance is 0 (fewer distinct points than centres), draws uniformly instead.
 */
async function drawProportional(view: ShardView, minDistances: Float64Array, count: number, rng: Rng): Promise<Float64Array> {
  const { comm, layout } = view;
  const totals = new Float64Array(comm.size);
  totals[comm.rank] = sum(minDistances);
  if (comm.size > 1) await comm.allReduce(totals, 'sum');
  const grand = sum(totals);
  if (!(grand > 0))
    return fetchRows(
      view,
      Array.from({ length: count }, () => rng.int(layout.total)),
    );
  const draws = Array.from({ length: count }, () => locateRank(totals, rng.uniform() * grand));
  const mine = draws.map((draw, slot) => ({ ...draw, slot })).filter((draw) => draw.rank === comm.rank);
  mine.sort((a, b) => a.residual - b.residual);
  const rows = searchCumulative(
    minDistances,
    mine.map((draw) => draw.residual),
  );
  const globalIndex = new Array<number>(count).fill(-1);
  mine.forEach((draw, j) => (globalIndex[draw.slot] = layout.offset + rows[j]!));
  return fetchRows(view, globalIndex);
}

/**
 * Greedy k-means++ over all ranks' rows. The first centre is uniform; each later step draws
 * `localTrials(k)` candidates ∝ D², all-reduces each candidate's potential Σ min(D², ‖x − c‖²) and
 * keeps the best (every rank computes the same argmin), as scikit-learn's `_kmeans_plusplus`.
 */
export async function initPlusPlus(view: ShardView, k: number, rng: Rng): Promise<Float64Array> {
  const { comm, shard } = view;
  const d = shard.cols;
  const kern = kernels();
  const centers = new Float64Array(k * d);
  centers.set(await fetchRows(view, [rng.int(view.layout.total)]), 0);
  const minDistances = new Float64Array(shard.rows).fill(Infinity);
  lowerMinDistances(shard, centers, 1, minDistances, new BlockScratch());
  const trials = localTrials(k);
  const potentials = new Float64Array(trials);
  // ‖x‖² once per row, so each step's distances to all trial candidates come from one gemm per block
  // (‖x‖² − 2·x·c + ‖c‖²), as scikit-learn's euclidean_distances does, instead of a kernel pass per candidate.
  const squaredNorms = new Float64Array(shard.rows);
  for (let i = 0; i < shard.rows; i++) squaredNorms[i] = kern.dot(d, shard.x, i * d, shard.x, i * d);
  const cross = new Float64Array(BLOCK_ROWS * trials);
  for (let c = 1; c < k; c++) {
    const candidates = await drawProportional(view, minDistances, trials, rng);
    const candidateNorms = rowNorms(candidates, trials, d);
    potentials.fill(0);
    for (let start = 0; start < shard.rows; start += BLOCK_ROWS) {
      const m = Math.min(BLOCK_ROWS, shard.rows - start);
      kern.gemm(false, true, m, trials, d, 1, shard.x, start * d, d, candidates, 0, d, 0, cross, 0, trials);
      for (let i = 0; i < m; i++) {
        const current = minDistances[start + i]!;
        const rowNorm = squaredNorms[start + i]!;
        for (let t = 0; t < trials; t++) {
          const distance = rowNorm - 2 * cross[i * trials + t]! + candidateNorms[t]!;
          potentials[t]! += Math.min(current, distance > 0 ? distance : 0);
        }
      }
    }
    if (comm.size > 1) await comm.allReduce(potentials, 'sum');
    let best = 0;
    for (let t = 1; t < trials; t++) if (potentials[t]! < potentials[best]!) best = t;
    const chosen = candidates.subarray(best * d, (best + 1) * d);
    centers.set(chosen, c * d);
    for (let start = 0; start < shard.rows; start += BLOCK_ROWS) {
      const m = Math.min(BLOCK_ROWS, shard.rows - start);
      kern.gemv(false, m, d, 1, shard.x, start * d, d, chosen, 0, 0, cross, 0);
      for (let i = 0; i < m; i++) {
        const distance = squaredNorms[start + i]! - 2 * cross[i]! + candidateNorms[best]!;
        const clamped = distance > 0 ? distance : 0;
        if (clamped < minDistances[start + i]!) minDistances[start + i] = clamped;
      }
    }
  }
  return centers;
}

export interface ParallelInitOptions {
  /** ℓ = oversampling · k rows are sampled per round in expectation (Bahmani et al. use ℓ = 2k). */
  oversampling: number;
  rounds: number;
}

/**
 * k-means|| (Bahmani et al. 2012): a few rounds, each keeping every row independently with
 * probability min(1, ℓ·D²(x)/ψ); the sampled candidates are gathered on every rank, weighted by the
 * number of rows nearest to each, and reduced to k by weighted k-means++ and weighted Lloyd
 * (Spark MLlib's recipe), computed locally and identically on every rank.
 *
 * A row's coin is `hashUniform(roundSeed, globalRow)`, a function of the row's global index, so
 * the candidates do not depend on how the rows are sharded.
 */
export async function initParallel(view: ShardView, k: number, rng: Rng, options: ParallelInitOptions): Promise<Float64Array> {
  const { comm, shard, layout } = view;
  const d = shard.cols;
  const scratch = new BlockScratch();
  let candidates = await fetchRows(view, [rng.int(layout.total)]);
  let count = 1;
  const minDistances = new Float64Array(shard.rows).fill(Infinity);
  lowerMinDistances(shard, candidates, 1, minDistances, scratch);
  const expected = options.oversampling * k;
  const psi = new Float64Array(1);
  // Extra rounds (at most `rounds` more) only when the planned ones found fewer than k candidates.
  for (let round = 0; round < 2 * options.rounds && (round < options.rounds || count < k); round++) {
    const roundSeed = rng.nextUint32() | 0;
    psi[0] = sum(minDistances);
    if (comm.size > 1) await comm.allReduce(psi, 'sum');
    if (!(psi[0]! > 0)) break; // every row coincides with a candidate
    const picked: number[] = [];
    for (let i = 0; i < shard.rows; i++) {
      if (hashUniform(roundSeed, layout.offset + i) < (expected * minDistances[i]!) / psi[0]!) picked.push(i);
    }
    const perRank = new Float64Array(comm.size);
    perRank[comm.rank] = picked.length;
    if (comm.size > 1) await comm.allReduce(perRank, 'sum');
    let before = 0;
    for (let r = 0; r < comm.rank; r++) before += perRank[r]!;
    const added = sum(perRank);
    if (added === 0) continue;
    const batch = new Float64Array(added * d);
    picked.forEach((row, j) => batch.set(shard.x.subarray(row * d, (row + 1) * d), (before + j) * d));
    if (comm.size > 1) await comm.allReduce(batch, 'sum');
    const grown = new Float64Array((count + added) * d);
    grown.set(candidates, 0);
    grown.set(batch, count * d);
    candidates = grown;
    count += added;
    lowerMinDistances(shard, batch, added, minDistances, scratch);
  }
  if (count < k) {
    // Fewer distinct rows than k: pad with uniform rows; Lloyd's empty-cluster rule then separates them.
    const padded = new Float64Array(k * d);
    padded.set(candidates, 0);
    padded.set(await fetchRows(view, rng.sample(layout.total, k - count)), count * d);
    return padded;
  }
  const weights = new Float64Array(count);
  const kern = kernels();
  const norms = rowNorms(candidates, count, d);
  for (let start = 0; start < shard.rows; start += BLOCK_ROWS) {
    const m = Math.min(BLOCK_ROWS, shard.rows - start);
    kern.nearestCenter(m, d, shard.x, start * d, count, candidates, norms, scratch.labels, scratch.distances);
    for (let i = 0; i < m; i++) weights[scratch.labels[i]!]! += 1;
  }
  if (comm.size > 1) await comm.allReduce(weights, 'sum');
  return reduceWeighted(candidates, weights, count, d, k, rng);
}

/** Weighted Lloyd iterations used to polish the reduced candidates (Spark MLlib's LocalKMeans uses 30). */
const LOCAL_LLOYD_ITERATIONS = 30;

/**
 * Reduce `count` weighted points to k centres, locally: greedy weighted k-means++, then weighted
 * Lloyd (an empty cluster keeps its centre, as Spark's LocalKMeans). Deterministic given `rng`.
 */
export function reduceWeighted(points: Float64Array, weights: Float64Array, count: number, d: number, k: number, rng: Rng): Float64Array {
  const kern = kernels();
  const distanceTo = (i: number, center: Float64Array, offset: number): number => {
    let s = 0;
    for (let c = 0; c < d; c++) {
      const diff = points[i * d + c]! - center[offset + c]!;
      s += diff * diff;
    }
    return s;
  };
  const centers = new Float64Array(k * d);
  const weighted = Float64Array.from(weights); // the first centre is drawn ∝ weight alone
  const pick = (u: number): number => searchCumulative(weighted, [u])[0]!;
  const first = pick(rng.uniform() * sum(weights));
  centers.set(points.subarray(first * d, (first + 1) * d), 0);
  const minDistances = new Float64Array(count);
  for (let i = 0; i < count; i++) minDistances[i] = distanceTo(i, centers, 0);
  const trials = localTrials(k);
  for (let c = 1; c < k; c++) {
    for (let i = 0; i < count; i++) weighted[i] = weights[i]! * minDistances[i]!;
    const total = sum(weighted);
    let best = -1;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      const candidate = total > 0 ? pick(rng.uniform() * total) : rng.int(count);
      let potential = 0;
      for (let i = 0; i < count; i++) potential += weights[i]! * Math.min(minDistances[i]!, distanceTo(i, points, candidate * d));
      if (potential < bestPotential) {
        bestPotential = potential;
        best = candidate;
      }
    }
    centers.set(points.subarray(best * d, (best + 1) * d), c * d);
    for (let i = 0; i < count; i++) minDistances[i] = Math.min(minDistances[i]!, distanceTo(i, centers, c * d));
  }
  const labels = new Int32Array(count);
  const distances = new Float64Array(count);
  const sums = new Float64Array(k * d);
  const mass = new Float64Array(k);
  for (let iteration = 0; iteration < LOCAL_LLOYD_ITERATIONS; iteration++) {
    kern.nearestCenter(count, d, points, 0, k, centers, rowNorms(centers, k, d), labels, distances);
    sums.fill(0);
    mass.fill(0);
    for (let i = 0; i < count; i++) {
      const label = labels[i]!;
      kern.axpy(d, weights[i]!, points, i * d, sums, label * d);
      mass[label]! += weights[i]!;
    }
    let moved = false;
    for (let j = 0; j < k; j++) {
      if (mass[j]! === 0) continue;
      for (let c = 0; c < d; c++) {
        const value = sums[j * d + c]! / mass[j]!;
        if (value !== centers[j * d + c]) moved = true;
        centers[j * d + c] = value;
      }
    }
    if (!moved) break;
  }
  return centers;
}
