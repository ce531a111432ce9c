// The report from a small real run (sequential and threads, tiny synthetic data): a self-contained
// HTML file with the plots as inline SVG, the summary, the claims, and the results in DuckDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { loadSession, reportFromStore, runCompare } from '../../src/bench/compare.js';
import { parseMatrix } from '../../src/bench/matrix.js';
import { listRuns } from '../../src/bench/store.js';
import type { CompareEvent } from '../../src/bench/runner.js';
import { externalUrls, tinyMatrix } from './tiny.js';

test('a real comparison writes the store and a self-contained report with inline SVG plots', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-report-'));
  try {
    const dbPath = join(dir, 'results.duckdb');
    const reportPath = join(dir, 'out', 'report.html');
    const events: CompareEvent['type'][] = [];
    const outcome = await runCompare(tinyMatrix(['sequential', 'threads', 'processes']), { dbPath, reportPath, onProgress: (e) => events.push(e.type) });

    assert.equal(outcome.aborted, false);
    assert.equal(outcome.records.length, 2 * 2 * 2); // 2 models × (sequential + threads×2) × 2 repeats
    assert.ok(outcome.records.every((r) => r.status === 'ok'), outcome.records.map((r) => r.error).join('; '));
    assert.ok(outcome.skipped.some((s) => s.paradigm === 'processes'));
    assert.equal(events[0], 'start');
    assert.equal(events.at(-1), 'end');
    assert.equal(events.filter((t) => t === 'run-end').length, 8);
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
    for (const id of ['speedup-logistic-regression', 'speedup-kmeans', 'loss-logistic-regression', 'bytes', 'breakdown']) assert.match(html, new RegExp(`id="${id}"`));
    assert.deepEqual(externalUrls(html), []);
    assert.doesNotMatch(html, /<script/i);
    assert.match(html, /No distributed paradigm \(processes, cluster\) was measured/);
    assert.match(html, /id="claim-multicore-speedup"/);
    assert.match(html, /not measured yet/);
    assert.match(html, /Skipped/);

    // The stored session re-renders, and a second comparison appends to the same file.
    const again = await loadSession(dbPath);
    assert.equal(again.records.length, 8);
    await reportFromStore(dbPath, join(dir, 'again.html'));
    assert.ok((readFileSync(join(dir, 'again.html'), 'utf8').match(/<svg[\s>]/g) ?? []).length >= 6);
    await runCompare(parseMatrix({ models: [{ name: 'kmeans', params: { k: 3 } }], data: ['synthetic:blobs?rows=500&cols=3&seed=2'], paradigms: ['sequential'], repeats: 1 }), { dbPath });
    assert.equal((await listRuns(dbPath)).length, 9);
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
