// A threads worker's WASM kernels run over the launcher's memory when the data lives there (the CLI
// places it there; the launcher puts features from the heap there): they read the shared rows in
// place instead of each copying the dataset into a memory of their own, and train the same model,
// bit for bit, as the copying path (features already in a plain SharedArrayBuffer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { kernels } from '../../src/core/kernels.js';
import { placeSharedArraysInWasmMemory } from '../../src/core/kernels-wasm.js';
import type { WasmKernels } from '../../src/core/kernels-wasm.js';
import { setSharedAllocator } from '../../src/core/storage.js';
import { loadData } from '../../src/data/index.js';
import { createModel } from '../../src/models/registry.js';
import { shutdownThreadPool } from '../../src/runtime/index.js';
import type { ResidencyState } from './fixtures/kernel-residency.js';
import './fixtures/kernel-residency.js';

const workerModules = [new URL('./fixtures/kernel-residency.js', import.meta.url).href];
const spec = 'synthetic:classification?rows=3000&cols=12&classes=2&seed=3';
const params = { epochs: 2, batchSize: 32 };

test('threads workers read data in the launcher’s WASM memory in place and train what the copying path trains', async () => {
  const heapData = (await loadData(spec)).train;
  const plainShared = (await loadData(spec, { placement: 'shared' })).train;
  placeSharedArraysInWasmMemory();
  const placed = (await loadData(spec, { placement: 'shared' })).train;
  setSharedAllocator(null);
  const heap = (kernels() as WasmKernels).heap;
  assert.ok(heap.contains(placed.x) && !heap.contains(heapData.x) && !heap.contains(plainShared.x));
  try {
    const fit = async (data: typeof placed, workers: number): Promise<ResidencyState> =>
      (await createModel('test-kernel-residency', params).fit(data, { paradigm: 'threads', workers, workerModules }))
        .state as ResidencyState;
    const inPlace = await fit(placed, 2);
    assert.deepEqual([...inPlace.wasm], [1, 1]);
    assert.deepEqual([...inPlace.inPlace], [1, 1], 'each worker’s kernels read the placed rows without a copy');
    const fromHeap = await fit(heapData, 2);
    assert.deepEqual([...fromHeap.inPlace], [1, 1], 'features on the heap are copied once, into the launcher’s WASM memory');
    assert.ok(!heap.contains(heapData.x), 'the caller’s dataset is left as it was');
    const copied = await fit(plainShared, 2);
    assert.deepEqual([...copied.inPlace], [0, 0], 'rows in another shared buffer are still copied in (the fallback)');
    assert.deepEqual(inPlace.svm, copied.svm, 'in place and copied give the same model, bit for bit');
    assert.deepEqual(fromHeap.svm, copied.svm);

    const one = await fit(placed, 1);
    assert.deepEqual([...one.inPlace], [1]);
    const sequential = (await createModel('linear-svm', params).fit(placed)).state;
    assert.deepEqual(one.svm, sequential, 'threads×1 over the placed rows is bitwise sequential');
  } finally {
    await shutdownThreadPool();
  }
});
