/**
 * Partitioners: which rows each of `workers` workers trains on, as sorted row-index arrays (sorted
 * so a worker walks its rows in memory order). Seeded, so the same seed gives the same partition.
 *
 * - contiguous: worker r gets rows [⌊r·n/W⌋, ⌊(r+1)·n/W⌋) — what a sharded load gives.
 * - iid: a seeded shuffle cut into W nearly equal parts; every worker sees the same label mix.
 * - dirichlet: non-IID by label, as in federated-learning benchmarks (Hsu et al. 2019, "Measuring
 *   the effects of non-identical data distribution"): for each class, worker shares are drawn from
 *   Dirichlet(α, …, α) and the class's rows are cut in those shares. Small α (0.1) gives each worker
 *   few classes; large α (100) approaches iid.
 * - shards: McMahan et al. 2017's pathological non-IID split: rows sorted by label, cut into
 *   workers × n equal shards, each worker given n shards at random (n = 2: most workers see two digits).
 *
 * @example
 * const parts = dirichletPartition(data.labels(), 4, { alpha: 0.5, seed: 1 });
 * const workerData = data.take(parts[rank]!);
 */
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export type PartitionScheme = 'contiguous' | 'iid' | 'dirichlet';

function checkWorkers(rows: number, workers: number): void {
  if (!(Number.isInteger(workers) && workers >= 1))
    throw new ConfigError(`expected workers to be a positive integer, found ${workers}`, { field: 'workers' });
  if (!(Number.isInteger(rows) && rows >= 0))
    throw new ConfigError(`expected rows to be a non-negative integer, found ${rows}`, { field: 'rows' });
}

/** Rows cut into `workers` consecutive ranges. */
export function contiguousPartition(rows: number, workers: number): Uint32Array[] {
  checkWorkers(rows, workers);
  return Array.from({ length: workers }, (_, r) => {
    const start = Math.floor((r * rows) / workers);
    const end = Math.floor(((r + 1) * rows) / workers);
    return Uint32Array.from({ length: end - start }, (_, i) => start + i);
  });
}

/** A seeded random partition into nearly equal parts. */
export function iidPartition(rows: number, workers: number, seed = 0): Uint32Array[] {
  checkWorkers(rows, workers);
  const order = new Rng(seed).permutation(rows);
  return Array.from({ length: workers }, (_, r) =>
    order.slice(Math.floor((r * rows) / workers), Math.floor(((r + 1) * rows) / workers)).sort(),
  );
}

export interface DirichletOptions {
  /** Concentration α > 0: small = skewed label mix per worker. */
  alpha: number;
  seed?: number;
  /** Redraw until every worker has at least this many rows (default 1; up to 1,000 draws). */
  minRowsPerWorker?: number;
}

/** Non-IID partition of rows by their labels (class values; any numbers, grouped by equality). */
export function dirichletPartition(labels: ArrayLike<number>, workers: number, options: DirichletOptions): Uint32Array[] {
  checkWorkers(labels.length, workers);
  const { alpha, seed = 0, minRowsPerWorker = 1 } = options;
  if (!(alpha > 0 && Number.isFinite(alpha))) throw new ConfigError(`expected alpha > 0, found ${alpha}`, { field: 'alpha' });
  if (minRowsPerWorker * workers > labels.length) {
    throw new ConfigError(
      `expected at least ${minRowsPerWorker * workers} rows for ${workers} workers × minRowsPerWorker ${minRowsPerWorker}, found ${labels.length}`,
      { field: 'minRowsPerWorker' },
    );
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    let rows = byClass.get(label);
    if (rows === undefined) byClass.set(label, (rows = []));
    rows.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const rng = new Rng(seed);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const parts: number[][] = Array.from({ length: workers }, () => []);
    for (const label of classes) {
      const rows = rng.shuffle([...byClass.get(label)!]);
      const shares = Array.from({ length: workers }, () => rng.gamma(alpha));
      const total = shares.reduce((a, b) => a + b, 0);
      let cumulative = 0;
      let from = 0;
      for (let w = 0; w < workers; w++) {
        cumulative += shares[w]!;
        const to = w === workers - 1 ? rows.length : Math.round((cumulative / total) * rows.length);
        for (let i = from; i < to; i++) parts[w]!.push(rows[i]!);
        from = Math.max(from, to);
      }
    }
    if (parts.every((part) => part.length >= minRowsPerWorker)) return parts.map((part) => Uint32Array.from(part).sort());
  }
  throw new ConfigError(
    `could not give every worker ${minRowsPerWorker} rows in 1,000 Dirichlet(${alpha}) draws; raise alpha or lower minRowsPerWorker`,
    { field: 'alpha' },
  );
}

/**
 * Rows sorted by label (ties by row index) cut into `workers × shardsPerWorker` nearly equal shards,
 * dealt out at random, `shardsPerWorker` to each worker (McMahan et al. 2017, §3: 200 shards of 300
 * MNIST digits, 2 per client).
 */
export function shardsPartition(labels: ArrayLike<number>, workers: number, shardsPerWorker: number, seed = 0): Uint32Array[] {
  checkWorkers(labels.length, workers);
  if (!(Number.isInteger(shardsPerWorker) && shardsPerWorker >= 1))
    throw new ConfigError(`expected shards per worker to be a positive integer, found ${shardsPerWorker}`, { field: 'partition' });
  const shards = workers * shardsPerWorker;
  if (shards > labels.length)
    throw new ConfigError(`expected at least ${shards} rows for ${workers} workers × ${shardsPerWorker} shards, found ${labels.length}`, {
      field: 'partition',
    });
  const byLabel = Uint32Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => labels[a]! - labels[b]! || a - b);
  const deal = new Rng(seed).permutation(shards);
  return Array.from({ length: workers }, (_, w) => {
    const parts: number[] = [];
    for (let s = 0; s < shardsPerWorker; s++) {
      const shard = deal[w * shardsPerWorker + s]!;
      const from = Math.floor((shard * labels.length) / shards);
      const to = Math.floor(((shard + 1) * labels.length) / shards);
      for (let i = from; i < to; i++) parts.push(byLabel[i]!);
    }
    return Uint32Array.from(parts).sort();
  });
}

/** One entry point for the CLI's `--partition` flag. */
export function partitionRows(
  scheme: PartitionScheme,
  options: { rows: number; workers: number; seed?: number; labels?: ArrayLike<number>; alpha?: number },
): Uint32Array[] {
  switch (scheme) {
    case 'contiguous':
      return contiguousPartition(options.rows, options.workers);
    case 'iid':
      return iidPartition(options.rows, options.workers, options.seed);
    case 'dirichlet':
      if (options.labels === undefined)
        throw new ConfigError('the dirichlet partition needs labels (a labelled dataset)', { field: 'partition' });
      return dirichletPartition(options.labels, options.workers, {
        alpha: options.alpha ?? 0.5,
        ...(options.seed !== undefined && { seed: options.seed }),
      });
    default: {
      const unknown: never = scheme;
      throw new ConfigError(`expected partition contiguous, iid or dirichlet, found ${String(unknown)}`, { field: 'partition' });
    }
  }
}
