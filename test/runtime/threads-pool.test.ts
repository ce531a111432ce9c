// The threads paradigm's worker pool: a second fit reuses the first fit's warm threads (same
// threadIds) with bitwise-identical results to fresh threads; a failed fit's threads are terminated,
// never reused; a pooled worker sees only its own job's workerModules; idle pooled threads do not
// keep a process alive; shutdownThreadPool ends them (counted in /proc/self/task).
import { settledThreadCount, threadCount } from './thread-count.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '../../src/index.js';
import { WorkerError } from '../../src/core/errors.js';
import { Dataset } from '../../src/data/dataset.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { createModel } from '../../src/models/registry.js';
import { shutdownThreadPool } from '../../src/runtime/index.js';
import { IDLE_TIMEOUT_MS, configureThreadPool, idleThreadCount, prewarmThreads } from '../../src/runtime/thread-pool.js';
import { ConfigError } from '../../src/core/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { stateDifference } from './model-cases.js';
import { FaultyModel, ProbeModel } from './fixtures/fixture-models.js';

const workerModules = [new URL('./fixtures/fixture-models.js', import.meta.url).href];
const regression = syntheticGenerator({ kind: 'regression', rows: 3000, cols: 8, seed: 11 }).generate(0, 3000);
const small = new Dataset({ x: Float64Array.from({ length: 60 }, (_, i) => i), rows: 60, cols: 1 });

test("a second fit reuses the first fit's threads and equals a fresh-thread fit bit for bit", async () => {
  await shutdownThreadPool();
  const first = await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 2 });
  const second = await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 2 });
  const fresh = await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 2, reuseThreads: false });
  const firstIds = first.fitInfo?.threadIds ?? [];
  assert.equal(firstIds.length, 2);
  assert.deepEqual(second.fitInfo?.threadIds, firstIds, 'the same two threads served both fits');
  assert.ok(
    (fresh.fitInfo?.threadIds ?? []).every((id) => !firstIds.includes(id)),
    'reuseThreads: false starts new threads',
  );
  assert.equal(idleThreadCount(), 2, 'the reuseThreads: false fit left nothing in the pool');
  assert.equal(typeof second.fitInfo?.startupMs, 'number');
  assert.equal(stateDifference(second.state, fresh.state).worst, 0);
  assert.equal(stateDifference(first.state, fresh.state).worst, 0);
  // A larger job takes the idle two and starts one more; a smaller one then uses the first of them.
  const three = await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 3 });
  assert.deepEqual(three.fitInfo?.threadIds?.slice(0, 2), firstIds);
  const one = await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 1 });
  assert.deepEqual(one.fitInfo?.threadIds, firstIds.slice(0, 1));
});

test('prewarmThreads starts idle workers that the next fit takes, and tops up to the count asked', async () => {
  await shutdownThreadPool();
  const warming = prewarmThreads(2);
  assert.equal(idleThreadCount(), 2, 'two workers idle in the pool at once, before they are online');
  const again = prewarmThreads(2);
  assert.equal(idleThreadCount(), 2, 'already two idle: none started');
  await Promise.all([warming, again]);
  const warm = await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 2 });
  const cold = await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 2, reuseThreads: false });
  assert.equal(stateDifference(warm.state, cold.state).worst, 0, 'prewarmed threads train the same model bit for bit');
  assert.equal(idleThreadCount(), 2, 'the prewarmed workers went back to the pool');
  const third = prewarmThreads(3);
  assert.equal(idleThreadCount(), 3);
  await third;
  const three = await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 3 });
  assert.deepEqual(three.fitInfo?.threadIds?.slice(0, 2), warm.fitInfo?.threadIds, 'the oldest idle workers are taken first');
  await shutdownThreadPool();
  assert.equal(idleThreadCount(), 0);
});

test('an awaited prewarmThreads resolves once its workers are online: the next fit starts with none to wait for', async () => {
  await shutdownThreadPool();
  await prewarmThreads(2);
  assert.equal(idleThreadCount(), 2);
  const fitted = await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 2 });
  assert.equal(fitted.fitInfo?.startupMs, 0, 'both workers were online before the fit began');
  await shutdownThreadPool();
});

