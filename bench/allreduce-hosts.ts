/**
 * The cross-host all-reduce benchmark, written to bench/results/allreduce-hosts.json: float32 sum
 * all-reduce of 4 KiB … 32 MiB between 2 ranks, each in its own network namespace on a bridge
 * (runtime/netns.ts, no rate cap), so the bytes cross veth pairs and a bridge as between two hosts,
 * not loopback. In one run, interleaved:
 *
 * - `lane-tcp-aesgcm`: ours, the collective lane over TCP, every record sealed with AES-256-GCM
 *   (zmq/lane.ts, zmq/lane-sealed.ts; the cross-host default for collectives);
 * - `lane-tcp-plain`: ours, the lane over plain TCP (`--insecure-transport`, isolated networks only);
 * - `zmq-curve-tcp`: ours, the collectives on ZeroMQ with CURVE over TCP (the lane off, as before it);
 * - `zmq-insecure-tcp`: ours, ZeroMQ over plain TCP without CURVE (the lane off, `--insecure-transport`);
 * - `gloo-tcp`: PyTorch's gloo over the same namespaces (GLOO_SOCKET_IFNAME=eth0), when python3 can
 *   import torch.
 *
 * #18's must-show reads the first (the encrypted default) against the last: the encrypted cross-host mode ≥ 50% of gloo's
 * bandwidth. Rows as bench/allreduce.ts's ({ transport, algorithm, world, bytes, median_us, algbw_GBps }
 * and the spread); `ratioToGloo` per transport and size (our bandwidth ÷ gloo's, medians of the run).
 * Needs root and iproute2 (skips with a message otherwise).
 *
 *   sudo node dist/bench/allreduce-hosts.js   (ALLREDUCE_HOSTS_TRANSPORTS=gloo-tcp,zmq-curve-tcp,… to choose;
 *                                              a transport named again runs again, ALLREDUCE_SIZES to narrow)
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NamespaceNetwork, namespacesUnavailable } from '../src/runtime/netns.js';
import type { Row } from './allreduce-rows.js';
import { findTorch, glooSpecs, next, quantile, row, timeSizes } from './allreduce-rows.js';

const WORKER = fileURLToPath(new URL('./distributed-worker.js', import.meta.url));
const GLOO_SCRIPT = fileURLToPath(new URL('../../bench/allreduce_gloo.py', import.meta.url));
const KiB = 1024;
const MiB = 1024 * KiB;
const WORLD = 2;
const PORT = 29500;
const SIZES = [4 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 8 * MiB, 32 * MiB];
const ROUND = 'gloo-tcp,lane-tcp-aesgcm,zmq-curve-tcp,lane-tcp-plain,zmq-insecure-tcp';
const chosen = (process.env['ALLREDUCE_HOSTS_TRANSPORTS'] ?? `${ROUND},${ROUND}`).split(',');
const sizes = process.env['ALLREDUCE_SIZES']?.split(',').map(Number) ?? SIZES;
const OURS = ['lane-tcp-aesgcm', 'lane-tcp-plain', 'zmq-curve-tcp', 'zmq-insecure-tcp'];

interface HostsRow extends Row {
  /** Which pass over the transport list (a transport named again runs again). */
  round: number;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
}

