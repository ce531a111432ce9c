/**
 * A real `cluster` job on one machine: one network namespace per rank (netns.ts), joined by a
 * bridge, each rank's link optionally capped by tc tbf; every rank is `ip netns exec <ns> node
 * netns-rank.js`, which fits with paradigm 'cluster' (cluster.ts, the launcher ranks use under
 * torchrun or Kubernetes) and finds rank 0 at its namespace address. So the bytes cross a kernel
 * network path (veth, bridge, qdisc) instead of loopback. This is what `shardlearn compare` runs for
 * its cluster cells.
 *
 * Rank r trains on rows [r·rows/N, (r+1)·rows/N) of `data` (the shards `processes` sends), written
 * once to a file each rank reads (counted in FitInfo.setupBytes, as processes counts what it ships),
 * so the model is the one `processes` learns with the same world size. The namespaces are ALWAYS
 * deleted: after the job, on failure, on abort (`signal`), and on SIGINT/SIGTERM/exit.
 *
 * @example
 * const { state, info } = await fitInNamespaces({
 *   model: 'logistic-regression', params: { solver: 'sgd' }, data: train, workers: 2, rateMbit: 100,
 * });
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { generateSecret } from '../comm/zmq/security.js';
import { ConfigError, ShardlearnError, WorkerError } from '../core/errors.js';
import type { Dataset, DatasetInit } from '../data/dataset.js';
import type { PipelineOptions } from '../models/neural/pipeline/settings.js';
import type { FitInfo } from '../models/paradigm.js';
import { NamespaceNetwork } from './netns.js';
import type { RankJob } from './netns-rank.js';
import { reapAll } from './processes.js';

const RANK_ENTRY = fileURLToPath(new URL('./netns-rank.js', import.meta.url));
/** Rank 0's port: each run has namespaces of its own, so any fixed port is free. */
const MASTER_PORT = 29500;
/** Per-rank inactivity timeout handed to the cluster launcher (as processes' default). */
const DEFAULT_TIMEOUT_MS = 120_000;
/** The whole job's wall-clock limit, start-up included. */
const DEFAULT_DEADLINE_MS = 600_000;
/** The last bytes of a failed rank's stderr quoted in the error. */
const STDERR_TAIL = 2000;

export interface NamespaceFitRequest {
  /** Registered model name and its hyperparameters (each rank builds its own). */
  model: string;
  params: Record<string, unknown>;
  /** The training rows; split contiguously over the ranks. */
  data: Dataset;
  /** Ranks = namespaces, ≥ 1. */
  workers: number;
  /** Default 'allreduce'. */
  strategy?: string;
  /** FitOptions.pipeline: train as a pipeline (neural models). */
  pipeline?: PipelineOptions;
  /** tbf cap of each rank's link in Mbit/s; absent = the veth at full speed. */
  rateMbit?: number;
  /** Per-rank inactivity timeout (a lost or silent peer), in ms; default 120 000. */
  timeoutMs?: number;
  /** Whole-job limit in ms, start-up included; default 600 000. */
  deadlineMs?: number;
  /** Stops the job: ranks are killed, namespaces deleted, the promise rejects. */
  signal?: AbortSignal;
  /** Extra environment for every rank (tests use it to make one fail). */
  env?: NodeJS.ProcessEnv;
}

export interface NamespaceFitResult<State> {
  state: State;
  info: FitInfo;
  /** Bytes each rank's link carried (veth tx counters), index = rank: what really crossed the network. */
  linkBytesSent: number[];
}

function writeShard(data: Dataset, rank: number, size: number, path: string): number {
  const start = Math.floor((rank * data.rows) / size);
  const end = Math.floor(((rank + 1) * data.rows) / size);
  const shard = data.slice(start, end);
  // slice(): a copy in an ordinary ArrayBuffer (shared memory cannot be serialized).
  const init: DatasetInit = { x: shard.x.slice(), y: shard.y === null ? null : shard.y.slice(), rows: shard.rows, cols: shard.cols, featureNames: shard.featureNames, labelNames: shard.labelNames, source: shard.source, rowKeyBase: shard.rowKeyBase };
  writeFileSync(path, serialize(init));
  return init.x.byteLength + (init.y?.byteLength ?? 0);
}

