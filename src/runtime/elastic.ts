/**
 * Elastic recovery: the restart policy (torchrun's `--nnodes MIN:MAX` and `--max-restarts`) and the
 * pieces a rank uses to survive a lost peer without restarting its process.
 *
 * Under `processes` and `cluster` with all-reduce (or ps-sync), a rank whose transport finds a peer
 * lost (its connection dropped without a goodbye) abandons the generation at once (every wait fails,
 * whatever it waited on), closes it, and joins generation g + 1 with the other survivors: new ranks
 * 0..n−1 in the old order, n = survivors. Nobody coordinates: every survivor derives the same new
 * world from the lost set its transport saw, and the new rank 0 listens where the others expect it
 * (`nextPlace`). The survivors then agree on the newest step boundary they all hold (the ring of the
 * last two snapshots: a survivor can be at most one step ahead of another, since finishing a step
 * needs every peer's part of it), reload it, load their shards of the new world (contiguous shards in
 * rank order: the same global row order, so the epoch's permutation continues where it stopped and
 * no sample is skipped or seen twice), and go on. With a checkpoint folder they reload the newest
 * checkpoint file instead.
 *
 * The policy holds on every rank: at most `maxRestarts` re-forms, never fewer than `minWorkers`
 * ranks; otherwise the rank fails with the PEER_LOST error naming the lost rank, as without a policy.
 *
 * @example
 * const policy = resolveElastic({ minWorkers: 2, maxRestarts: 3 }, 3, 'processes');
 * const ring = new SnapshotRing(); context.recovery = { stepDone: (take) => ring.keep(take()) };
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Communicator } from '../comm/communicator.js';
import { CommError, ConfigError } from '../core/errors.js';
import type { TrainingSnapshot } from '../models/context.js';
import type { FaultRecord, FitOptions, Paradigm } from '../models/paradigm.js';

/** The restart policy of a fit (FitOptions.minWorkers, maxWorkers, maxRestarts), resolved. */
export interface ElasticPolicy {
  minWorkers: number;
  maxWorkers: number;
  maxRestarts: number;
}

/** Re-forms allowed when `minWorkers` is below the world size and `maxRestarts` is not given. */
export const DEFAULT_ELASTIC_RESTARTS = 3;

/**
 * The policy of `options` for a world of `workers`, or undefined when there is none (the run fails on
 * a lost rank, as before). A ConfigError names a setting that cannot hold.
 */
export function resolveElastic(
  options: Pick<FitOptions, 'minWorkers' | 'maxWorkers' | 'maxRestarts'>,
  workers: number,
  paradigm: Paradigm,
): ElasticPolicy | undefined {
  const { minWorkers, maxWorkers, maxRestarts } = options;
  if (minWorkers === undefined && maxWorkers === undefined && maxRestarts === undefined) return undefined;
  const whole = (name: string, value: number | undefined, least: number): void => {
    if (value !== undefined && !(Number.isInteger(value) && value >= least))
      throw new ConfigError(`${name} must be a whole number ≥ ${least}, got ${value}`, { field: name });
  };
  whole('minWorkers', minWorkers, 1);
  whole('maxWorkers', maxWorkers, 1);
  whole('maxRestarts', maxRestarts, 0);
  const min = minWorkers ?? workers;
  const max = maxWorkers ?? workers;
  if (!(min <= workers && workers <= max))
    throw new ConfigError(`expected minWorkers ≤ workers ≤ maxWorkers, got ${min} ≤ ${workers} ≤ ${max}`, { field: 'minWorkers' });
  if (paradigm === 'sequential') throw new ConfigError('a restart policy needs workers: sequential has none', { field: 'minWorkers' });
  const restarts = maxRestarts ?? (min < workers ? DEFAULT_ELASTIC_RESTARTS : 0);
  return { minWorkers: min, maxWorkers: max, maxRestarts: restarts };
}

/** Whether a strategy's ranks hold the same state at every step boundary (a re-formed world resumes from a common step). */
export function synchronousStrategy(strategy: string): boolean {
  return strategy === 'allreduce' || strategy === 'ps-sync';
}

