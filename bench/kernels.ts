/**
 * Kernel benchmark: GFLOP/s of each backend's gemm (256…2048, float64 and float32), syrk,
 * nearestCenter and dot, single thread, median of 3 timed runs (CPU time) after one warm-up run
 * (the first WASM call runs in V8's baseline compiler). numpy's matmul (OpenBLAS, pinned to one thread) runs on
 * the same shapes when python3 with numpy is installed, as an outside yardstick.
 *
 *   npm run bench:kernels   # writes bench/results/kernels.json
 *
 * Records: { kernel, shape, backend, dtype, gflops }. Flop counts: gemm 2mnk; syrk m·n·(n+1) (the
 * upper triangle, which is all either backend computes); nearestCenter 2·m·k·d; dot 2n.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { allocate, kernelBackends, setSharedAllocator, useKernels } from '../src/core/index.js';
import { placeSharedArraysInWasmMemory } from '../src/core/kernels-wasm.js';
import type { Kernels } from '../src/core/kernels.js';
import type { DType, FloatArray } from '../src/core/storage.js';
import { Rng } from '../src/core/rng.js';

export interface KernelRecord {
  kernel: string;
  shape: string;
  backend: string;
  dtype: DType;
  gflops: number;
}

const rng = new Rng(2024);

function randomArray(dtype: DType, length: number, placement: 'heap' | 'shared' = 'heap'): FloatArray {
  const array = allocate(dtype, length, placement);
  for (let i = 0; i < length; i++) array[i] = rng.normal();
  return array;
}

/**
 * Median seconds of `repeats` timed runs after `warmups` untimed ones. Timed in process CPU time, not
 * wall time: the benchmark is single-threaded, and on a shared machine wall time also counts the
 * time the thread waited for a core (numpy is timed the same way, with time.process_time).
 */
function medianSeconds(run: () => void, repeats: number, warmups = 1): number {
  for (let i = 0; i < warmups; i++) run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1e6);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)]!;
}

function benchGemm(backend: Kernels, dtype: DType, n: number): number {
  const a = randomArray(dtype, n * n);
  const b = randomArray(dtype, n * n);
  const c = allocate(dtype, n * n);
  // The reference needs ~10 s per 2048³ product: one timed run and no warm-up there.
  const slow = backend.name === 'ts' && n >= 2048;
  const seconds = medianSeconds(() => backend.gemm(false, false, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n), slow ? 1 : 3, slow ? 0 : 1);
  return (2 * n ** 3) / seconds / 1e9;
}

function benchSyrk(backend: Kernels, dtype: DType, m: number, n: number, placement: 'heap' | 'shared'): number {
  const x = randomArray(dtype, m * n, placement);
  const gram = new Float64Array(n * n);
  const seconds = medianSeconds(() => backend.syrk(m, n, x, 0, n, gram, 0), 3);
  return (m * n * (n + 1)) / seconds / 1e9;
}

function benchNearest(backend: Kernels, dtype: DType, m: number, d: number, k: number, placement: 'heap' | 'shared'): number {
  const x = randomArray(dtype, m * d, placement);
  const centers = randomArray('float64', k * d) as Float64Array;
  const norms = Float64Array.from({ length: k }, (_, j) => backend.dot(d, centers, j * d, centers, j * d));
  const labels = new Int32Array(m);
  const distances = new Float64Array(m);
  const seconds = medianSeconds(() => backend.nearestCenter(m, d, x, 0, k, centers, norms, labels, distances), 3);
  return (2 * m * k * d) / seconds / 1e9;
}

function benchDot(backend: Kernels, dtype: DType, n: number, placement: 'heap' | 'shared'): number {
  const x = randomArray(dtype, n, placement);
  const y = randomArray(dtype, n, placement);
  const calls = Math.max(1, Math.floor(2e7 / n));
  // A fresh function per backend: a loop shared by both backends becomes a polymorphic call site,
  // and whichever backend ran first was measured up to 4× faster than the second (same code).
  const loop = new Function('backend', 'n', 'x', 'y', 'calls', 'let s = 0; for (let i = 0; i < calls; i++) s += backend.dot(n, x, 0, y, 0); return s;') as (
    backend: Kernels, n: number, x: FloatArray, y: FloatArray, calls: number,
  ) => number;
  const seconds = medianSeconds(() => loop(backend, n, x, y, calls), 3);
  return (2 * n * calls) / seconds / 1e9;
}

