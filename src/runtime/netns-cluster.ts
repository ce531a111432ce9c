/**
 * A real `cluster` job on one machine: one network namespace per rank (netns.ts), joined by a
 * bridge, each rank's link optionally capped by tc tbf; every rank is `ip netns exec <ns> node
 * netns-rank.js`, which fits with paradigm 'cluster' (cluster.ts, the launcher ranks use under
 * torchrun or Kubernetes) and finds rank 0 at its namespace address. So the bytes cross a kernel
 * network path (veth, bridge, qdisc) instead of loopback. This is what `shardlearn compare` runs for
 * its cluster cells.
 *
 * Rank r trains on rows [r·rows/N, (r+1)·rows/N) of `data` (the shards `processes` sends, row keys
 * included), written with its RankJob to a file each rank reads (counted in FitInfo.setupBytes, as
 * processes counts what it ships), so the model is the one `processes` learns with the same world
 * size. Each rank writes its RankMessages (rank.ts) to a report file, read here as the other
 * launchers read theirs. The namespaces are ALWAYS
 * deleted: after the job, on failure, on abort (`signal`), and on SIGINT/SIGTERM/exit.
 *
 * Faults: with `minWorkers` the ranks re-form without a lost rank (runtime/elastic.ts), a re-formed
 * generation reading its shards from one file of every training row; with `inject` one rank's
 * process is signalled at a seeded point of rank 0's progress (fault-injection.ts), which rank 0
 * then streams on stdout. A rank killed by the injection is not a failure when the policy lets the
 * others go on.
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
import type { Dataset } from '../data/dataset.js';
import type { FitInfo } from '../models/paradigm.js';
import { fitInfoParts, rankFailure, resolveTimeout, shardBytes, shardCopy } from './job.js';
import type { FaultInjection } from '../models/paradigm.js';
import { refuseUnreformable, resolveElastic } from './elastic.js';
import { FaultInjector, planFault } from './fault-injection.js';
import type { StampedEvent } from './progress.js';
import type { PipelineOptions } from '../models/neural/pipeline/settings.js';
import type { ModelFitOptions } from '../models/context.js';
import { checkStrategy } from '../strategies/index.js';
import { compressionOf } from './compression.js';
import { NamespaceNetwork } from './netns.js';
import { reapAll } from './reap.js';
import { progressHistory } from './progress.js';
import type { RankJob, RankMessage, RankResult } from './rank.js';

const RANK_ENTRY = fileURLToPath(new URL('./netns-rank.js', import.meta.url));
/** Rank 0's port: each run has namespaces of its own, so any fixed port is free. */
const MASTER_PORT = 29500;
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
  /**
   * The fit options that travel to every rank (compression, its warm-up, checkpoints …), as
   * `FitOptions` carries them to the other launchers' ranks; `pipeline` above, when given, wins.
   */
  options?: ModelFitOptions;
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
  /** The restart policy (FitOptions.minWorkers, maxRestarts): the ranks re-form without a lost one. */
  minWorkers?: number;
  maxRestarts?: number;
  /** Signal one rank at a seeded point (FitOptions.inject). */
  inject?: FaultInjection;
}

