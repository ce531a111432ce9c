/**
 * The all-reduce benchmark, written to bench/results/allreduce.json (`npm run bench:allreduce`):
 * float32 sum all-reduce of 4 KiB … 32 MiB between 2 rank processes on this host, in one run:
 *
 * - ours over each transport the `processes` paradigm can use: `zmq-curve-tcp` (ZeroMQ + CURVE over
 *   loopback TCP, the cross-host default) and `zmq-ipc` (the local path: ipc:// sockets in a 0700
 *   folder, NULL mechanism; see src/comm/zmq/local.ts) with the collectives on ZeroMQ, and
 *   `lane-board` (the local path's default with its folder on tmpfs: all-reduces up to 64 KiB through
 *   the lane's board of polled files on /dev/shm, src/comm/zmq/lane-board.ts, larger ones on the
 *   lane's sockets), `lane-ipc` (every collective on the lane's Unix stream sockets,
 *   src/comm/zmq/lane.ts) and `lane-shm` (the lane, its large segments through files on /dev/shm,
 *   src/comm/zmq/lane-files.ts; opt-in, SHARDLEARN_LANE_FILES=1), algorithms `direct` and `ring`;
 * - PyTorch's gloo (`gloo-tcp`), timed the same way, when python3 can import torch (else skipped
 *   with a message).
 *
 * Every row: { transport, algorithm, world, bytes, median_us, algbw_GBps } plus the spread (min,
 * p25, p75, max µs) and the repeat count. A repeat is timed after a barrier, and is the slowest
 * rank's time. algbw = bytes / median time (NCCL's algorithm bandwidth).
 *
 *   npm run bench:allreduce          (ALLREDUCE_TRANSPORTS=zmq-curve-tcp,zmq-ipc,lane-board,lane-ipc,lane-shm,gloo-tcp to choose,
 *                                     a transport named again runs again: gloo-tcp,lane-shm,gloo-tcp,lane-shm interleaves;
 *                                     ALLREDUCE_ALGORITHMS, ALLREDUCE_SIZES, ALLREDUCE_SEGMENT_BYTES to narrow or tune)
 */
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { onTmpfs } from '../src/comm/zmq/lane-files.js';
import { createLocalDir } from '../src/comm/zmq/local.js';
import type { Row } from './allreduce-rows.js';
import { findTorch, glooSpecs, next, row, timeSizes } from './allreduce-rows.js';

const WORKER = new URL('./distributed-worker.js', import.meta.url);
const GLOO_SCRIPT = fileURLToPath(new URL('../../bench/allreduce_gloo.py', import.meta.url));
const KiB = 1024;
const MiB = 1024 * KiB;
const WORLD = 2;
const SIZES = [4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 8 * MiB, 32 * MiB];
const chosen = (process.env['ALLREDUCE_TRANSPORTS'] ?? 'zmq-curve-tcp,zmq-ipc,lane-board,lane-ipc,lane-shm,gloo-tcp').split(',');
type Ours = 'zmq-curve-tcp' | 'zmq-ipc' | 'lane-board' | 'lane-ipc' | 'lane-shm';
const OURS: readonly string[] = ['zmq-curve-tcp', 'zmq-ipc', 'lane-board', 'lane-ipc', 'lane-shm'] satisfies Ours[];
/** ALLREDUCE_SEGMENT_BYTES: the communicator's segment size (default: its own), for tuning it. */
const segmentBytes = process.env['ALLREDUCE_SEGMENT_BYTES'] === undefined ? undefined : Number(process.env['ALLREDUCE_SEGMENT_BYTES']);
/** ALLREDUCE_ALGORITHMS: which of ours to time (default direct,ring). */
const algorithms = (process.env['ALLREDUCE_ALGORITHMS'] ?? 'direct,ring').split(',') as ('direct' | 'ring')[];
/** ALLREDUCE_SIZES: the buffer sizes in bytes (default 4 KiB … 32 MiB). */
const sizes = process.env['ALLREDUCE_SIZES']?.split(',').map(Number) ?? SIZES;

