// The processes paradigm's warm pool (FitOptions.reuseProcesses, runtime/process-pool.ts): a second
// pooled fit reuses the first fit's child processes (same pids) and their kept world, and trains the
// same model bit for bit as unpooled fits; a pooled child killed between fits is replaced and its
// world dropped; a job of another size leaves a kept world alone; the renewed world refuses the first
// job's secret and job id, and a rank that cannot prove the next job's secret is refused as in a
// fresh world; a rank without the kept world makes its peer give the renewal up after its timeout
// and the fit trains on a fresh world; shutdownProcessPool leaves no child of this process and no
// folder. Real child processes throughout.
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
import { idleProcesses, idleProcessPids, idleWorlds, prewarmProcesses } from '../../src/runtime/process-pool.js';
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

const fit = (reuseProcesses: boolean, workers = 2) =>
  createModel('logistic-regression', params).fit(data, { paradigm: 'processes', workers, reuseProcesses });

test('two pooled fits share their child processes and equal unpooled fits bit for bit; shutdown leaves no child', async () => {
  await shutdownProcessPool();
  const fresh = await fit(false);
  assert.deepEqual(idleProcessPids(), [], 'an unpooled fit leaves nothing in the pool');
  const first = await fit(true);
  const pids = idleProcessPids();
  assert.equal(pids.length, 2, 'the pooled fit left its 2 children idle');
  const [kept] = idleWorlds();
  assert.deepEqual(kept?.pids, pids, 'and their world kept, ranks in order');
  assert.ok(existsSync(kept.dir), "the kept world's folder stays");
  const second = await fit(true);
  assert.deepEqual(idleProcessPids(), pids, 'the second pooled fit ran on the same two processes');
  assert.deepEqual(idleWorlds(), [kept], 'and renewed their world');
  assert.deepEqual(childPids().sort(), [...pids].sort(), 'no other child is alive');
  assert.equal(stateDifference(first.state, fresh.state).worst, 0);
  assert.equal(stateDifference(second.state, fresh.state).worst, 0);
  assert.equal(typeof second.fitInfo?.startupMs, 'number');
  assert.equal(second.fitInfo?.comm.length, 2);
  assert.ok(
    second.fitInfo!.comm.every((rank, r) => rank.bytesSent === first.fitInfo!.comm[r]!.bytesSent),
    "the renewed world counts only the second job's bytes",
  );
  await shutdownProcessPool();
  assert.deepEqual(idleProcessPids(), []);
  assert.deepEqual(idleWorlds(), []);
  assert.equal(existsSync(kept.dir), false, "shutdownProcessPool removed the kept world's folder");
  assert.deepEqual(await childrenGone(3000), [], 'shutdownProcessPool left no child process');
});