/**
 * Whether a re-formed world can resume a strategy: the synchronous ones from a common step; the
 * asynchronous parameter server (ps-async) from the new rank 0's state at the last epoch boundary
 * (its ranks meet there, each with its own view of the parameters). Not ps-ssp: on the re-formed
 * world's unequal shards one rank takes more steps per epoch, gets further ahead every epoch, and
 * once past the bound its server's held answer and the others' epoch-end all-reduce wait on each
 * other (seen in a run; see docs/distributed.md).
 */
export function reformable(strategy: string): boolean {
  return synchronousStrategy(strategy) || strategy === 'ps-async';
}

/** Refuse a policy the paradigm cannot keep: a strategy whose ranks differ, or a network profile's proxies. */
export function refuseUnreformable(strategy: string, networkProfile: boolean): void {
  if (!reformable(strategy))
    throw new ConfigError(`a restart policy (minWorkers, maxRestarts) re-forms allreduce, ps-sync and ps-async, not '${strategy}'`, {
      field: 'minWorkers',
    });
  if (networkProfile)
    throw new ConfigError('a restart policy needs the local path: drop the network profile (--network) or the policy', {
      field: 'minWorkers',
    });
}

/** Where a rank stands in generation `generation`: its rank, the world size, and the original rank of every member. */
export interface ElasticPlace {
  generation: number;
  rank: number;
  size: number;
  /** members[r] = the id of this generation's rank r: its rank in generation 0, or a newcomer's launch slot (≥ the first world's size). */
  members: number[];
  /** Lost ranks survived so far (the policy's restarts; growth does not count, as in torchrun). */
  restarts: number;
  /** How many membership announcements (Membership.version) the world has taken in. */
  version: number;
}

export function firstPlace(rank: number, size: number, generation = 0): ElasticPlace {
  return { generation, rank, size, members: Array.from({ length: size }, (_, r) => r), restarts: 0, version: 0 };
}

/**
 * The next generation's place once `lost` (ranks of `place`'s generation) are gone, or the error
 * that ends the run: the policy forbids another re-form, or too few ranks are left. The error is
 * `cause` (the PEER_LOST naming the lost rank) with the policy's reason added.
 */
export function nextPlace(place: ElasticPlace, lost: readonly number[], policy: ElasticPolicy, cause: CommError): ElasticPlace {
  const survivors = place.members.filter((_, r) => !lost.includes(r));
  const original = lost.map((r) => place.members[r]!);
  const why =
    place.restarts + 1 > policy.maxRestarts
      ? `max-restarts ${policy.maxRestarts} exhausted (${place.restarts} re-form${place.restarts === 1 ? '' : 's'} done)`
      : survivors.length < policy.minWorkers
        ? `${survivors.length} of ${place.size} workers left, below min-workers ${policy.minWorkers}`
        : null;
  if (why !== null) {
    throw new CommError('PEER_LOST', `lost rank ${original.join(', ')} and cannot re-form: ${why}; ${cause.message}`, {
      rank: original[0]!,
      cause,
    });
  }
  return {
    generation: place.generation + 1,
    rank: survivors.indexOf(place.members[place.rank]!),
    size: survivors.length,
    members: survivors,
    restarts: place.restarts + 1,
    version: place.version,
  };
}

/**
 * The rendezvous of a re-formed generation over TCP: the new rank 0 (the lowest surviving rank)
 * listens on its own host at MASTER_PORT + generation (a port the previous generations' routers do
 * not hold), and the others reach it there. `hostOf` gives a rank's host in the old generation.
 */
export function reformedMaster(
  next: ElasticPlace,
  old: ElasticPlace,
  base: { masterAddr: string; masterPort: number },
  hostOf: (oldRank: number) => string,
): { masterAddr: string; masterPort: number } {
  const oldRank = old.members.indexOf(next.members[0]!);
  const masterAddr = oldRank === 0 ? base.masterAddr : hostOf(oldRank);
  return { masterAddr, masterPort: base.masterPort + next.generation };
}

/** The local path's folder of generation g > 0: a 0700 subfolder of the job's folder (its sockets are fresh names). */
export async function generationDir(jobDir: string, generation: number): Promise<string> {
  if (generation === 0) return jobDir;
  const dir = join(jobDir, `g${generation}`);
  await mkdir(dir, { mode: 0o700, recursive: true });
  return dir;
}

