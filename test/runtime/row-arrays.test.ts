// Per-row arrays the threads of one job share (runtime/row-arrays.ts, SharedRows.zeros): every rank
// sees the same bytes, the launcher gives them back when the job is over, whether it succeeded or a
// rank failed, and only the threads paradigm offers them. k-means keeps its per-row state there when
// its passes go through the row board (models/kmeans/lloyd-rows.ts; its results: row-board.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { kernels } from '../../src/core/kernels.js';
import { WasmHeap } from '../../src/core/wasm-heap.js';
import { loadData } from '../../src/data/index.js';
import { shardRange } from '../../src/runtime/job.js';
import { SharedRowsModel } from './fixtures/fixture-models.js';

const workerModules = [new URL('./fixtures/fixture-models.js', import.meta.url).href];
const data = (await loadData('synthetic:regression?rows=30011&cols=8&seed=5')).train;
const heap = (kernels() as { heap?: unknown }).heap;

test('every rank sees one array; the launcher gives it back after the job, and after a rank failed', async () => {
  assert.ok(heap instanceof WasmHeap, 'the WASM kernels are active (the threads share their memory)');
  for (const workers of [2, 3]) {
    const options = { paradigm: 'threads' as const, workers, workerModules };
    await new SharedRowsModel().fit(data, options); // warm: the pool's workers and their scratch
    const before = heap.usedBytes();
    const model = await new SharedRowsModel().fit(data, options);
    assert.equal(model.state.offered, 1, `${workers} workers: the threads runtime offers shared arrays`);
    assert.ok(model.state.byteOffset > 0, `${workers} workers: the array lies in the kernel memory`);
    // Each rank wrote rank + 1 over its own rows; rank 0 read them all after the barrier.
    let expected = 0;
    for (let rank = 0; rank < workers; rank++) {
      const { start, end } = shardRange(data.rows, rank, workers);
      expected += (rank + 1) * (end - start);
    }
    assert.equal(model.state.seen, expected, `${workers} workers: rank 0 read every rank's writes`);
    assert.equal(heap.usedBytes(), before, `${workers} workers: the array went back when the job ended`);
    await assert.rejects(new SharedRowsModel({ failRank: 1 }).fit(data, options), /rank 1 fails after sharing its rows/);
    assert.equal(heap.usedBytes(), before, `${workers} workers: and when a rank failed`);
  }
});

test('sequential and processes have no shared arrays (a rank there reads only its own rows)', async () => {
  assert.equal((await new SharedRowsModel().fit(data)).state.offered, 0);
  const processes = await new SharedRowsModel().fit(data, { paradigm: 'processes', workers: 2, workerModules });
  assert.equal(processes.state.offered, 0);
});
