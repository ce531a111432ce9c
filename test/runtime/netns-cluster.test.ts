// A cluster job over network namespaces (runtime/netns.ts, netns-cluster.ts): the model equals the
// processes model with the same world size bit for bit (and sequential within the equivalence
// tolerance), the bytes the ranks count really crossed their tbf-capped links, and the namespaces
// are gone afterwards — after success, after a rank is killed from outside, after an abort, after
// the deadline, and after SIGINT to the process that made them. Needs root and iproute2; skips with
// the reason otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '../../src/index.js';
import { ShardlearnError, WorkerError } from '../../src/core/errors.js';
import { loadData } from '../../src/data/load.js';
import { createModel } from '../../src/models/registry.js';
import { fitInNamespaces } from '../../src/runtime/netns-cluster.js';
import { listNamespaces, namespacesUnavailable } from '../../src/runtime/netns.js';
import { stateDifference } from './model-cases.js';
import { RELATIVE_TOLERANCE } from './threads-equivalence.js';

const reason = namespacesUnavailable();
const skip = reason ?? false;
const MODEL = { name: 'logistic-regression', params: { solver: 'sgd', epochs: 3, batchSize: 64, lr: 0.1 } };
const ours = (): string[] => listNamespaces().filter((name) => name.startsWith(`sl${process.pid.toString(36)}-`));

test(
  'two ranks in two namespaces, 100 Mbit/s tbf: the model equals processes bit for bit, the bytes cross the links, nothing is left',
  { skip },
  async () => {
    const { train } = await loadData('synthetic:classification?rows=3000&cols=6&seed=4');
    const result = await fitInNamespaces<object>({
      model: MODEL.name,
      params: MODEL.params,
      data: train,
      workers: 2,
      rateMbit: 100,
      timeoutMs: 20_000,
    });
    const processes = await createModel(MODEL.name, MODEL.params).fit(train, { paradigm: 'processes', workers: 2 });
    assert.deepEqual(result.state, processes.state, 'cluster×2 learns what processes×2 learns');
    const sequential = await createModel(MODEL.name, MODEL.params).fit(train);
    const { worst, where } = stateDifference(result.state, sequential.state);
    assert.ok(worst <= RELATIVE_TOLERANCE, `relative difference to sequential ${worst} at ${where}`);
    assert.equal(result.info.paradigm, 'cluster');
    assert.equal(result.info.workers, 2);
    assert.ok(result.info.setupBytes! >= train.x.byteLength, 'the shards written for the ranks are counted as setup');
    result.info.comm.forEach((stats, rank) => {
      assert.ok(stats.bytesSent > 0, `rank ${rank} sent something`);
      assert.ok(
        result.linkBytesSent[rank]! >= stats.bytesSent,
        `rank ${rank} counted ${stats.bytesSent} bytes; its link carried ${result.linkBytesSent[rank]}`,
      );
    });
    assert.deepEqual(ours(), []);
  },
);

test(
  'compression reaches the namespace ranks: cluster×2 with top-k learns what processes×2 with top-k learns, and sends fewer bytes than without',
  { skip },
  async () => {
    const { train } = await loadData('synthetic:classification?rows=3000&cols=40&seed=4');
    const options = { compression: 'topk:0.05' };
    const compressed = await fitInNamespaces<object>({
      model: MODEL.name,
      params: MODEL.params,
      data: train,
      workers: 2,
      timeoutMs: 20_000,
      options,
    });
    const plain = await fitInNamespaces<object>({ model: MODEL.name, params: MODEL.params, data: train, workers: 2, timeoutMs: 20_000 });
    const processes = await createModel(MODEL.name, MODEL.params).fit(train, { paradigm: 'processes', workers: 2, ...options });
    assert.deepEqual(compressed.state, processes.state, 'the codec ran on the namespace ranks as on processes');
    assert.notDeepEqual(compressed.state, plain.state, 'and it changed the model');
    const sent = (result: { info: { comm: { bytesSent: number }[] } }): number => result.info.comm[0]!.bytesSent;
    assert.ok(sent(compressed) < 0.5 * sent(plain), `rank 0 sent ${sent(compressed)} bytes compressed, ${sent(plain)} plain`);
    // A bad codec is refused before any namespace is made.
    await assert.rejects(
      fitInNamespaces({ model: MODEL.name, params: MODEL.params, data: train, workers: 2, options: { compression: 'topk:7' } }),
      (error: unknown) => error instanceof ShardlearnError && error.code === 'CONFIG',
    );
    assert.deepEqual(ours(), []);
  },
);

/** Kill the first process found in rank `rank`'s namespace (a host dying mid-job). */
async function killRank(rank: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const namespace = ours().find((name) => name.endsWith(`h${rank}`));
    if (namespace !== undefined) {
      const pids = execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' })
        .split('\n')
        .filter((p) => p !== '');
      if (pids.length > 0) {
        process.kill(Number(pids[0]), 'SIGKILL');
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`rank ${rank}'s namespace never had a process`);
}

test(
  'a rank killed from outside: the error names the rank and its namespace, the others are stopped, the namespaces are deleted',
  { skip },
  async () => {
    const { train } = await loadData('synthetic:classification?rows=60000&cols=10&seed=4');
    const job = fitInNamespaces({ model: MODEL.name, params: { ...MODEL.params, epochs: 50 }, data: train, workers: 2, timeoutMs: 20_000 });
    await killRank(1, Date.now() + 10_000);
    await assert.rejects(
      job,
      (error: unknown) =>
        error instanceof WorkerError && error.rank === 1 && /namespace sl[\w-]+h1 was killed by SIGKILL/.test(error.message),
    );
    assert.deepEqual(ours(), []);
  },
);

test('abort and deadline: the job rejects, naming what was still running, and deletes its namespaces', { skip }, async () => {
  const { train } = await loadData('synthetic:classification?rows=60000&cols=10&seed=4');
  const controller = new AbortController();
  const aborted = fitInNamespaces({
    model: MODEL.name,
    params: { ...MODEL.params, epochs: 50 },
    data: train,
    workers: 2,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 300);
  await assert.rejects(aborted, (error: unknown) => error instanceof ShardlearnError && /aborted/.test(error.message));
  assert.deepEqual(ours(), []);
  const late = fitInNamespaces({ model: MODEL.name, params: { ...MODEL.params, epochs: 50 }, data: train, workers: 2, deadlineMs: 300 });
  await assert.rejects(
    late,
    (error: unknown) =>
      error instanceof ShardlearnError &&
      error.code === 'TIMEOUT' &&
      /within 300 ms; still running: rank 0 \(sl[\w-]+h0\), rank 1/.test(error.message),
  );
  assert.deepEqual(ours(), []);
});

test('SIGINT to the process that built a namespace network deletes it and still ends that process', { skip }, async () => {
  const netns = fileURLToPath(new URL('../../src/runtime/netns.js', import.meta.url));
  const script = `import { NamespaceNetwork } from ${JSON.stringify(netns)}; const n = NamespaceNetwork.create({ hosts: 2, rateMbit: 50 }); console.log(n.hosts.map((h) => h.namespace).join(' ')); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const names = await new Promise<string[]>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim().split(' ')));
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before building its network`)));
  });
  assert.ok(
    names.every((name) => listNamespaces().includes(name)),
    `built ${names.join(', ')}`,
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 130, 'the process still ends on SIGINT (exit code 128 + 2)');
  const left = listNamespaces();
  assert.deepEqual(
    names.filter((name) => left.includes(name)),
    [],
    'its namespaces (hosts and switch) are deleted',
  );
});