test('a pooled child killed between fits is replaced, and the fit is unchanged', async () => {
  await shutdownProcessPool();
  const first = await fit(true);
  const [victim, survivor] = idleProcessPids();
  const [dropped] = idleWorlds();
  process.kill(victim!, 'SIGKILL');
  const until = performance.now() + 3000;
  while (idleProcessPids().includes(victim!) && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(idleWorlds(), [], "the dead child's world was dropped");
  const second = await fit(true);
  const after = idleProcessPids();
  assert.equal(after.length, 2);
  assert.ok(after.includes(survivor!), 'the surviving child was reused');
  assert.ok(!after.includes(victim!), 'the killed child was replaced');
  assert.equal(stateDifference(second.state, first.state).worst, 0);
  const [formed] = idleWorlds();
  assert.notEqual(formed?.id, dropped?.id, 'they formed a new world');
  assert.deepEqual([...formed!.pids].sort(), [...after].sort());
  assert.equal(existsSync(dropped!.dir), false, "the dropped world's folder was removed");
  await shutdownProcessPool();
  assert.deepEqual(await childrenGone(3000), []);
});

/** Record (and pass on) the start orders the launcher sends the pool's idle children; `tamper` may change one first. */
function watchOrders(tamper: (order: ProcessStart) => ProcessStart = (order) => order): ProcessStart[] {
  const orders: ProcessStart[] = [];
  for (const child of idleProcesses()) {
    const send = child.send.bind(child);
    child.send = ((...args: Parameters<ChildProcess['send']>) => {
      const [message, ...rest] = args as [{ type?: string }, ...unknown[]];
      if (message?.type !== 'start') return send(...args);
      const order = tamper(message as ProcessStart);
      orders.push(order);
      return (send as (...a: unknown[]) => boolean)(order, ...rest);
    }) as ChildProcess['send'];
  }
  return orders;
}

test("the second pooled job renews the first job's world, which then refuses the first job's secret and job id", async () => {
  await shutdownProcessPool();
  prewarmProcesses(2);
  const orders = watchOrders();
  try {
    await fit(true);
    const first = orders.find((order) => order.rank === 0)!;
    assert.equal(first.world?.reuse, false, 'the first job joins a world to keep');
    orders.length = 0;
    const pids = idleProcessPids();
    // A longer second job: this test knocks on the kept world's socket once it trains.
    let training!: () => void;
    const trains = new Promise<void>((resolve) => (training = resolve));
    const second = createModel('logistic-regression', { solver: 'sgd', epochs: 400 }).fit(data, {
      paradigm: 'processes',
      workers: 2,
      reuseProcesses: true,
      onProgress: () => training(),
    });
    await Promise.race([trains, second]);
    const order = orders.find((candidate) => candidate.rank === 0)!;
    assert.deepEqual(order.world, { id: first.world!.id, reuse: true }, 'the second job renews the kept world');
    assert.notEqual(order.secret, first.secret, 'a fresh secret');
    assert.notEqual(order.jobId, first.jobId, 'a fresh job id');
    assert.notEqual(order.ipcDir, first.ipcDir, 'a fresh folder for its files');
    const knock = async (job: string): Promise<string> => {
      const dealer = new zmq.Dealer({ linger: 0 });
      dealer.connect(ipcEndpoint(first.ipcDir!, 0)); // the kept world's rank 0
      const proof = helloProof(Buffer.from(first.secret, 'hex'), job);
      await dealer.send(encodeMessage({ v: 1, k: 'hello', h: { job, generation: 0, rank: 1, size: 2, proof } }));
      const [frame] = await Promise.race([
        dealer.receive(),
        new Promise<Buffer[]>((resolve) => setTimeout(() => resolve([Buffer.from('(no reply within 5 s)')]), 5000)),
      ]);
      dealer.close();
      return frame!.toString();
    };
    assert.match(await knock(order.jobId), /does not prove/, "the first job's secret does not open the renewed world");
    assert.match(await knock(first.jobId), /is not this job/, "the first job's id is refused");
    const model = await second;
    assert.equal(model.fitInfo?.workers, 2, 'the second job trained on regardless');
    assert.deepEqual(idleProcessPids(), pids, 'on the same pooled processes');
  } finally {
    await shutdownProcessPool();
  }
});

test("a rank that cannot prove the next job's secret is refused: the renewal fails and so does the fresh join", async () => {
  await shutdownProcessPool();
  await fit(true);
  const [kept] = idleWorlds();
  // The second job's rank 1 gets another secret than its peer (as a stale or forged start order would carry).
  watchOrders((order) => (order.rank === 1 ? { ...order, secret: Buffer.alloc(32, 9).toString('hex') } : order));
  await assert.rejects(fit(true), /does not prove it holds this job's secret/);
  assert.deepEqual(idleWorlds(), [], 'the failed job dropped the kept world');
  assert.equal(existsSync(kept!.dir), false);
  await shutdownProcessPool();
  assert.deepEqual(await childrenGone(3000), []);
});

test('a rank without the kept world joins a fresh one: its peer gives up the renewal after its timeout, and the fit trains as before', async () => {
  await shutdownProcessPool();
  const fresh = await fit(false);
  await fit(true);
  const [kept] = idleWorlds();
  // Rank 1 is told to renew a world it does not have: it joins a fresh one in the job's folder at once,
  // while rank 0 waits for its renewal (5 s), then joins that fresh world too.
  let tampered = false;
  watchOrders((order) => {
    if (order.rank !== 1 || tampered) return order;
    tampered = true;
    return { ...order, world: { id: 'world-unknown', reuse: true } };
  });
  const second = await fit(true);
  assert.equal(stateDifference(second.state, fresh.state).worst, 0);
  assert.deepEqual(idleWorlds(), [], 'the ranks kept different worlds: the pool dropped both');
  assert.equal(existsSync(kept!.dir), false);
  const third = await fit(true);
  assert.equal(stateDifference(third.state, fresh.state).worst, 0);
  assert.equal(idleWorlds().length, 1, 'the next fit kept a world again');
  await shutdownProcessPool();
  assert.deepEqual(await childrenGone(3000), []);
});

test('a pooled job of another size leaves a kept world alone: it forks its own children', async () => {
  await shutdownProcessPool();
  await fit(true);
  const [pair] = idleWorlds();
  const three = await fit(true, 3);
  assert.equal(three.fitInfo?.workers, 3);
  const worlds = idleWorlds();
  assert.equal(worlds.length, 2, 'a world of 2 and a world of 3');
  assert.deepEqual(worlds[0], pair);
  assert.equal(worlds[1]!.pids.filter((pid) => pair!.pids.includes(pid)).length, 0);
  const again = await fit(true);
  assert.equal(stateDifference(again.state, (await fit(false)).state).worst, 0);
  assert.deepEqual(idleWorlds()[0], pair, 'the world of 2 served the next job of 2');
  await shutdownProcessPool();
  assert.deepEqual(await childrenGone(3000), []);
});

test('idle pooled children do not hold their parent open, and leave with it', async () => {
  const index = new URL('../../src/index.js', import.meta.url).href;
  const pool = new URL('../../src/runtime/process-pool.js', import.meta.url).href;
  const script = `
    const { createModel, syntheticGenerator } = await import(${JSON.stringify(index)});
    const { idleProcessPids, idleWorlds } = await import(${JSON.stringify(pool)});
    const data = syntheticGenerator({ kind: 'classification', rows: 400, cols: 4, classes: 2, seed: 1 }).generate(0, 400);
    await createModel('logistic-regression', { solver: 'sgd', epochs: 1 }).fit(data, { paradigm: 'processes', workers: 2, reuseProcesses: true });
    console.log(JSON.stringify({ pids: idleProcessPids(), dirs: idleWorlds().map((world) => world.dir) }));`;
  const started = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
  assert.ok(performance.now() - started < 15_000, 'the parent exited without waiting for the idle timeout');
  const { pids, dirs } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { pids: number[]; dirs: string[] };
  assert.equal(pids.length, 2);
  assert.equal(dirs.length, 1, 'the fit kept its world');
  assert.equal(existsSync(dirs[0]!), false, "the parent's exit removed the kept world's folder");
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