async function ours(transport: Ours, algorithm: 'direct' | 'ring'): Promise<Row[]> {
  // lane-shm's segment files and lane-board's board need the job folder on tmpfs.
  const onShm = transport === 'lane-shm' || transport === 'lane-board';
  const local = transport === 'zmq-curve-tcp' ? null : await createLocalDir(onShm ? '/dev/shm' : tmpdir());
  const children = Array.from({ length: WORLD }, () =>
    fork(WORKER, [], {
      serialization: 'advanced',
      env: { ...process.env, SHARDLEARN_BENCH_WORKER: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  try {
    const secret = randomBytes(32).toString('hex');
    const jobId = `bench-${randomBytes(4).toString('hex')}`;
    const join = (rank: number, masterPort: number): void =>
      void children[rank]!.send({
        type: 'join',
        rank,
        size: WORLD,
        masterPort,
        secret,
        jobId,
        algorithm,
        ...(local === null ? {} : { ipcDir: local.dir }),
        ...(segmentBytes === undefined ? {} : { segmentBytes }),
        ...(local === null
          ? {}
          : {
              collectiveLane: transport !== 'zmq-ipc',
              laneFiles: transport === 'lane-shm',
              laneBoard: transport === 'lane-board',
            }),
      });
    const listening = next<{ port: number }>(children[0]!, 'listening');
    join(0, 0);
    const { port } = await listening;
    const ready = children.map((child) => next(child, 'ready'));
    for (let rank = 1; rank < WORLD; rank++) join(rank, port);
    await Promise.all(ready);
    const rows = await timeSizes(children, transport, algorithm, sizes);
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            child.once('exit', resolve);
            child.send({ type: 'exit' });
          }),
      ),
    );
    return rows;
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await local?.remove();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function gloo(python: string): Promise<Row[]> {
  const port = await freePort();
  const specs = glooSpecs(sizes);
  const ranks = Array.from({ length: WORLD }, (_, rank) =>
    spawn(python, [GLOO_SCRIPT, ...specs], {
      env: {
        ...process.env,
        RANK: String(rank),
        WORLD_SIZE: String(WORLD),
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        OMP_NUM_THREADS: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  let output = '';
  ranks[0]!.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const codes = await Promise.all(ranks.map((child) => new Promise<number | null>((resolve) => child.once('exit', resolve))));
  if (codes.some((code) => code !== 0)) throw new Error(`gloo ranks exited with ${codes.join(', ')}`);
  return output
    .trim()
    .split('\n')
    .map((line) => {
      const { bytes, micros } = JSON.parse(line) as { bytes: number; micros: number[] };
      return row('gloo-tcp', 'gloo', WORLD, bytes, micros);
    });
}

const rows: Row[] = [];
const torch = findTorch();
for (const transport of chosen) {
  if (transport === 'gloo-tcp') {
    if (torch === null)
      process.stderr.write('gloo skipped: no python3 here can import torch (apt-get install python3-torch, or set PYTHON)\n');
    else rows.push(...(await gloo(torch.python)));
  } else if (transport === 'lane-shm' && !onTmpfs('/dev/shm')) {
    process.stderr.write('lane-shm skipped: no tmpfs at /dev/shm for the segment files\n');
  } else if (OURS.includes(transport)) for (const algorithm of algorithms) rows.push(...(await ours(transport as Ours, algorithm)));
  else throw new Error(`ALLREDUCE_TRANSPORTS: unknown transport '${transport}' (${OURS.join(', ')}, gloo-tcp)`);
}
const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const record = {
  date: new Date().toISOString(),
  node: process.version,
  torch: torch?.version ?? null,
  cores: availableParallelism(),
  loadavg: loadavg(),
  rows,
};
writeFileSync(`${resultsDir}allreduce.json`, `${JSON.stringify(record, null, 1)}\n`);
process.stderr.write(`wrote ${resultsDir}allreduce.json (${rows.length} rows)\n`);
