/**
 * The entry point of one `processes` worker (rank), a child process of the launcher: the processes
 * paradigm's transport for the one rank body (rank.ts). It receives its start order over IPC (never
 * argv: the job secret is in it), joins the ZeroMQ world, and runs the job — on its own shard of a
 * `source` it loads itself, or on the slice of the caller's dataset the launcher shipped. IPC
 * carries only the start order, throttled progress (rank 0), the result and errors; training
 * traffic goes over ZeroMQ.
 *
 * Under a restart policy the launcher may start a replacement (`newcomer` in its start order): it
 * announces itself, and the members take it in at their next epoch boundary (elastic-growth.ts); the
 * launcher relays the announcements to the members and rank 0's admission to the newcomer.
 *
 * A pooled worker (FitOptions.reuseProcesses, process-pool.ts) stays after a successful job: it
 * reports `idle` and waits for the next start order; a failed job still ends it. Its world is closed
 * first, or, when the start order names one (`world`) and it is clean, kept under that name, quiet,
 * for the next job of the same ranks, which renews it (comm/zmq/renewal.ts) instead of joining; the
 * launcher's `drop-world` closes it.
 *
 * When the launcher disappears (its IPC channel closes) the worker exits at once: no orphans.
 */
import '../core/index.js';
import '../models/index.js';
import { ZmqCommunicator } from '../comm/zmq/communicator.js';
import { CommError } from '../core/errors.js';
import type { ElasticPlace } from './elastic.js';
import { DeadMembers, generationDir } from './elastic.js';
import type { Membership } from './elastic-growth.js';
import { grownPlace } from './elastic-growth.js';
import type { ElasticSetup, RankData, RankJob, RankMessage } from './rank.js';
import { errorReport, resultForLauncher, runRank } from './rank.js';
import { resetPeakRss } from './peak-rss.js';
import type { ShardFileData } from './shard-file.js';
import { readShardFile } from './shard-file.js';
import { kernelMemoryArray } from '../core/kernels-wasm.js';

/** A rank's job as the start order carries it: its rows may wait in a file of the job's folder (shard-file.ts). */
export type ShippedJob = Omit<RankJob, 'data'> & { data: RankData | ShardFileData };

export interface ProcessStart {
  type: 'start';
  rank: number;
  size: number;
  masterAddr: string;
  masterPort: number;
  /** Hex of the per-job secret. */
  secret: string;
  jobId: string;
  /** What to run: this rank's shard shipped as rows (with their row keys) or in a file, or a source it loads its shard of. */
  job: ShippedJob;
  progressIntervalMs: number;
  /** The local path's folder (comm/zmq/local.ts): ranks bind ipc:// sockets there instead of TCP ports. */
  ipcDir?: string;
  /** Report the bound port and wait for the port to advertise instead (a network-profile proxy; see network.ts). */
  advertise?: boolean;
  /** A replacement for a lost rank (`rank` is its launch slot): it announces itself and waits to be admitted. */
  newcomer?: boolean;
  /**
   * A pooled job's world (process-pool.ts). `reuse` false: join as usual, and after a successful job
   * keep the world under `id`. True: renew the world kept under `id` (comm/zmq/renewal.ts), or join
   * a fresh one in `ipcDir` when it cannot be renewed; either is kept under `id` afterwards.
   */
  world?: { id: string; reuse: boolean };
}

/** The launcher's order to close the world kept under `id` (the pool no longer keeps its ranks together). */
export interface ProcessDropWorld {
  type: 'drop-world';
  id: string;
}

/** A world kept between the jobs of a pooled child: its communicator, its folder, and whether its log lines are shown (not while idle). */
interface KeptWorld {
  comm: ZmqCommunicator;
  dir: string;
  voice: { quiet: boolean };
}

/** This pooled child's kept worlds, by the id the launcher gave them. */
const keptWorlds = new Map<string, KeptWorld>();

