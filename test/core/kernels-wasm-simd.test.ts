// The two builds of the WASM module (plain SIMD, and relaxed SIMD whose gemm multiply-add is fused):
// each against the TS reference on random and block-edge shapes, each bitwise deterministic, the
// relaxed one really fused (where the CPU has FMA), loading in worker threads, and the selection
// by option and SHARDLEARN_WASM_SIMD with its fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createWasmKernels } from '../../src/core/kernels-wasm.js';
import type { WasmKernels, WasmSimd } from '../../src/core/kernels-wasm.js';
import { tsKernels } from '../../src/core/kernels-ts.js';
import { Rng } from '../../src/core/rng.js';
import type { FloatArray } from '../../src/core/storage.js';

const coreUrl = new URL('../../src/core/index.js', import.meta.url).href;
const builds: Record<WasmSimd, WasmKernels> = {
  plain: createWasmKernels({ simd: 'plain', minMultiplyAdds: 0 }),
  relaxed: createWasmKernels({ simd: 'relaxed', minMultiplyAdds: 0 }),
};
// V8 lowers relaxed_madd to vfmadd231ps only when the CPU has FMA3; without it both builds agree.
const cpuHasFma = (() => {
  try {
    return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
})();

function randomArray(rng: Rng, dtype: 'float32' | 'float64', length: number): FloatArray {
  const array = dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
  for (let i = 0; i < length; i++) array[i] = rng.normal();
  return array;
}

interface Problem {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  a: FloatArray;
  b: FloatArray;
  c: FloatArray;
}

function problem(rng: Rng, m: number, n: number, k: number, dtype: 'float32' | 'float64'): Problem {
  const transA = rng.uniform() < 0.5;
  const transB = rng.uniform() < 0.5;
  return {
    m,
    n,
    k,
    transA,
    transB,
    alpha: [1, -0.5, 2.25][rng.int(3)]!,
    beta: [0, 1, 0.5][rng.int(3)]!,
    a: randomArray(rng, dtype, m * k),
    b: randomArray(rng, dtype, k * n),
    c: randomArray(rng, dtype, m * n),
  };
}

/** C of `p` after `backend.gemm` on a copy (p itself is left untouched). */
function product(backend: { gemm: WasmKernels['gemm'] }, p: Problem): FloatArray {
  const c = p.c.slice();
  backend.gemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, p.a, 0, p.transA ? p.m : p.k, p.b, 0, p.transB ? p.k : p.n, p.beta, c, 0, p.n);
  return c;
}

/** |got − expected| ≤ u·k·(Σ|alpha·a·b| + |beta·c|) + u per element: the standard gemm error bound. */
function assertWithinBound(p: Problem, got: FloatArray, expected: FloatArray, label: string): void {
  const unit = got instanceof Float32Array ? 1e-5 : 1e-13;
  for (let i = 0; i < p.m; i++) {
    for (let j = 0; j < p.n; j++) {
      let bound = Math.abs(p.beta * p.c[i * p.n + j]!) + 1;
      for (let q = 0; q < p.k; q++) {
        const av = p.transA ? p.a[q * p.m + i]! : p.a[i * p.k + q]!;
        const bv = p.transB ? p.b[j * p.k + q]! : p.b[q * p.n + j]!;
        bound += Math.abs(p.alpha * av * bv);
      }
      const at = i * p.n + j;
      assert.ok(
        Math.abs(got[at]! - expected[at]!) <= unit * p.k * bound + unit,
        `${label} ${p.m}×${p.n}×${p.k} [${i},${j}]: ${got[at]} vs ${expected[at]}`,
      );
    }
  }
}

test('both builds load and say which one they are', () => {
  assert.equal(builds.plain.simd, 'plain');
  assert.equal(builds.relaxed.simd, 'relaxed');
  assert.equal(builds.relaxed.name, 'wasm');
});

test('each build matches the reference on random, odd and block-edge shapes, and repeats bitwise', () => {
  const rng = new Rng(29);
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 33];
  // Edges of the micro-kernel (4×8 float32, 4×4 float64) and cache blocks (MC 128, KC 256/512).
  const shapes: [number, number, number][] = [
    [129, 17, 513],
    [130, 9, 257],
    [4, 8, 512],
    [5, 2049, 3],
  ];
  for (let trial = 0; trial < 60; trial++)
    shapes.push([sizes[rng.int(sizes.length)]!, sizes[rng.int(sizes.length)]!, sizes[rng.int(sizes.length)]!]);
  for (const [m, n, k] of shapes) {
    for (const dtype of ['float32', 'float64'] as const) {
      const p = problem(rng, m, n, k, dtype);
      const expected = product(tsKernels, p);
      for (const build of Object.values(builds)) {
        const got = product(build, p);
        assertWithinBound(p, got, expected, `${build.simd} ${dtype}`);
        assert.deepEqual(product(build, p), got, `${build.simd} ${dtype} ${m}×${n}×${k} repeats bitwise`);
      }
    }
  }
});

