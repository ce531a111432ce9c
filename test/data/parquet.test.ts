import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadParquet } from '../../src/data/parquet.js';
import { assertShardsEqualWhole, tempDir } from './support.js';

const dir = tempDir();

/** Write a Parquet file with DuckDB itself (several row groups, so shards cross them). */
async function writeParquet(name: string, select: string): Promise<string> {
  const path = join(dir, name);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`COPY (${select}) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 7)`);
  connection.closeSync();
  instance.closeSync();
  return path;
}

test('Parquet round-trips numeric features and a text label (sorted coding)', async () => {
  const path = await writeParquet(
    'a.parquet',
    `SELECT i AS a, i * 0.5 AS b, CAST(i % 3 = 0 AS BOOLEAN) AS flag, CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END AS kind FROM range(20) t(i)`,
  );
  const data = await loadParquet(path, { target: 'kind' });
  assert.equal(data.rows, 20);
  assert.deepEqual(data.featureNames, ['a', 'b', 'flag']);
  assert.deepEqual(Array.from(data.row(3)), [3, 1.5, 1]);
  assert.deepEqual(data.labelNames, ['even', 'odd']);
  assert.deepEqual(Array.from(data.labels()).slice(0, 4), [0, 1, 0, 1]);
  const numericPath = await writeParquet('n.parquet', 'SELECT i * 1.5 AS target, i AS a FROM range(5) t(i)');
  const numeric = await loadParquet(numericPath, { target: 0 });
  assert.deepEqual(Array.from(numeric.labels()), [0, 1.5, 3, 4.5, 6]);
  assert.equal(numeric.labelNames, null);
});

test('sharded Parquet equals the whole for 1..3 shards; missing values by policy', async () => {
  const path = await writeParquet(
    'b.parquet',
    `SELECT CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS a, sqrt(i) AS b, CASE WHEN i % 4 = 0 THEN 'x' WHEN i % 4 = 1 THEN 'y' ELSE 'z' END AS y FROM range(50) t(i)`,
  );
  for (const missing of ['drop', 'mean', 'zero'] as const) {
    const whole = await loadParquet(path, { target: 'y', missing });
    assert.equal(whole.rows, missing === 'drop' ? 40 : 50);
    for (let worldSize = 1; worldSize <= 3; worldSize++) {
      const shards = await Promise.all(
        Array.from({ length: worldSize }, (_, rank) => loadParquet(path, { target: 'y', missing, shard: { rank, worldSize } })),
      );
      assertShardsEqualWhole(whole, shards);
    }
  }
  const mean = await loadParquet(path, { target: 'y', missing: 'mean' });
  const present = Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 5 !== 0);
  assert.equal(mean.x[0], present.reduce((a, b) => a + b, 0) / present.length);
});
