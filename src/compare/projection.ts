/**
 * Beyond this machine: what the calibrated cost model predicts (never measures) for more workers,
 * faster links and more data than one 2-core host can show. For each measured model it predicts the
 * wall time of a `cluster` of 1–64 single-rank hosts over 1, 10 and 100 Gbit/s links, at the
 * largest measured size and 10× and 100× it, against the best this host does (sequential, or
 * threads on its cores), and names the smallest cluster that beats this host — the crossover. The
 * report prints every figure as a prediction, with the model's leave-one-out error beside it.
 *
 * Assumptions, stated in the report: one rank per host, hosts like this one (the calibrated compute
 * rate, times the calibrated factor of a process rank), ring all-reduce, a fixed per-hop network
 * latency per link class (LINKS), each host starting its rank at the same time (one worker's
 * calibrated start-up, plus receiving its own shard at the calibrated per-byte cost); memory limits,
 * stragglers and failures are not modelled.
 *
 * @example
 * for (const p of projectBeyond(records, 2)) console.log(p.model, p.crossovers);
 */
import type { Paradigm } from '../models/paradigm.js';
import { algorithmOfRun, calibrateFromRuns } from './advisor.js';
import type { Calibration } from './cost-model.js';
import { DEFAULT_CALIBRATION, computeKey, predict, shippingSeconds, workloadOf } from './cost-model.js';
import type { RunRecord } from './record.js';

/** Link classes: bandwidth, and a one-way latency per hop typical of the class (a datacenter switch hop). */
export const LINKS = [
  { name: '1 Gbit/s', bytesPerSecond: 1e9 / 8, latencySeconds: 100e-6 },
  { name: '10 Gbit/s', bytesPerSecond: 10e9 / 8, latencySeconds: 20e-6 },
  { name: '100 Gbit/s', bytesPerSecond: 100e9 / 8, latencySeconds: 5e-6 },
] as const;
export const PROJECTED_WORKERS = [1, 2, 4, 8, 16, 32, 64] as const;
export const SIZE_FACTORS = [1, 10, 100] as const;

export interface ProjectionRow {
  /** Training rows: the largest measured × factor. */
  rows: number;
  factor: number;
  /** Predicted seconds of the best this host does (`hostLabel`). */
  hostSeconds: number;
  hostLabel: string;
  /** Per link name: predicted seconds of a cluster of each PROJECTED_WORKERS size. */
  cluster: Record<string, number[]>;
  /** Per link name: the smallest cluster predicted faster than this host, or null (none up to 64). */
  crossover: Record<string, number | null>;
}

export interface Projection {
  model: string;
  /** The strategy of the runs the algorithm was taken from ('allreduce' for SGD models). */
  strategy: string;
  cols: number;
  measuredRows: number;
  rows: ProjectionRow[];
}

/** Start-up of a cluster whose hosts each start one rank concurrently: fixed + one worker's share. */
function clusterStartup(calibration: Calibration): number {
  const startup = calibration.startup.cluster ?? calibration.startup.processes ?? DEFAULT_CALIBRATION.startup.cluster!;
  return startup.fixedSeconds + startup.perWorkerSeconds;
}

function bestOnHost(
  work: (workers: number) => ReturnType<typeof workloadOf>,
  calibration: Calibration,
  key: string,
  cores: number,
): { seconds: number; label: string } {
  const candidates: { paradigm: Paradigm; workers: number }[] = [{ paradigm: 'sequential', workers: 1 }];
  for (let w = 2; w <= cores; w *= 2) candidates.push({ paradigm: 'threads', workers: w });
  if (cores >= 2 && !candidates.some((c) => c.workers === cores)) candidates.push({ paradigm: 'threads', workers: cores });
  let best = { seconds: Infinity, label: 'sequential' };
  for (const c of candidates) {
    const seconds = predict(work(c.workers), { paradigm: c.paradigm, workers: c.workers, cores }, calibration, key).totalSeconds;
    if (seconds < best.seconds) best = { seconds, label: c.paradigm === 'sequential' ? 'sequential' : `threads×${c.workers}` };
  }
  return best;
}

/**
 * Predictions for every model with successful loopback runs, calibrated on all of them. `cores`:
 * of the machine that ran them.
 */
export function projectBeyond(records: readonly RunRecord[], cores: number): Projection[] {
  // Agents train on an environment's step budget, not rows: the cost model has nothing to scale for them.
  const ok = records.filter(
    (r) => r.status === 'ok' && r.network === 'loopback' && Number.isFinite(r.wallSeconds) && r.modelKind !== 'agent',
  );
  if (ok.length === 0) return [];
  const calibration = calibrateFromRuns(ok, cores);
  const projections: Projection[] = [];
  for (const model of new Set(ok.map((r) => r.model))) {
    const mine = ok.filter((r) => r.model === model);
    const measuredRows = Math.max(...mine.map((r) => r.trainRows));
    // A synchronous run at the largest size: its algorithm (and observed passes) stand for the model.
    const largest = mine.filter((r) => r.trainRows === measuredRows);
    const run = largest.find((r) => r.strategy === 'allreduce') ?? largest[0]!;
    const algorithm = algorithmOfRun(run);
    const key = computeKey(model, algorithm.form);
    const rows = SIZE_FACTORS.map((factor): ProjectionRow => {
      const size = measuredRows * factor;
      const work = (workers: number): ReturnType<typeof workloadOf> =>
        workloadOf(algorithm, { rows: size, cols: run.cols, workers, strategy: run.strategy });
      const host = bestOnHost(work, calibration, key, cores);
      const cluster: Record<string, number[]> = {};
      const crossover: Record<string, number | null> = {};
      for (const link of LINKS) {
        cluster[link.name] = PROJECTED_WORKERS.map((workers) => {
          const paradigm = workers === 1 ? 'sequential' : 'cluster';
          const parts = predict(
            work(workers),
            { paradigm, workers, cores, bandwidthBytesPerSecond: link.bytesPerSecond, latencySeconds: link.latencySeconds },
            calibration,
            key,
          );
          // Hosts start their one rank each at the same time: one worker's start-up, not the sum
          // the calibration fitted for ranks spawned one after another on one host; each receives its own shard.
          const startup =
            workers === 1
              ? parts.startupSeconds
              : clusterStartup(calibration) + shippingSeconds({ rows: size, cols: run.cols }, { paradigm, workers }, calibration);
          return parts.totalSeconds - parts.startupSeconds + startup;
        });
        const index = cluster[link.name]!.findIndex((s, i) => PROJECTED_WORKERS[i]! > 1 && s < host.seconds);
        crossover[link.name] = index < 0 ? null : PROJECTED_WORKERS[index]!;
      }
      return { rows: size, factor, hostSeconds: host.seconds, hostLabel: host.label, cluster, crossover };
    });
    projections.push({ model, strategy: run.strategy, cols: run.cols, measuredRows, rows });
  }
  return projections;
}