/**
 * Longest wait for a peer's renewal message (comm/zmq/renewal.ts). The peers got their start orders
 * at the same moment; a renewal that takes longer falls back to a fresh join, which is always correct.
 */
const RENEWAL_TIMEOUT_MS = 5_000;

/** The launcher's relay of the newcomers announced so far (launch slots, in announcement order), to every live rank. */
export interface ProcessJoiners {
  type: 'joiners';
  slots: number[];
}

/** The launcher's relay of rank 0's admission to a newcomer: where it stands in the grown generation. */
export interface ProcessAdmitted {
  type: 'admitted';
  place: ElasticPlace;
}

/** The launcher's notice that the worker of launch slot `slot` died (elastic: a generation forming with it fails at once). */
export interface ProcessDied {
  type: 'died';
  slot: number;
}

/** The launcher's answer to a `listening` report when `advertise` is set: the port peers should use. */
export interface ProcessAdvertise {
  type: 'advertise';
  port: number;
}

/** The launcher's answer to a `reshard` request: this rank's rows in the re-formed generation. */
export interface ProcessRows {
  type: 'rows';
  generation: number;
  data: RankData;
}

/**
 * The rank's messages, plus the start-up report of the port it bound (rank 0 first: the others join
 * through it), and a re-formed rank's request for its new rows (elastic, rows shipped by the launcher).
 */
export type ProcessWorkerMessage =
  | RankMessage
  | { type: 'listening'; rank: number; port: number }
  | { type: 'reshard'; rank: number; size: number; generation: number }
  /** A newcomer (by launch slot) is ready to join. */
  | { type: 'announce'; rank: number }
  /** Rank 0 of a grown generation: the newcomers of `place` are admitted (the launcher tells each its rank). */
  | { type: 'admit'; rank: number; place: ElasticPlace };

/** How long a newcomer waits to be admitted: a few epochs of a slow run; the launcher reaps it at the end of the run anyway. */
const ADMISSION_TIMEOUT_MS = 30 * 60_000;

/** The newcomers the launcher announced, as this rank heard of them (runtime/elastic-growth.ts). */
function launcherMembership(post: (message: ProcessWorkerMessage) => void, rank: () => number): Membership {
  const slots: number[] = [];
  const seen: number[] = [];
  process.on('message', (message: ProcessJoiners) => {
    if (message.type !== 'joiners') return;
    for (let k = seen.length; k < message.slots.length; k++) seen.push(performance.now());
    slots.splice(0, slots.length, ...message.slots); // -1: a replacement that died before its admission
  });
  return {
    version: () => slots.length,
    seenAt: (version) => seen[version - 1],
    placeAt: (version, current, policy) => grownPlace(current, slots.slice(current.version, version), policy.maxWorkers),
    admitted: (place) => post({ type: 'admit', rank: rank(), place }),
  };
}

/** A newcomer: announce this slot to the launcher and wait for the place rank 0 admitted it at. */
function admission(slot: number, post: (message: ProcessWorkerMessage) => void): Promise<ElasticPlace> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', listener);
      reject(new CommError('TIMEOUT', `replacement (launch slot ${slot}) was not admitted within ${ADMISSION_TIMEOUT_MS} ms`));
    }, ADMISSION_TIMEOUT_MS);
    const listener = (message: ProcessAdmitted): void => {
      if (message.type !== 'admitted') return;
      clearTimeout(timer);
      process.off('message', listener);
      resolve(message.place);
    };
    process.on('message', listener);
    post({ type: 'announce', rank: slot });
  });
}

