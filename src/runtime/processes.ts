/**
 * The `processes` paradigm: N child processes on this host train one model, SPMD, over ZeroMQ's
 * local path: ipc:// sockets in a fresh folder of mode 0700 that only this user can connect through,
 * NULL mechanism, every hello proving the fresh per-job secret the children get over IPC, never argv
 * (comm/zmq/local.ts). The folder is removed when the run ends, however it ends (unless the warm
 * pool keeps the run's world, whose sockets are in it: below). With a network
 * profile (`options.network`, emulated by TCP proxies) the ranks talk CURVE over loopback TCP instead.
 *
 * Data: with `options.source` every worker loads its own shard (loadData with { shard }) and splits
 * it locally (and scales it by all-reduce with `source.scale`) — no training row passes through this
 * process. With only an in-memory `data`, worker r gets rows [r·rows/N, (r+1)·rows/N) once at start
 * (the same contiguous shards as `threads`) with their row keys: on the local path through a file in
 * the job's 0700 folder (shard-file.ts: 3–4× faster than the IPC channel here), under a network
 * profile with the start order. Those bytes are reported as FitInfo.setupBytes, apart from training
 * communication. Each worker runs the one rank body
 * (rank.ts); this file is the paradigm's start-up and supervision.
 *
 * Failure: a worker that throws ends the run with its error (a peer it names keeps its rank and
 * host); a worker that dies (SIGKILL, crash) ends it with PEER_LOST naming its rank, pid and host; a
 * run where no rank reports for `timeoutMs` + a margin is stopped. When several ranks fail (one
 * rank's error makes its peers see it leave), the reports are collected for up to a second and the
 * root cause is given (see `rootCause`), the others appended to its message. In every outcome all
 * children are killed and reaped before the promise settles.
 *
 * Under a restart policy a lost worker is replaced (torchrun's restart), at most `maxRestarts` times
 * and while the world is below `maxWorkers`: the survivors re-form at once and go on; the replacement
 * process starts, announces itself, and the members take it in at their next epoch boundary
 * (runtime/elastic-growth.ts). This file relays the announcements to every live rank and rank 0's
 * admission to the newcomer; a replacement still waiting when the run ends is reaped with the rest.
 *
 * With `reuseProcesses` the children come from a warm pool (process-pool.ts) and go back to it after
 * a successful run; on the local path they keep their world, and the next run of the same world size
 * and timeouts renews it (comm/zmq/renewal.ts) instead of joining one. Every run still has its own
 * job id, secret and folder. Elastic runs and fault injection fork their own children.
 *
 * @example
 * const model = await new KMeans({ k: 10 }).fit(data, { paradigm: 'processes', workers: 3 });
 * model.fitInfo?.comm[1]?.bytesSent; // what rank 1 sent over TCP
 */
import { progressHistory } from './progress.js';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createLocalDir } from '../comm/zmq/local.js';
import { localTransportName } from '../comm/zmq/communicator.js';
import { CommError, WorkerError } from '../core/errors.js';
import type { ProgressEvent } from '../models/context.js';
import type { FitInfo, LaunchRequest } from '../models/paradigm.js';
import { checkStrategy } from '../strategies/index.js';
import { compressionOf } from './compression.js';
import { fitInfoParts, jobFor, rankFailure, resolveTimeout, resolveWorkers, shardBytes, shardCopy, shardRange } from './job.js';
import type { RankData, RankResult } from './rank.js';
import type { ShardFileData } from './shard-file.js';
import { writeShardFile } from './shard-file.js';
import type { ElasticPolicy } from './elastic.js';
import { refuseUnreformable, resolveElastic } from './elastic.js';
import { ProxySet, refuseCollectiveLane, refuseInsecureTransport, validateNetwork } from './network.js';
import { FaultInjector, planFault } from './fault-injection.js';
import { acquireProcesses, discardProcesses, forkProcessWorker, releaseProcesses } from './process-pool.js';
import type {
  ProcessAdmitted,
  ProcessAdvertise,
  ProcessDied,
  ProcessJoiners,
  ProcessStart,
  ProcessWorkerMessage,
  ShippedJob,
} from './process-worker.js';

import { reapAll } from './reap.js';

const PROGRESS_INTERVAL_MS = 100;
/** After the first failure report, how long to wait for the other ranks' reports before choosing the root cause. */
const REPORT_GRACE_MS = 1000;
const HOST = '127.0.0.1';