/** Ours: one rank per namespace, its parent's messages over the IPC channel `ip netns exec` passes through. */
async function ours(net: NamespaceNetwork, transport: string, round: number): Promise<HostsRow[]> {
  const children = net.hosts.map((_, rank) =>
    spawn('ip', net.exec(rank, [process.execPath, WORKER]), {
      serialization: 'advanced',
      env: { ...process.env, SHARDLEARN_BENCH_WORKER: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  try {
    const secret = randomBytes(32).toString('hex');
    const jobId = `bench-${randomBytes(4).toString('hex')}`;
    const master = net.hosts[0]!.address;
    const join = (rank: number, masterPort: number): void =>
      void children[rank]!.send({
        type: 'join',
        rank,
        size: WORLD,
        masterAddr: master,
        masterPort,
        host: net.hosts[rank]!.address,
        secret,
        jobId,
        algorithm: 'direct',
        insecure: transport === 'zmq-insecure-tcp' || transport === 'lane-tcp-plain',
        collectiveLane: transport.startsWith('lane-'),
      });
    const listening = next<{ port: number }>(children[0]!, 'listening');
    join(0, 0);
    const { port } = await listening;
    const ready = children.map((child) => next<{ transport: string }>(child, 'ready'));
    for (let rank = 1; rank < WORLD; rank++) join(rank, port);
    // The path the ranks really took (ZmqCommunicator.collectiveTransport): 'zmq' or the lane's name.
    const took = (await Promise.all(ready)).map((r) => r.transport);
    const expected = transport.startsWith('lane-') ? transport : 'zmq';
    if (took.some((t) => t !== expected)) throw new Error(`${transport}: the ranks' collectives took ${took.join(', ')}, not ${expected}`);
    const rows: HostsRow[] = (await timeSizes(children, transport, 'direct', sizes)).map((r) => ({ ...r, round }));
    for (const child of children) child.send({ type: 'exit' });
    await Promise.all(children.map(exited));
    return rows;
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function gloo(net: NamespaceNetwork, python: string, round: number): Promise<HostsRow[]> {
  const specs = glooSpecs(sizes);
  const ranks = net.hosts.map((host, rank) =>
    spawn('ip', net.exec(rank, [python, GLOO_SCRIPT, ...specs]), {
      env: {
        ...process.env,
        RANK: String(rank),
        WORLD_SIZE: String(WORLD),
        MASTER_ADDR: net.hosts[0]!.address,
        MASTER_PORT: String(PORT),
        GLOO_SOCKET_IFNAME: host.device,
        OMP_NUM_THREADS: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  let output = '';
  ranks[0]!.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const codes = await Promise.all(ranks.map(exited));
  if (codes.some((code) => code !== 0)) throw new Error(`gloo ranks exited with ${codes.join(', ')}`);
  return output
    .trim()
    .split('\n')
    .map((line) => {
      const { bytes, micros } = JSON.parse(line) as { bytes: number; micros: number[] };
      return { ...row('gloo-tcp', 'gloo', WORLD, bytes, micros), round };
    });
}

const median = (values: number[]): number =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

const unavailable = namespacesUnavailable();
if (unavailable !== null) {
  process.stderr.write(`allreduce-hosts skipped: ${unavailable}\n`);
} else {
  const torch = findTorch();
  const net = NamespaceNetwork.create({ hosts: WORLD });
  const rows: HostsRow[] = [];
  const rounds = new Map<string, number>();
  const before = loadavg();
  try {
    for (const transport of chosen) {
      const round = (rounds.get(transport) ?? 0) + 1;
      rounds.set(transport, round);
      if (transport === 'gloo-tcp') {
        if (torch === null) process.stderr.write('gloo skipped: no python3 here can import torch (apt-get install python3-torch)\n');
        else rows.push(...(await gloo(net, torch.python, round)));
      } else if (OURS.includes(transport)) rows.push(...(await ours(net, transport, round)));
      else throw new Error(`ALLREDUCE_HOSTS_TRANSPORTS: unknown transport '${transport}' (${OURS.join(', ')}, gloo-tcp)`);
    }
  } finally {
    net.close();
  }
  // Our bandwidth ÷ gloo's per size: the medians over the rounds of each.
  const bandwidth = (transport: string, bytes: number): number | null => {
    const of = rows.filter((r) => r.transport === transport && r.bytes === bytes).map((r) => r.algbw_GBps);
    return of.length === 0 ? null : median(of);
  };
  const ratioToGloo = OURS.flatMap((transport) =>
    sizes.map((bytes) => {
      const mine = bandwidth(transport, bytes);
      const theirs = bandwidth('gloo-tcp', bytes);
      return {
        transport,
        bytes,
        algbw_GBps: mine,
        gloo_algbw_GBps: theirs,
        ratio: mine === null || theirs === null ? null : Math.round((mine / theirs) * 1000) / 1000,
      };
    }),
  );
  for (const r of ratioToGloo)
    if (r.ratio !== null)
      process.stderr.write(`${r.transport.padEnd(17)} ${String(r.bytes).padStart(9)} B  ${r.ratio.toFixed(2)}× gloo's bandwidth\n`);
  const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  const record = {
    date: new Date().toISOString(),
    node: process.version,
    torch: torch?.version ?? null,
    cores: availableParallelism(),
    network: '2 network namespaces on a bridge (veth), no rate cap',
    loadavg: { before, after: loadavg() },
    rows,
    ratioToGloo,
  };
  writeFileSync(`${resultsDir}allreduce-hosts.json`, `${JSON.stringify(record, null, 1)}\n`);
  process.stderr.write(`wrote ${resultsDir}allreduce-hosts.json (${rows.length} rows)\n`);
}