export interface NamespaceFitResult<State> {
  state: State;
  info: FitInfo;
  /** Bytes each rank's link carried (veth tx counters), index = rank: what really crossed the network. */
  linkBytesSent: number[];
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
  if (!Number.isInteger(workers) || workers < 1)
    throw new ConfigError(`workers must be a whole number ≥ 1, got ${workers}`, { field: 'workers' });
  if (workers > data.rows)
    throw new ConfigError(
      `workers=${workers} exceeds the ${data.rows} rows of the data: every rank needs at least one row; use fewer workers`,
      { field: 'workers' },
    );
  const options: ModelFitOptions = { ...request.options, ...(request.pipeline === undefined ? {} : { pipeline: request.pipeline }) };
  // A bad codec or strategy is refused here, before any namespace exists, as the other launchers do.
  checkStrategy(request.strategy ?? 'allreduce', compressionOf(options));
  const timeoutMs = resolveTimeout(request.timeoutMs);
  const deadlineMs = request.deadlineMs ?? DEFAULT_DEADLINE_MS;
  if (request.signal?.aborted === true) throw abortError();
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-netns-'));
  const children: ChildProcess[] = [];
  let network: NamespaceNetwork | null = null;
  let injector: FaultInjector | null = null;
  try {
    const jobFiles = Array.from({ length: workers }, (_, rank) => join(dir, `job-${rank}.bin`));
    const reportFiles = Array.from({ length: workers }, (_, rank) => join(dir, `report-${rank}.bin`));
    const strategy = request.strategy ?? 'allreduce';
    const elastic = resolveElastic(request, workers, 'cluster');
    if (elastic !== undefined) refuseUnreformable(strategy, false);
    const rowsFile = join(dir, 'rows.bin');
    if (elastic !== undefined) writeFileSync(rowsFile, serialize(shardCopy(data, 0, 1)));
    const plan = request.inject === undefined ? null : planFault(request.inject, workers);
    let setupBytes = 0;
    jobFiles.forEach((path, rank) => {
      const init = shardCopy(data, rank, workers);
      const job: RankJob = {
        model: { name: request.model, params: request.params },
        data: { kind: 'rows', init, start: 0, end: init.rows },
        strategy,
        timeoutMs,
        modules: [],
        options,
        ...(elastic === undefined ? {} : { elastic }),
      };
      writeFileSync(path, serialize(job));
      setupBytes += shardBytes(init);
    });
    network = NamespaceNetwork.create({ hosts: workers, ...(request.rateMbit === undefined ? {} : { rateMbit: request.rateMbit }) });
    const net = network;
    const before = net.hosts.map((_, i) => net.bytesSent(i));
    const secret = generateSecret();
    const jobId = `netns-${randomBytes(6).toString('hex')}`;
    const startedAt = performance.timeOrigin + performance.now();
    const started = performance.now();
    const alive = (rank: number): number | undefined => {
      const child = children[rank];
      return child === undefined || child.exitCode !== null || child.signalCode !== null ? undefined : child.pid;
    };
    injector = plan === null ? null : new FaultInjector(plan, alive);
    const exits = net.hosts.map((host, rank) => {
      const child = spawn('ip', net.exec(rank, [process.execPath, RANK_ENTRY, jobFiles[rank]!, reportFiles[rank]!]), {
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
          ...(elastic === undefined ? {} : { SHARDLEARN_NETNS_ROWS: rowsFile }),
          ...(injector === null ? {} : { SHARDLEARN_NETNS_PROGRESS: '1' }),
        },
        stdio: ['ignore', injector === null ? 'ignore' : 'pipe', 'pipe'],
      });
      children.push(child);
      if (injector !== null) watchProgress(child, injector);
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-STDERR_TAIL)));
      return new Promise<RankExit>((resolve) => {
        child.once('error', (error) =>
          resolve({ rank, code: null, signal: null, stderr: `could not start 'ip netns exec ${host.namespace}': ${error.message}` }),
        );
        child.once('close', (code, signal) => resolve({ rank, code, signal, stderr }));
      });
    });
    // The injected victim's death is no failure when the policy lets the others go on.
    const spared = (exit: RankExit): boolean =>
      elastic !== undefined && plan?.signal === 'SIGKILL' && exit.rank === plan.rank && exit.signal === 'SIGKILL';
    await waitForRanks(exits, children, net, deadlineMs, request.signal, reportFiles, spared);
    // As processes reports it: from starting the workers to their end, start-up and shard loading
    // included (rank 0's own training time is in computeMs + commMs).
    const seconds = (performance.now() - started) / 1000;
    const linkBytesSent = net.hosts.map((_, i) => net.bytesSent(i) - before[i]!);
    const { history, onEvents } = progressHistory(undefined, startedAt);
    const lost = new Set((await Promise.all(exits)).filter(spared).map((exit) => exit.rank));
    const results = reportFiles.map((file, rank) => {
      if (lost.has(rank)) return null;
      const messages = readReport(file) ?? [];
      for (const message of messages) if (message.type === 'progress') onEvents(message.events);
      return messages.find((message): message is Extract<RankMessage, { type: 'result' }> => message.type === 'result');
    });
    const missing = results.findIndex((result) => result === undefined);
    if (missing >= 0)
      throw new WorkerError(missing, `in namespace ${net.hosts[missing]!.namespace} exited with code 0 without writing its result`);
    // Index = rank in the last generation (the launch ranks, when nobody was lost).
    const reported = (results.filter((result) => result !== null) as RankResult[]).sort((a, b) => a.rank - b.rank);
    const info: FitInfo = {
      paradigm: 'cluster',
      workers: reported.length,
      strategy,
      seconds,
      ...fitInfoParts(reported),
      setupBytes,
      history,
      ...(reported[0]!.faults === undefined ? {} : { faults: reported[0]!.faults }),
      ...(injector === null ? {} : { injected: injector.report() }),
    };
    return { state: reported[0]!.state as State, info, linkBytesSent };
  } finally {
    injector?.release();
    await reapAll(children);
    network?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Feed rank 0's progress lines (netns-rank.ts, SHARDLEARN_NETNS_PROGRESS) to the injector as they come. */
function watchProgress(child: ChildProcess, injector: FaultInjector): void {
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      try {
        for (const event of JSON.parse(line) as StampedEvent[]) injector.observe(event);
      } catch {
        // not a progress line (a model that prints): ignored
      }
    }
  });
}

