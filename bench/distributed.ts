/**
 * The distributed benchmark, written to bench/results/distributed.json:
 *
 * 1. Raw TCP loopback throughput, process to process (Node sockets, 16 MiB writes), as the yardstick.
 * 2. All-reduce of 1–64 MiB float64 buffers over 2–4 rank processes (ZeroMQ + CURVE, loopback),
 *    `direct` and `ring`, median of REPEATS: algorithm bandwidth (buffer bytes / time) and bus
 *    bandwidth (× 2(N−1)/N, the bytes each rank must move; NCCL's convention), the latter as a
 *    fraction of the raw TCP throughput measured in the same run.
 * 3. Per model: training time, bytes sent over all ranks and speedup over sequential, for
 *    sequential, threads (2 workers) and processes (2 workers), at BENCH_SCALE × the foundation's sizes:
 *    `seconds` is the fit's wall time (processes: including starting the workers), `trainSeconds`
 *    the slowest rank's training time (compute + communication).
 *
 *   node dist-…/bench/distributed.js      (BENCH_SCALE=0.05 default, BENCH_REPEATS=3)
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import '../src/index.js';
import { loadData } from '../src/data/index.js';
import type { Paradigm } from '../src/models/index.js';
import { createModel } from '../src/models/index.js';

const scale = Number(process.env['BENCH_SCALE'] ?? '0.05');
const repeats = Number(process.env['BENCH_REPEATS'] ?? '3');
const WORKER = new URL('./distributed-worker.js', import.meta.url);
const MiB = 1024 * 1024;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function spawnWorker(): ChildProcess {
  return fork(WORKER, [], {
    serialization: 'advanced',
    env: { ...process.env, SHARDLEARN_BENCH_WORKER: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function next<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (message: { type: string }): void => {
      if (message.type !== type) return;
      child.off('message', on);
      resolve(message as T);
    };
    child.on('message', on);
  });
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          child.once('exit', resolve);
          child.send({ type: 'exit' });
        }),
    ),
  );
}

/** Bytes per second from this process to a sink process over loopback TCP. */
async function rawTcp(): Promise<number> {
  const total = 256 * MiB;
  const sink = spawnWorker();
  sink.send({ type: 'sink', bytes: total });
  const { port } = await next<{ port: number }>(sink, 'listening');
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const chunk = Buffer.alloc(16 * MiB, 1);
  const rates: number[] = [];
  for (let r = 0; r < repeats + 1; r++) {
    const acknowledged = new Promise((resolve) => socket.once('data', resolve));
    const started = performance.now();
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    await acknowledged;
    if (r > 0) rates.push(total / ((performance.now() - started) / 1000)); // r = 0 warms up
  }
  socket.destroy();
  sink.kill();
  return median(rates);
}

async function allReduceRow(
  size: number,
  algorithm: 'direct' | 'ring',
  sizesBytes: number[],
): Promise<{ ranks: number; algorithm: string; bytes: number; seconds: number; algorithmGBps: number; busGBps: number }[]> {
  const children = Array.from({ length: size }, spawnWorker);
  const secret = randomBytes(32).toString('hex');
  const jobId = `bench-${randomBytes(4).toString('hex')}`;
  children[0]!.send({ type: 'join', rank: 0, size, masterPort: 0, secret, jobId, algorithm });
  const { port } = await next<{ port: number }>(children[0]!, 'listening');
  const ready = children.map((child) => next(child, 'ready'));
  children.slice(1).forEach((child, i) => child.send({ type: 'join', rank: i + 1, size, masterPort: port, secret, jobId, algorithm }));
  await Promise.all(ready);
  const rows = [];
  for (const bytes of sizesBytes) {
    const timed = children.map((child) => next<{ seconds: number[] }>(child, 'timed'));
    for (const child of children) child.send({ type: 'allreduce', bytes, repeats });
    const perRank = await Promise.all(timed);
    // A collective ends when its slowest rank ends: per repeat, the slowest rank's time.
    const seconds = median(perRank[0]!.seconds.map((_, i) => Math.max(...perRank.map((r) => r.seconds[i]!))));
    const algorithmGBps = bytes / seconds / 1e9;
    rows.push({ ranks: size, algorithm, bytes, seconds, algorithmGBps, busGBps: (algorithmGBps * 2 * (size - 1)) / size });
    process.stderr.write(
      `allreduce ${algorithm} N=${size} ${bytes / MiB} MiB: ${seconds.toFixed(4)} s, bus ${((algorithmGBps * 2 * (size - 1)) / size).toFixed(3)} GB/s\n`,
    );
  }
  await stop(children);
  return rows;
}

