// The processes paradigm's warm pool (FitOptions.reuseProcesses, runtime/process-pool.ts): a second
// pooled fit reuses the first fit's child processes (same pids) and trains the same model bit for
// bit as unpooled fits; a pooled child killed between fits is replaced; shutdownProcessPool leaves no
// child of this process. Real child processes throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import '../../src/index.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { createModel } from '../../src/models/registry.js';
import { shutdownProcessPool } from '../../src/runtime/index.js';
import { idleProcessPids } from '../../src/runtime/process-pool.js';
import { stateDifference } from './model-cases.js';

const data = syntheticGenerator({ kind: 'classification', rows: 2000, cols: 6, classes: 2, seed: 5 }).generate(0, 2000);
const params = { solver: 'sgd', epochs: 3 };

/** The live (not zombie) children of this process, read from /proc without starting a process. */
function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && state !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function childrenGone(deadlineMs: number): Promise<number[]> {
  const until = performance.now() + deadlineMs;
  let left = childPids();
  while (left.length > 0 && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = childPids();
  }
  return left;
}

const fit = (reuseProcesses: boolean) =>
  createModel('logistic-regression', params).fit(data, { paradigm: 'processes', workers: 2, reuseProcesses });

test("two pooled fits share their child processes and equal unpooled fits bit for bit; shutdown leaves no child", async () => {
  await shutdownProcessPool();
  const fresh = await fit(false);
  assert.deepEqual(idleProcessPids(), [], 'an unpooled fit leaves nothing in the pool');
  const first = await fit(true);
  const pids = idleProcessPids();
  assert.equal(pids.length, 2, 'the pooled fit left its 2 children idle');
  const second = await fit(true);
  assert.deepEqual(idleProcessPids(), pids, 'the second pooled fit ran on the same two processes');
  assert.deepEqual(childPids().sort(), [...pids].sort(), 'no other child is alive');
  assert.equal(stateDifference(first.state, fresh.state).worst, 0);
  assert.equal(stateDifference(second.state, fresh.state).worst, 0);
  assert.equal(typeof second.fitInfo?.startupMs, 'number');
  await shutdownProcessPool();
  assert.deepEqual(idleProcessPids(), []);
  assert.deepEqual(await childrenGone(3000), [], 'shutdownProcessPool left no child process');
});

test('a pooled child killed between fits is replaced, and the fit is unchanged', async () => {
  await shutdownProcessPool();
  const first = await fit(true);
  const [victim, survivor] = idleProcessPids();
  process.kill(victim!, 'SIGKILL');
  const until = performance.now() + 3000;
  while (idleProcessPids().includes(victim!) && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  const second = await fit(true);
  const after = idleProcessPids();
  assert.equal(after.length, 2);
  assert.ok(after.includes(survivor!), 'the surviving child was reused');
  assert.ok(!after.includes(victim!), 'the killed child was replaced');
  assert.equal(stateDifference(second.state, first.state).worst, 0);
  await shutdownProcessPool();
  assert.deepEqual(await childrenGone(3000), []);
});
