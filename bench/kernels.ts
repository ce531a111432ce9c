/**
 * Kernel benchmark: GFLOP/s of each backend's gemm (256…2048 and odd shapes, float64 and float32),
 * syrk, nearestCenter and dot, single thread (CPU time) after one warm-up run (the first WASM call
 * runs in V8's baseline compiler). gemm: median of GEMM_REPEATS timed runs (7; the TS reference 3,
 * at 2048 one), each record also carrying the slowest and fastest run and the load average; the
 * other kernels: median of 3. `wasm` is the default WASM build (relaxed SIMD where V8 accepts it),
 * `wasm-plain` the standard-SIMD build (kernels.wasm, the session-1 kernels). numpy's matmul
 * (OpenBLAS, pinned to one thread) runs on the square shapes when python3 with numpy is installed,
 * as an outside yardstick, and so does TensorFlow.js's WASM backend (bench/tfjs-gemm.ts, float32).
 *
 *   npm run bench:kernels   # writes bench/results/kernels.json
 *
 * Records: { kernel, shape, backend, dtype, gflops } (+ for gemm: gflopsMin, gflopsMax, repeats,
 * loadAverage). Flop counts: gemm 2mnk; syrk m·n·(n+1) (the upper triangle, which is all either
 * backend computes); nearestCenter 2·m·k·d; dot 2n.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { allocate, kernelBackends, setSharedAllocator, useKernels } from '../src/core/index.js';
import { createWasmKernels, placeSharedArraysInWasmMemory } from '../src/core/kernels-wasm.js';
import type { Kernels } from '../src/core/kernels.js';
import type { DType, FloatArray } from '../src/core/storage.js';
import { Rng } from '../src/core/rng.js';
import { timedSeconds } from './cpu-time.js';
import { tfjsWasmGemm } from './tfjs-gemm.js';

export interface KernelRecord {
  kernel: string;
  shape: string;
  backend: string;
  dtype: DType;
  gflops: number;
  /** gemm only: the slowest and fastest timed run, how many, and the 1-minute load average before. */
  gflopsMin?: number;
  gflopsMax?: number;
  repeats?: number;
  loadAverage?: number;
}

const GEMM_REPEATS = 7;

const rng = new Rng(2024);

function randomArray(dtype: DType, length: number, placement: 'heap' | 'shared' = 'heap'): FloatArray {
  const array = allocate(dtype, length, placement);
  for (let i = 0; i < length; i++) array[i] = rng.normal();
  return array;
}

function medianSeconds(run: () => void, repeats: number, warmups = 1): number {
  const times = timedSeconds(run, repeats, warmups);
  return times[Math.floor(times.length / 2)]!;
}

type GemmStats = Pick<KernelRecord, 'gflops' | 'gflopsMin' | 'gflopsMax' | 'repeats' | 'loadAverage'>;

/**
 * C = A·B for A m×k, B k×n on every backend: median, slowest and fastest GFLOP/s of each. The
 * WASM builds' timed runs are interleaved (one run of each per round), so a neighbour's burst of
 * load on this shared machine hits them alike; the slow TS reference runs after them.
 */
function benchGemm(backends: [string, Kernels][], dtype: DType, m: number, n: number, k: number): GemmStats[] {
  const a = randomArray(dtype, m * k);
  const b = randomArray(dtype, k * n);
  const c = allocate(dtype, m * n);
  const flops = 2 * m * n * k;
  const loadAverage = loadavg()[0]!;
  const once = (backend: Kernels): void => backend.gemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, c, 0, n);
  const times: number[][] = backends.map(() => []);
  const fast = (visit: (backend: Kernels, index: number) => void): void =>
    backends.forEach(([, backend], index) => {
      if (backend.name !== 'ts') visit(backend, index);
    });
  fast((backend) => once(backend));
  for (let round = 0; round < GEMM_REPEATS; round++)
    fast((backend, index) => times[index]!.push(timedSeconds(() => once(backend), 1, 0)[0]!));
  backends.forEach(([, backend], index) => {
    if (backend.name !== 'ts') return;
    // The reference needs ~10 s per 2048³ product: one timed run and no warm-up there.
    const slow = m * n * k >= 2048 ** 3;
    times[index] = timedSeconds(() => once(backend), slow ? 1 : 3, slow ? 0 : 1);
  });
  return times.map((list) => {
    const sorted = [...list].sort((x, y) => x - y);
    return {
      gflops: flops / sorted[Math.floor(sorted.length / 2)]! / 1e9,
      gflopsMin: flops / sorted[sorted.length - 1]! / 1e9,
      gflopsMax: flops / sorted[0]! / 1e9,
      repeats: sorted.length,
      loadAverage,
    };
  });
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
  const loop = new Function(
    'backend',
    'n',
    'x',
    'y',
    'calls',
    'let s = 0; for (let i = 0; i < calls; i++) s += backend.dot(n, x, 0, y, 0); return s;',
  ) as (backend: Kernels, n: number, x: FloatArray, y: FloatArray, calls: number) => number;
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
  return rows.map((row) => ({
    kernel: 'gemm',
    shape: `${row.n}x${row.n}x${row.n}`,
    backend: 'numpy',
    dtype: row.dtype,
    gflops: row.gflops,
  }));
}