test('configureThreadPool sets how long idle workers live: a short timeout ends them, Infinity keeps them', async () => {
  await shutdownThreadPool();
  try {
    configureThreadPool({ idleTimeoutMs: 50 });
    await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 2 });
    assert.equal(idleThreadCount(), 2);
    await sleep(400);
    assert.equal(idleThreadCount(), 0, 'terminated after 50 ms idle');
    configureThreadPool({ idleTimeoutMs: Infinity });
    await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 2 });
    await sleep(400);
    assert.equal(idleThreadCount(), 2, 'kept: no idle timeout');
    configureThreadPool({ idleTimeoutMs: 50 }); // applies to the workers idle now, too
    await sleep(400);
    assert.equal(idleThreadCount(), 0);
    for (const bad of [-1, Number.NaN]) {
      assert.throws(
        () => configureThreadPool({ idleTimeoutMs: bad }),
        (error: unknown) => error instanceof ConfigError && error.field === 'idleTimeoutMs',
      );
    }
  } finally {
    configureThreadPool({ idleTimeoutMs: IDLE_TIMEOUT_MS });
    await shutdownThreadPool();
  }
});

test("a failed fit's threads are terminated, not returned to the pool", async () => {
  await shutdownThreadPool();
  const ok = await new FaultyModel('test-throws', { faultyRank: -1 }).fit(small, { paradigm: 'threads', workers: 3, workerModules });
  const pooled = ok.fitInfo?.threadIds ?? [];
  assert.equal(idleThreadCount(), 3);
  const error = await new FaultyModel('test-throws', { faultyRank: 1 }).fit(small, { paradigm: 'threads', workers: 3, workerModules }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkerError, String(error));
  assert.equal(error.rank, 1);
  assert.equal(idleThreadCount(), 0, 'the failed fit used (and lost) the three pooled threads');
  const after = await new FaultyModel('test-throws', { faultyRank: -1 }).fit(small, { paradigm: 'threads', workers: 3, workerModules });
  assert.ok(
    (after.fitInfo?.threadIds ?? []).every((id) => !pooled.includes(id)),
    `reused a failed fit's thread: ${after.fitInfo?.threadIds} vs ${pooled}`,
  );
});

test("a pooled worker only knows the models of its own job's workerModules", async () => {
  await shutdownThreadPool();
  await new ProbeModel().fit(small, { paradigm: 'threads', workers: 2, workerModules });
  assert.equal(idleThreadCount(), 2, 'two warm workers that imported the fixture models');
  const error = await new ProbeModel().fit(small, { paradigm: 'threads', workers: 2 }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkerError, String(error));
  assert.match(error.message, /model 'test-probe' is not registered in the worker threads/);
});

test('shutdownThreadPool terminates the idle threads', async () => {
  await shutdownThreadPool();
  const baseline = await settledThreadCount();
  await createModel('linear-regression', {}).fit(regression, { paradigm: 'threads', workers: 2 });
  assert.equal(idleThreadCount(), 2);
  assert.ok(threadCount() >= baseline + 2, 'the pooled threads are alive between fits');
  await shutdownThreadPool();
  assert.equal(idleThreadCount(), 0);
  for (let i = 0; i < 50 && threadCount() > baseline; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(threadCount(), baseline);
});

test('a process with idle pooled threads exits on its own', async () => {
  const script = fileURLToPath(new URL('./fixtures/pool-fit.js', import.meta.url));
  // 15 s is under the pool's 30 s idle timeout: only unref()ed idle workers let the child exit in time.
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [script, 'run'], { timeout: 15_000 }, (error, out) => (error === null ? resolve(out) : reject(error)));
  });
  const ids = [...stdout.matchAll(/fit \d: (.*)/g)].map((match) => match[1]);
  assert.equal(ids.length, 2, stdout);
  assert.equal(ids[0], ids[1], "the second fit reused the first fit's threads");
});
