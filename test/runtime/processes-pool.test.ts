// The processes paradigm's warm pool (FitOptions.reuseProcesses, runtime/process-pool.ts): a second
// pooled fit reuses the first fit's child processes (same pids) and trains the same model bit for
// bit as unpooled fits; a pooled child killed between fits is replaced; the second job's world
// refuses the first job's secret and job id; shutdownProcessPool leaves no child of this process. Real child processes throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as zmq from 'zeromq';
import '../../src/index.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { createModel } from '../../src/models/registry.js';
import { shutdownProcessPool } from '../../src/runtime/index.js';
import { idleProcesses, idleProcessPids, prewarmProcesses } from '../../src/runtime/process-pool.js';
import type { ProcessStart } from '../../src/runtime/process-worker.js';
import { helloProof, ipcEndpoint } from '../../src/comm/zmq/local.js';
import { encodeMessage } from '../../src/comm/zmq/wire.js';
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

test("the second pooled job's world refuses the first job's secret and job id", async () => {
  await shutdownProcessPool();
  // Observe (and pass on) the start orders the launcher sends: they carry each job's secret and folder.
  const orders: ProcessStart[] = [];
  prewarmProcesses(2);
  for (const child of idleProcesses()) {
    const send = child.send.bind(child);
    child.send = ((...args: Parameters<ChildProcess['send']>) => {
      const [message] = args as [{ type?: string }];
      if (message?.type === 'start') orders.push(message as ProcessStart);
      return send(...args);
    }) as ChildProcess['send'];
  }
  try {
    await fit(true);
    const first = orders.find((order) => order.rank === 0)!;
    orders.length = 0;
    const pids = idleProcessPids();
    // A longer second job, so that its world is up while this test knocks on rank 0's socket.
    const second = createModel('logistic-regression', { solver: 'sgd', epochs: 400 }).fit(data, {
      paradigm: 'processes',
      workers: 2,
      reuseProcesses: true,
    });
    const until = performance.now() + 10_000;
    let order: ProcessStart | undefined;
    while (performance.now() < until) {
      order = orders.find((candidate) => candidate.rank === 0);
      if (order?.ipcDir !== undefined && existsSync(ipcEndpoint(order.ipcDir, 0).replace(/^ipc:\/\//, ''))) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(order?.ipcDir !== undefined, "the second job's rank 0 bound its socket");
    assert.notEqual(order.secret, first.secret, 'a fresh secret');
    assert.notEqual(order.jobId, first.jobId, 'a fresh job id');
    assert.notEqual(order.ipcDir, first.ipcDir, 'a fresh folder');
    const knock = async (job: string, proofJob: string): Promise<string> => {
      const dealer = new zmq.Dealer({ linger: 0 });
      dealer.connect(ipcEndpoint(order.ipcDir!, 0));
      const proof = helloProof(Buffer.from(first.secret, 'hex'), proofJob);
      await dealer.send(encodeMessage({ v: 1, k: 'hello', h: { job, generation: 0, rank: 1, size: 2, proof } }));
      const [frame] = await Promise.race([
        dealer.receive(),
        new Promise<Buffer[]>((resolve) => setTimeout(() => resolve([Buffer.from('(no reply within 5 s)')]), 5000)),
      ]);
      dealer.close();
      return frame!.toString();
    };
    assert.match(await knock(order.jobId, order.jobId), /does not prove/, "the first job's secret does not open the second job's world");
    assert.match(await knock(first.jobId, first.jobId), /is not this job/, "the first job's id is refused");
    const model = await second;
    assert.equal(model.fitInfo?.workers, 2, 'the second job trained on regardless');
    assert.deepEqual(idleProcessPids(), pids, 'on the same pooled processes');
  } finally {
    await shutdownProcessPool();
  }
});

test('idle pooled children do not hold their parent open, and leave with it', async () => {
  const index = new URL('../../src/index.js', import.meta.url).href;
  const pool = new URL('../../src/runtime/process-pool.js', import.meta.url).href;
  const script = `
    const { createModel, syntheticGenerator } = await import(${JSON.stringify(index)});
    const { idleProcessPids } = await import(${JSON.stringify(pool)});
    const data = syntheticGenerator({ kind: 'classification', rows: 400, cols: 4, classes: 2, seed: 1 }).generate(0, 400);
    await createModel('logistic-regression', { solver: 'sgd', epochs: 1 }).fit(data, { paradigm: 'processes', workers: 2, reuseProcesses: true });
    console.log(JSON.stringify(idleProcessPids()));`;
  const started = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
  assert.ok(performance.now() - started < 15_000, 'the parent exited without waiting for the idle timeout');
  const pids = JSON.parse(stdout.trim().split('\n').at(-1)!) as number[];
  assert.equal(pids.length, 2);
  const until = performance.now() + 5000;
  const alive = (): number[] =>
    pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
  while (alive().length > 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(alive(), [], 'no orphan outlived its parent');
});