/** Ask the launcher for this rank's shard of the re-formed world; a TIMEOUT after `timeoutMs`. */
function rowsFromLauncher(place: ElasticPlace, post: (message: ProcessWorkerMessage) => void, timeoutMs: number): Promise<RankData> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', listener);
      reject(new CommError('TIMEOUT', `the launcher did not send the rows of generation ${place.generation} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (message: ProcessRows | ProcessAdvertise): void => {
      if (message.type !== 'rows' || message.generation !== place.generation) return;
      clearTimeout(timer);
      process.off('message', listener);
      resolve(message.data);
    };
    process.on('message', listener);
    post({ type: 'reshard', rank: place.rank, size: place.size, generation: place.generation });
  });
}

/**
 * The job with its rows in memory: a shard waiting in a file (shard-file.ts) is read, and the file
 * removed. Its features go into this process's kernel memory (`kernelMemoryArray`), where the
 * models' kernels read them in place; `onRelease` receives what gives that block back when the job ends.
 */
function unpacked(job: ShippedJob, onRelease: (release: () => void) => void): RankJob {
  const { data } = job;
  if (data.kind !== 'file') return { ...job, data };
  const init = readShardFile(data.file, (dtype, length) => {
    const placed = kernelMemoryArray(dtype, length);
    onRelease(() => placed.release());
    return placed.array;
  });
  return { ...job, data: { kind: 'rows', init, start: 0, end: data.file.rows } };
}

/** Where a pooled child kept the world of its last job (it reports this with `idle`). */
export interface KeptWorldPlace {
  id: string;
  /** The folder the world's sockets are in: the job's own folder when it was joined by this job. */
  dir: string;
}

/** What a pooled child tells the launcher (process-pool.ts) after a successful job: its world is closed or kept, it waits for the next start order. */
export interface ProcessIdle {
  type: 'idle';
  jobId: string;
  /** Where it kept that job's world, when the start order asked it to and the world was clean. */
  kept?: KeptWorldPlace;
}

async function run(
  start: ProcessStart,
  post: (message: ProcessWorkerMessage) => void,
  postAndWait: (message: ProcessWorkerMessage) => Promise<void>,
): Promise<KeptWorldPlace | undefined> {
  // A shard shipped in a file is read once this rank listens, so its peers' connections to it are
  // under way while it reads. (Measured when the launcher still started the other ranks only once
  // rank 0 listened: rank 0 reading first held their start back by its read, 6.4 MB ~24 ms here,
  // most of it the fresh pages' faults; on the local path the launcher now starts every rank at once,
  // runtime/processes.ts.) A restart policy's joins (below) read first, as before.
  const readAfterListening = start.job.elastic === undefined && start.job.data.kind === 'file';
  // The shard's block of kernel memory, given back when this job ends (after its result is posted).
  const releases: (() => void)[] = [];
  const keep = (release: () => void): void => {
    releases.push(release);
  };
  const unpackedJob = readAfterListening ? null : unpacked(start.job, keep);
  const { rank } = start;
  let listened = (): void => undefined;
  const listening = new Promise<void>((resolve) => (listened = resolve));
  let comm: ZmqCommunicator | undefined;
  // The world kept for this job (start.world.reuse), taken out of the kept ones; its voice and folder once renewed.
  const kept = start.world?.reuse === true ? keptWorlds.get(start.world.id) : undefined;
  if (kept !== undefined) keptWorlds.delete(start.world!.id);
  let voice = { quiet: false };
  let worldDir = start.ipcDir;
  const log = (line: string): void => {
    if (!voice.quiet) process.stderr.write(`[shardlearn rank ${rank}] ${line}\n`);
  };
  let place: ElasticPlace | undefined;
  const dead = new DeadMembers();
  const onDied = (message: ProcessDied): void => {
    if (message.type === 'died') dead.died(message.slot);
  };
  process.on('message', onDied); // off when this job ends (a pooled child runs the next)
  // Under a restart policy every generation joins through here: generation g's sockets in its own
  // 0700 subfolder of the job's folder, a lost peer aborting the generation (runtime/elastic.ts).
  const elastic: ElasticSetup | undefined =
    unpackedJob?.elastic === undefined || start.ipcDir === undefined
      ? undefined
      : {
          join: async (at, _previous, onPeerLost) => {
            place = at;
            const joining = ZmqCommunicator.join({
              rank: at.rank,
              size: at.size,
              masterAddr: start.masterAddr,
              masterPort: start.masterPort,
              secret: Buffer.from(start.secret, 'hex'),
              jobId: start.jobId,
              generation: at.generation,
              timeoutMs: start.job.timeoutMs,
              ipcDir: await generationDir(start.ipcDir!, at.generation),
              onPeerLost,
              ...(start.job.stragglerWarningMs === undefined ? {} : { stragglerWarningMs: start.job.stragglerWarningMs }),
              onListening: () => {
                if (at.generation === 0 && rank === 0) post({ type: 'listening', rank: 0, port: 0 });
              },
            });
            // A member that died before connecting would leave this join waiting timeoutMs: fail at once instead.
            return (comm = await dead.watch(joining, at));
          },
          ...(unpackedJob.data.kind === 'rows' ? { rows: (at: ElasticPlace) => rowsFromLauncher(at, post, start.job.timeoutMs) } : {}),
          membership: launcherMembership(post, () => place?.rank ?? rank),
          ...(start.newcomer === true ? { newcomer: () => admission(rank, post) } : {}),
        };
  const renewed = async (world: KeptWorld): Promise<ZmqCommunicator | undefined> => {
    const problem = await world.comm.renew({ jobId: start.jobId, secret: Buffer.from(start.secret, 'hex') }, RENEWAL_TIMEOUT_MS);
    if (problem === null) {
      voice = world.voice;
      voice.quiet = false;
      worldDir = world.dir;
      return (comm = world.comm);
    }
    world.voice.quiet = false;
    log(`the kept world was not renewed (${problem}); joining a fresh one`);
    await world.comm.close(problem, 0);
    return undefined;
  };
  const join = async (): Promise<ZmqCommunicator> =>
    (kept === undefined ? undefined : await renewed(kept)) ??
    (comm = await ZmqCommunicator.join({
      rank,
      log,
      size: start.size,
      masterAddr: start.masterAddr,
      masterPort: start.masterPort,
      secret: Buffer.from(start.secret, 'hex'),
      jobId: start.jobId,
      timeoutMs: start.job.timeoutMs,
      ipcDir: start.ipcDir,
      ...(start.job.stragglerWarningMs === undefined ? {} : { stragglerWarningMs: start.job.stragglerWarningMs }),
      onListening: (port) => {
        if (rank === 0 && start.advertise !== true) post({ type: 'listening', rank: 0, port });
        listened();
      },
      ...(start.advertise === true ? { advertisePort: (port: number) => advertisedPort(rank, port, post) } : {}),
    }));
  try {
    let job = unpackedJob;
    let joined = join;
    if (job === null) {
      const joining = join();
      // A kept world's renewal has sent its proofs by now: read while the peers' arrive.
      if (kept === undefined) await Promise.race([listening, joining]);
      else joining.catch(() => undefined); // its failure is runRank's, which awaits it next
      job = unpacked(start.job, keep);
      joined = () => joining;
    }
    const result = await runRank(job, {
      rank,
      size: start.size,
      paradigm: 'processes',
      comm: joined,
      progress: (events) => post({ type: 'progress', rank, events }),
      progressIntervalMs: start.progressIntervalMs,
      ready: async () => post({ type: 'ready', rank }),
      ...(elastic === undefined ? {} : { elastic }),
    });
    // Awaited: the worker disconnects right after, and closing the IPC channel drops a write still in
    // flight. A state of megabytes (an MLP with 3.7M parameters) was lost that way every time.
    await postAndWait(resultForLauncher(result));
  } catch (error) {
    if (comm === undefined && kept !== undefined) await kept.comm.close(undefined, 0); // failed before renewing it
    if (comm === undefined) throw error; // failed before joining (an unknown model, a bad secret): nobody waits on it
    // Report first, then leave: the peers fail when they see this rank go, and the launcher should
    // hear this rank's own error (the root cause) before theirs. The goodbye carries it too.
    await postAndWait(errorReport(rank, error));
    if (typeof error === 'object' && error !== null) reported.add(error);
    await comm.close(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    throw error;
  } finally {
    process.off('message', onDied);
    for (const release of releases) release();
  }
  // joined: runRank returned. Keep the world for the next job of these ranks when asked and clean.
  if (start.world !== undefined && comm !== undefined && worldDir !== undefined && comm.idleProblem() === null) {
    voice.quiet = true;
    keptWorlds.set(start.world.id, { comm, dir: worldDir, voice });
    return { id: start.world.id, dir: worldDir };
  }
  await comm?.close();
  return undefined;
}

/** Errors already reported to the launcher (from inside `run`, before the communicator closed). */
const reported = new WeakSet<object>();

/** Tell the launcher the bound port; resolve with the port it answers (its proxy in front of this rank). */
function advertisedPort(rank: number, port: number, post: (message: ProcessWorkerMessage) => void): Promise<number> {
  return new Promise((resolve) => {
    const listener = (message: ProcessAdvertise | ProcessStart): void => {
      if (message.type !== 'advertise') return;
      process.off('message', listener);
      resolve(message.port);
    };
    process.on('message', listener);
    post({ type: 'listening', rank, port });
  });
}

if (process.env['SHARDLEARN_PROCESS_WORKER'] === '1' && process.send !== undefined) {
  const post = (message: ProcessWorkerMessage | ProcessIdle): Promise<void> =>
    new Promise((resolve) => {
      if (!process.connected) return resolve();
      process.send!(message, undefined, {}, () => resolve());
    });
  // A pooled child (process-pool.ts) runs one job after another, each with its own start order
  // (job id, secret, folder, world); any other stays for one job.
  const pooled = process.env['SHARDLEARN_PROCESS_POOLED'] === '1';
  let finished = false;
  let busy = false;
  process.on('disconnect', () => {
    if (!finished || pooled) process.exit(0); // the launcher is gone: do not linger
  });
  const onStart = (start: ProcessStart): void => {
    if (start.type !== 'start' || busy) return; // other orders belong to the job that is running
    busy = true;
    if (pooled) resetPeakRss(); // FitInfo.peakRssBytes: this job's peak (the last job's young garbage is gone: collectIdle)

    run(start, (message) => void post(message), post).then(
      async (world) => {
        if (pooled) {
          busy = false;
          // Its world closed or kept: ready for the next job.
          await post({ type: 'idle', jobId: start.jobId, ...(world === undefined ? {} : { kept: world }) });
          collectIdle();
          return;
        }
        finished = true;
        process.off('message', onStart);
        // Let queued IPC and ZeroMQ (linger) flush, then leave; the timer only backs that up.
        setTimeout(() => process.exit(0), 10_000).unref();
        process.disconnect();
      },
      async (error: unknown) => {
        if (!(typeof error === 'object' && error !== null && reported.has(error))) await post(errorReport(start.rank, error));
        process.exit(4);
      },
    );
  };
  process.on('message', onStart);
  process.on('message', (message: ProcessDropWorld) => {
    if (message.type !== 'drop-world') return;
    const world = keptWorlds.get(message.id);
    keptWorlds.delete(message.id);
    void world?.comm.close(undefined, 0);
  });
  if (pooled) collectIdle(); // the import's garbage, before the first job
}

/**
 * Collect a pooled child's young garbage while it waits for a job (the pool forks its children with
 * --expose-gc): a scavenge, not a full collection. A full one made V8 throw away the optimised code
 * of every function that had inlined or embedded the last job's objects ("weak objects" under
 * --trace-deopt: ~90 functions re-optimised per fit of logistic-regression SGD, processes×2, on
 * background threads that took the core from the other rank), so every warm fit ran cold: 0.54–0.69 s
 * against 0.33–0.43 s with a scavenge (200k rows, 15,634 all-reduces), while the jobs' peak RSS was
 * the same within 4 MB (135–139 vs 139–143 MB). Here, not at the next job's start: a collection
 * there lengthened a warm fit's start-up.
 */
function collectIdle(): void {
  (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc?.({ type: 'minor' });
}