/** numpy matmul GFLOP/s per (n, dtype), or [] when python3/numpy is missing. */
function numpyGemm(sizes: number[]): KernelRecord[] {
  const script = `
import json, sys, time
import numpy as np
out = []
for n in ${JSON.stringify(sizes)}:
    for dtype in ('float64', 'float32'):
        a = np.random.default_rng(1).standard_normal((n, n)).astype(dtype)
        b = np.random.default_rng(2).standard_normal((n, n)).astype(dtype)
        a @ b
        times = []
        for _ in range(3):
            t = time.process_time(); a @ b; times.append(time.process_time() - t)
        times.sort()
        out.append({'n': n, 'dtype': dtype, 'gflops': 2 * n ** 3 / times[1] / 1e9})
print(json.dumps(out))
`;
  const threads = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const child = spawnSync('python3', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...threads } });
  if (child.status !== 0) {
    console.log(`numpy skipped: ${child.error?.message ?? child.stderr.trim().split('\n').pop()}`);
    return [];
  }
  const rows = JSON.parse(child.stdout) as { n: number; dtype: DType; gflops: number }[];
  return rows.map((row) => ({ kernel: 'gemm', shape: `${row.n}x${row.n}x${row.n}`, backend: 'numpy', dtype: row.dtype, gflops: row.gflops }));
}

function main(): void {
  const records: KernelRecord[] = [];
  console.log(`load average at start: ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  const add = (record: KernelRecord): void => {
    records.push(record);
    console.log(`${record.kernel.padEnd(14)} ${record.shape.padEnd(26)} ${record.backend.padEnd(5)} ${record.dtype.padEnd(8)} ${record.gflops.toFixed(2).padStart(7)} GFLOP/s`);
  };
  const backends = kernelBackends().map((name) => useKernels(name));
  const sizes = [256, 512, 1024, 2048];
  for (const n of sizes) {
    for (const dtype of ['float64', 'float32'] as const) {
      for (const backend of backends) add({ kernel: 'gemm', shape: `${n}x${n}x${n}`, backend: backend.name, dtype, gflops: benchGemm(backend, dtype, n) });
    }
  }
  const zeroCopy = placeSharedArraysInWasmMemory();
  for (const placement of zeroCopy ? (['heap', 'shared'] as const) : (['heap'] as const)) {
    for (const backend of backends) {
      for (const dtype of ['float64', 'float32'] as const) {
        add({ kernel: 'syrk', shape: `100000x64 ${placement}`, backend: backend.name, dtype, gflops: benchSyrk(backend, dtype, 100000, 64, placement) });
        add({ kernel: 'nearestCenter', shape: `100000x32 k=10 ${placement}`, backend: backend.name, dtype, gflops: benchNearest(backend, dtype, 100000, 32, 10, placement) });
        for (const n of [64, 1000, 100000]) {
          add({ kernel: 'dot', shape: `n=${n} ${placement}`, backend: backend.name, dtype, gflops: benchDot(backend, dtype, n, placement) });
        }
      }
    }
  }
  setSharedAllocator(null);
  for (const record of numpyGemm(sizes)) add(record);
  mkdirSync('bench/results', { recursive: true });
  // Keep the multi-thread records bench/kernels-threads.ts merged in (they carry `threads`).
  const path = 'bench/results/kernels.json';
  const threadRecords = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>[]).filter((record) => record['threads'] !== undefined) : [];
  writeFileSync(path, `${JSON.stringify([...records, ...threadRecords], null, 2)}\n`);
  console.log(`wrote bench/results/kernels.json (${records.length} records)`);
}

main();