export async function launchProcesses<State>(request: LaunchRequest<State>): Promise<{ state: State; info: FitInfo }> {
  const { data, options } = request;
  const size = resolveWorkers(options.workers, data.rows, options.source !== undefined);
  const strategy = options.strategy ?? 'allreduce';
  checkStrategy(strategy, compressionOf(options));
  const timeoutMs = resolveTimeout(options.timeoutMs);
  const network = options.network === undefined ? undefined : validateNetwork(options.network);
  refuseInsecureTransport(options.insecureTransport, 'processes');
  refuseCollectiveLane(options.collectiveLane, 'processes');
  const elastic = resolveElastic(options, size, 'processes');
  if (elastic !== undefined) refuseUnreformable(strategy, network !== undefined);
  // Each rank's job; its rows (its own shard of the source, or its slice of `data` in a file or the
  // start order) are settled once the job's folder exists, below. Checked here, before any fork.
  const template = jobFor(
    request,
    options.source !== undefined ? { kind: 'source', source: options.source } : { kind: 'rows', init: data, start: 0, end: data.rows },
    timeoutMs,
  );
  let jobs: ShippedJob[] = [];
  // A re-formed generation's shard of the caller's rows, sent when a rank asks (elastic, no source).
  const rowsOf = (rank: number, worldSize: number): RankData => {
    const init = shardCopy(data, rank, worldSize);
    return { kind: 'rows', init, start: 0, end: init.rows };
  };
  const setupBytes = options.source !== undefined ? 0 : shardBytes(data);
  const proxies = network === undefined ? null : new ProxySet(network);

  const startedAt = performance.timeOrigin + performance.now();
  const started = performance.now();
  const secret = randomBytes(32).toString('hex');
  const jobId = `processes-${randomBytes(8).toString('hex')}`;
  const { history, onEvents: record } = progressHistory(options.onProgress, startedAt);
  // All ranks are on this host: the local path, unless a network profile's proxies need TCP.
  const local = proxies === null ? await createLocalDir() : null;
  const forkWorker = (): ChildProcess => forkProcessWorker(false);
  // FitOptions.reuseProcesses: warm children from the pool (process-pool.ts), except for elastic
  // runs and fault injection, whose replacements and kills belong to this run alone.
  const pooled = options.reuseProcesses === true && elastic === undefined && options.inject === undefined;
  // A pooled run on the local path keeps its world for the next run whose world is joined alike.
  const worldKey =
    pooled && local !== null && process.env['SHARDLEARN_KEEP_WORLDS'] !== '0'
      ? JSON.stringify({ size, timeoutMs, stragglerWarningMs: template.stragglerWarningMs ?? null })
      : undefined;
  const { children, world } = pooled
    ? acquireProcesses(size, worldKey)
    : { children: Array.from({ length: size }, forkWorker), world: undefined };
  // The job's listeners on the children, removed before a pooled child goes back to the pool.
  const detach: (() => void)[] = [];
  let succeeded = false;
  // FitOptions.inject: the rank's process is signalled once rank 0's progress passes the planned point.
  const alive = (rank: number): number | undefined => {
    const child = children[rank];
    return child === undefined || child.exitCode !== null || child.signalCode !== null ? undefined : child.pid;
  };
  const injector = options.inject === undefined ? null : new FaultInjector(planFault(options.inject, size), alive);
  const onEvents = (events: (ProgressEvent & { at: number })[]): void => {
    record(events);
    if (injector !== null) for (const event of events) injector.observe(event);
  };
  const startOrder = (rank: number, masterPort: number): ProcessStart => ({
    type: 'start',
    rank,
    size,
    masterAddr: HOST,
    masterPort,
    secret,
    jobId,
    job: jobs[rank]!,
    // With an injection pending, each event at once: batched, the point could pass inside a batch
    // that also holds the last iteration, too late to inject anything (seen once in ~20 test runs).
    progressIntervalMs: injector === null ? PROGRESS_INTERVAL_MS : 0,
    ...(proxies === null ? {} : { advertise: true }),
    ...(local === null ? {} : { ipcDir: local.dir }),
    ...(world === undefined ? {} : { world }),
  });
  try {
    const rankData: (RankData | ShardFileData)[] = Array.from({ length: size }, (_, rank) => {
      if (options.source !== undefined) return { kind: 'source', source: options.source };
      if (local !== null) {
        const { start, end } = shardRange(data.rows, rank, size);
        return { kind: 'file', file: writeShardFile(local.dir, rank, data, start, end) };
      }
      const init = shardCopy(data, rank, size);
      return { kind: 'rows', init, start: 0, end: init.rows };
    });
    jobs = rankData.map((rows) => ({ ...template, data: rows, ...(elastic === undefined ? {} : { elastic }) }));
    // Until every rank is ready to train (forked, library imported, joined, rows received): FitInfo.startupMs.
    let startupMs: number | undefined;
    const results = await supervise(
      children,
      timeoutMs,
      onEvents,
      elastic === undefined
        ? undefined
        : {
            policy: elastic,
            rowsOf,
            // A replacement (launch slot `slot`): the job of rank 0 with a placeholder row (it asks for its shard once admitted).
            replace: (slot) => {
              const child = forkWorker();
              const job = options.source === undefined ? { ...jobs[0]!, data: rowsOf(0, Math.max(1, data.rows)) } : jobs[0]!;
              child.send({ ...startOrder(slot, 0), job, newcomer: true } satisfies ProcessStart);
              return child;
            },
          },
      (send) => {
        // On the local path every rank's socket is a known path in the job's folder: all ranks start
        // at once (a rank that dials rank 0 before it binds retries within milliseconds:
        // zmq/transport.ts). Over TCP, rank 0 binds an ephemeral port first; the others join through it.
        if (local !== null) {
          for (let rank = 0; rank < size; rank++) send(rank, startOrder(rank, 0));
          return () => undefined;
        }
        send(0, startOrder(0, 0));
        const startRest = (port: number): void => {
          for (let rank = 1; rank < size; rank++) send(rank, startOrder(rank, port));
        };
        return async (rank, port) => {
          if (proxies === null) return startRest(port);
          // Each rank advertises the proxy in front of it; the others reach rank 0 through its proxy.
          const advertised = await proxies.front(rank, port);
          send(rank, { type: 'advertise', port: advertised });
          if (rank === 0) startRest(advertised);
        };
      },
      () => (startupMs = performance.now() - started),
      detach,
    );
    succeeded = true;
    return {
      state: results[0]!.state as State,
      info: {
        paradigm: 'processes',
        workers: results.length,
        strategy,
        transport: local === null ? 'zmq-curve-tcp' : localTransportName(local.dir, size),
        seconds: (performance.now() - started) / 1000,
        ...(startupMs === undefined ? {} : { startupMs }),
        ...fitInfoParts(results),
        setupBytes,
        history,
        ...(results[0]!.faults === undefined ? {} : { faults: results[0]!.faults }),
        ...(injector === null ? {} : { injected: injector.report() }),
        ...(results[0]!.joins === undefined ? {} : { joins: results[0]!.joins }),
      },
    };
  } finally {
    injector?.release();
    for (const off of detach) off();
    // The pool keeps this run's folder when the world it kept is in it.
    let adopted = false;
    if (pooled && succeeded)
      adopted = await releaseProcesses(
        children,
        jobId,
        world === undefined || worldKey === undefined || local === null ? undefined : { ...world, key: worldKey, dir: local },
      );
    else if (pooled) await discardProcesses(children);
    else await reapAll(children);
    await proxies?.close();
    if (!adopted) await local?.remove();
  }
}

