// One WebAssembly memory, two threads: a worker attaches to the main thread's heap (WasmHeap.attach)
// and both allocate, write and release blocks at the same time under the allocator's shared lock;
// the worker's kernels over that memory read an array the main thread placed there, in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import '../../src/core/index.js';
import { ShardlearnError } from '../../src/core/errors.js';
import { createWasmKernels, shareWasmKernels } from '../../src/core/kernels-wasm.js';
import { activateKernels } from '../../src/core/kernels.js';
import { WasmHeap, wasmApi } from '../../src/core/wasm-heap.js';

const heapUrl = new URL('../../src/core/wasm-heap.js', import.meta.url).href;
const coreUrl = new URL('../../src/core/index.js', import.meta.url).href;

/** Allocate `count` blocks, fill each with `tag`, release every other one; return the kept [offset, bytes] pairs. */
function churn(heap: WasmHeap, tag: number, count: number): [number, number][] {
  const blocks: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const bytes = 16 * (1 + ((i * 7 + tag) % 50));
    const at = heap.allocate(bytes);
    new Int32Array(heap.buffer(), at, bytes / 4).fill(tag);
    blocks.push([at, bytes]);
    if (i % 2 === 1) {
      const [gone, goneBytes] = blocks.splice(blocks.length - 2, 1)[0]!;
      heap.release(gone, goneBytes);
    }
  }
  return blocks;
}

test('two threads allocate from one memory at once: no block is handed out twice, and released blocks are reused', async () => {
  const heap = new WasmHeap(1, 4096);
  const count = 4000;
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.heapUrl).then(({ WasmHeap }) => {
      const heap = WasmHeap.attach(workerData.shared);
      const blocks = [];
      for (let i = 0; i < workerData.count; i++) {
        const bytes = 16 * (1 + ((i * 7 + 2) % 50));
        const at = heap.allocate(bytes);
        new Int32Array(heap.buffer(), at, bytes / 4).fill(2);
        blocks.push([at, bytes]);
        if (i % 2 === 1) { const [gone, goneBytes] = blocks.splice(blocks.length - 2, 1)[0]; heap.release(gone, goneBytes); }
        if (i === 100) heap.allocate(1 << 20); // grow the memory from this side too
      }
      parentPort.postMessage(blocks);
    });`;
  const worker = new Worker(source, { eval: true, workerData: { heapUrl, shared: heap.share(), count } });
  const theirs = new Promise<[number, number][]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const ours = churn(heap, 1, count);
  const their = await theirs;
  await worker.terminate();
  const words = new Int32Array(heap.buffer());
  for (const [tag, blocks] of [
    [1, ours],
    [2, their],
  ] as const) {
    for (const [at, bytes] of blocks) {
      for (let i = at / 4; i < (at + bytes) / 4; i++) assert.equal(words[i], tag, `block at ${at} of thread ${tag} was overwritten`);
    }
  }
  // The kept blocks do not overlap, and a released block is handed out again.
  const all = [...ours, ...their].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]![0] + all[i - 1]![1] <= all[i]![0]);
  // No two blocks share a 128-byte line pair: threads writing their own blocks never false-share.
  const line = (byte: number): number => Math.floor(byte / 128);
  for (let i = 1; i < all.length; i++) {
    const [previousAt, previousBytes] = all[i - 1]!;
    assert.ok(line(previousAt + previousBytes - 1) < line(all[i]![0]), `blocks at ${previousAt} and ${all[i]![0]} share a 128-byte line`);
  }
  const [first, firstBytes] = their[0]!;
  heap.release(first, firstBytes);
  assert.equal(heap.allocate(firstBytes), first, 'a block the worker released is reused by the main thread');
});

test('attaching to a memory no WasmHeap set up is refused', () => {
  const memory = new wasmApi.Memory({ initial: 1, maximum: 2, shared: true });
  assert.throws(() => WasmHeap.attach({ memory, maximumPages: 2, buffers: [] }), ShardlearnError);
});

test('a worker’s kernels over the main thread’s memory instantiate its compiled module, read its arrays in place and give the main thread’s results', async () => {
  const main = createWasmKernels();
  const previous = activateKernels(main);
  let shared;
  try {
    const at = main.heap.allocate(400 * 30 * 8);
    const x = new Float64Array(main.heap.buffer(), at, 400 * 30);
    for (let i = 0; i < x.length; i++) x[i] = Math.cos(i * 0.37);
    shared = shareWasmKernels(x);
    assert.ok(shared !== undefined);
    assert.equal(shared.module, main.module, 'the compiled module travels with the memory');
    const w = Float64Array.from({ length: 30 }, (_, i) => i / 7 - 2);
    const rows = Uint32Array.from({ length: 256 }, (_, i) => (i * 131) % 400);
    const expected = new Float64Array(256);
    main.gatherDot(256, rows, 30, x, w, 0, expected);
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.coreUrl).then((core) => {
        const k = core.attachWasmKernels(workerData.shared);
        const placed = k.resident(workerData.x);
        const out = new Float64Array(256);
        k.gatherDot(256, workerData.rows, 30, workerData.x, workerData.w, 0, out);
        parentPort.postMessage({ inPlace: placed.array === workerData.x, contains: k.heap.contains(workerData.x), out, posted: k.module === workerData.shared.module });
      });`;
    const worker = new Worker(source, { eval: true, workerData: { coreUrl, shared, x, w, rows } });
    const reply = await new Promise<{ inPlace: boolean; contains: boolean; out: Float64Array; posted: boolean }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.ok(reply.contains && reply.inPlace, 'the posted array lies in the worker’s kernel memory: no copy');
    assert.ok(reply.posted, 'the worker instantiated the posted module (its optimised code), not a fresh compile');
    assert.deepEqual(reply.out, expected, 'same bits as the main thread’s kernels');
  } finally {
    activateKernels(previous);
  }
});

