// A tampered results database cannot inject markup into `shardlearn report`: every stored field
// (session, matrix, host, code version, skipped cells, every text column of every run) holds a
// hostile string, and none of them reaches the HTML unescaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { reportFromStore } from '../../src/compare/compare.js';
import type { RunRecord, Session } from '../../src/compare/record.js';
import { ResultsStore } from '../../src/compare/store.js';
import { record, session } from './records.js';

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(2)>',
  '</style><script>alert(3)</script>',
  "' onmouseover='alert(4)",
  '</title><svg onload=alert(5)>',
  'ünïcødé \u202e\u2028 🚀 <b>',
];
/** A different hostile string for each field, so a leak names the field it came through. */
let next = 0;
const hostile = (field: string): string => `${HOSTILE[next++ % HOSTILE.length]!}#${field}`;

function hostileSession(): Session {
  const base = session('<script>session</script>');
  const matrix = {
    ...base.matrix,
    name: hostile('matrix.name'),
    repeats: hostile('matrix.repeats'),
    seed: hostile('matrix.seed'),
    testFraction: hostile('matrix.testFraction'),
    warmup: hostile('matrix.warmup'),
    models: [{ name: hostile('matrix.models.name'), params: { [hostile('param key')]: hostile('param value') } }],
  };
  const host = {
    hostname: hostile('host.hostname'),
    platform: hostile('host.platform'),
    release: hostile('host.release'),
    cpuModel: hostile('host.cpuModel'),
    cpus: hostile('host.cpus'),
    totalMemoryBytes: hostile('host.totalMemoryBytes'),
    nodeVersion: hostile('host.nodeVersion'),
  };
  return {
    sessionId: base.sessionId,
    startedAt: base.startedAt,
    matrix: matrix as unknown as Session['matrix'],
    code: { packageVersion: hostile('code.packageVersion'), gitCommit: hostile('code.gitCommit') },
    host: host as unknown as Session['host'],
  };
}

function hostileRun(
  paradigm: 'sequential' | 'threads' | 'processes',
  workers: number,
  status: 'ok' | 'failed',
  wallSeconds: number,
): RunRecord {
  return record({
    paradigm,
    workers,
    wallSeconds,
    sessionId: '<script>session</script>',
    runId: hostile('runId'),
    model: hostile('model'),
    modelKind: hostile('modelKind'),
    data: hostile('data'),
    strategy: hostile('strategy') as RunRecord['strategy'],
    network: hostile('network'),
    status,
    error: status === 'failed' ? hostile('error') : null,
    scoreName: hostile('scoreName'),
    params: { [hostile('params key')]: hostile('params value') },
    metrics: { [hostile('metrics key')]: 0.5 },
    cellId: hostile('cellId'),
    bytesSent: 1000,
    commMs: 1,
  });
}

test('every stored field of a tampered database is escaped in the report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-report-escape-'));
  try {
    const dbPath = join(dir, 'results.duckdb');
    const bad = hostileSession();
    const store = await ResultsStore.open(dbPath);
    const runs = [
      hostileRun('sequential', 1, 'ok', 2),
      hostileRun('sequential', 1, 'ok', 2.2),
      hostileRun('threads', 2, 'ok', 1.1),
      hostileRun('processes', 2, 'ok', 1.5),
      hostileRun('threads', 2, 'failed', 0),
    ];
    // Same model and data on every run, so the summary, speedups, charts and crossover all draw from them.
    for (const run of runs) Object.assign(run, { model: runs[0]!.model, data: runs[0]!.data, scoreName: runs[0]!.scoreName });
    await store.writeSession(
      bad,
      [
        {
          model: hostile('skipped.model'),
          data: hostile('skipped.data'),
          paradigm: hostile('skipped.paradigm') as 'threads',
          workers: 2,
          strategy: hostile('skipped.strategy') as 'allreduce',
          reason: hostile('skipped.reason'),
        },
      ],
      false,
    );
    for (const run of runs) await store.writeRun(run, bad);
    store.close();

    const reportPath = join(dir, 'report.html');
    await reportFromStore(dbPath, reportPath, bad.sessionId);
    const html = readFileSync(reportPath, 'utf8');
    // Markup the page never writes itself: none may appear.
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<img/i);
    assert.doesNotMatch(html, /<svg onload/i);
    assert.doesNotMatch(html, /<b>/);
    assert.equal(html.match(/<\/style>/g)?.length, 1, "only the page's own </style>");
    assert.equal(html.match(/<\/title>/g)?.length, 1, "only the page's own </title>");
    assert.doesNotMatch(html, /' onmouseover='/, 'a single quote cannot open an attribute');
    // The hostile text is shown, escaped, so a reader sees what the database holds.
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;#'), 'escaped text is present');
    assert.ok(html.includes('ünïcødé'), 'unicode text survives');
    for (const field of [
      'matrix.name',
      'host.cpuModel',
      'host.cpus',
      'host.totalMemoryBytes',
      'matrix.repeats',
      'matrix.seed',
      'code.gitCommit',
      'skipped.reason',
      'error',
    ]) {
      assert.ok(html.includes(`#${field}`), `field ${field} is shown`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
