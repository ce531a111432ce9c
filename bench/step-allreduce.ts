/**
 * The per-step all-reduce benchmark: what one small all-reduce costs a mini-batch SGD step, back to
 * back, on 2 ranks — the `processes` paradigm's lane (ZeroMQ world on the local path, collectives on
 * the lane's Unix stream sockets: src/comm/zmq/lane.ts) against the `threads` paradigm's shared
 * memory (src/comm/shm). At these sizes (a linear model's 21 float64 values, an MLP's 738 float32)
 * latency, not bandwidth, is the cost: compare's SGD cells do one such all-reduce per mini-batch of
 * 64 rows, so a processes×2 cell is ≥ 0.5× its threads×2 twin only if these are within a few tens
 * of µs of each other.
 *
 *   node dist/bench/step-allreduce.js [--rounds 15] [--calls 300] [--sizes f64:21,f32:738,f32:4096]
 *                                     [--transports threads,lane] [--compute-us 0]
 *   # lane@/path/to/other/dist/bench/step-allreduce.js: another build's lane, interleaved with this one's
 *   # STEP_RANK_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof": Node flags for the lane's rank processes
 *
 * Each round runs `calls` all-reduces back to back on every transport in turn (interleaved, so load
 * changes hit both alike) after a barrier; a round's figure is rank 0's elapsed time / calls, less the
 * busy work (`--compute-us`, spent before each call as a step's gradient would be). Prints
 * per size and transport the median µs per all-reduce and the spread over rounds, and the load average.
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Communicator } from '../src/comm/communicator.js';
import { SharedMemoryCommunicator } from '../src/comm/shm/communicator.js';
import type { SharedWorld } from '../src/comm/shm/world.js';
import { createSharedWorld } from '../src/comm/shm/world.js';
import { ZmqCommunicator } from '../src/comm/zmq/communicator.js';
import { createLocalDir } from '../src/comm/zmq/local.js';

const WORLD = 2;
const SELF = new URL(import.meta.url);

interface RunOrder {
  type: 'run';
  dtype: 'f32' | 'f64';
  length: number;
  calls: number;
  /** Busy work between calls, in µs (a step's gradient), so each call starts from a rank that was computing. */
  computeMicros: number;
}
interface Timed {
  type: 'timed';
  microsPerCall: number;
  /** CPU µs per call of this rank's process (threads: of the whole process, both ranks). */
  cpuMicrosPerCall: number;
}

/** Run `order` on `comm`: a warm-up call, a barrier, then `calls` all-reduces back to back. */
async function timeCalls(comm: Communicator, order: RunOrder): Promise<Timed> {
  const buffer = order.dtype === 'f32' ? new Float32Array(order.length) : new Float64Array(order.length);
  buffer.fill(comm.rank + 1);
  await comm.allReduce(buffer, 'sum');
  await comm.barrier();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < order.calls; i++) {
    const until = performance.now() + order.computeMicros / 1000;
    while (performance.now() < until);
    buffer.fill(comm.rank + 1);
    await comm.allReduce(buffer, 'sum');
  }
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  if (buffer[0] !== 3) throw new Error(`wrong sum ${buffer[0]}`);
  return {
    type: 'timed',
    microsPerCall: (elapsed * 1000) / order.calls - order.computeMicros,
    cpuMicrosPerCall: (cpu.user + cpu.system) / order.calls - order.computeMicros,
  };
}

/** A rank: answer each run order with its timing, until told to exit. */
function serve(
  comm: Communicator,
  receive: (listener: (order: RunOrder | { type: 'exit' }) => void) => void,
  reply: (timed: Timed) => void,
  exit: () => void,
): void {
  receive((order) => {
    if (order.type === 'exit') return exit();
    void timeCalls(comm, order).then(reply);
  });
}

interface Rank {
  run(order: RunOrder): Promise<Timed>;
  stop(): Promise<void>;
}

function await1<T>(subscribe: (listener: (message: T) => void) => void): Promise<T> {
  return new Promise((resolve) => subscribe(resolve));
}

