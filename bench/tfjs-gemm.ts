/**
 * TensorFlow.js's WASM backend (XNNPACK, SIMD, one thread) as a yardstick for our gemm: float32
 * `tf.matMul` of n×n by n×n, the median of 7 runs in process CPU time after a warm-up, the result
 * read back with `dataSync` (a copy of n² floats, < 1% of the product at n ≥ 512). TF.js is a
 * devDependency of the benchmark only; when it cannot load, the records are skipped with the reason.
 *
 * @example
 * const records = await tfjsWasmGemm([256, 512, 1024]);   // [{ kernel: 'gemm', backend: 'tfjs-wasm', … }]
 */
import { createRequire } from 'node:module';
import type * as Tf from '@tensorflow/tfjs-core';
import { timedSeconds } from './cpu-time.js';
import { dirname } from 'node:path';

export interface TfjsGemmRecord {
  kernel: 'gemm';
  shape: string;
  backend: 'tfjs-wasm';
  dtype: 'float32';
  gflops: number;
  gflopsMin: number;
  gflopsMax: number;
  repeats: number;
}

const REPEATS = 7;

export async function tfjsWasmGemm(sizes: number[]): Promise<TfjsGemmRecord[]> {
  let tf: typeof Tf;
  try {
    tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    wasm.setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
  } catch (error) {
    console.log(`tfjs-wasm skipped: ${(error as Error).message}`);
    return [];
  }
  const records: TfjsGemmRecord[] = [];
  for (const n of sizes) {
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
    const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
    const once = (): void => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    };
    const seconds = timedSeconds(once, REPEATS);
    a.dispose();
    b.dispose();
    const gflops = (s: number): number => (2 * n ** 3) / s / 1e9;
    records.push({
      kernel: 'gemm',
      shape: `${n}x${n}x${n}`,
      backend: 'tfjs-wasm',
      dtype: 'float32',
      gflops: gflops(seconds[REPEATS >> 1]!),
      gflopsMin: gflops(seconds[REPEATS - 1]!),
      gflopsMax: gflops(seconds[0]!),
      repeats: REPEATS,
    });
  }
  return records;
}
