/**
 * Threads benchmark: fit time of every summation-form model on one and two worker threads (and
 * sequential, the reference), at the sizes Chu et al. (NIPS 2006) style comparisons use here:
 * linear models 1,000,000 × 50; k-means 1,000,000 × 20, k = 10, 20 Lloyd iterations; PCA
 * 200,000 × 100, 10 components. Chu et al. report ~1.9× on two cores for such algorithms.
 *
 *   node dist/bench/threads.js [--repeats 3] [--models kmeans,pca] [--scale 0.1]
 *   # writes bench/results/threads.json
 *
 * Each configuration runs `repeats` times, interleaved; we report the median, the spread (min–max), the speedup
 * median(1 thread) / median(2 threads), the parallel efficiency speedup / 2, and per rank the
 * split of training time into compute and communication (FitInfo.computeMs and comm[r].commMs —
 * commMs includes waiting for the slower rank, i.e. load imbalance), and CPU time per rank
 * (FitInfo.cpuMs), which unlike wall time does not grow when other processes compete for the two
 * cores: cpuSpeedup = CPU(1 thread) / max over ranks CPU(2 threads). The data is generated once
 * per model straight into shared memory, so no fit pays for moving it there.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createModel } from '../src/index.js';
import type { Dataset, FitInfo, FitOptions } from '../src/index.js';
import { syntheticGenerator } from '../src/data/synthetic.js';
import type { SyntheticSpec } from '../src/data/synthetic.js';

interface BenchCase {
  model: string;
  params: Record<string, unknown>;
  data: SyntheticSpec;
  /** Gradient strategy for SGD models (default allreduce). */
  strategy?: string;
}

const CASES: BenchCase[] = [
  { model: 'linear-regression', params: {}, data: { kind: 'regression', rows: 1_000_000, cols: 50, seed: 1 } },
  { model: 'logistic-regression', params: { maxIter: 30, tol: 0 }, data: { kind: 'classification', rows: 1_000_000, cols: 50, seed: 2 } },
  { model: 'linear-svm', params: { epochs: 1 }, data: { kind: 'classification', rows: 1_000_000, cols: 50, seed: 3 } },
  // The same SGD without a per-step all-reduce: what lock-free shared parameters buy.
  { model: 'linear-svm', params: { epochs: 1 }, data: { kind: 'classification', rows: 1_000_000, cols: 50, seed: 3 }, strategy: 'hogwild' },
  {
    model: 'kmeans',
    params: { k: 10, maxIter: 20, tol: 0, init: 'random', seed: 1 },
    data: { kind: 'blobs', rows: 1_000_000, cols: 20, centers: 10, seed: 4 },
  },
  { model: 'pca', params: { components: 10 }, data: { kind: 'lowrank', rows: 200_000, cols: 100, seed: 5 } },
];

interface Run {
  seconds: number;
  /** CPU ms per rank (threads: the worker thread's; sequential: the whole process's during the fit). */
  cpuMs: number[];
  /** The model's default score on the training data (accuracy, R², …): the paradigms must agree. */
  score: number;
  computeMs: number[];
  commMs: number[];
  bytesSent: number[];
  collectives: number[];
}

