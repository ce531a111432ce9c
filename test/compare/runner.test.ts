// The runner keeps going when a cell cannot run: a fit that fails on configuration is recorded once
// and its other repeats skipped; data that cannot be loaded skips its cells; the rest still runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { parseMatrix } from '../../src/compare/matrix.js';
import { runMatrix } from '../../src/compare/runner.js';
import { shutdownProcessPool } from '../../src/runtime/index.js';
import { idleProcessPids } from '../../src/runtime/process-pool.js';

test('failing and unloadable cells are recorded or skipped, and the other cells still run', async () => {
  const matrix = parseMatrix({
    models: [
      { name: 'kmeans', params: { k: 40 }, data: ['synthetic:blobs?rows=30&cols=2&seed=1'] },
      { name: 'kmeans', params: { k: 2 }, data: ['synthetic:blobs?rows=60&cols=2&centers=2&seed=1', 'synthetic:nonsense?rows=10'] },
    ],
    paradigms: ['sequential'],
    repeats: 3,
    warmup: false,
  });
  const result = await runMatrix(matrix, {});
  const failed = result.records.filter((r) => r.status === 'failed');
  assert.equal(failed.length, 1, 'a configuration failure is not repeated');
  assert.match(failed[0]!.error!, /k = 40 clusters needs at least 40 rows/);
  assert.ok(result.skipped.some((s) => /k = 40/.test(s.reason)));
  assert.ok(result.skipped.some((s) => s.data.includes('nonsense') && /could not be loaded/.test(s.reason)));
  const ok = result.records.filter((r) => r.status === 'ok');
  assert.equal(ok.length, 3);
  assert.ok(ok.every((r) => r.params.k === 2 && r.score !== null && r.scoreName === 'inertia'));
  assert.deepEqual(
    ok.map((r) => r.repeat),
    [0, 1, 2],
  );
});

test('each rank reports its peak RSS: a processes rank its own process, a threads rank the shared launcher process', async () => {
  const matrix = parseMatrix({
    models: [{ name: 'kmeans', params: { k: 2 }, data: ['synthetic:blobs?rows=2000&cols=4&centers=2&seed=1'] }],
    paradigms: ['threads', 'processes'],
    workers: [2],
    repeats: 1,
    warmup: false,
  });
  // The launcher holds 400 MB more than any rank needs: a child rank must not report it as its own
  // (Linux's maxRSS carries the parent's peak across fork + exec; this failed with maxRSS).
  const ballast = Buffer.alloc(400e6, 1);
  const result = await runMatrix(matrix, {});
  assert.equal(ballast[ballast.length - 1], 1);
  const byParadigm = new Map(result.records.map((r) => [r.paradigm, r]));
  const processes = byParadigm.get('processes')!;
  const threads = byParadigm.get('threads')!;
  assert.equal(processes.status, 'ok', processes.error ?? '');
  assert.equal(threads.status, 'ok', threads.error ?? '');
  // A Node process holds at least ~20 MB resident; no rank of this tiny fit comes near 2 GB.
  for (const r of [processes, threads])
    assert.ok(r.rankPeakRssBytes !== null && r.rankPeakRssBytes > 20e6 && r.rankPeakRssBytes < 2e9, `${r.paradigm}: ${r.rankPeakRssBytes}`);
  // A child process is not the launcher: its peak is its own figure, well under the launcher's 400 MB ballast.
  assert.ok(processes.rankPeakRssBytes! < 300e6, `processes rank: ${processes.rankPeakRssBytes}`);
  assert.ok(processes.peakRssBytes > 400e6, `launcher: ${processes.peakRssBytes}`);
  // A thread rank read the launcher's peak during the fit; the launcher read it again after: never lower.
  assert.ok(threads.rankPeakRssBytes! <= threads.peakRssBytes, `${threads.rankPeakRssBytes} <= ${threads.peakRssBytes}`);
  // Start-up as the paradigm timed it (FitInfo.startupMs) is recorded: a process rank is forked,
  // loads the library and receives its rows before training, within the run's wall time.
  assert.ok(processes.startupMs !== null && processes.startupMs > 0, `processes start-up: ${processes.startupMs}`);
  assert.ok(processes.startupMs < processes.wallSeconds * 1000, `${processes.startupMs} ms within ${processes.wallSeconds} s`);
  assert.ok(threads.startupMs !== null && threads.startupMs >= 0, `threads start-up: ${threads.startupMs}`);
});

test("processes cells run on the warm process pool: repeats after the first reuse its children", async () => {
  await shutdownProcessPool();
  const matrix = parseMatrix({
    models: [{ name: 'logistic-regression', params: { solver: 'sgd', epochs: 1 }, data: ['synthetic:classification?rows=1000&cols=4&seed=1'] }],
    paradigms: ['processes'],
    workers: [2],
    repeats: 2,
    warmup: false,
  });
  const result = await runMatrix(matrix, {});
  assert.deepEqual(
    result.records.map((r) => r.status),
    ['ok', 'ok'],
  );
  assert.equal(idleProcessPids().length, 2, 'both repeats ran on the same two pooled children, now idle');
  await shutdownProcessPool();
  assert.deepEqual(idleProcessPids(), []);
});
