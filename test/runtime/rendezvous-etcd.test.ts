// The etcd rendezvous against a real etcd (Debian etcd-server, started here on free ports): two
// members agree on a world of 2; a third process registers and a generation of 3 follows; it is
// SIGKILLed, its lease expires, and a generation of 2 follows; a member that leaves is gone at once.
// Every member sees the same generations, rank order and master. Errors name the endpoint.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { World } from '../../src/comm/rendezvous-backend.js';
import { RendezvousError } from '../../src/core/errors.js';
import { freePort } from '../../src/runtime/launch.js';
import { EtcdRendezvous } from '../../src/runtime/rendezvous-etcd.js';
import type { EtcdServer } from './etcd-server.js';
import { ETCD_MISSING, startEtcd } from './etcd-server.js';

const MEMBER_SCRIPT = fileURLToPath(new URL('./fixtures/etcd-member.js', import.meta.url));
const skip = ETCD_MISSING;
let etcd: EtcdServer | undefined;

before(async () => {
  if (skip === false) etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

function member(jobId: string, min: number, max: number): EtcdRendezvous {
  return new EtcdRendezvous({
    endpoint: etcd!.endpoint,
    jobId,
    minWorkers: min,
    maxWorkers: max,
    leaseSeconds: 2,
    lastCallMs: 300,
    joinTimeoutMs: 20_000,
  });
}

/** The next world `rendezvous` reports through onChange with `size` members, within `timeoutMs`. */
function nextWorld(rendezvous: EtcdRendezvous, size: number, timeoutMs: number): Promise<World> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no world of ${size} within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = rendezvous.onChange((world) => {
      if (world.worldSize !== size) return;
      clearTimeout(timer);
      stop();
      resolve(world);
    }, reject);
  });
}

/** A member in its own process; resolves with it once it printed its first world. */
function memberProcess(jobId: string, min: number, max: number): Promise<{ child: ChildProcess; first: World }> {
  const child = spawn(process.execPath, [MEMBER_SCRIPT, etcd!.endpoint, jobId, String(min), String(max)], {
    env: { ...process.env, SHARDLEARN_ETCD_MEMBER: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n')[0];
      if (text.includes('\n') && line !== undefined) resolve({ child, first: JSON.parse(line) as World });
    });
    child.once('exit', (code) => reject(new Error(`the member process exited (${code}) before joining`)));
  });
}

function view(world: World): object {
  return {
    generation: world.generation,
    worldSize: world.worldSize,
    master: `${world.masterAddr}:${world.masterPort}`,
    ids: world.members.map((m) => m.id),
  };
}

test(
  'membership 2 → 3 → 2: a third process joins (generation of 3), is SIGKILLed (lease expires: generation of 2)',
  { skip, timeout: 60_000 },
  async () => {
    const a = member('grow-shrink', 2, 3);
    const b = member('grow-shrink', 2, 3);
    let child: ChildProcess | undefined;
    try {
      const started = performance.now();
      const [worldA, worldB] = await Promise.all([a.join(), b.join()]);
      const agreedMs = performance.now() - started;
      assert.deepEqual(view(worldA), view(worldB), 'both members see one world');
      assert.equal(worldA.worldSize, 2);
      assert.deepEqual([worldA.rank, worldB.rank].sort(), [0, 1]);
      assert.deepEqual(worldA.members.map((m) => m.id).sort(), [a.id, b.id].sort());
      const first = worldA.rank === 0 ? a : b;
      assert.equal(worldA.masterPort, worldA.members[0]!.port, 'rank 0 is the first member, and its port is the master port');
      assert.equal(worldA.members[0]!.id, first.id);

      // A third process registers: the world grows to its maximum at once (no last call to wait).
      const grownA = nextWorld(a, 3, 10_000);
      const grownB = nextWorld(b, 3, 10_000);
      const joinedAt = performance.now();
      const third = await memberProcess('grow-shrink', 2, 3);
      child = third.child;
      const [g3a, g3b] = await Promise.all([grownA, grownB]);
      const growMs = performance.now() - joinedAt;
      assert.deepEqual(view(g3a), view(g3b));
      assert.deepEqual(view(third.first), view(g3a), 'the new process sees the same world');
      assert.equal(g3a.generation, worldA.generation + 1);
      assert.equal(third.first.rank, 2, 'the newcomer goes last; the survivors keep their ranks');
      assert.equal(g3a.rank, worldA.rank);
      assert.equal(g3b.rank, worldB.rank);

      // It is killed: no leave, so the others learn of it when its 2 s lease expires.
      const shrunkA = nextWorld(a, 2, 15_000);
      const shrunkB = nextWorld(b, 2, 15_000);
      const killedAt = performance.now();
      child.kill('SIGKILL');
      const [g4a, g4b] = await Promise.all([shrunkA, shrunkB]);
      const lostMs = performance.now() - killedAt;
      assert.deepEqual(view(g4a), view(g4b));
      assert.equal(g4a.generation, g3a.generation + 1);
      assert.deepEqual(
        g4a.members.map((m) => m.id),
        worldA.members.map((m) => m.id),
        'the two survivors, in their old order',
      );

      // A fourth member joins in this process and leaves: revoking its lease changes the world at once
      // (its lease of 60 s cannot have expired before the test's 10 s wait ends).
      const d = new EtcdRendezvous({
        endpoint: etcd!.endpoint,
        jobId: 'grow-shrink',
        minWorkers: 2,
        maxWorkers: 3,
        leaseSeconds: 60,
        lastCallMs: 300,
      });
      const withD = nextWorld(a, 3, 10_000);
      await d.join();
      const g5 = await withD;
      const leftA = nextWorld(a, 2, 10_000);
      const leftAt = performance.now();
      await d.leave();
      const g6 = await leftA;
      const leaveMs = performance.now() - leftAt;
      assert.equal(g6.generation, g5.generation + 1);
      assert.deepEqual(
        g6.members.map((m) => m.id),
        worldA.members.map((m) => m.id),
      );
      process.stderr.write(
        `etcd rendezvous: first world of 2 agreed in ${agreedMs.toFixed(0)} ms (last call 300 ms); 2 → 3 in ${growMs.toFixed(0)} ms ` +
          `(process start included); SIGKILL → world of 2 in ${lostMs.toFixed(0)} ms (lease 2 s); leave → world of 2 in ${leaveMs.toFixed(0)} ms\n`,
      );
    } finally {
      child?.kill('SIGKILL');
      await Promise.all([a.leave(), b.leave()]);
    }
  },
);

