/**
 * Worker-pool benchmark: what reusing warm worker threads saves on short fits. Five consecutive fits
 * of exact OLS on 200,000 × 50 (one all-reduce; training takes well under a second, so worker
 * start-up — importing the library, compiling the kernels — is a large share of a fresh-thread fit):
 * sequential, 2 threads with the pool (default), 2 threads with `reuseThreads: false`. The three
 * configurations are interleaved, fit by fit, so machine load hits them alike; we report the median
 * seconds (FitInfo.seconds, start-up included) and median FitInfo.startupMs.
 *
 *   node dist/bench/threads-pool.js [--fits 5]
 *   # writes bench/results/threads-pool.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createModel, shutdownThreadPool } from '../src/index.js';
import { syntheticGenerator } from '../src/data/synthetic.js';
import type { FitOptions } from '../src/index.js';

const fitsFlag = process.argv.indexOf('--fits');
const fits = fitsFlag >= 0 ? Number(process.argv[fitsFlag + 1]) : 5;
const data = syntheticGenerator({ kind: 'regression', rows: 200_000, cols: 50, seed: 1 }).generate(0, 200_000, { placement: 'shared' });

const configs: Record<string, FitOptions> = {
  sequential: {},
  'threads 2, pool': { paradigm: 'threads', workers: 2 },
  'threads 2, reuseThreads false': { paradigm: 'threads', workers: 2, reuseThreads: false },
};
const seconds: Record<string, number[]> = {};
const startupMs: Record<string, number[]> = {};
for (let fit = 0; fit < fits; fit++) {
  for (const [name, options] of Object.entries(configs)) {
    const model = await createModel('linear-regression', {}).fit(data, options);
    (seconds[name] ??= []).push(model.fitInfo?.seconds ?? NaN);
    (startupMs[name] ??= []).push(model.fitInfo?.startupMs ?? 0);
  }
}
await shutdownThreadPool();

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const rows = Object.keys(configs).map((name) => ({
  config: name,
  medianSeconds: median(seconds[name]!),
  medianStartupMs: median(startupMs[name]!),
  seconds: seconds[name]!,
  startupMs: startupMs[name]!,
}));
const sequential = rows[0]!.medianSeconds;
for (const row of rows) {
  console.log(
    `${row.config.padEnd(30)} median ${row.medianSeconds.toFixed(3)} s  speedup ${(sequential / row.medianSeconds).toFixed(2)}×  startup ${row.medianStartupMs.toFixed(0)} ms  (all: ${row.seconds.map((s) => s.toFixed(3)).join(', ')})`,
  );
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/threads-pool.json', JSON.stringify({ fits, cpus: cpus().length, loadavg: loadavg(), rows }, null, 2) + '\n');