interface Summary {
  runs: Run[];
  medianSeconds: number;
  minSeconds: number;
  maxSeconds: number;
  /** Per rank, medians over the runs. */
  medianComputeMs: number[];
  medianCommMs: number[];
  medianCpuMs: number[];
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function record(info: FitInfo, processCpuMs: number, score: number): Run {
  return {
    seconds: info.seconds,
    score,
    cpuMs: info.cpuMs ?? [processCpuMs],
    computeMs: info.computeMs ?? info.comm.map(() => info.seconds * 1000 - info.comm[0]!.commMs),
    commMs: info.comm.map((stats) => stats.commMs),
    bytesSent: info.comm.map((stats) => stats.bytesSent),
    collectives: info.comm.map((stats) => stats.collectives),
  };
}

function summarise(runs: Run[]): Summary {
  const seconds = runs.map((run) => run.seconds);
  const ranks = runs[0]!.commMs.length;
  return {
    runs,
    medianSeconds: median(seconds),
    minSeconds: Math.min(...seconds),
    maxSeconds: Math.max(...seconds),
    medianComputeMs: Array.from({ length: ranks }, (_, r) => median(runs.map((run) => run.computeMs[r]!))),
    medianCommMs: Array.from({ length: ranks }, (_, r) => median(runs.map((run) => run.commMs[r]!))),
    medianCpuMs: Array.from({ length: ranks }, (_, r) => median(runs.map((run) => run.cpuMs[r]!))),
  };
}

async function fitOnce(benchCase: BenchCase, data: Dataset, options: FitOptions): Promise<Run> {
  const cpuBefore = process.cpuUsage();
  const model = await createModel(benchCase.model, benchCase.params).fit(data, options);
  const cpu = process.cpuUsage(cpuBefore);
  const run = record(model.fitInfo!, (cpu.user + cpu.system) / 1000, model.score(data));
  const perRank = (values: number[]): string => values.map((ms) => ms.toFixed(0)).join('/');
  console.log(
    `  ${options.paradigm ?? 'sequential'}×${options.workers ?? 1}: ${run.seconds.toFixed(2)} s, compute ${perRank(run.computeMs)} ms, comm ${perRank(run.commMs)} ms, cpu ${perRank(run.cpuMs)} ms, score ${run.score.toFixed(4)}`,
  );
  return run;
}

/** Sequential, 1 and 2 threads, `repeats` times each; speedup = median(1 thread) / median(2 threads). */
async function benchModel(benchCase: BenchCase, spec: SyntheticSpec, data: Dataset, repeats: number): Promise<object> {
  // Interleaved (sequential, 1, 2, sequential, 1, 2, …) so that drifting machine load — the 2 cores
  // are shared — falls on every configuration alike instead of on whichever ran last.
  const strategy = benchCase.strategy === undefined ? {} : { strategy: benchCase.strategy };
  const configurations: FitOptions[] = [
    { ...strategy },
    { paradigm: 'threads', workers: 1, ...strategy },
    { paradigm: 'threads', workers: 2, ...strategy },
  ];
  const runs: Run[][] = configurations.map(() => []);
  for (let i = 0; i < repeats; i++) {
    for (const [k, options] of configurations.entries()) runs[k]!.push(await fitOnce(benchCase, data, options));
  }
  const [sequential, one, two] = runs.map(summarise) as [Summary, Summary, Summary];
  const speedup = one.medianSeconds / two.medianSeconds;
  const commShare = two.medianCommMs.map((ms, r) => ms / (ms + two.medianComputeMs[r]!));
  const shares = commShare.map((share) => (100 * share).toFixed(1) + '%').join('/');
  // Wall time on a shared machine measures the neighbours as much as us; CPU time does not. The work
  // ratio is the speedup two otherwise idle cores would give if no rank ever waited.
  const cpuSpeedup = one.medianCpuMs[0]! / Math.max(...two.medianCpuMs);
  console.log(
    `  → speedup ${speedup.toFixed(2)}× (vs sequential ${(sequential.medianSeconds / two.medianSeconds).toFixed(2)}×), efficiency ${(speedup / 2).toFixed(2)}, comm share ${shares}, CPU-time speedup ${cpuSpeedup.toFixed(2)}×`,
  );
  return {
    model: benchCase.model,
    strategy: benchCase.strategy ?? 'allreduce',
    params: benchCase.params,
    data: spec,
    sequential,
    threads1: one,
    threads2: two,
    speedup,
    speedupVsSequential: sequential.medianSeconds / two.medianSeconds,
    efficiency: speedup / 2,
    communicationShare2: commShare,
    cpuSpeedup,
  };
}

async function main(): Promise<void> {
  const repeats = Number(argument('repeats') ?? 3);
  const scale = Number(argument('scale') ?? 1);
  const only = argument('models')?.split(',');
  const results: unknown[] = [];
  const startedLoad = loadavg();
  const target = new URL('../../bench/results/threads.json', import.meta.url);
  mkdirSync(new URL('./', target), { recursive: true });
  // Written after every model, so a long run interrupted half-way keeps what it measured.
  const save = (): void => {
    const output = {
      benchmark: 'threads',
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadAverageAtStart: startedLoad,
      loadAverageNow: loadavg(),
      repeats,
      scale,
      note: 'seconds: FitInfo.seconds (threads: thread start-up and result transfer included); medians over repeats; spread = min..max',
      results,
    };
    writeFileSync(target, JSON.stringify(output, null, 2) + '\n');
  };
  for (const benchCase of CASES) {
    if (only !== undefined && !only.includes(benchCase.model)) continue;
    const spec = { ...benchCase.data, rows: Math.round(benchCase.data.rows * scale) };
    console.log(
      `${benchCase.model}${benchCase.strategy === undefined ? '' : ` (${benchCase.strategy})`}: ${spec.rows.toLocaleString('en')} × ${spec.cols} ${JSON.stringify(benchCase.params)}`,
    );
    const data = syntheticGenerator(spec).generate(0, spec.rows, { placement: 'shared' });
    try {
      results.push(await benchModel(benchCase, spec, data, repeats));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.log(`  failed: ${message}`);
      results.push({ model: benchCase.model, params: benchCase.params, data: spec, error: message });
    }
    save();
  }
  console.log(`wrote ${target.pathname}`);
}

await main();
