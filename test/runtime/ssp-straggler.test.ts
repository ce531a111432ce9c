// The SSP bound with a SIGSTOPped worker (Ho et al., NIPS 2013): under ps-ssp:2 on processes×3, while
// rank 1 is stopped for 2 s no other worker gets more than 2 steps (+ the one in flight) ahead of it,
// sampled every 50 ms from the step counts the ranks write; after SIGCONT the run completes. (Every
// rank also serves a shard of the parameters, so the others block at their next pull from rank 1's
// shard, within the bound; the test checks the bound, whichever mechanism keeps it.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import { trainTestSplit } from '../../src/data/split.js';
import { StepCounterModel } from './fixtures/step-counter.js';
import { ELASTIC_SPEC, ELASTIC_SPLIT } from './fixtures/elastic-settings.js';
import { childPids } from './child-pids.js';

const MODULE = new URL('./fixtures/step-counter.js', import.meta.url).href;
const STALENESS = 2;

test(`ps-ssp:${STALENESS}: while a worker is SIGSTOPped the others stay within the bound of it; after SIGCONT the run completes`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-ssp-'));
  const before = new Set(childPids());
  // A file read while its rank rewrites it can be empty: keep the last count read.
  const last = [0, 0, 0];
  const steps = (rank: number): number => {
    const file = join(dir, `steps-${rank}`);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (text !== '') last[rank] = Number(text);
    return last[rank]!;
  };
  const gaps: number[] = [];
  let stopped = 0;
  try {
    const whole = trainTestSplit((await loadData(ELASTIC_SPEC)).train, ELASTIC_SPLIT);
    let sampling: Promise<void> | undefined;
    const model = await new StepCounterModel({ dir, epochs: 8 }).fit(whole.train, {
      paradigm: 'processes',
      workers: 3,
      strategy: `ps-ssp:${STALENESS}`,
      workerModules: [MODULE],
      timeoutMs: 30_000,
      onProgress: (event) => {
        if (stopped !== 0 || event.iteration < 2) return;
        stopped = childPids().filter((pid) => !before.has(pid))[1]!; // rank 1
        process.kill(stopped, 'SIGSTOP');
        sampling = (async () => {
          for (let at = 0; at < 2000; at += 50) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            gaps.push(Math.max(steps(0), steps(2)) - steps(1));
          }
          process.kill(stopped, 'SIGCONT');
        })();
      },
    });
    await sampling;
    assert.notEqual(stopped, 0, 'a worker was stopped');
    assert.ok(gaps.length >= 20, `sampled ${gaps.length} times`);
    assert.ok(Math.max(...gaps) <= STALENESS + 1, `gaps while stopped: ${gaps.join(' ')}`);
    console.log(`steps ahead of the stopped worker, every 50 ms: ${gaps.join(' ')}`);
    assert.ok(model.score(whole.test) > 0.9);
  } finally {
    try {
      if (stopped !== 0) process.kill(stopped, 'SIGCONT'); // a failed assertion must not leave it stopped
    } catch {
      // already reaped by the launcher
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