interface RankExit {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Run the job; see the module comment. Rejects with a WorkerError naming the rank and namespace that failed. */
export async function fitInNamespaces<State>(request: NamespaceFitRequest): Promise<NamespaceFitResult<State>> {
  const { workers, data } = request;
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(`workers must be a whole number ≥ 1, got ${workers}`, { field: 'workers' });
  if (workers > data.rows) throw new ConfigError(`workers=${workers} exceeds the ${data.rows} rows of the data: every rank needs at least one row; use fewer workers`, { field: 'workers' });
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadlineMs = request.deadlineMs ?? DEFAULT_DEADLINE_MS;
  if (request.signal?.aborted === true) throw abortError();
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-netns-'));
  const children: ChildProcess[] = [];
  let network: NamespaceNetwork | null = null;
  try {
    const shards = Array.from({ length: workers }, (_, rank) => join(dir, `shard-${rank}.bin`));
    let setupBytes = 0;
    shards.forEach((path, rank) => (setupBytes += writeShard(data, rank, workers, path)));
    const job: RankJob = { model: request.model, params: request.params, strategy: request.strategy ?? 'allreduce', ...(request.pipeline === undefined ? {} : { pipeline: request.pipeline }), timeoutMs, shards, out: join(dir, 'result.bin') };
    const jobFile = join(dir, 'job.json');
    writeFileSync(jobFile, JSON.stringify(job));
    network = NamespaceNetwork.create({ hosts: workers, ...(request.rateMbit === undefined ? {} : { rateMbit: request.rateMbit }) });
    const net = network;
    const before = net.hosts.map((_, i) => net.bytesSent(i));
    const secret = generateSecret();
    const jobId = `netns-${randomBytes(6).toString('hex')}`;
    const started = performance.now();
    const exits = net.hosts.map((host, rank) => {
      const child = spawn('ip', net.exec(rank, [process.execPath, RANK_ENTRY, jobFile]), {
        env: {
          ...process.env,
          ...request.env,
          SHARDLEARN_NETNS_RANK: '1',
          MASTER_ADDR: net.hosts[0]!.address,
          MASTER_PORT: String(MASTER_PORT),
          WORLD_SIZE: String(workers),
          RANK: String(rank),
          LOCAL_RANK: '0',
          SHARDLEARN_JOB_ID: jobId,
          SHARDLEARN_SECRET: secret,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-STDERR_TAIL)));
      return new Promise<RankExit>((resolve) => {
        child.once('error', (error) => resolve({ rank, code: null, signal: null, stderr: `could not start 'ip netns exec ${host.namespace}': ${error.message}` }));
        child.once('close', (code, signal) => resolve({ rank, code, signal, stderr }));
      });
    });
    await waitForRanks(exits, children, net, deadlineMs, request.signal);
    // As processes reports it: from starting the workers to their end, start-up and shard loading
    // included (rank 0's own training time is in history's elapsedMs and computeMs + commMs).
    const seconds = (performance.now() - started) / 1000;
    const linkBytesSent = net.hosts.map((_, i) => net.bytesSent(i) - before[i]!);
    const { state, info } = deserialize(readFileSync(job.out)) as { state: State; info: FitInfo };
    return { state, info: { ...info, seconds, setupBytes }, linkBytesSent };
  } finally {
    await reapAll(children);
    network?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function abortError(): ShardlearnError {
  return new ShardlearnError('TIMEOUT', 'the namespace cluster job was aborted; its ranks were stopped and its namespaces deleted', { recoverable: true });
}

function describeExit(exit: RankExit, namespace: string): string {
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : exit.code === null ? 'did not start' : `exited with code ${exit.code}`;
  const said = exit.stderr.trim();
  return `in namespace ${namespace} ${how}${said === '' ? '' : `: ${said}`}`;
}

/**
 * Resolve when every rank exited 0; reject at the first rank that failed (the others are then
 * stopped by the caller's reap), at the deadline, or on abort.
 */
async function waitForRanks(exits: Promise<RankExit>[], children: ChildProcess[], net: NamespaceNetwork, deadlineMs: number, signal: AbortSignal | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const running = children.flatMap((child, rank) => (child.exitCode === null && child.signalCode === null ? [`rank ${rank} (${net.hosts[rank]!.namespace})`] : []));
      reject(new ShardlearnError('TIMEOUT', `the namespace cluster job did not finish within ${deadlineMs} ms; still running: ${running.join(', ') || 'none'}; raise deadlineMs for bigger jobs`, { recoverable: true }));
    }, deadlineMs);
    onAbort = (): void => reject(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const failed = exits.map((exit) =>
    exit.then((result) => {
      if (result.code !== 0) throw new WorkerError(result.rank, describeExit(result, net.hosts[result.rank]!.namespace));
      return result;
    }),
  );
  try {
    await Promise.race([Promise.all(failed), stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    stop.catch(() => undefined);
    for (const promise of failed) promise.catch(() => undefined);
  }
}