/**
 * Members the paradigm saw die (under `processes`: launch slots whose process the launcher saw
 * exit), so a rank joining a generation does not wait `timeoutMs` for a member that is gone: a
 * generation's rendezvous waits on every member (rank 0 for every hello, the others for rank 0's
 * welcome), and a member that dies before it connected is no lost connection the transport could see.
 */
export class DeadMembers {
  private readonly dead = new Set<number>();
  private readonly listeners = new Set<(id: number) => void>();

  /** Member `id` (ElasticPlace.members' ids) is dead. */
  died(id: number): void {
    if (this.dead.has(id)) return;
    this.dead.add(id);
    for (const listener of [...this.listeners]) listener(id);
  }

  /**
   * `joining` (the join of generation `place`), or, as soon as a member of `place` is known dead
   * (before or while it forms), a PEER_LOST naming it: a loss while a generation forms is not
   * survived (docs/distributed.md, Growth, Limits). A join that completes after that is closed.
   */
  watch<T extends { close(error?: string): Promise<void> }>(joining: Promise<T>, place: ElasticPlace): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let over = false;
      const check = (id: number): void => {
        const rank = place.members.indexOf(id);
        if (over || rank < 0 || rank === place.rank) return;
        over = true;
        this.listeners.delete(check);
        reject(
          new CommError(
            'PEER_LOST',
            `rank ${rank} of generation ${place.generation} (launch slot ${id}) died while that generation was forming (members, by launch slot: ${place.members.join(', ')}); a loss during a re-form is not survived: the run stops (docs/distributed.md, Growth, Limits)`,
            { rank },
          ),
        );
      };
      this.listeners.add(check);
      for (const id of this.dead) check(id);
      joining.then(
        (joined) => {
          this.listeners.delete(check);
          if (over) void joined.close('a member died while the generation formed').catch(() => undefined);
          else {
            over = true;
            resolve(joined);
          }
        },
        (error: unknown) => {
          this.listeners.delete(check);
          if (over) return;
          over = true;
          reject(error as Error);
        },
      );
    });
  }
}

/**
 * The last two boundary snapshots of a rank (copies), with when each was taken, keyed by step
 * (synchronous strategies) or by epoch (asynchronous ones: their ranks' step counts differ).
 */
export class SnapshotRing {
  private readonly kept: { snapshot: TrainingSnapshot; at: number }[] = [];

  constructor(private readonly key: (snapshot: TrainingSnapshot) => number = (snapshot) => snapshot.step) {}

  keep(view: TrainingSnapshot): void {
    const optimizer = view.optimizer;
    const snapshot: TrainingSnapshot = {
      params: Float64Array.from(view.params),
      epoch: view.epoch,
      position: view.position,
      step: view.step,
      rng: view.rng,
      ...(optimizer === undefined
        ? {}
        : {
            optimizer: {
              arrays: Object.fromEntries(Object.entries(optimizer.arrays).map(([name, array]) => [name, Float64Array.from(array)])),
              scalars: { ...optimizer.scalars },
            },
          }),
    };
    this.kept.push({ snapshot, at: performance.now() });
    if (this.kept.length > 2) this.kept.shift();
  }

  /** The key (step or epoch) of the newest snapshot, or -1 when none was taken. */
  newestKey(): number {
    const newest = this.kept.at(-1);
    return newest === undefined ? -1 : this.key(newest.snapshot);
  }

  /** The newest snapshot, or undefined when none was taken. */
  newest(): TrainingSnapshot | undefined {
    return this.kept.at(-1)?.snapshot;
  }

  /** The step of the newest snapshot, or -1 when none was taken. */
  newestStep(): number {
    return this.kept.at(-1)?.snapshot.step ?? -1;
  }

  /** When the newest snapshot was taken (performance.now()), or undefined. */
  newestAt(): number | undefined {
    return this.kept.at(-1)?.at;
  }

  /** The snapshot whose key is `key`, or undefined. */
  at(key: number): TrainingSnapshot | undefined {
    return this.kept.find((entry) => this.key(entry.snapshot) === key)?.snapshot;
  }

  clear(): void {
    this.kept.length = 0;
  }
}

/**
 * The step every rank of the re-formed world resumes from: the smallest of their newest snapshots
 * (−1: someone has none, so all start over). One all-reduce (min).
 */
