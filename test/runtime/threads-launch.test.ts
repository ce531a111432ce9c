// The threads launcher's contract beyond the models' maths: one shared copy of the data cut into
// contiguous views, FitInfo (per-rank statistics, compute time, progress history), option checks,
// and workers that start under the parent's Node flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import '../../src/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { Dataset } from '../../src/data/dataset.js';
import type { FitInfo } from '../../src/models/paradigm.js';
import { PROBE_FIELDS, ProbeModel } from './fixtures/fixture-models.js';

const workerModules = [new URL('./fixtures/fixture-models.js', import.meta.url).href];
const rows = 10;
const cols = 2;
const data = new Dataset({ x: Float64Array.from({ length: rows * cols }, (_, i) => i), rows, cols, y: new Float64Array(rows) });

test('3 workers get contiguous views of one shared buffer (10 rows → 3, 3, 4)', async () => {
  const shared = data.toShared();
  const model = await new ProbeModel().fit(shared, { paradigm: 'threads', workers: 3, workerModules });
  const perRank = model.state.perRank;
  const field = (rank: number, k: number): number => perRank[rank * PROBE_FIELDS + k]!;
  assert.deepEqual(
    [0, 1, 2].map((r) => field(r, 0)),
    [3, 3, 4],
    'rows per rank: ⌊r·n/N⌋ bounds',
  );
  assert.deepEqual(
    [0, 1, 2].map((r) => field(r, 1)),
    [0, 3 * cols, 6 * cols],
    'each shard starts where the previous ended',
  );
  for (let rank = 0; rank < 3; rank++) {
    assert.equal(field(rank, 4), 1, `rank ${rank} reads shared memory`);
    assert.equal(field(rank, 3), shared.x.buffer.byteLength, `rank ${rank} sees the whole buffer: a view, not a copy`);
    assert.equal(field(rank, 2), shared.x.byteOffset + field(rank, 1) * 8, `rank ${rank}'s view starts at its first row`);
  }
});

test('FitInfo reports every rank: communication, compute time and rank 0 progress', async () => {
  const events: { iteration: number; elapsedMs: number }[] = [];
  const model = await new ProbeModel().fit(data, {
    paradigm: 'threads',
    workers: 2,
    workerModules,
    onProgress: (event) => events.push(event),
  });
  const info = model.fitInfo as FitInfo;
  assert.equal(info.paradigm, 'threads');
  assert.equal(info.workers, 2);
  assert.equal(info.strategy, 'allreduce');
  assert.ok(info.seconds > 0);
  assert.equal(info.comm.length, 2);
  for (const stats of info.comm) {
    assert.equal(stats.collectives, 1, 'one all-reduce');
    assert.ok(stats.bytesSent > 0 && stats.bytesReceived > 0);
  }
  assert.equal(info.computeMs?.length, 2);
  for (const ms of info.computeMs ?? []) assert.ok(ms >= 0);
  // Linux reports each thread's CPU time (this machine is Linux; elsewhere the field is absent).
  assert.equal(info.cpuMs?.length, 2);
  for (const ms of info.cpuMs ?? []) assert.ok(Number.isFinite(ms) && ms >= 0);
  assert.deepEqual(
    info.history.map((event) => event.iteration),
    [1, 2, 3],
    'rank 0 only: no duplicate events from rank 1',
  );
  assert.deepEqual(
    events.map((event) => event.iteration),
    [1, 2, 3],
  );
  const elapsed = info.history.map((event) => event.elapsedMs);
  assert.ok(
    elapsed.every((ms, i) => ms >= 0 && (i === 0 || ms >= elapsed[i - 1]!)),
    `elapsed ${elapsed}`,
  );
});

test('bad options are refused before any thread starts', async () => {
  const refuse = (options: object, field: string, pattern: RegExp): Promise<void> =>
    assert.rejects(
      new ProbeModel().fit(data, { paradigm: 'threads', ...options }),
      (error: unknown) => error instanceof ConfigError && error.field === field && pattern.test(error.message),
    );
  await refuse({ workers: 0 }, 'workers', /positive integer, got 0/);
  await refuse({ workers: 11 }, 'workers', /workers=11 exceeds the 10 rows/);
  await refuse({ workers: 2, strategy: 'gossip' }, 'strategy', /unknown strategy 'gossip'.*allreduce, hogwild/);
  await refuse({ workers: 2, timeoutMs: -1 }, 'timeoutMs', /positive/);
});

test("workers start under the parent's flags, skipping the main-script and V8-only ones", async () => {
  const entry = new URL('../../src/index.js', import.meta.url).href;
  const script = `
    const { createModel, Dataset } = await import(${JSON.stringify(entry)});
    const data = new Dataset({ x: Float64Array.from({ length: 40 }, (_, i) => i % 7), rows: 20, cols: 2, y: Float64Array.from({ length: 20 }, (_, i) => i) });
    const model = await createModel('linear-regression', {}).fit(data, { paradigm: 'threads', workers: 2 });
    console.log('ok', model.fitInfo.workers);`;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--no-liftoff', '--input-type=module', '-e', script], { timeout: 15_000 }, (error, out, err) =>
      error === null ? resolve(out) : reject(new Error(`${error.message}\n${err}`)),
    );
  });
  assert.match(stdout, /ok 2/);
});
