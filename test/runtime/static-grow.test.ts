// Growth under the static rendezvous (runtime/static-join.ts), with the real CLI and real processes.
// - `shardlearn launch` with --min-workers 2 --max-workers 3 --max-restarts 1: rank 1 is SIGKILLed
//   once training has started; ranks 0 and 2 re-form, launch starts a replacement (SHARDLEARN_JOIN=1),
//   it joins at an epoch boundary, the run ends on 3 workers with the accuracy of an undisturbed run
//   (within 1 point).
// - Ranks started by hand (MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK): a newcomer with the wrong
//   secret is refused, and says so; one with the job's secret joins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { freePort } from '../../src/runtime/launch.js';
import { inCluster, rendezvousFromEnv } from '../../src/runtime/rendezvous.js';
import { joinPortFromEnv } from '../../src/runtime/static-join.js';
import { bin } from '../cli/bin.js';
import { childPids } from './child-pids.js';

const train = (epochs: number): string[] => [
  ...['train', 'logistic-regression', '--solver', 'sgd', '--batch-size', '32', '--epochs', String(epochs)],
  ...['--data', 'synthetic:classification?rows=6000&cols=10&seed=3', '--seed', '4', '--paradigm', 'cluster', '--timeout-ms', '20000'],
];

function run(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { child: ChildProcess; out: { stdout: string; stderr: string }; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, out, exited };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

function accuracy(stdout: string): number {
  const found = /test accuracy: ([\d.]+)/.exec(stdout);
  assert.ok(found, `an accuracy in\n${stdout}`);
  return Number(found[1]);
}

test('SHARDLEARN_JOIN=1 makes a newcomer (RANK ignored, rank −1); the join port defaults to MASTER_PORT + 1000', () => {
  const env = { MASTER_ADDR: '10.0.0.5', MASTER_PORT: '29500', WORLD_SIZE: '3' };
  assert.deepEqual(
    [rendezvousFromEnv({ ...env, SHARDLEARN_JOIN: '1', RANK: '7' }).rank, rendezvousFromEnv({ ...env, SHARDLEARN_JOIN: '1' }).joining],
    [-1, true],
  );
  assert.equal(rendezvousFromEnv({ ...env, RANK: '2' }).joining, undefined);
  assert.ok(inCluster({ ...env, SHARDLEARN_JOIN: '1' }));
  assert.throws(
    () => rendezvousFromEnv({ ...env, SHARDLEARN_JOIN: 'yes' }),
    (error) => error instanceof ConfigError && /SHARDLEARN_JOIN=yes/.test(error.message),
  );
  assert.equal(joinPortFromEnv(29500, {}), 30500);
  assert.equal(joinPortFromEnv(29500, { SHARDLEARN_JOIN_PORT: '4000' }), 4000);
  assert.throws(() => joinPortFromEnv(65000, {}), /SHARDLEARN_JOIN_PORT/);
});

test('launch --max-restarts 1: a SIGKILLed rank is replaced, the replacement joins, the run ends on 3 workers', async () => {
  const policy = ['--min-workers', '2', '--max-workers', '3', '--max-restarts', '1'];
  const calm = run(['launch', '--workers', '3', '--', ...train(24), ...policy]);
  assert.equal(await calm.exited, 0, calm.out.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-static-grow-'));
  const launch = run(['launch', '--workers', '3', '--', ...train(24), ...policy, '--checkpoint-dir', dir, '--checkpoint-every', '20']);
  const guard = setTimeout(() => launch.child.kill('SIGKILL'), 120_000);
  try {
    let ranks: number[] = [];
    const started = await until(() => readdirSync(dir).length > 0 && (ranks = childPids(launch.child.pid!)).length === 3, 60_000);
    assert.ok(started, `training started under launch (a checkpoint was written)\n${launch.out.stderr}`);
    process.kill(ranks[1]!, 'SIGKILL');
    assert.equal(await launch.exited, 0, launch.out.stderr);
  } finally {
    clearTimeout(guard);
    rmSync(dir, { recursive: true, force: true });
  }
  const { stdout, stderr } = launch.out;
  assert.match(stderr, /rank 1 \(pid \d+\) was killed by SIGKILL; 2 ranks go on .*; replacement 1 starts and joins at an epoch boundary/);
  assert.match(stderr, /\[join 1\] shardlearn: announced to 127\.0\.0\.1:\d+ as newcomer 3/);
  assert.match(stdout, /\(cluster, 3 workers/, 'the run ends on 3 workers');
  const joined = /join: rank 2 joined before epoch (\d+); 3 workers \(generation 2\), (\d+) ms from announce to training/.exec(stdout);
  assert.ok(joined, stdout);
  const [calmAccuracy, grownAccuracy] = [accuracy(calm.out.stdout), accuracy(stdout)];
  assert.ok(Math.abs(calmAccuracy - grownAccuracy) <= 0.01, `accuracy ${grownAccuracy} vs undisturbed ${calmAccuracy}`);
  console.log(`join: ${joined[2]} ms from announce to training (before epoch ${joined[1]}); accuracy ${grownAccuracy} vs ${calmAccuracy}`);
});

test('ranks started by hand: a newcomer with the wrong secret is refused; one with the job secret joins', async () => {
  const [masterPort, joinPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-static-join-'));
  const base = {
    ...process.env,
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(masterPort),
    WORLD_SIZE: '2',
    SHARDLEARN_JOIN_PORT: String(joinPort),
    SHARDLEARN_SECRET: 'the-job-secret-0123456789abcdef0123',
  };
  const args = [...train(50), '--min-workers', '1', '--max-workers', '3', '--checkpoint-dir', dir, '--checkpoint-every', '20'];
  const ranks = [0, 1].map((rank) => run(args, { ...base, RANK: String(rank) }));
  const guard = setTimeout(() => ranks.forEach((rank) => rank.child.kill('SIGKILL')), 120_000);
  try {
    assert.ok(await until(() => readdirSync(dir).length > 0, 60_000), ranks[0]!.out.stderr);
    // Both at once (each needs Node's start-up), so the run is still going when the newcomer is admitted.
    const stranger = run(args, { ...base, SHARDLEARN_JOIN: '1', SHARDLEARN_SECRET: 'not-the-job-secret-0123456789abcdef' });
    const newcomer = run(args, { ...base, SHARDLEARN_JOIN: '1' });
    assert.notEqual(await stranger.exited, 0);
    assert.match(stranger.out.stderr, /refused this newcomer: wrong job secret/);
    assert.match(ranks[0]!.out.stderr, /refused a newcomer from 127\.0\.0\.1:\d+: wrong job secret/);
    assert.equal(await newcomer.exited, 0, newcomer.out.stderr);
    assert.equal(await ranks[0]!.exited, 0, ranks[0]!.out.stderr);
    assert.equal(await ranks[1]!.exited, 0, ranks[1]!.out.stderr);
    assert.match(ranks[0]!.out.stdout, /\(cluster, 3 workers/);
    assert.match(ranks[0]!.out.stdout, /join: rank 2 joined before epoch \d+; 3 workers \(generation 1\)/);
  } finally {
    clearTimeout(guard);
    rmSync(dir, { recursive: true, force: true });
  }
});