test(
  'a member over the maximum waits, and takes the place of one that leaves in the next generation',
  { skip, timeout: 30_000 },
  async () => {
    const members = [member('bounded', 2, 2), member('bounded', 2, 2), member('bounded', 2, 2)];
    try {
      const [w0, w1] = await Promise.all([members[0]!.join(), members[1]!.join()]);
      assert.equal(w0.worldSize, 2);
      assert.deepEqual(view(w0), view(w1));
      const waiting = members[2]!.join();
      let joined = false;
      void waiting.then(() => (joined = true));
      await new Promise((resolve) => setTimeout(resolve, 800));
      assert.equal(joined, false, 'the third member is not in a world of at most 2');
      // One of the two leaves: the waiting member takes its place in the next generation.
      await members[0]!.leave();
      const w2 = await waiting;
      assert.equal(w2.generation, w0.generation + 1);
      assert.deepEqual(
        w2.members.map((m) => m.id),
        [members[1]!.id, members[2]!.id],
      );
      assert.equal(w2.rank, 1);
    } finally {
      await Promise.all(members.map((m) => m.leave()));
    }
  },
);

test('join times out with a RendezvousError naming the endpoint when too few members register', { skip, timeout: 10_000 }, async () => {
  const alone = new EtcdRendezvous({ endpoint: etcd!.endpoint, jobId: 'alone', minWorkers: 2, maxWorkers: 2, joinTimeoutMs: 600 });
  await assert.rejects(alone.join(), (error: unknown) => {
    assert.ok(error instanceof RendezvousError);
    assert.equal(error.code, 'RENDEZVOUS');
    assert.equal(error.endpoint, etcd!.endpoint);
    assert.match(
      error.message,
      new RegExp(`etcd at ${etcd!.endpoint}: join: no world of 2\\.\\.2 members .* within 600 ms \\(1 registered`),
    );
    return true;
  });
});

test('leaving before a world is agreed rejects the pending join with a RendezvousError', { skip, timeout: 10_000 }, async () => {
  const early = new EtcdRendezvous({ endpoint: etcd!.endpoint, jobId: 'early', minWorkers: 2, maxWorkers: 2 });
  const pending = assert.rejects(early.join(), { name: 'RendezvousError', message: /: join: left before a world was agreed/ });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await early.leave();
  await pending;
});

test('an endpoint where no etcd listens fails with a RendezvousError naming it and the call', { timeout: 10_000 }, async () => {
  const port = await freePort();
  const nobody = new EtcdRendezvous({ endpoint: `127.0.0.1:${port}`, jobId: 'nobody', minWorkers: 1, maxWorkers: 1, callTimeoutMs: 1000 });
  await assert.rejects(nobody.join(), (error: unknown) => {
    assert.ok(error instanceof RendezvousError);
    assert.equal(error.endpoint, `127.0.0.1:${port}`);
    assert.equal(error.operation, 'lease/grant');
    assert.match(error.message, new RegExp(`^etcd at 127\\.0\\.0\\.1:${port}: lease/grant failed: .*ECONNREFUSED`));
    return true;
  });
});

test('a store that goes away is reported to the members as a RendezvousError naming it', { skip, timeout: 30_000 }, async () => {
  const own = await startEtcd();
  const alone = new EtcdRendezvous({
    endpoint: own.endpoint,
    jobId: 'lost-store',
    minWorkers: 1,
    maxWorkers: 1,
    leaseSeconds: 2,
    callTimeoutMs: 1000,
  });
  try {
    const world = await alone.join();
    assert.deepEqual([world.generation, world.worldSize, world.rank], [0, 1, 0]);
    const reported = new Promise<Error>((resolve) => alone.onChange(() => undefined, resolve));
    await own.stop(); // the watch stream ends; watching again fails; then the lease cannot be renewed
    const error = await reported;
    assert.ok(error instanceof RendezvousError, String(error));
    assert.equal(error.endpoint, own.endpoint);
    assert.match(error.message, new RegExp(`^etcd at ${own.endpoint}: (kv/[a-z]+|watch|lease/[a-z]+) failed`));
  } finally {
    await alone.leave();
    await own.stop();
  }
});

test('bad bounds are a ConfigError naming the flag', () => {
  assert.throws(() => new EtcdRendezvous({ endpoint: 'x:1', jobId: 'j', minWorkers: 3, maxWorkers: 2 }), {
    name: 'ConfigError',
    message: /maxWorkers must be a whole number ≥ minWorkers \(3\), got 2/,
  });
  assert.throws(() => new EtcdRendezvous({ endpoint: 'x:1', jobId: 'a/b', minWorkers: 1, maxWorkers: 2 }), {
    name: 'ConfigError',
    message: /job id/,
  });
});
