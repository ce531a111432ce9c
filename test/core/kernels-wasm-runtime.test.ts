// The WASM backend's life outside the arithmetic: its memory allocator, zero-copy placement of
// shared arrays, worker threads (each instantiates its own module), backend selection by
// SHARDLEARN_KERNELS, and the fallback to the TS reference when the module cannot load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { allocate, isShared, kernels, setSharedAllocator, useKernels } from '../../src/core/index.js';
import { loadWasmKernels, placeSharedArraysInWasmMemory } from '../../src/core/kernels-wasm.js';
import type { WasmKernels } from '../../src/core/kernels-wasm.js';
import { tsKernels } from '../../src/core/kernels-ts.js';
import { WasmHeap } from '../../src/core/wasm-heap.js';

const coreUrl = new URL('../../src/core/index.js', import.meta.url).href;

test('the heap reuses released blocks, merges neighbours and grows without invalidating views', () => {
  const heap = new WasmHeap(1, 1024);
  const a = heap.allocate(100);
  const b = heap.allocate(200);
  const c = heap.allocate(16);
  assert.equal(a % 16, 0);
  assert.ok(b >= a + 100 && c >= b + 200, 'blocks do not overlap');
  heap.release(b, 200);
  heap.release(a, 100);
  assert.equal(heap.allocate(300), a, 'the merged block of a and b is reused');
  const early = new Float64Array(heap.buffer(), c, 2);
  early[1] = 42;
  heap.allocate(10 << 20); // forces growth past the initial 64 KiB
  assert.ok(heap.memory.buffer.byteLength > 10 << 20);
  assert.equal(early[1], 42);
  assert.ok(heap.contains(early), 'a view over the pre-growth buffer still counts as resident');
  assert.equal(heap.f64[c / 8 + 1], 42);
  assert.throws(() => heap.allocate(2048 * 65536), RangeError);
});

test('the default backend is wasm, and shared arrays can be placed in its memory (zero copy)', () => {
  assert.equal(kernels().name, 'wasm');
  const wasm = useKernels('wasm') as WasmKernels;
  try {
    assert.equal(placeSharedArraysInWasmMemory(), true);
    const x = allocate('float64', 1000, 'shared');
    assert.ok(isShared(x));
    assert.ok(wasm.heap.contains(x));
    // Another memory's growth may give this memory a new buffer object (V8); x stays recognised.
    new WasmHeap(1, 1024).allocate(1 << 20);
    assert.ok(wasm.heap.contains(x));
    const heapArray = allocate('float64', 10);
    assert.ok(!wasm.heap.contains(heapArray));
  } finally {
    setSharedAllocator(null);
  }
});

test('worker threads each load their own WASM instance and read arrays posted from the main thread', async () => {
  const wasm = useKernels('wasm') as WasmKernels;
  placeSharedArraysInWasmMemory();
  const m = 300;
  const n = 20;
  const x = allocate('float64', m * n, 'shared');
  setSharedAllocator(null);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i);
  assert.ok(wasm.heap.contains(x));
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.coreUrl).then((core) => {
      const k = core.kernels();
      const gram = new Float64Array(workerData.n * workerData.n);
      k.syrk(workerData.m, workerData.n, workerData.x, 0, workerData.n, gram, 0);
      parentPort.postMessage({ name: k.name, gram });
    });`;
  const worker = new Worker(source, { eval: true, workerData: { coreUrl, x, m, n } });
  const reply = await new Promise<{ name: string; gram: Float64Array }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(reply.name, 'wasm');
  const expected = new Float64Array(n * n);
  tsKernels.syrk(m, n, x, 0, n, expected, 0);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(reply.gram[i]! - expected[i]!) < 1e-9);
});

test('a module that cannot load gives null and exactly one warning', async () => {
  const warnings: Error[] = [];
  const listener = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on('warning', listener);
  try {
    assert.equal(loadWasmKernels({ wasmUrl: new URL('file:///nonexistent/kernels.wasm') }), null);
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  const ours = warnings.filter((warning) => (warning as Error & { code?: string }).code === 'SHARDLEARN_NO_WASM');
  assert.equal(ours.length, 1);
  assert.match(ours[0]!.message, /using the TypeScript kernels/);
});

test('SHARDLEARN_KERNELS selects the backend in a fresh process; the default loads without warnings', () => {
  const script = `const core = await import(${JSON.stringify(coreUrl)}); console.log(core.kernels().name);`;
  const run = (env: NodeJS.ProcessEnv): string => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stderr, '', 'no warning when the module loads');
    return child.stdout.trim();
  };
  const base = { ...process.env };
  delete base['SHARDLEARN_KERNELS'];
  assert.equal(run({ ...base, SHARDLEARN_KERNELS: 'ts' }), 'ts');
  assert.equal(run({ ...base, SHARDLEARN_KERNELS: 'wasm' }), 'wasm');
  assert.equal(run(base), 'wasm');
});