async function main(): Promise<void> {
  const records: KernelRecord[] = [];
  console.log(
    `load average at start: ${loadavg()
      .map((value) => value.toFixed(1))
      .join(' ')}`,
  );
  const add = (record: KernelRecord): void => {
    records.push(record);
    const spread =
      record.gflopsMin === undefined
        ? ''
        : `  (${record.gflopsMin.toFixed(1)}–${record.gflopsMax!.toFixed(1)}, ${record.repeats} runs, load ${record.loadAverage!.toFixed(1)})`;
    console.log(
      `${record.kernel.padEnd(14)} ${record.shape.padEnd(26)} ${record.backend.padEnd(10)} ${record.dtype.padEnd(8)} ${record.gflops.toFixed(2).padStart(7)} GFLOP/s${spread}`,
    );
  };
  const backends = kernelBackends().map((name) => useKernels(name));
  // The standard-SIMD build beside the default one, to show what relaxed SIMD adds on this machine.
  const wasmDefault = backends.find((backend) => backend.name === 'wasm') as (Kernels & { simd?: string }) | undefined;
  const gemmBackends: [string, Kernels][] = backends.map((backend) => [backend.name, backend]);
  if (wasmDefault?.simd === 'relaxed') gemmBackends.splice(1, 0, ['wasm-plain', createWasmKernels({ simd: 'plain' })]);
  const sizes = [256, 512, 1024, 2048];
  // Odd shapes: one off the block multiples, and a tall-skinny im2col-like product (CNN layers).
  const shapes: [number, number, number][] = [
    ...sizes.map((n): [number, number, number] => [n, n, n]),
    [1023, 1023, 1023],
    [1025, 1025, 1025],
    [333, 517, 1031],
    [4608, 32, 288],
  ];
  for (const [m, n, k] of shapes) {
    for (const dtype of ['float64', 'float32'] as const) {
      const stats = benchGemm(gemmBackends, dtype, m, n, k);
      gemmBackends.forEach(([label], index) => add({ kernel: 'gemm', shape: `${m}x${n}x${k}`, backend: label, dtype, ...stats[index]! }));
    }
  }
  const zeroCopy = placeSharedArraysInWasmMemory();
  for (const placement of zeroCopy ? (['heap', 'shared'] as const) : (['heap'] as const)) {
    for (const backend of backends) {
      for (const dtype of ['float64', 'float32'] as const) {
        add({
          kernel: 'syrk',
          shape: `100000x64 ${placement}`,
          backend: backend.name,
          dtype,
          gflops: benchSyrk(backend, dtype, 100000, 64, placement),
        });
        add({
          kernel: 'nearestCenter',
          shape: `100000x32 k=10 ${placement}`,
          backend: backend.name,
          dtype,
          gflops: benchNearest(backend, dtype, 100000, 32, 10, placement),
        });
        for (const n of [64, 1000, 100000]) {
          add({
            kernel: 'dot',
            shape: `n=${n} ${placement}`,
            backend: backend.name,
            dtype,
            gflops: benchDot(backend, dtype, n, placement),
          });
        }
      }
    }
  }
  setSharedAllocator(null);
  for (const record of numpyGemm(sizes)) add(record);
  for (const record of await tfjsWasmGemm(sizes)) add({ ...record, loadAverage: loadavg()[0]! });
  mkdirSync('bench/results', { recursive: true });
  // Keep the multi-thread records bench/kernels-threads.ts merged in (they carry `threads`).
  const path = 'bench/results/kernels.json';
  const threadRecords = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>[]).filter((record) => record['threads'] !== undefined)
    : [];
  writeFileSync(path, `${JSON.stringify([...records, ...threadRecords], null, 2)}\n`);
  console.log(`wrote bench/results/kernels.json (${records.length} records)`);
}

await main();
