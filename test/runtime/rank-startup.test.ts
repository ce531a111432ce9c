// What a rank pays to start: every processes fit forks its ranks, and each rank imports the rank
// body before it can join. DuckDB (the Parquet reader's engine, a native library) cost ~0.5 s of
// CPU per rank there although a rank reads Parquet only when its source is a Parquet file: the
// worker entries must not load it until then. Checked in a fresh Node process by the shared
// libraries it has actually loaded (process.report), and, so the check is known to see DuckDB, once
// more after loading it. And a processes fit says how long its start-up took (FitInfo.startupMs, as
// threads do), so the seconds outside training are accounted, not left to guess.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import { createModel } from '../../src/models/registry.js';
import { jsonFromFreshProcess } from '../support/fresh-process.js';

/** In a fresh process: the DuckDB shared objects loaded after importing `entry`, then after importing DuckDB. */
function duckdbLoaded(entry: URL): { afterEntry: string[]; afterDuckdb: string[] } {
  const script = `
    const loaded = () => process.report.getReport().sharedObjects.filter((file) => /duckdb/i.test(file));
    await import(${JSON.stringify(entry.href)});
    const afterEntry = loaded();
    await import('@duckdb/node-api');
    console.log(JSON.stringify({ afterEntry, afterDuckdb: loaded() }));
  `;
  return jsonFromFreshProcess<{ afterEntry: string[]; afterDuckdb: string[] }>(script);
}

for (const entry of ['process-worker.js', 'thread-worker.js']) {
  test(`importing the ${entry} rank entry does not load DuckDB (only reading a Parquet file does)`, () => {
    const { afterEntry, afterDuckdb } = duckdbLoaded(new URL(`../../src/runtime/${entry}`, import.meta.url));
    assert.deepEqual(afterEntry, [], `the rank entry loaded ${afterEntry.join(', ')}`);
    assert.ok(afterDuckdb.length > 0, 'the check sees DuckDB once it is loaded');
  });
}

test('a processes fit reports its start-up (until every rank is ready) within its seconds', async () => {
  const { train } = await loadData('synthetic:classification?rows=400&cols=4&seed=3');
  const model = createModel('logistic-regression', { solver: 'sgd', epochs: 1 });
  await model.fit(train, { paradigm: 'processes', workers: 2, strategy: 'allreduce' });
  const info = model.fitInfo!;
  assert.equal(typeof info.startupMs, 'number', 'processes fitInfo has startupMs');
  assert.ok(info.startupMs! > 0 && info.startupMs! < info.seconds * 1000, `startupMs ${info.startupMs} within ${info.seconds} s`);
});