type Starter = (
  send: (rank: number, order: ProcessStart | ProcessAdvertise) => void,
) => (rank: number, port: number) => Promise<void> | void;

/** The launcher's part of a restart policy: let survivors re-form, send them their new rows, replace lost workers. */
interface SupervisedElastic {
  policy: ElasticPolicy;
  rowsOf(rank: number, size: number): RankData;
  /** Start a replacement worker as launch slot `slot`. */
  replace(slot: number): ChildProcess;
}

/**
 * Resolves with the results of the ranks that finished (index = final rank): all of them, or under a
 * restart policy the survivors of the last generation.
 */
function supervise(
  children: ChildProcess[],
  timeoutMs: number,
  onEvents: (events: (ProgressEvent & { at: number })[]) => void,
  elastic: SupervisedElastic | undefined,
  starter: Starter,
  /** Called once, when every rank has reported ready. */
  onAllReady: () => void = () => undefined,
  /** Filled with a remover per listener put on a child (the launcher removes them before pooling it). */
  detach: (() => void)[] = [],
): Promise<RankResult[]> {
  return new Promise((resolvePromise, rejectPromise) => {
    const size = children.length;
    const finished = new Array<RankResult | undefined>(size);
    const alive = new Array<boolean>(size).fill(true);
    // Replacements: started (at most maxRestarts), announced (in order), not yet admitted (not awaited at the end).
    let replaced = 0;
    const announced: number[] = [];
    const waiting = new Set<number>();
    const finish = (): void => {
      if (!children.every((_, child) => done[child] === true || !alive[child] || waiting.has(child))) return;
      if (children.every((_, child) => waiting.has(child) || !alive[child])) return; // only replacements left: they cannot finish alone
      settled = true;
      clearInterval(watchdog);
      const results = finished.filter((result): result is RankResult => result !== undefined).sort((a, b) => a.rank - b.rank);
      resolvePromise(results);
    };
    let settled = false;
    let lastSign = performance.now();
    const ready = new Set<number>();
    let allReady = false;
    // A rank that fails makes its peers fail too (they see it leave), and their reports can reach
    // this process first: collect the reports for a moment and give the caller the root cause.
    const failures: RankFailure[] = [];
    const done = new Array<boolean>(size).fill(false); // reported a result or an error, or exited
    // The live members (not waiting replacements) hear of every announcement.
    const tellMembers = (): void => {
      const joiners: ProcessJoiners = { type: 'joiners', slots: [...announced] };
      children.forEach((child, slot) => {
        // A member killed a moment ago is still `connected` until its close: a failed write (EPIPE) is
        // its death, which its close handles; without the callback it would fail the run as an 'error'.
        if (alive[slot] && !done[slot] && !waiting.has(slot) && child.connected) child.send(joiners, () => undefined);
      });
    };
    let collecting: NodeJS.Timeout | undefined;
    // Peers time out on each other first (naming the silent rank); this is the backstop.
    const watchdogMs = timeoutMs + Math.min(timeoutMs, 5000);
    const watchdog = setInterval(
      () => {
        if (performance.now() - lastSign > watchdogMs)
          fail(
            new CommError(
              'TIMEOUT',
              `no worker process reported for ${watchdogMs} ms (raise timeoutMs if one step legitimately takes longer)`,
            ),
          );
      },
      Math.min(1000, Math.max(20, timeoutMs / 4)),
    );
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      clearTimeout(collecting);
      rejectPromise(error);
    };
    const rankFailed = (rank: number, failure: RankFailure): void => {
      if (settled) return;
      done[rank] = true;
      failures.push(failure);
      collecting ??= setTimeout(() => fail(rootCause(failures)), REPORT_GRACE_MS);
      if (done.every(Boolean)) fail(rootCause(failures));
    };
    const send = (rank: number, order: ProcessStart | ProcessAdvertise): void => {
      children[rank]!.send(order, (error) => {
        if (error !== null) fail(new WorkerError(rank, `could not send its ${order.type} order: ${error.message}`, { cause: error }));
      });
    };
    const startRest = starter(send);
    const watch = (child: ChildProcess, rank: number): void => {
      const on = <A extends unknown[]>(event: string, listener: (...args: A) => void): void => {
        child.on(event, listener as (...args: unknown[]) => void);
        detach.push(() => child.off(event, listener as (...args: unknown[]) => void));
      };
      on('message', (message: ProcessWorkerMessage) => {
        if (settled) return;
        lastSign = performance.now();
        switch (message.type) {
          case 'listening':
            Promise.resolve(startRest(message.rank, message.port)).catch((error: unknown) =>
              fail(
                new WorkerError(message.rank, `could not start the network proxy in front of it: ${(error as Error).message}`, {
                  cause: error,
                }),
              ),
            );
            return;
          case 'ready':
            ready.add(message.rank);
            if (ready.size === size && !allReady) {
              allReady = true;
              onAllReady();
            }
            return; // also a sign of life, counted above
          case 'progress':
            onEvents(message.events);
            return;
          case 'reshard':
            if (elastic === undefined) return;
            child.send({ type: 'rows', generation: message.generation, data: elastic.rowsOf(message.rank, message.size) }, (error) => {
              if (error !== null) fail(new WorkerError(rank, `could not send its re-formed rows: ${error.message}`, { cause: error }));
            });
            return;
          case 'announce':
            announced.push(rank);
            tellMembers();
            return;
          case 'admit':
            for (const slot of message.place.members) {
              if (!waiting.has(slot)) continue;
              waiting.delete(slot);
              const admitted: ProcessAdmitted = {
                type: 'admitted',
                place: { ...message.place, rank: message.place.members.indexOf(slot) },
              };
              children[slot]!.send(admitted, (error) => {
                if (error !== null) fail(new WorkerError(slot, `could not send its admission: ${error.message}`, { cause: error }));
              });
              children[slot]!.send({ type: 'joiners', slots: [...announced] } satisfies ProcessJoiners, () => undefined); // as in tellMembers
            }
            return;
          case 'result':
            finished[rank] = message; // message.rank: its rank in the last generation
            done[rank] = true;
            finish();
            return;
          case 'error':
            rankFailed(message.rank, { error: rankFailure(message), kind: failureKind(message.code, message.peer) });
            return;
        }
      });
      on('error', (error: Error) => fail(new WorkerError(rank, `its process failed: ${error.message}`, { cause: error })));
      // 'close', not 'exit': 'exit' can arrive while the IPC pipe still holds the rank's result (a CNN's
      // state is megabytes of JSON; once seen as "exited with code 0 before reporting a result" under
      // load), and 'close' waits until the IPC channel has been read to its end. The short delay lets a
      // message parsed from its last bytes be dispatched first.
      on('close', (code: number | null, signal: NodeJS.Signals | null) => {
        setTimeout(() => {
          if (settled || done[rank]) return;
          const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
          alive[rank] = false;
          // A replacement that dies before it is admitted: its announcement stays counted (the
          // members' versions count announcements) but names nobody (-1), so no world waits on it.
          if (waiting.delete(rank) && announced.includes(rank)) {
            announced[announced.indexOf(rank)] = -1;
            tellMembers();
          }
          // Every live rank hears of it: one joining a generation that holds it fails at once (runtime/elastic.ts, DeadMembers).
          if (elastic !== undefined)
            children.forEach((other, slot) => {
              if (alive[slot] && !done[slot] && other.connected)
                other.send({ type: 'died', slot: rank } satisfies ProcessDied, () => undefined); // one that just left needs no notice
            });
          const left = alive.filter((live, slot) => live && !waiting.has(slot)).length;
          // Under a restart policy the survivors re-form on their own (they also enforce max-restarts).
          if (elastic !== undefined && left >= elastic.policy.minWorkers && failures.length === 0) {
            lastSign = performance.now();
            // torchrun's restart: a replacement, within max-restarts and while the world is below max-workers.
            const replace = replaced < elastic.policy.maxRestarts && left < elastic.policy.maxWorkers;
            process.stderr.write(
              `shardlearn: worker rank ${rank} (pid ${child.pid}) ${how}; ${left} workers go on${replace ? `; replacement ${children.length} starts and joins at an epoch boundary` : ''}\n`,
            );
            if (replace) {
              replaced++;
              const slot = children.length;
              children.push(elastic.replace(slot));
              alive.push(true);
              done.push(false);
              waiting.add(slot);
              watch(children[slot]!, slot);
            }
            finish();
            return;
          }
          const policy = elastic === undefined ? '' : `; ${left} of ${size} workers left, below min-workers ${elastic.policy.minWorkers}`;
          rankFailed(rank, {
            error: new CommError(
              'PEER_LOST',
              `worker rank ${rank} (pid ${child.pid}, host ${HOST}) ${how} before reporting a result${policy}`,
              { rank, host: HOST },
            ),
            kind: 'died',
          });
        }, 50);
      });
    };
    children.forEach(watch);
  });
}

