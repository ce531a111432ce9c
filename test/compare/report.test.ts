// The report from a small real run (sequential and threads, tiny synthetic data): a self-contained
// HTML file with the plots as inline SVG, the summary, the claims, and the results in DuckDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { availableParadigms } from '../../src/models/paradigm.js';
import { loadSession, reportFromStore, runCompare } from '../../src/compare/compare.js';
import { parseMatrix } from '../../src/compare/matrix.js';
import { listRuns } from '../../src/compare/store.js';
import type { CompareEvent } from '../../src/compare/runner.js';
import { externalUrls, tinyMatrix } from './tiny.js';

test('a real comparison writes the store and a self-contained report with inline SVG plots', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-report-'));
  try {
    const dbPath = join(dir, 'results.duckdb');
    const reportPath = join(dir, 'out', 'report.html');
    const events: CompareEvent['type'][] = [];
    const outcome = await runCompare(tinyMatrix(['sequential', 'threads', 'processes'], 1), {
      dbPath,
      reportPath,
      onProgress: (e) => events.push(e.type),
    });

    const distributed = availableParadigms().includes('processes');
    const runs = 2 * (distributed ? 3 : 2); // 2 models × (sequential + threads×2 [+ processes×2]), 1 repeat
    assert.equal(outcome.aborted, false);
    assert.equal(outcome.records.length, runs);
    assert.ok(
      outcome.records.every((r) => r.status === 'ok'),
      outcome.records.map((r) => r.error).join('; '),
    );
    assert.equal(
      outcome.skipped.some((s) => s.paradigm === 'processes'),
      !distributed,
    );
    assert.equal(events[0], 'start');
    assert.equal(events.at(-1), 'end');
    assert.equal(events.filter((t) => t === 'run-end').length, runs);
    assert.ok(events.includes('fit-progress'));
    const threads = outcome.records.find((r) => r.paradigm === 'threads' && r.model === 'logistic-regression')!;
    assert.ok(threads.bytesSent > 0, 'two workers all-reduce gradients');
    assert.ok(threads.speedup !== null && threads.speedup > 0);
    assert.ok(threads.timeToTargetMs !== null, 'a loss target of 10 is reached at the first report');
    assert.equal(threads.score! > 0.7, true, `accuracy ${threads.score}`);
    assert.match(outcome.table, /logistic-regression .* threads×2 allreduce/);

    // The store holds the same runs, speedups included.
    const stored = await listRuns(dbPath);
    assert.deepEqual(stored.map((r) => r.runId).sort(), outcome.records.map((r) => r.runId).sort());
    assert.ok(stored.filter((r) => r.paradigm === 'threads').every((r) => r.speedup !== null));

    const html = readFileSync(reportPath, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    const svgs = html.match(/<svg[\s>]/g) ?? [];
    assert.ok(svgs.length >= 6, `expected speedup ×2, loss ×2, bytes, breakdown SVGs; found ${svgs.length}`);
    for (const id of ['speedup-logistic-regression', 'speedup-kmeans', 'loss-logistic-regression', 'bytes', 'breakdown'])
      assert.match(html, new RegExp(`id="${id}"`));
    assert.deepEqual(externalUrls(html), []);
    assert.doesNotMatch(html, /<script/i);
    if (distributed) {
      const processes = outcome.records.find((r) => r.paradigm === 'processes' && r.model === 'logistic-regression')!;
      assert.ok(processes.bytesSent > 0, 'TCP workers all-reduce gradients');
      assert.ok(processes.setupBytes > 0, 'in-memory shards are shipped to the children before training');
      assert.match(html, /Distributed was measured, but not beside threads at two or more data sizes/);
      assert.match(html, /id="claim-parallel-wins-small"[^]*?class="verdict-(supported|contradicted)"/);
    } else {
      assert.match(html, /No distributed paradigm \(processes, cluster\) was measured/);
      assert.match(html, /Skipped/);
    }
    assert.match(html, /id="claim-multicore-speedup"/);
    assert.match(html, /not measured yet/);

    // The stored session re-renders, and a second comparison appends to the same file.
    const again = await loadSession(dbPath);
    assert.equal(again.records.length, runs);
    await reportFromStore(dbPath, join(dir, 'again.html'));
    assert.ok((readFileSync(join(dir, 'again.html'), 'utf8').match(/<svg[\s>]/g) ?? []).length >= 6);
    await runCompare(
      parseMatrix({
        models: [{ name: 'kmeans', params: { k: 3 } }],
        data: ['synthetic:blobs?rows=500&cols=3&seed=2'],
        paradigms: ['sequential'],
        repeats: 1,
      }),
      { dbPath },
    );
    assert.equal((await listRuns(dbPath)).length, runs + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an aborted comparison stops early and keeps what it measured', async () => {
  const controller = new AbortController();
  const outcome = await runCompare(tinyMatrix(['sequential']), {
    onProgress: (e) => {
      if (e.type === 'run-end' && e.runIndex === 1) controller.abort();
    },
    signal: controller.signal,
  });
  assert.equal(outcome.aborted, true);
  assert.equal(outcome.records.length, 1);
  assert.equal(outcome.records[0]!.status, 'ok');
});

test('an abort during a threads fit abandons that fit and returns at once, recording nothing for it', async () => {
  const controller = new AbortController();
  const matrix = parseMatrix({
    models: [{ name: 'logistic-regression', params: { solver: 'sgd', epochs: 50 } }],
    data: ['synthetic:classification?rows=20000&cols=10&seed=1'],
    paradigms: ['threads'],
    workers: [2],
    repeats: 1,
    warmup: false,
  });
  const outcome = await runCompare(matrix, {
    onProgress: (e) => {
      if (e.type === 'fit-progress' && e.event.iteration === 1) controller.abort();
    },
    signal: controller.signal,
  });
  assert.equal(outcome.aborted, true);
  assert.deepEqual(outcome.records, []);
});