export async function agreedStep(comm: Communicator, ring: SnapshotRing): Promise<number> {
  const key = new Float64Array([ring.newestKey()]);
  if (comm.size > 1) await comm.allReduce(key, 'min');
  return key[0]!;
}

/**
 * Every rank continues from rank 0's `own` state (same shape on every rank: the same boundary of the
 * same model): its parameters, optimizer state and step are broadcast over the others' copies. For
 * asynchronous strategies, whose ranks each hold their own view of the parameters.
 */
export async function adoptRankZero(comm: Communicator, own: TrainingSnapshot): Promise<TrainingSnapshot> {
  const names = Object.keys(own.optimizer?.arrays ?? {}).sort();
  const scalars = Object.keys(own.optimizer?.scalars ?? {}).sort();
  const length = own.params.length + names.reduce((sum, name) => sum + own.optimizer!.arrays[name]!.length, 0) + scalars.length + 1;
  const payload = new Float64Array(length);
  let at = 0;
  const pack = (array: Float64Array): void => {
    payload.set(array, at);
    at += array.length;
  };
  pack(own.params);
  for (const name of names) pack(own.optimizer!.arrays[name]!);
  for (const name of scalars) payload[at++] = own.optimizer!.scalars[name]!;
  payload[at] = own.step;
  if (comm.size > 1) await comm.broadcast(payload, 0);
  at = 0;
  const unpack = (n: number): Float64Array => payload.slice(at, (at += n));
  const params = unpack(own.params.length);
  const arrays = Object.fromEntries(names.map((name) => [name, unpack(own.optimizer!.arrays[name]!.length)]));
  const values = Object.fromEntries(scalars.map((name) => [name, payload[at++]!]));
  return {
    ...own,
    params,
    step: payload[at]!,
    ...(own.optimizer === undefined ? {} : { optimizer: { arrays, scalars: values } }),
  };
}

/** A communicator a re-forming rank can abandon and inspect (the ZeroMQ one). */
export interface ElasticCommunicator extends Communicator {
  lostRanks(): number[];
  abort(error: Error): void;
  close(error?: string, waitMs?: number): Promise<void>;
  hostOf(rank: number): string;
}

/** How long a rank that failed waits for its transport to name a lost peer before it gives up on recovery. */
export const LOSS_SETTLE_MS = 2000;
/** How long a re-forming rank waits for the old generation's goodbyes. */
export const REFORM_CLOSE_WAIT_MS = 300;

/** The peers `comm` found lost, waiting up to `settleMs` for one (a survivor's goodbye can arrive before the dead peer's hang-up is seen). */
export async function lostPeers(comm: ElasticCommunicator, settleMs = LOSS_SETTLE_MS): Promise<number[]> {
  const deadline = performance.now() + settleMs;
  for (;;) {
    const lost = comm.lostRanks();
    if (lost.length > 0 || performance.now() >= deadline) return lost;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether `error` is one a re-form can recover from: a lost or departed peer, or this rank's own abort. */
export function recoverable(error: unknown): error is CommError {
  return error instanceof CommError && (error.code === 'PEER_LOST' || error.code === 'COMM' || error.code === 'TIMEOUT');
}

/** One fault's record (FitInfo.faults), from the times a rank took. */
export function faultRecord(parts: {
  lost: number[];
  generation: number;
  workers: number;
  lastStepAt: number;
  noticedAt: number;
  joinedAt: number;
  resumedAt: number;
  resumedStep: number;
  lastStep: number;
}): FaultRecord {
  const detectedMs = Math.max(0, parts.noticedAt - parts.lastStepAt);
  const reformMs = parts.joinedAt - parts.noticedAt;
  const reloadMs = parts.resumedAt - parts.joinedAt;
  return {
    rank: parts.lost[0]!,
    lost: parts.lost,
    generation: parts.generation,
    workers: parts.workers,
    detectedMs,
    reformMs,
    reloadMs,
    lostMs: detectedMs + reformMs + reloadMs,
    resumedStep: Math.max(0, parts.resumedStep),
    redoneSteps: parts.resumedStep < 0 ? parts.lastStep : parts.lastStep - parts.resumedStep,
  };
}
