// The threads launcher's failure contract: a throwing worker ends the run at once with its rank and
// original stack; a silent worker is named after timeoutMs; and after either no thread is left
// (counted in /proc/self/task: a failed fit's workers are terminated, never pooled) and a process
// that only ran a failed fit exits on its own.
import { settledThreadCount, threadCount } from './thread-count.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '../../src/index.js';
import { CommError, WorkerError } from '../../src/core/errors.js';
import { shutdownThreadPool } from '../../src/runtime/index.js';
import { Dataset } from '../../src/data/dataset.js';
import { FaultyModel } from './fixtures/fixture-models.js';

const workerModules = [new URL('./fixtures/fixture-models.js', import.meta.url).href];
const data = new Dataset({ x: Float64Array.from({ length: 60 }, (_, i) => i), rows: 60, cols: 1 });

async function settle(): Promise<void> {
  // Terminated threads are joined asynchronously; give them a moment to leave /proc.
  for (let i = 0; i < 50 && threadCount() > baseline; i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

let baseline = 0;

test('a successful threads run leaves no thread behind once the pool is shut down (baseline)', async () => {
  // Warm up once: Node starts some of its own helper threads lazily on first use.
  await new FaultyModel('test-throws', { faultyRank: -1 }).fit(data, { paradigm: 'threads', workers: 3, workerModules });
  await shutdownThreadPool();
  baseline = await settledThreadCount();
  const model = await new FaultyModel('test-throws', { faultyRank: -1 }).fit(data, { paradigm: 'threads', workers: 3, workerModules });
  assert.deepEqual(model.state, { rows: 60 });
  await shutdownThreadPool(); // the successful fit's 3 workers were pooled for the next fit
  await settle();
  assert.equal(threadCount(), baseline);
});

test('a worker that throws fails the run promptly with a WorkerError naming its rank and stack', async () => {
  const started = performance.now();
  const error = await new FaultyModel('test-throws', { faultyRank: 2 })
    .fit(data, { paradigm: 'threads', workers: 3, workerModules, timeoutMs: 30_000 })
    .then(
      () => null,
      (e: unknown) => e,
    );
  const elapsedMs = performance.now() - started;
  assert.ok(error instanceof WorkerError, String(error));
  assert.equal(error.rank, 2);
  assert.equal(error.code, 'WORKER_FAILED');
  assert.match(error.message, /worker rank 2 failed: deliberate failure on rank 2/);
  assert.ok(error.cause instanceof Error);
  assert.equal(error.cause.name, 'RangeError');
  assert.match(error.cause.stack ?? '', /fixture-models\.js/, 'the original stack points into the worker code');
  // The peers were waiting in an all-reduce with a 30 s timeout: only the abort can free them this soon.
  assert.ok(elapsedMs < 15_000, `took ${elapsedMs} ms`);
  await settle();
  assert.equal(threadCount(), baseline);
});

test('a silent worker is named by its waiting peers after timeoutMs', async () => {
  const error = await new FaultyModel('test-silent', { faultyRank: 1 })
    .fit(data, { paradigm: 'threads', workers: 3, workerModules, timeoutMs: 600 })
    .then(
      () => null,
      (e: unknown) => e,
    );
  assert.ok(error instanceof CommError, String(error));
  assert.equal(error.code, 'TIMEOUT');
  assert.equal(error.rank, 1);
  assert.match(error.message, /waited 600 ms in allReduce for rank 1, which never answered/);
  await settle();
  assert.equal(threadCount(), baseline, 'the blocked thread was terminated too');
});

test('a lone silent worker (nobody to wait for it) is caught by the watchdog', async () => {
  const error = await new FaultyModel('test-silent', { faultyRank: 0 })
    .fit(data, { paradigm: 'threads', workers: 1, workerModules, timeoutMs: 400 })
    .then(
      () => null,
      (e: unknown) => e,
    );
  assert.ok(error instanceof CommError, String(error));
  assert.equal(error.code, 'TIMEOUT');
  assert.equal(error.rank, 0);
  assert.match(error.message, /no worker made progress for 400 ms; rank 0 stopped answering/);
  await settle();
  assert.equal(threadCount(), baseline);
});

test('a model the workers do not know is reported with the way to register it', async () => {
  const error = await new FaultyModel('test-throws', {}).fit(data, { paradigm: 'threads', workers: 2 }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkerError, String(error));
  assert.match(error.message, /model 'test-throws' is not registered in the worker threads.*workerModules/);
});

for (const model of ['test-throws', 'test-silent']) {
  test(`a process whose only fit failed (${model}) exits on its own`, async () => {
    const script = fileURLToPath(new URL('./fixtures/failing-fit.js', import.meta.url));
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      execFile(process.execPath, [script, 'run', model], { timeout: 15_000 }, (error, out) =>
        error === null ? resolve({ stdout: out }) : reject(error),
      );
    });
    assert.match(
      stdout,
      model === 'test-throws'
        ? /failed: worker rank 1 failed: deliberate failure/
        : /failed: rank \d waited 500 ms in allReduce for rank 1/,
    );
  });
}