/**
 * How a rank failed, most telling first: its own error (a bad file, a diverged model, a broken
 * collective), its process dying, a peer that went silent, a peer that left or was lost. The last two
 * are usually consequences of another rank's failure.
 */
export type FailureKind = 'own' | 'died' | 'timeout' | 'peer-lost';
const KIND_ORDER: readonly FailureKind[] = ['own', 'died', 'timeout', 'peer-lost'];
export interface RankFailure {
  error: Error;
  kind: FailureKind;
}

function failureKind(code: string | undefined, peer: number | undefined): FailureKind {
  if (code === 'PEER_LOST' && peer !== undefined) return 'peer-lost';
  if (code === 'TIMEOUT' && peer !== undefined) return 'timeout';
  return 'own';
}

/**
 * The error to give the caller: the earliest report of the most telling kind, with the other ranks'
 * reports appended to its message (e.g. rank 0's own error, then "also: worker rank 1 reports: rank 0
 * … is gone: it left after an error").
 */
export function rootCause(failures: readonly RankFailure[]): Error {
  const ranked = [...failures].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
  const [first, ...others] = ranked;
  if (first === undefined) return new CommError('COMM', 'a worker failed without a report');
  if (others.length > 0) first.error.message += `\n(also: ${others.map((other) => other.error.message.split('\n')[0]).join('; ')})`;
  return first.error;
}
