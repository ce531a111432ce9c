// The processes paradigm runs over ZeroMQ's local path (src/comm/zmq/local.ts): while it trains, its
// ranks' ipc:// sockets sit in one fresh folder of mode 0700 under the temp folder, and the folder is
// gone when the fit returns, and when it fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import { createModel } from '../../src/models/registry.js';
import { onTmpfs } from '../../src/comm/zmq/lane-files.js';

/** Run `body` with TMPDIR set to a fresh folder; every sighting of a sub-folder (name, mode, entries) is recorded. */
async function watchingTmp(
  body: () => Promise<void>,
): Promise<{ seen: Map<string, { mode: number; entries: Set<string> }>; left: string[] }> {
  const previous = process.env['TMPDIR'];
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-tmpdir-test-'));
  process.env['TMPDIR'] = dir;
  const seen = new Map<string, { mode: number; entries: Set<string> }>();
  const look = (): void => {
    for (const name of readdirSync(dir)) {
      try {
        const entry = seen.get(name) ?? { mode: statSync(join(dir, name)).mode & 0o777, entries: new Set<string>() };
        for (const socket of readdirSync(join(dir, name))) entry.entries.add(socket);
        seen.set(name, entry);
      } catch {
        // removed between the two reads
      }
    }
  };
  const timer = setInterval(look, 5);
  try {
    await body();
  } finally {
    clearInterval(timer);
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
  }
  const left = readdirSync(dir);
  rmSync(dir, { recursive: true, force: true });
  return { seen, left };
}

test('a processes fit talks through ipc:// sockets in a 0700 folder, removed when the fit returns', async () => {
  const { train } = await loadData('synthetic:classification?rows=4000&cols=8&seed=2');
  const { seen, left } = await watchingTmp(async () => {
    const model = await createModel('logistic-regression', { solver: 'sgd', epochs: 5, batchSize: 32, lr: 0.1 }).fit(train, {
      paradigm: 'processes',
      workers: 2,
      timeoutMs: 30_000,
    });
    assert.ok((model.fitInfo?.comm[0]?.bytesSent ?? 0) > 0, 'the ranks communicated');
    // The collectives ride the lane's sockets (segment files are opt-in).
    assert.equal(model.fitInfo?.transport, 'lane-ipc');
  });
  const folders = [...seen.entries()].filter(([name]) => name.startsWith('shardlearn-'));
  assert.equal(folders.length, 1, `one local folder for the job (saw ${[...seen.keys()].join(', ')})`);
  const [, { mode, entries }] = folders[0]!;
  assert.equal(mode, 0o700);
  // Beside the sockets, each rank's shard file while it waits to be read (runtime/shard-file.ts); seen or not, by timing.
  const sockets = [...entries].filter((name) => !name.startsWith('shard-'));
  assert.deepEqual(sockets.sort(), ['lane-0.sock', 'lane-1.sock', 'rank-0.sock', 'rank-1.sock']);
  for (const name of entries) if (name.startsWith('shard-')) assert.match(name, /^shard-[01]\.bin$/);
  assert.deepEqual(left, [], 'nothing is left in the temp folder');
});

test('with SHARDLEARN_LANE_FILES=1 and the job folder on tmpfs, FitInfo.transport says lane-shm', async (t) => {
  if (!onTmpfs('/dev/shm')) return t.skip('no tmpfs at /dev/shm');
  const { train } = await loadData('synthetic:classification?rows=2000&cols=8&seed=2');
  const previous = { tmp: process.env['TMPDIR'], files: process.env['SHARDLEARN_LANE_FILES'] };
  const parent = mkdtempSync('/dev/shm/shardlearn-tmpdir-test-');
  process.env['TMPDIR'] = parent;
  process.env['SHARDLEARN_LANE_FILES'] = '1';
  try {
    const model = await createModel('logistic-regression', { solver: 'sgd', epochs: 2, batchSize: 32, lr: 0.1 }).fit(train, {
      paradigm: 'processes',
      workers: 2,
      timeoutMs: 30_000,
    });
    assert.equal(model.fitInfo?.transport, 'lane-shm');
    assert.deepEqual(readdirSync(parent), [], 'the job folder and its segment files are gone');
  } finally {
    for (const [name, value] of [
      ['TMPDIR', previous.tmp],
      ['SHARDLEARN_LANE_FILES', previous.files],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(parent, { recursive: true, force: true });
  }
});

test('a processes fit that fails leaves no local folder behind', async () => {
  const { train } = await loadData('synthetic:classification?rows=400&cols=4&seed=2');
  const { seen, left } = await watchingTmp(async () => {
    // Every worker fails loading its shard of a source that does not exist.
    await assert.rejects(
      createModel('logistic-regression', { solver: 'sgd', epochs: 1 }).fit(train.slice(0, 0), {
        paradigm: 'processes',
        workers: 2,
        timeoutMs: 10_000,
        source: { spec: '/nonexistent/shardlearn-missing.csv' },
      }),
    );
  });
  assert.ok(
    [...seen.keys()].some((name) => name.startsWith('shardlearn-')),
    'the folder existed while the workers started',
  );
  assert.deepEqual(left, [], 'the folder is removed after the failure');
});

test('insecureTransport is refused outside cluster, naming the field', async () => {
  const { train } = await loadData('synthetic:classification?rows=200&cols=4&seed=2');
  for (const paradigm of ['processes', 'threads', 'sequential'] as const) {
    await assert.rejects(
      createModel('logistic-regression', { solver: 'sgd', epochs: 1 }).fit(train, { paradigm, workers: 2, insecureTransport: true }),
      (error: Error & { field?: string }) => {
        assert.equal(error.name, 'ConfigError');
        assert.equal(error.field, 'insecureTransport');
        assert.match(error.message, new RegExp(`cluster paradigm only, got paradigm '${paradigm}'`));
        return true;
      },
    );
  }
});
