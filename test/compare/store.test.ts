// The results store against a real DuckDB file in a temp dir: rows round-trip, a second open
// appends, exports parse back, a file from a newer schema is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ConfigError } from '../../src/core/errors.js';
import '../../src/index.js';
import { ResultsStore, SCHEMA_VERSION, csvCell, exportRuns, exportRunsParquet, listRuns } from '../../src/compare/store.js';
import { record, session } from './records.js';
import { extensionSettingsOf } from './extension-settings.js';

function tempDb(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-store-'));
  return { path: join(dir, 'results.duckdb'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('runs and their history round-trip through a DuckDB file, and a second open appends', async () => {
  const { path, cleanup } = tempDb();
  try {
    const first = record({
      paradigm: 'sequential',
      wallSeconds: 1.25,
      params: { k: 3 },
      metrics: { inertia: 12.5 },
      timeToTargetMs: null,
      error: null,
    });
    const second = record({
      paradigm: 'threads',
      workers: 2,
      wallSeconds: 0.75,
      bytesSent: 4096,
      messagesSent: 8,
      status: 'failed',
      error: 'worker rank 1 failed: "quoted", with comma',
    });
    let store = await ResultsStore.open(path);
    await store.writeSession(session());
    await store.writeRun(first, session());
    first.speedup = 1;
    first.efficiency = 1;
    await store.updateSpeedups([first]);
    store.close();

    store = await ResultsStore.open(path);
    assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
    await store.writeRun(second, session());
    store.close();

    const runs = await listRuns(path);
    assert.equal(runs.length, 2);
    const [a, b] = runs;
    for (const [stored, original] of [
      [a!, first],
      [b!, second],
    ] as const) {
      for (const key of Object.keys(original) as (keyof typeof original)[]) {
        if (key === 'history') continue;
        assert.deepEqual(stored[key], original[key], `field ${key}`);
      }
      assert.deepEqual(stored.history, original.history);
      assert.equal(stored.config.model, original.model);
      assert.equal(stored.gitCommit, session().code.gitCommit);
      assert.equal(typeof stored.host.cpus, 'number');
    }
    assert.equal((await listRuns(path, { paradigm: 'threads' })).length, 1);
    assert.equal((await listRuns(path, { limit: 1 }))[0]!.runId, second.runId);
  } finally {
    cleanup();
  }
});

test('exports: CSV with one line per run (quoted where needed) and JSON with history', async () => {
  const { path, cleanup } = tempDb();
  try {
    const store = await ResultsStore.open(path);
    const ok = record({ paradigm: 'sequential', wallSeconds: 1 });
    const failed = record({ paradigm: 'threads', workers: 2, wallSeconds: 0.5, status: 'failed', error: 'a "b", c' });
    await store.writeRun(ok, session());
    await store.writeRun(failed, session());
    store.close();
    const csv = (await exportRuns(path, 'csv')).trimEnd().split('\n');
    assert.equal(csv.length, 3);
    assert.ok(csv[0]!.startsWith('runId,sessionId,startedAt,cellId,model,'));
    assert.ok(csv[2]!.includes('"a ""b"", c"'));
    const json = JSON.parse(await exportRuns(path, 'json')) as { runId: string; history: unknown[] }[];
    assert.deepEqual(
      json.map((r) => r.runId),
      [ok.runId, failed.runId],
    );
    assert.equal(csv[1]!.split(',')[0], ok.runId);
    assert.equal(json[0]!.history.length, 2);
    assert.equal(csvCell(NaN), '');
    assert.equal(csvCell({ a: 1 }), '"{""a"":1}"');
  } finally {
    cleanup();
  }
});

test('a version-1 file is migrated in place and its old rows stay readable', async () => {
  const { path, cleanup } = tempDb();
  try {
    const old = record({ paradigm: 'sequential', wallSeconds: 2 });
    const store = await ResultsStore.open(path);
    await store.writeRun(old, session());
    store.close();
    // Make it the version-1 layout: no setup_bytes column (nor version 3's network, version 4's rank_peak_rss_bytes, version 5's compression, version 6's stage_memory, version 7's compare_federated, version 8's fault_runs, version 9's startup_ms).
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(
      `ALTER TABLE runs DROP COLUMN setup_bytes; ALTER TABLE runs DROP COLUMN network; ALTER TABLE runs DROP COLUMN rank_peak_rss_bytes; ALTER TABLE runs DROP COLUMN compression; ALTER TABLE runs DROP COLUMN stage_memory; ALTER TABLE runs DROP COLUMN startup_ms; DROP TABLE compare_federated; UPDATE meta SET value = '1' WHERE key = 'schema_version'`,
    );
    connection.closeSync();
    instance.closeSync();

    const migrated = await ResultsStore.open(path);
    assert.equal(await migrated.schemaVersion(), SCHEMA_VERSION);
    await migrated.writeRun(
      record({
        paradigm: 'processes',
        workers: 2,
        wallSeconds: 1,
        setupBytes: 4096,
        network: 'wan',
        rankPeakRssBytes: 7e7,
        stageMemory: [
          {
            stage: 0,
            layers: [0, 2],
            parameters: 10,
            parameterBytes: 320,
            activationValuesPerRow: 5,
            peakMicroBatches: 4,
            activationBytes: 640,
          },
        ],
        compression: 'topk16:0.01',
        startupMs: 412.5,
      }),
      session(),
    );
    const runs = await migrated.listRuns();
    migrated.close();
    assert.deepEqual(
      runs.map((r) => [
        r.wallSeconds,
        r.setupBytes,
        r.network,
        r.rankPeakRssBytes,
        r.compression,
        r.stageMemory?.[0]?.activationBytes ?? null,
        r.startupMs,
      ]),
      [
        [2, 0, 'loopback', null, 'none', null, null],
        [1, 4096, 'wan', 7e7, 'topk16:0.01', 640, 412.5],
      ],
    );
  } finally {
    cleanup();
  }
});

test('a version-8 file gains startup_ms: old rows read null, new rows keep the start-up the paradigm timed', async () => {
  const { path, cleanup } = tempDb();
  try {
    const store = await ResultsStore.open(path);
    await store.writeRun(record({ paradigm: 'threads', workers: 2, wallSeconds: 2, startupMs: 7 }), session());
    store.close();
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`ALTER TABLE runs DROP COLUMN startup_ms; UPDATE meta SET value = '8' WHERE key = 'schema_version'`);
    connection.closeSync();
    instance.closeSync();

    const migrated = await ResultsStore.open(path);
    assert.equal(await migrated.schemaVersion(), 9);
    await migrated.writeRun(record({ paradigm: 'processes', workers: 2, wallSeconds: 3, startupMs: 850.25 }), session());
    await migrated.writeRun(record({ paradigm: 'sequential', wallSeconds: 4, startupMs: null }), session());
    const runs = await migrated.listRuns();
    migrated.close();
    assert.deepEqual(
      runs.map((r) => [r.paradigm, r.startupMs]),
      [
        ['threads', null],
        ['processes', 850.25],
        ['sequential', null],
      ],
    );
  } finally {
    cleanup();
  }
});

test('a database written by a newer schema is refused with what to do', async () => {
  const { path, cleanup } = tempDb();
  try {
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(
      `CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR); INSERT INTO meta VALUES ('schema_version', '${SCHEMA_VERSION + 1}')`,
    );
    connection.closeSync();
    instance.closeSync();
    await assert.rejects(
      ResultsStore.open(path),
      (e: unknown) =>
        e instanceof ConfigError &&
        new RegExp(`schema version ${SCHEMA_VERSION + 1}`).test(e.message) &&
        /upgrade shardlearn/.test(e.message),
    );
  } finally {
    cleanup();
  }
});

test('a reader given a mistyped path fails naming it and creates no file, no folder', async () => {
  const { path, cleanup } = tempDb();
  try {
    const typo = join(path, '..', 'typo', 'results.duckdb');
    await assert.rejects(
      listRuns(typo),
      (e: unknown) => e instanceof ConfigError && e.field === 'db' && e.message.includes(typo) && /does not exist/.test(e.message),
    );
    await assert.rejects(exportRuns(typo, 'csv'), (e: unknown) => e instanceof ConfigError && e.message.includes(typo));
    assert.equal(existsSync(join(path, '..', 'typo')), false);
    assert.equal(existsSync(path), false);
  } finally {
    cleanup();
  }
});

test('non-file database specs are refused before DuckDB sees them, and extension auto-install/auto-load are off', async () => {
  for (const spec of ['md:my_db', 'md:', 's3://bucket/results.duckdb', 'http://example.com/r.duckdb']) {
    await assert.rejects(
      ResultsStore.open(spec),
      (e: unknown) => e instanceof ConfigError && e.field === 'db' && e.message.includes(`'${spec}'`) && /not a local file/.test(e.message),
      spec,
    );
  }
  const { path, cleanup } = tempDb();
  try {
    const store = await ResultsStore.open(path);
    try {
      assert.deepEqual(await extensionSettingsOf(store), [{ install: false, load: false }]);
    } finally {
      store.close();
    }
  } finally {
    cleanup();
  }
});

test('Parquet export: the runs read back (with a filter), a quote in a value or path is no injection, a bad folder is a FileError', async () => {
  const { path, cleanup } = tempDb();
  try {
    const store = await ResultsStore.open(path);
    const ok = record({ paradigm: 'sequential', wallSeconds: 1.5 });
    const threads = record({ paradigm: 'threads', workers: 2, wallSeconds: 0.5, error: "it's" });
    await store.writeRun(ok, session());
    await store.writeRun(threads, session());
    store.close();
    const out = join(path, '..', "runs o'neil.parquet");
    await exportRunsParquet(path, out);
    const reader = await DuckDBInstance.create(':memory:');
    const connection = await reader.connect();
    const read = async (file: string): Promise<Record<string, unknown>[]> =>
      (
        await connection.runAndReadAll(
          `SELECT run_id, paradigm, wall_seconds, error, workers FROM read_parquet('${file.replace(/'/g, "''")}')`,
        )
      ).getRowObjectsJS();
    assert.deepEqual(
      (await read(out)).map((r) => [r.run_id, r.paradigm, r.wall_seconds, r.error, r.workers]),
      [
        [ok.runId, 'sequential', 1.5, null, 1],
        [threads.runId, 'threads', 0.5, "it's", 2],
      ],
    );
    const filtered = join(path, '..', 'threads.parquet');
    await exportRunsParquet(path, filtered, { paradigm: "threads' OR '1'='1" });
    assert.equal((await read(filtered)).length, 0, 'a quote in a filter value is a value, not SQL');
    await exportRunsParquet(path, filtered, { paradigm: 'threads' });
    assert.deepEqual(
      (await read(filtered)).map((r) => r.run_id),
      [threads.runId],
    );
    connection.closeSync();
    reader.closeSync();
    await assert.rejects(
      exportRunsParquet(path, join(path, '..', 'no-such-folder', 'x.parquet')),
      (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'FILE' && /no-such-folder/.test(e.message),
    );
  } finally {
    cleanup();
  }
});
