// `shardlearn train … --compression <codec> [--compression-warmup E]` as a user runs it: the real bin
// in a child process. The flag reaches the ranks (fewer bytes counted) and a bad codec is a usage error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/shardlearn.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const TRAIN = [
  'train',
  'mlp',
  '--data',
  'synthetic:classification?rows=2000&cols=20&seed=3',
  '--paradigm',
  'threads',
  '--workers',
  '2',
  '--epochs',
  '2',
  '--json',
];

test('train --compression topk:0.05 --compression-warmup 1: reported, and the ranks send fewer bytes', () => {
  const plain = run(TRAIN);
  assert.equal(plain.status, 0, plain.stderr);
  const compressed = run([...TRAIN, '--compression', 'topk:0.05', '--compression-warmup', '1']);
  assert.equal(compressed.status, 0, compressed.stderr);
  const a = JSON.parse(plain.stdout) as { comm: { bytesSent: number }; compression?: string };
  const b = JSON.parse(compressed.stdout) as { comm: { bytesSent: number }; compression?: string };
  assert.equal(a.compression, undefined);
  assert.equal(b.compression, 'topk:0.05');
  assert.ok(b.comm.bytesSent < a.comm.bytesSent / 3, `bytes sent: ${b.comm.bytesSent} compressed vs ${a.comm.bytesSent}`);
});

test('train --compression with an unknown codec exits 2 with one line listing the codecs', () => {
  const r = run([...TRAIN, '--compression', 'zip']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /unknown compression 'zip'; expected one of: none, fp16, bf16, topk:<ratio>/);
});
