/**
 * Kernel scaling benchmark: the 1024³ gemm (float64 and float32, `wasm` backend) in 1 and 2
 * worker_threads at once, as aggregate GFLOP/s, and the ratio 2 threads vs 1 (issue 7: "2 workers
 * ≥ 1.8× one"). Every thread loads its own WASM instance (core/index.ts does so on import). Two modes:
 * - `independent`: each thread multiplies its own n×n matrices (no sharing at all);
 * - `split`: one product whose rows of C are divided between the threads; A, B and C are
 *   SharedArrayBuffer-backed, so each thread copies its rows of A and all of B into its own WASM
 *   memory per call (the copies are part of the time, as in any real use).
 *
 *   node dist/bench/kernels-threads.js   # merges its records into bench/results/kernels.json
 *
 * Records: { kernel, shape, backend, dtype, threads, gflops, mode, wallSeconds, cpuSeconds,
 * cpuGflops, loadAverage }. Unlike bench/kernels.ts this one times by WALL clock — scaling is about wall time —
 * and records the process CPU time of the same interval beside it (all threads together): on a
 * shared 2-core machine, CPU/wall well below the thread count means the threads waited for a core.
 * One timed run = GEMMS_PER_RUN products per thread, started by one message to every thread;
 * median of 3 timed runs after one warm-up run. Each 1-thread figure also runs in a worker, so both
 * sides pay the same message and start-up costs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { allocate, kernels, Rng } from '../src/core/index.js';
import type { DType, FloatArray } from '../src/core/index.js';

type Mode = 'independent' | 'split';

interface Job {
  dtype: DType;
  n: number;
  mode: Mode;
  rowStart: number;
  rowEnd: number;
  /** For `split`: the shared operands (A, B, C) every thread reads/writes a part of. */
  shared: [FloatArray, FloatArray, FloatArray] | null;
  seed: number;
}

export interface ThreadRecord {
  kernel: string;
  shape: string;
  backend: string;
  dtype: DType;
  threads: number;
  gflops: number;
  mode: Mode;
  wallSeconds: number;
  cpuSeconds: number;
  /** The same flops over the CPU seconds of all threads: per-core speed, blind to waiting for a core. */
  cpuGflops: number;
  loadAverage: number;
}

const N = 1024;
const GEMMS_PER_RUN = 3;
const REPEATS = 3;

function randomArray(dtype: DType, length: number, rng: Rng, placement: 'heap' | 'shared' = 'heap'): FloatArray {
  const array = allocate(dtype, length, placement);
  for (let i = 0; i < length; i++) array[i] = rng.normal();
  return array;
}

/** Worker side: prepare the operands, then run GEMMS_PER_RUN products per 'go' message. */
function workerMain(job: Job): void {
  const backend = kernels();
  const { n, rowStart, rowEnd } = job;
  const rng = new Rng(job.seed);
  const [a, b, c] = job.shared ?? [randomArray(job.dtype, n * n, rng), randomArray(job.dtype, n * n, rng), allocate(job.dtype, n * n)];
  const rows = rowEnd - rowStart;
  parentPort!.on('message', (message: string) => {
    if (message === 'exit') {
      parentPort!.close();
      return;
    }
    for (let i = 0; i < GEMMS_PER_RUN; i++) backend.gemm(false, false, rows, n, n, 1, a, rowStart * n, n, b, 0, n, 0, c, rowStart * n, n);
    parentPort!.postMessage({ backend: backend.name, checksum: c[rowStart * n] ?? 0 });
  });
  parentPort!.postMessage('ready');
}

function nextMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

async function measure(dtype: DType, mode: Mode, threads: number): Promise<ThreadRecord> {
  const n = N;
  const rng = new Rng(2024);
  const shared = mode === 'split'
    ? [randomArray(dtype, n * n, rng, 'shared'), randomArray(dtype, n * n, rng, 'shared'), allocate(dtype, n * n, 'shared')] as [FloatArray, FloatArray, FloatArray]
    : null;
  const workers: Worker[] = [];
  const ready: Promise<unknown>[] = [];
  for (let t = 0; t < threads; t++) {
    const [rowStart, rowEnd] = mode === 'split' ? [Math.floor((t * n) / threads), Math.floor(((t + 1) * n) / threads)] : [0, n];
    const job: Job = { dtype, n, mode, rowStart, rowEnd, shared, seed: 100 + t };
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    workers.push(worker);
    ready.push(nextMessage(worker));
  }
  await Promise.all(ready);
  let backendName = '';
  const run = async (): Promise<{ wall: number; cpu: number }> => {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const done = workers.map((worker) => nextMessage(worker));
    for (const worker of workers) worker.postMessage('go');
    const replies = (await Promise.all(done)) as { backend: string }[];
    const wall = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    backendName = replies[0]!.backend;
    return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
  };
  const loadAverage = loadavg()[0]!;
  await run();
  const runs: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < REPEATS; r++) runs.push(await run());
  runs.sort((x, y) => x.wall - y.wall);
  const middle = runs[Math.floor(runs.length / 2)]!;
  for (const worker of workers) worker.postMessage('exit');
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))));
  // Independent: every thread does a whole product; split: the threads share one product.
  const products = (mode === 'independent' ? threads : 1) * GEMMS_PER_RUN;
  return {
    kernel: 'gemm', shape: `${n}x${n}x${n}`, backend: backendName, dtype, threads, mode,
    gflops: (products * 2 * n ** 3) / middle.wall / 1e9, wallSeconds: middle.wall, cpuSeconds: middle.cpu,
    cpuGflops: (products * 2 * n ** 3) / middle.cpu / 1e9, loadAverage,
  };
}

async function main(): Promise<void> {
  const records: ThreadRecord[] = [];
  console.log(`load average at start: ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  for (const dtype of ['float64', 'float32'] as const) {
    for (const mode of ['independent', 'split'] as const) {
      const pair: ThreadRecord[] = [];
      for (const threads of [1, 2]) {
        const record = await measure(dtype, mode, threads);
        pair.push(record);
        records.push(record);
        console.log(
          `gemm ${record.shape} ${record.backend} ${dtype.padEnd(8)} ${mode.padEnd(11)} threads=${threads} ${record.gflops.toFixed(2).padStart(6)} GFLOP/s`
          + `  wall ${record.wallSeconds.toFixed(3)} s  cpu ${record.cpuSeconds.toFixed(3)} s (${record.cpuGflops.toFixed(1)} GFLOP per CPU-s)  load ${record.loadAverage.toFixed(1)}`,
        );
      }
      console.log(`  ratio 2 vs 1 threads (${dtype}, ${mode}): ${(pair[1]!.gflops / pair[0]!.gflops).toFixed(2)}×`);
    }
  }
  // Merge into kernels.json: bench/kernels.ts writes the single-thread records, this adds (or replaces) its own.
  const path = 'bench/results/kernels.json';
  const previous = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>[]) : [];
  const kept = previous.filter((record) => record['threads'] === undefined);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(path, `${JSON.stringify([...kept, ...records], null, 2)}\n`);
  console.log(`wrote ${path} (${records.length} thread records, ${kept.length} kept)`);
}

if (isMainThread) await main();
else workerMain(workerData as Job);
