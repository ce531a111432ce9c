// The threads launcher's kept shared memory (job-arenas.ts): a succeeded job's set, world included,
// serves the next job of its size reset; a world of another size is replaced; real threads fits that
// alternate sizes, with a failed fit between, train on kept worlds and equal fresh ones bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { WorkerError } from '../../src/core/errors.js';
import { ABORT, START_COUNT, abortWorld, controlLayout } from '../../src/comm/shm/world.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { createModel } from '../../src/models/registry.js';
import { acquireArenas, releaseArenas } from '../../src/runtime/job-arenas.js';
import { shutdownThreadPool } from '../../src/runtime/index.js';
import { stateDifference } from './model-cases.js';
import { FaultyModel } from './fixtures/fixture-models.js';

test("a released set's world comes back to the next job of its size with every control word zero", () => {
  const first = acquireArenas(2);
  const control = new Int32Array(first.world.control);
  const layout = controlLayout(2);
  control[START_COUNT] = 2;
  control[layout.written(0, 1)] = 4096;
  control[layout.heartbeat(1)] = 77;
  abortWorld(first.world); // what the launcher does at every job's end
  assert.equal(control[ABORT], 1);
  releaseArenas(first);
  const second = acquireArenas(2);
  assert.equal(second.world, first.world, 'the kept world');
  assert.equal(second.rowBoard, first.rowBoard);
  assert.deepEqual(
    Array.from(new Int32Array(second.world.control)).filter((word) => word !== 0),
    [],
  );
  releaseArenas(second);
  const other = acquireArenas(3);
  assert.equal(other.world.size, 3, 'a kept world of another size is replaced');
  assert.equal(other.rowBoard, first.rowBoard, 'the rest of the set is kept');
  const concurrent = acquireArenas(2);
  assert.notEqual(concurrent.world, other.world, 'a set in use is never handed out twice');
  releaseArenas(other);
  releaseArenas(concurrent);
});

const workerModules = [new URL('./fixtures/fixture-models.js', import.meta.url).href];
const regression = syntheticGenerator({ kind: 'regression', rows: 4000, cols: 6, seed: 5 }).generate(0, 4000);

test('threads fits of 2, 3 and 2 ranks with a failed fit between train on kept worlds and equal fresh-thread fits bit for bit', async () => {
  await shutdownThreadPool();
  const fit = (workers: number, reuseThreads = true) =>
    createModel('linear-regression', { solver: 'sgd', epochs: 2, seed: 3 }).fit(regression, { paradigm: 'threads', workers, reuseThreads });
  const fresh2 = await fit(2, false);
  const fresh3 = await fit(3, false);
  const kept = [await fit(2), await fit(3), await fit(2)];
  const failure = await new FaultyModel('test-throws', { faultyRank: 1 })
    .fit(regression, { paradigm: 'threads', workers: 2, workerModules })
    .then(
      () => null,
      (error: unknown) => error,
    );
  assert.ok(failure instanceof WorkerError, String(failure));
  kept.push(await fit(2), await fit(2), await fit(3));
  for (const [i, model] of kept.entries()) {
    const reference = model.fitInfo?.workers === 3 ? fresh3 : fresh2;
    assert.equal(stateDifference(model.state, reference.state).worst, 0, `fit ${i + 1} (${model.fitInfo?.workers} ranks)`);
  }
  await shutdownThreadPool();
});
