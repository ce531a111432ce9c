// `shardlearn launch` when a rank dies (runtime/launch.ts), with the real CLI and real processes:
// three ranks of a `cluster` training; once training has started (its first checkpoint file is
// written) rank 1 is SIGKILLed.
// - Without a restart policy, launch stops ranks 0 and 2 (SIGTERM, then SIGKILL after a grace
//   period), exits 137 (128 + SIGKILL's 9) and names rank 1 and its signal; every rank is gone.
// - With --min-workers 2, the survivors re-form and finish (launch starts a replacement that joins
//   them at an epoch boundary), and launch exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { commandPolicy, launchLocal } from '../../src/runtime/launch.js';
import { bin } from '../cli/bin.js';
import { childPids } from './child-pids.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  ranks: number[];
  /** Milliseconds from the SIGKILL to launch's exit. */
  exitMs: number;
}

async function launchAndKill(extra: string[]): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-launch-policy-'));
  const args = [
    ...['launch', '--workers', '3', '--', 'train', 'logistic-regression', '--solver', 'sgd', '--batch-size', '32', '--epochs', '6'],
    ...['--data', 'synthetic:classification?rows=6000&cols=10&seed=3', '--seed', '4', '--paradigm', 'cluster', '--timeout-ms', '20000'],
    ...['--checkpoint-dir', dir, '--checkpoint-every', '20', ...extra],
  ];
  const launch = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  launch.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  launch.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => launch.once('exit', resolve));
  const guard = setTimeout(() => launch.kill('SIGKILL'), 90_000);
  try {
    let ranks: number[] = [];
    for (let waited = 0; waited < 60_000 && launch.exitCode === null; waited += 50) {
      if (readdirSync(dir).length > 0 && (ranks = childPids(launch.pid!)).length === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(ranks.length, 3, `training started under launch (a checkpoint was written)\n${stderr}`);
    const killedAt = performance.now();
    process.kill(ranks[1]!, 'SIGKILL');
    const code = await exited;
    return { code, stdout, stderr, ranks, exitMs: performance.now() - killedAt };
  } finally {
    clearTimeout(guard);
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the policy launch reads from the command: --min-workers, --max-restarts, as the ranks resolve it', () => {
  assert.equal(commandPolicy(['train', 'x', '--paradigm', 'cluster'], 3), undefined);
  assert.deepEqual(commandPolicy(['train', '--min-workers', '2'], 3), { minWorkers: 2, maxWorkers: 3, maxRestarts: 3 });
  assert.deepEqual(commandPolicy(['train', '--min-workers=2', '--max-restarts', '1'], 3), { minWorkers: 2, maxWorkers: 3, maxRestarts: 1 });
  assert.deepEqual(commandPolicy(['train', '--max-restarts', '2'], 3), { minWorkers: 3, maxWorkers: 3, maxRestarts: 2 });
  assert.equal(commandPolicy(['train', '--min-workers', '5'], 3), undefined, 'one the ranks refuse');
});

test('launch without a restart policy: SIGKILL of rank 1 stops ranks 0 and 2, exits 137 naming rank 1 and SIGKILL', async () => {
  const outcome = await launchAndKill([]);
  assert.equal(outcome.code, 137, outcome.stderr);
  assert.match(outcome.stderr, /shardlearn launch: rank 1 \(pid \d+\) was killed by SIGKILL; stopping the other ranks \(no restart policy/);
  assert.match(outcome.stderr, /shardlearn launch: stopped 2 other ranks in \d+ ms; exit code 137 \(rank 1 was killed by SIGKILL\)/);
  assert.deepEqual(outcome.ranks.filter(alive), [], 'every rank is gone when launch exits');
  console.log(
    `launch exited ${outcome.exitMs.toFixed(0)} ms after the SIGKILL; ${/stopped 2 other ranks in (\d+) ms/.exec(outcome.stderr)![1]} ms to stop the others`,
  );
});

test('launch with --min-workers 2: SIGKILL of rank 1 lets ranks 0 and 2 re-form and finish; launch exits 0', async () => {
  const outcome = await launchAndKill(['--min-workers', '2']);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(
    outcome.stderr,
    /shardlearn launch: rank 1 \(pid \d+\) was killed by SIGKILL; 2 ranks go on \(--min-workers 2, re-form 1 of at most 3\); replacement 1 starts/,
  );
  // The replacement joins at an epoch boundary (test/runtime/static-grow.test.ts), unless the run ends first.
  assert.match(outcome.stdout, /logistic-regression: trained on \d+ rows .*\(cluster, [23] workers/);
  assert.deepEqual(outcome.ranks.filter(alive), []);
});

test('a rank killed by SIGTERM makes launch exit 143 (128 + 15), naming the signal', async () => {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const code = await launchLocal({
    workers: 2,
    entry: new URL('./fixtures/self-signal.js', import.meta.url).pathname,
    command: ['--'],
    env: { SHARDLEARN_SIGNAL: 'SIGTERM', SHARDLEARN_SIGNAL_RANK: '1' },
    stderr,
  });
  assert.equal(code, 143, text);
  assert.match(text, /rank 1 \(pid \d+\) was killed by SIGTERM; stopping the other ranks/);
  assert.match(text, /stopped 1 other rank in \d+ ms; exit code 143 \(rank 1 was killed by SIGTERM\)/);
});
