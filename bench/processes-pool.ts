/**
 * Process-pool benchmark (issue #18): what `reuseProcesses` saves on compare's default
 * logistic-regression cell (SGD solver, synthetic classification, 20 columns; 20,000 rows by
 * default: the small size, where start-up weighs most). Interleaved fit by fit, so machine load hits
 * every configuration alike: processes×2 with the pool (its children keep their world between fits,
 * the default), processes×2 with the pool but a fresh world each fit (SHARDLEARN_KEEP_WORLDS=0, as
 * before kept worlds), processes×2 forking fresh children, threads×2 on its warm thread pool. The pool is warmed by one discarded fit of each, as
 * compare's later repeats are. Reports the median and range of FitInfo.seconds and FitInfo.startupMs,
 * and the processes÷threads ratio of the medians, pooled and unpooled, with the load average.
 *
 *   node dist/bench/processes-pool.js [--fits 7] [--rows 20000] [--no-fork]
 *
 * `--no-fork` leaves out the forking configuration, whose children's start and exit (~0.6 s of CPU
 * each fit) disturb the fits around it: for the pooled configurations' own comparison.
 *   # writes bench/results/processes-pool.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createModel, shutdownProcessPool, shutdownThreadPool } from '../src/index.js';
import { syntheticGenerator } from '../src/data/synthetic.js';
import type { FitOptions } from '../src/index.js';

const flag = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const fits = flag('--fits', 7);
const rows = flag('--rows', 20_000);
const data = syntheticGenerator({ kind: 'classification', rows, cols: 20, seed: 1 }).generate(0, rows);
const configs: Record<string, FitOptions> = {
  'processes 2, pool': { paradigm: 'processes', workers: 2, reuseProcesses: true },
  'processes 2, pool, fresh world': { paradigm: 'processes', workers: 2, reuseProcesses: true },
  ...(process.argv.includes('--no-fork') ? {} : { 'processes 2, fresh': { paradigm: 'processes', workers: 2 } satisfies FitOptions }),
  'threads 2, pool': { paradigm: 'threads', workers: 2 },
};
const seconds: Record<string, number[]> = {};
const startupMs: Record<string, number[]> = {};
const loadBefore = loadavg();
for (let fit = -1; fit < fits; fit++) {
  for (const [name, options] of Object.entries(configs)) {
    if (name.endsWith('fresh world')) process.env['SHARDLEARN_KEEP_WORLDS'] = '0';
    else delete process.env['SHARDLEARN_KEEP_WORLDS'];
    const model = await createModel('logistic-regression', { solver: 'sgd' }).fit(data, options);
    if (fit < 0) continue; // the warm-up fit of each (fills the pools)
    (seconds[name] ??= []).push(model.fitInfo?.seconds ?? NaN);
    (startupMs[name] ??= []).push(model.fitInfo?.startupMs ?? 0);
  }
}
await shutdownProcessPool();
await shutdownThreadPool();

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 3): number => Number(value.toFixed(digits));
const rowsOut = Object.keys(configs).map((name) => ({
  config: name,
  median_s: round(median(seconds[name]!)),
  range_s: [round(Math.min(...seconds[name]!)), round(Math.max(...seconds[name]!))],
  startup_median_ms: round(median(startupMs[name]!), 1),
  startup_range_ms: [round(Math.min(...startupMs[name]!), 1), round(Math.max(...startupMs[name]!), 1)],
}));
const threads = median(seconds['threads 2, pool']!);
const result = {
  rows,
  fits,
  load: { before: loadBefore.map((v) => round(v, 2)), after: loadavg().map((v) => round(v, 2)) },
  configs: rowsOut,
  processes_over_threads: {
    pooled: round(median(seconds['processes 2, pool']!) / threads, 2),
    pooled_fresh_world: round(median(seconds['processes 2, pool, fresh world']!) / threads, 2),
    ...(seconds['processes 2, fresh'] === undefined ? {} : { fresh: round(median(seconds['processes 2, fresh']) / threads, 2) }),
  },
};
console.log(JSON.stringify(result));
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/processes-pool.json', JSON.stringify(result, null, 2) + '\n');