function abortError(): ShardlearnError {
  return new ShardlearnError('TIMEOUT', 'the namespace cluster job was aborted; its ranks were stopped and its namespaces deleted', {
    recoverable: true,
  });
}

function describeExit(exit: RankExit, namespace: string): string {
  const how =
    exit.signal !== null ? `was killed by ${exit.signal}` : exit.code === null ? 'did not start' : `exited with code ${exit.code}`;
  const said = exit.stderr.trim();
  return `in namespace ${namespace} ${how}${said === '' ? '' : `: ${said}`}`;
}

/** A rank's RankMessages from its report file; null when it wrote none (killed, or failed to start). */
function readReport(file: string): RankMessage[] | null {
  try {
    return deserialize(readFileSync(file)) as RankMessage[];
  } catch {
    return null;
  }
}

/** The error for a rank that exited non-zero: its own report (code, peer, host) when it wrote one, else how it exited. */
function rankExitError(exit: RankExit, namespace: string, reportFile: string): Error {
  const report = readReport(reportFile)?.find((message) => message.type === 'error');
  if (report === undefined) return new WorkerError(exit.rank, describeExit(exit, namespace));
  const error = rankFailure(report);
  error.message += ` (rank ${exit.rank} in namespace ${namespace}, exit code ${exit.code})`;
  return error;
}

/**
 * Resolve when every rank exited 0; reject at the first rank that failed (the others are then
 * stopped by the caller's reap), at the deadline, or on abort.
 */
async function waitForRanks(
  exits: Promise<RankExit>[],
  children: ChildProcess[],
  net: NamespaceNetwork,
  deadlineMs: number,
  signal: AbortSignal | undefined,
  reportFiles: readonly string[],
  spared: (exit: RankExit) => boolean = () => false,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const running = children.flatMap((child, rank) =>
        child.exitCode === null && child.signalCode === null ? [`rank ${rank} (${net.hosts[rank]!.namespace})`] : [],
      );
      reject(
        new ShardlearnError(
          'TIMEOUT',
          `the namespace cluster job did not finish within ${deadlineMs} ms; still running: ${running.join(', ') || 'none'}; raise deadlineMs for bigger jobs`,
          { recoverable: true },
        ),
      );
    }, deadlineMs);
    onAbort = (): void => reject(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const failed = exits.map((exit) =>
    exit.then((result) => {
      if (result.code !== 0 && !spared(result)) throw rankExitError(result, net.hosts[result.rank]!.namespace, reportFiles[result.rank]!);
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
