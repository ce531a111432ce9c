// Shared by the data tests: temp files, and "the shards together equal the whole" checks.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../src/core/errors.js';
import type { Dataset } from '../../src/data/dataset.js';

/** A fresh temp directory, removed when the process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-data-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeTemp(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Concatenate shards row-wise (values, labels, keys) for comparison with the whole. */
export function concatShards(shards: Dataset[]): { x: number[]; y: number[] | null; keys: number[] } {
  return {
    x: shards.flatMap((s) => Array.from(s.x)),
    y: shards[0]!.y === null ? null : shards.flatMap((s) => Array.from(s.labels())),
    keys: shards.flatMap((s) => Array.from({ length: s.rows }, (_, i) => s.rowKey(i))),
  };
}

export function assertShardsEqualWhole(whole: Dataset, shards: Dataset[]): void {
  const joined = concatShards(shards);
  assert.equal(
    shards.reduce((n, s) => n + s.rows, 0),
    whole.rows,
  );
  assert.deepEqual(joined.x, Array.from(whole.x));
  assert.deepEqual(joined.y, whole.y === null ? null : Array.from(whole.y));
  assert.deepEqual(
    joined.keys,
    Array.from({ length: whole.rows }, (_, i) => whole.rowKey(i)),
  );
  for (const shard of shards) {
    assert.deepEqual(shard.featureNames, whole.featureNames);
    assert.deepEqual(shard.labelNames, whole.labelNames);
  }
}

/**
 * Assert `run` rejects with a DataError whose message contains every fragment (file, "line N",
 * the column, expected/found words), and return it.
 */
export async function rejectsWithDataError(run: () => Promise<unknown>, fragments: (string | RegExp)[]): Promise<DataError> {
  let caught: unknown = null;
  try {
    await run();
  } catch (error: unknown) {
    caught = error;
  }
  assert.ok(caught instanceof DataError, `expected a DataError, got ${String(caught)}`);
  for (const fragment of fragments) {
    if (typeof fragment === 'string')
      assert.ok(caught.message.includes(fragment), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(fragment)}`);
    else assert.match(caught.message, fragment);
  }
  return caught;
}

/** An IDX file: header (00 00 type dims, big-endian sizes) then the payload. */
export function idxBytes(type: number, dims: number[], payload: Uint8Array): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, payload]);
}
