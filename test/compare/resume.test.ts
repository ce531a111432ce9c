// An interrupted comparison resumes: the same session, the stored (cell, repeat) runs not run again,
// the missing ones run, and the database ends with each exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { loadSession, resumeCompare, runCompare } from '../../src/compare/compare.js';
import { parseMatrix } from '../../src/compare/matrix.js';

test('stop after 3 runs, resume: the other runs are added to the same session, none twice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-resume-'));
  try {
    const dbPath = join(dir, 'r.duckdb');
    const matrix = parseMatrix({
      name: 'resume',
      models: [{ name: 'kmeans', params: { k: 2 }, data: ['synthetic:blobs?rows=400&cols=3&centers=2&seed=1'] }],
      paradigms: ['sequential', 'threads'],
      workers: [2],
      repeats: 2,
      warmup: false,
    });
    const controller = new AbortController();
    let ended = 0;
    const first = await runCompare(matrix, {
      dbPath,
      reportPath: null,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type === 'run-end' && ++ended === 3) controller.abort();
      },
    });
    assert.equal(first.aborted, true);
    assert.equal(first.records.length, 3);
    const started: string[] = [];
    const resumed = await resumeCompare(dbPath, {
      reportPath: null,
      onProgress: (event) => event.type === 'run-start' && started.push(`${event.cell.paradigm}#${event.repeat}`),
    });
    assert.equal(resumed.aborted, false);
    // 2 cells × 2 repeats; runs 1–3 were stored, so only the 4th (threads, repeat 2) runs now
    assert.deepEqual(started, ['threads#1']);
    assert.equal(resumed.session.sessionId, first.session.sessionId);
    const stored = await loadSession(dbPath);
    assert.equal(stored.session.sessionId, first.session.sessionId);
    assert.equal(stored.aborted, false);
    const keys = stored.records.map((r) => `${r.cellId}#${r.repeat}`);
    assert.equal(keys.length, 4);
    assert.equal(new Set(keys).size, 4);
    // the resumed summary has both sequential repeats as the baseline of the threads cell
    assert.ok(resumed.summary.find((c) => c.paradigm === 'threads')!.speedup !== null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