const rows = (n: number): number => Math.max(1000, Math.round(n * scale));
const modelCases = [
  {
    id: 'linear-regression/exact',
    model: 'linear-regression',
    params: { solver: 'exact' },
    data: `synthetic:regression?rows=${rows(1e6)}&cols=50&seed=1`,
  },
  {
    id: 'logistic-regression/sgd',
    model: 'logistic-regression',
    params: { solver: 'sgd', epochs: 3, lr: 0.1, batchSize: 256 },
    data: `synthetic:classification?rows=${rows(1e6)}&cols=50&classes=2&seed=1`,
  },
  {
    id: 'linear-svm/sgd',
    model: 'linear-svm',
    params: { epochs: 3, batchSize: 256 },
    data: `synthetic:classification?rows=${rows(1e6)}&cols=50&classes=2&seed=1`,
  },
  {
    id: 'kmeans/lloyd',
    model: 'kmeans',
    params: { k: 10, maxIter: 20, tol: 0, init: 'random' },
    data: `synthetic:blobs?rows=${rows(1e6)}&cols=20&centers=10&seed=1`,
  },
  {
    id: 'pca/full',
    model: 'pca',
    params: { components: 10, solver: 'full' },
    data: `synthetic:lowrank?rows=${rows(2e5)}&cols=100&rank=10&seed=1`,
  },
];

async function modelRows(): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const runs: { paradigm: Paradigm; workers: number }[] = [
    { paradigm: 'sequential', workers: 1 },
    { paradigm: 'threads', workers: 2 },
    { paradigm: 'processes', workers: 2 },
  ];
  for (const c of modelCases) {
    const { train: data } = await loadData(c.data);
    const trainRows = data.rows;
    const cols = data.cols;
    let sequentialSeconds = NaN;
    for (const run of runs) {
      const seconds: number[] = [];
      const trainSeconds: number[] = [];
      let bytesSent = 0;
      let setupBytes = 0;
      for (let r = 0; r < repeats; r++) {
        const model = await createModel(c.model, c.params).fit(
          data,
          run.paradigm === 'sequential' ? {} : { paradigm: run.paradigm, workers: run.workers },
        );
        const info = model.fitInfo!;
        seconds.push(info.seconds);
        // Training alone (startup of workers excluded): the slowest rank's compute + communication.
        trainSeconds.push(
          info.computeMs === undefined ? info.seconds : Math.max(...info.computeMs.map((ms, r) => ms + info.comm[r]!.commMs)) / 1000,
        );
        bytesSent = model.fitInfo!.comm.reduce((sum, stats) => sum + stats.bytesSent, 0);
        setupBytes = model.fitInfo!.setupBytes ?? 0;
      }
      const time = median(seconds);
      const train = median(trainSeconds);
      if (run.paradigm === 'sequential') sequentialSeconds = time;
      out.push({
        id: c.id,
        rows: trainRows,
        cols,
        paradigm: run.paradigm,
        workers: run.workers,
        seconds: time,
        trainSeconds: train,
        bytesSent,
        setupBytes,
        speedup: sequentialSeconds / time,
        trainSpeedup: sequentialSeconds / train,
      });
      process.stderr.write(
        `${c.id} ${run.paradigm}×${run.workers}: ${time.toFixed(3)} s (training ${train.toFixed(3)} s), ${bytesSent} bytes, speedup ${(sequentialSeconds / time).toFixed(2)} (training ${(sequentialSeconds / train).toFixed(2)})\n`,
      );
    }
  }
  return out;
}

const started = Date.now();
const tcpBytesPerSecond = await rawTcp();
process.stderr.write(`raw TCP loopback: ${(tcpBytesPerSecond / 1e9).toFixed(3)} GB/s\n`);
const sizesBytes = [1, 4, 16, 64].map((m) => m * MiB);
const allReduce = [];
for (const size of [2, 3, 4])
  for (const algorithm of ['direct', 'ring'] as const) allReduce.push(...(await allReduceRow(size, algorithm, sizesBytes)));
const models = await modelRows();
const result = {
  generatedAt: new Date().toISOString(),
  machine: { cores: availableParallelism(), loadAverage: loadavg(), node: process.version },
  settings: { scale, repeats },
  rawTcpGBps: tcpBytesPerSecond / 1e9,
  allReduce: allReduce.map((row) => ({ ...row, fractionOfRawTcp: (row.busGBps * 1e9) / tcpBytesPerSecond })),
  models,
  seconds: (Date.now() - started) / 1000,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/distributed.json', `${JSON.stringify(result, null, 2)}\n`);
process.stderr.write(`wrote bench/results/distributed.json in ${result.seconds.toFixed(0)} s\n`);