async function startThreads(): Promise<Rank[]> {
  const world = createSharedWorld(WORLD);
  const workers = Array.from({ length: WORLD }, (_, rank) => new Worker(SELF, { workerData: { world, rank } }));
  return workers.map((worker) => ({
    run: async (order) => {
      const answer = await1<Timed>((listener) => worker.once('message', listener));
      worker.postMessage(order);
      return answer;
    },
    stop: async () => {
      worker.postMessage({ type: 'exit' });
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  }));
}

/** `lane`: this build's ranks; `lane@<file>`: the ranks of another build's copy of this file (a baseline to interleave with). */
async function startProcesses(script: URL = SELF): Promise<{ ranks: Rank[]; children: ChildProcess[] }> {
  const local = await createLocalDir();
  const secret = randomBytes(32).toString('hex');
  const jobId = `step-${randomBytes(4).toString('hex')}`;
  const children = Array.from({ length: WORLD }, () =>
    fork(script, [], {
      execArgv: process.env['STEP_RANK_EXEC_ARGV']?.split(' ') ?? [],
      env: { ...process.env, SHARDLEARN_STEP_RANK: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  // Rank 0 first; the others once it listens (as runtime/processes.ts starts them).
  const joined = children.map((child) =>
    await1<{ type: string }>((listener) => child.on('message', (m: { type: string }) => m.type === 'joined' && listener(m))),
  );
  const listening = await1<{ type: string }>((listener) => children[0]!.once('message', listener));
  children[0]!.send({ type: 'join', rank: 0, size: WORLD, secret, jobId, ipcDir: local.dir });
  await listening;
  children.slice(1).forEach((child, i) => child.send({ type: 'join', rank: i + 1, size: WORLD, secret, jobId, ipcDir: local.dir }));
  await Promise.all(joined);
  for (const child of children) child.removeAllListeners('message');
  const ranks = children.map((child): Rank => ({
    run: async (order) => {
      const answer = await1<Timed>((listener) => child.once('message', listener));
      child.send(order);
      return answer;
    },
    stop: async () => {
      child.send({ type: 'exit' });
      await new Promise((resolve) => child.once('exit', resolve));
    },
  }));
  const stopAll = ranks.map((rank) => rank.stop);
  return {
    ranks: ranks.map((rank, i) => ({ ...rank, stop: async () => (await stopAll[i]!(), i === 0 ? await local.remove() : undefined) })),
    children,
  };
}

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * q))]!;

async function main(): Promise<void> {
  const rounds = Number(option('rounds', '15'));
  const calls = Number(option('calls', '300'));
  const sizes = option('sizes', 'f64:21,f32:738,f32:4096')
    .split(',')
    .map((spec) => {
      const [dtype, length] = spec.split(':');
      return { dtype: dtype as 'f32' | 'f64', length: Number(length) };
    });
  const transports = option('transports', 'threads,lane').split(',');
  const computeMicros = Number(option('compute-us', '0'));
  const worlds = new Map<string, Rank[]>();
  for (const transport of transports) {
    const [kind, build] = transport.split('@');
    if (kind === 'threads') worlds.set(transport, await startThreads());
    else if (kind === 'lane') worlds.set(transport, (await startProcesses(build === undefined ? SELF : new URL(`file://${build}`))).ranks);
    else throw new Error(`unknown transport '${transport}' (threads, lane, lane@<another build's dist/bench/step-allreduce.js>)`);
  }
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const figures = new Map<string, number[]>();
  const cpuFigures = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const { dtype, length } of sizes) {
      for (const transport of transports) {
        const order: RunOrder = { type: 'run', dtype, length, calls, computeMicros };
        const [rank0] = await Promise.all(worlds.get(transport)!.map((rank) => rank.run(order)));
        const key = `${dtype}:${length} ${transport}`;
        figures.set(key, [...(figures.get(key) ?? []), rank0!.microsPerCall]);
        cpuFigures.set(key, [...(cpuFigures.get(key) ?? []), rank0!.cpuMicrosPerCall]);
      }
    }
  }
  console.log(
    `load average before: ${load}; after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; ${rounds} rounds × ${calls} calls`,
  );
  for (const [key, micros] of figures) {
    const sorted = [...micros].sort((a, b) => a - b);
    const cpu = [...cpuFigures.get(key)!].sort((a, b) => a - b);
    console.log(
      `${key.padEnd(22)} median ${quantile(sorted, 0.5).toFixed(1).padStart(7)} µs  [p25 ${quantile(sorted, 0.25).toFixed(1)}, p75 ${quantile(sorted, 0.75).toFixed(1)}, min ${sorted[0]!.toFixed(1)}]  CPU ${quantile(cpu, 0.5).toFixed(1)} µs/call`,
    );
  }
  for (const ranks of worlds.values()) await Promise.all(ranks.map((rank) => rank.stop()));
}

if (!isMainThread) {
  const { world, rank } = workerData as { world: SharedWorld; rank: number };
  const comm = new SharedMemoryCommunicator(world, rank, { timeoutMs: 120_000 });
  serve(
    comm,
    (listener) => parentPort!.on('message', listener),
    (timed) => parentPort!.postMessage(timed),
    () => process.exit(0),
  );
} else if (process.env['SHARDLEARN_STEP_RANK'] === '1') {
  process.once('message', (join: { rank: number; size: number; secret: string; jobId: string; ipcDir: string }) => {
    void ZmqCommunicator.join({
      rank: join.rank,
      size: join.size,
      masterAddr: '127.0.0.1',
      masterPort: 0,
      secret: Buffer.from(join.secret, 'hex'),
      jobId: join.jobId,
      ipcDir: join.ipcDir,
      timeoutMs: 120_000,
      onListening: () => process.send!({ type: 'listening' }),
    }).then((comm) => {
      process.send!({ type: 'joined' });
      serve(
        comm,
        (listener) => process.on('message', listener),
        (timed) => process.send!(timed),
        () => void comm.close().finally(() => process.exit(0)),
      );
    });
  });
} else {
  await main();
}
