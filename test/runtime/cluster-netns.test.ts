// A multi-host cluster job on one machine: two network namespaces (two "hosts") joined by a veth
// pair, addresses in 198.18.0.0/15 (RFC 2544's benchmarking range), the link capped at 200 Mbit/s
// with a tbf qdisc. Rank 0 binds its namespace's address; rank 1 finds its own address toward
// MASTER_ADDR. The model equals sequential, and the bytes the ranks report sending really crossed the
// veth link. Needs root and iproute2; skips with the reason otherwise. The namespaces are this test's
// own (named with its pid) and deleted afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize } from 'node:v8';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import type { FitInfo } from '../../src/models/paradigm.js';
import { createModel } from '../../src/models/registry.js';
import { CLUSTER_MODEL } from './cluster-rank.js';
import { stateDifference } from './model-cases.js';
import { RELATIVE_TOLERANCE } from './threads-equivalence.js';

const RANK_SCRIPT = fileURLToPath(new URL('./cluster-rank.js', import.meta.url));
const SPEC = 'synthetic:classification?rows=2400&cols=5&seed=4';
const tag = String(process.pid % 100000);
const HOSTS = [
  { ns: `sl${tag}a`, veth: `sl${tag}a0`, address: '198.18.77.1' },
  { ns: `sl${tag}b`, veth: `sl${tag}b0`, address: '198.18.77.2' },
];

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  try {
    ip('netns', 'add', `${HOSTS[0]!.ns}probe`);
    ip('netns', 'del', `${HOSTS[0]!.ns}probe`);
    execFileSync('tc', ['-V'], { stdio: 'ignore' });
  } catch (error) {
    return `ip netns / tc not permitted here: ${(error as Error).message.split('\n')[0]}`;
  }
  return null;
}

function setUp(): void {
  const [a, b] = HOSTS as [(typeof HOSTS)[0], (typeof HOSTS)[0]];
  for (const host of HOSTS) ip('netns', 'add', host.ns);
  ip('link', 'add', a.veth, 'type', 'veth', 'peer', 'name', b.veth);
  for (const host of HOSTS) {
    ip('link', 'set', host.veth, 'netns', host.ns);
    ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', host.veth);
    ip('-n', host.ns, 'link', 'set', host.veth, 'up');
    ip('-n', host.ns, 'link', 'set', 'lo', 'up');
    execFileSync('ip', [
      'netns',
      'exec',
      host.ns,
      'tc',
      'qdisc',
      'add',
      'dev',
      host.veth,
      'root',
      'tbf',
      'rate',
      '200mbit',
      'burst',
      '64kb',
      'latency',
      '50ms',
    ]);
  }
}

function tearDown(): void {
  for (const host of HOSTS) {
    try {
      ip('netns', 'del', host.ns); // deleting a namespace deletes its end of the veth pair, and so the pair
    } catch {
      // Not created.
    }
  }
}

const txBytes = (host: (typeof HOSTS)[0]): number =>
  Number(execFileSync('ip', ['netns', 'exec', host.ns, 'cat', `/sys/class/net/${host.veth}/statistics/tx_bytes`], { encoding: 'utf8' }));

function runRank(host: (typeof HOSTS)[0], rank: number, out: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', host.ns, process.execPath, RANK_SCRIPT, SPEC, out], {
    env: {
      ...process.env,
      SHARDLEARN_CLUSTER_TEST: '1',
      MASTER_ADDR: HOSTS[0]!.address,
      MASTER_PORT: '29577',
      WORLD_SIZE: '2',
      RANK: String(rank),
      LOCAL_RANK: '0',
      SHARDLEARN_SECRET: 'netns-test-secret-0123456789abcdef',
      SHARDLEARN_JOB_ID: `netns-${tag}`,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

const reason = unavailable();

test(
  'two hosts (network namespaces, veth, 200 Mbit/s tbf): the cluster model equals sequential and its bytes cross the link',
  { skip: reason ?? false },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardlearn-netns-'));
    setUp();
    const ranks: ChildProcess[] = [];
    try {
      const out = join(dir, 'result.bin');
      const before = HOSTS.map(txBytes);
      ranks.push(runRank(HOSTS[0]!, 0, out), runRank(HOSTS[1]!, 1, out));
      const codes = await Promise.all(ranks.map((child) => new Promise<number | null>((resolve) => child.once('exit', resolve))));
      assert.deepEqual(codes, [0, 0]);
      const { state, info } = deserialize(readFileSync(out)) as { state: unknown; info: FitInfo };
      const sequential = (await createModel(CLUSTER_MODEL.name, CLUSTER_MODEL.params).fit((await loadData(SPEC)).train)).state;
      const { worst, where } = stateDifference(state, sequential);
      assert.ok(worst <= RELATIVE_TOLERANCE, `relative difference ${worst} at ${where}`);
      const crossed = HOSTS.map((host, i) => txBytes(host) - before[i]!);
      info.comm.forEach((stats, rank) =>
        assert.ok(crossed[rank]! >= stats.bytesSent, `rank ${rank} sent ${stats.bytesSent} bytes; its veth carried ${crossed[rank]}`),
      );
    } finally {
      for (const child of ranks) if (child.exitCode === null) child.kill('SIGKILL');
      tearDown();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