test('a worker attaching to the same memory for a second job gets the same kernels, reading the new job’s arrays in place; another memory gets new kernels', async () => {
  const first = createWasmKernels();
  const other = createWasmKernels();
  const array = (kernels: typeof first, length: number): Float64Array => {
    const x = new Float64Array(kernels.heap.buffer(), kernels.heap.allocate(length * 8), length);
    for (let i = 0; i < length; i++) x[i] = i + 1;
    return x;
  };
  // Each job posts its memory as shareWasmKernels describes the active backend's.
  const jobs = [first, first, other].map((kernels, i) => ({
    x: array(kernels, 64 + i),
    shared: { ...kernels.heap.share(), simd: kernels.simd, module: kernels.module },
  }));
  const source = `
    const { parentPort } = require('node:worker_threads');
    let coreModule;
    let previous = null;
    parentPort.on('message', async ({ coreUrl, shared, x }) => {
      coreModule ??= await import(coreUrl);
      const k = coreModule.attachWasmKernels(shared);
      const reply = { same: k === previous, contains: k.heap.contains(x), sum: k.dot(x.length, x, 0, x, 0) };
      previous = k;
      k.heap.releaseScratch();
      parentPort.postMessage(reply);
    });`;
  const worker = new Worker(source, { eval: true });
  try {
    const replies: { same: boolean; contains: boolean; sum: number }[] = [];
    for (const job of jobs) {
      worker.postMessage({ coreUrl, ...job });
      replies.push(
        await new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
      );
    }
    assert.deepEqual(
      replies.map((r) => r.same),
      [false, true, false],
      'the second job on the same memory reuses the kernels; a third on another memory does not',
    );
    assert.ok(
      replies.every((r) => r.contains),
      'each job’s posted array is recognised in place',
    );
    jobs.forEach((job, i) =>
      assert.equal(
        replies[i]!.sum,
        job.x.reduce((s, v) => s + v * v, 0),
      ),
    );
  } finally {
    await worker.terminate();
  }
});