test('a second instance of a build gives bitwise the same product (same backend, same bits)', () => {
  const rng = new Rng(31);
  const again = createWasmKernels({ simd: 'relaxed', minMultiplyAdds: 0 });
  for (const dtype of ['float32', 'float64'] as const) {
    const p = problem(rng, 67, 45, 300, dtype);
    assert.deepEqual(product(again, p), product(builds.relaxed, p));
  }
});

test('the relaxed build fuses the multiply-add: its bits differ from the plain build', { skip: !cpuHasFma && 'CPU without FMA' }, () => {
  // If V8 lowered relaxed_madd to mul+add the two builds would agree bit for bit on every element.
  const rng = new Rng(37);
  for (const dtype of ['float32', 'float64'] as const) {
    const p = problem(rng, 64, 64, 64, dtype);
    const plain = product(builds.plain, p);
    const relaxed = product(builds.relaxed, p);
    let differing = 0;
    for (let i = 0; i < plain.length; i++) if (plain[i] !== relaxed[i]) differing++;
    assert.ok(differing > plain.length / 10, `${dtype}: only ${differing} of ${plain.length} elements differ`);
  }
});

test('worker threads load the relaxed build and compute the same bits as the main thread', async () => {
  const rng = new Rng(41);
  const p = problem(rng, 40, 24, 96, 'float32');
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.coreUrl).then((core) => {
      const k = core.createWasmKernels({ minMultiplyAdds: 0 });
      const { m, n, k: depth, transA, transB, alpha, beta, a, b } = workerData.p;
      const c = workerData.p.c.slice();
      k.gemm(transA, transB, m, n, depth, alpha, a, 0, transA ? m : depth, b, 0, transB ? depth : n, beta, c, 0, n);
      parentPort.postMessage({ simd: k.simd, c });
    });`;
  const worker = new Worker(source, { eval: true, workerData: { coreUrl, p } });
  const reply = await new Promise<{ simd: string; c: Float32Array }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(reply.simd, 'relaxed');
  assert.deepEqual(reply.c, product(builds.relaxed, p));
});

test('in a fresh process, a worker that loads first enables relaxed SIMD itself; the env var selects the build', () => {
  const base = { ...process.env };
  delete base['SHARDLEARN_WASM_SIMD'];
  delete base['SHARDLEARN_KERNELS'];
  // The main thread never compiles a module: the worker's import must switch the V8 flag on.
  // (The worker inherits --input-type=module, so its eval'd source is a module: no `require`.)
  const source = `Promise.all([import('node:worker_threads'), import(${JSON.stringify(coreUrl)})]).then(([threads, core]) => threads.parentPort.postMessage(core.kernels().simd));`;
  const script = `
    import { Worker } from 'node:worker_threads';
    const worker = new Worker(${JSON.stringify(source)}, { eval: true });
    worker.once('message', (simd) => { console.log(simd); worker.terminate(); });`;
  const run = (env: NodeJS.ProcessEnv, code: string): { stdout: string; stderr: string } => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    return { stdout: child.stdout.trim(), stderr: child.stderr };
  };
  assert.equal(run(base, script).stdout, 'relaxed');
  const simd = `const core = await import(${JSON.stringify(coreUrl)}); console.log(core.kernels().name, core.kernels().simd);`;
  assert.equal(run({ ...base, SHARDLEARN_WASM_SIMD: 'plain' }, simd).stdout, 'wasm plain');
  assert.equal(run({ ...base, SHARDLEARN_WASM_SIMD: 'relaxed' }, simd).stdout, 'wasm relaxed');
  const bad = run({ ...base, SHARDLEARN_WASM_SIMD: 'fast' }, simd);
  assert.equal(bad.stdout, 'ts undefined');
  assert.match(bad.stderr, /SHARDLEARN_WASM_SIMD must be auto, plain or relaxed; found 'fast'/);
});

test('a missing relaxed module: auto falls back to plain, an explicit request throws', () => {
  const relaxedWasmUrl = new URL('file:///nonexistent/kernels-relaxed.wasm');
  assert.equal(createWasmKernels({ relaxedWasmUrl }).simd, 'plain');
  assert.throws(() => createWasmKernels({ simd: 'relaxed', relaxedWasmUrl }), /kernels-relaxed\.wasm not found/);
});

test('V8 baseline (Liftoff) and optimised (TurboFan) code give the same bits, so tier-up changes nothing', () => {
  // A first call may run Liftoff code and later ones TurboFan code; both must lower relaxed_madd alike.
  const script = `
    const core = await import(${JSON.stringify(coreUrl)});
    const { Rng } = core;
    const rng = new Rng(43);
    const wasm = core.createWasmKernels({ simd: 'relaxed', minMultiplyAdds: 0 });
    const out = [];
    for (const Type of [Float32Array, Float64Array]) {
      const n = 72;
      const a = Type.from({ length: n * n }, () => rng.normal());
      const b = Type.from({ length: n * n }, () => rng.normal());
      const c = new Type(n * n);
      wasm.gemm(false, true, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n);
      out.push(Buffer.from(c.buffer).toString('base64'));
    }
    console.log(out.join(' '));`;
  const run = (flag: string): string => {
    const child = spawnSync(process.execPath, [flag, '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    return child.stdout;
  };
  assert.equal(run('--liftoff-only'), run('--no-liftoff'));
});
