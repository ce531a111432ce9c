/**
 * Elastic growth: a replacement or a new rank joins a running fit at the next epoch boundary.
 *
 * A newcomer announces itself (under `processes` to the launcher, which started it as a replacement;
 * under `cluster` by registering in etcd). Every member hears of it through its `Membership`, whose
 * version grows with every announcement. At each epoch boundary but the last the members agree, in
 * one small all-reduce, on the newest version all of them have seen; if it brings newcomers (and the
 * world has room under maxWorkers), every member leaves the training loop at that boundary (the
 * `MembershipChange` signal), closes its generation and joins generation g + 1 with the newcomers
 * appended after the old members (old ranks keep their order). Rank 0 then hands its state at the
 * boundary (parameters, optimizer state, epoch, position, step, RNG streams) to every rank over the
 * transport (`shareSnapshot`), every rank loads its shard of the bigger world (contiguous shards in
 * rank order over the same global row order), and training goes on with the next epoch: since the
 * world changes only between epochs, no sample of an epoch is skipped or seen twice.
 *
 * Growth does not count against `maxRestarts` (torchrun's scale-up does not either); a lost rank does.
 *
 * @example
 * const next = await agreeMembership(comm, membership, place, policy); // at an epoch boundary
 * if (next !== undefined) throw new MembershipChange(next);
 */
import type { Communicator } from '../comm/communicator.js';
import type { TrainingSnapshot } from '../models/context.js';
import type { JoinRecord } from '../models/paradigm.js';
import type { ElasticPlace, ElasticPolicy } from './elastic.js';

/** How the members of a running fit learn of newcomers. */
export interface Membership {
  /** Announcements this rank has seen so far; grows, and counts the same announcements in the same order on every rank. */
  version(): number;
  /** When this rank first saw announcement `version` (performance.now()), when known. */
  seenAt(version: number): number | undefined;
  /** The generation after `current` that takes in announcements up to `version`, or undefined when it brings nobody (or no room). */
  placeAt(version: number, current: ElasticPlace, policy: ElasticPolicy): ElasticPlace | undefined;
  /** Called on rank 0 of a grown generation before it joins: tell the newcomers their place (processes: through the launcher). */
  admitted?(place: ElasticPlace): void;
  /** At an epoch boundary, before the agreement: share what only some members heard (static rendezvous: rank 0's announcements). */
  sync?(comm: Communicator): Promise<void>;
}

/**
 * The signal that ends a generation at an epoch boundary because newcomers join: thrown out of the
 * training loop by the recovery hook, caught by the rank body (never reaches the caller).
 */
export class MembershipChange extends Error {
  constructor(readonly next: ElasticPlace) {
    super(`membership change: generation ${next.generation} has ${next.size} ranks`);
    this.name = 'MembershipChange';
  }
}

/**
 * The generation after `current` with `newcomers` (ids, in announcement order; −1 for one that
 * died before its admission) appended, as many as `maxWorkers` leaves room for; undefined when none
 * fits. `version` is advanced past the announcements used (the dead ones included).
 */
export function grownPlace(current: ElasticPlace, newcomers: readonly number[], maxWorkers: number): ElasticPlace | undefined {
  const room = Math.max(0, maxWorkers - current.size);
  const taken: number[] = [];
  let used = 0;
  for (const id of newcomers) {
    if (taken.length === room) break;
    used++;
    if (id >= 0 && !current.members.includes(id)) taken.push(id);
  }
  if (taken.length === 0) return undefined;
  const members = [...current.members, ...taken];
  return {
    generation: current.generation + 1,
    rank: current.rank,
    size: members.length,
    members,
    restarts: current.restarts,
    version: current.version + used,
  };
}

/**
 * At an epoch boundary: the grown place every member agrees on, or undefined (nobody new). One
 * all-reduce of [seen, −seen] (max) gives the newest version every member has seen (the minimum), so
 * all members derive the same place from announcements they all hold.
 */
export async function agreeMembership(
  comm: Communicator,
  membership: Membership,
  place: ElasticPlace,
  policy: ElasticPolicy,
): Promise<ElasticPlace | undefined> {
  await membership.sync?.(comm);
  const seen = membership.version();
  const both = new Float64Array([seen, -seen]);
  if (comm.size > 1) await comm.allReduce(both, 'max');
  const agreed = -both[1]!;
  if (agreed <= place.version) return undefined;
  return membership.placeAt(agreed, place, policy);
}

/** The shape of a snapshot, sent ahead of its numbers so a newcomer (which holds none) can unpack them. */
interface SnapshotHeader {
  params: number;
  epoch: number;
  position: number;
  step: number;
  rng: Record<string, number[]>;
  arrays: [string, number][];
  scalars: [string, number][];
}

/**
 * Every rank continues from rank 0's `own` snapshot; the others' `own` may be undefined (a newcomer).
 * Three broadcasts: the header's length, the header (JSON, one byte per element), the numbers.
 */
export async function shareSnapshot(comm: Communicator, own: TrainingSnapshot | undefined): Promise<TrainingSnapshot> {
  if (comm.rank === 0 && own === undefined) throw new Error('shareSnapshot: rank 0 holds no snapshot to share');
  let header: SnapshotHeader | undefined;
  let bytes = new Uint8Array(0);
  if (comm.rank === 0) {
    const snapshot = own!;
    header = {
      params: snapshot.params.length,
      epoch: snapshot.epoch,
      position: snapshot.position,
      step: snapshot.step,
      rng: snapshot.rng,
      arrays: Object.entries(snapshot.optimizer?.arrays ?? {}).map(([name, array]) => [name, array.length]),
      scalars: Object.entries(snapshot.optimizer?.scalars ?? {}),
    };
    bytes = new TextEncoder().encode(JSON.stringify(header));
  }
  const length = new Float64Array([bytes.length]);
  await comm.broadcast(length, 0);
  const text = Float64Array.from(comm.rank === 0 ? bytes : new Uint8Array(length[0]!));
  await comm.broadcast(text, 0);
  header ??= JSON.parse(new TextDecoder().decode(Uint8Array.from(text))) as SnapshotHeader;
  const total = header.params + header.arrays.reduce((sum, [, n]) => sum + n, 0);
  const payload = new Float64Array(total);
  if (comm.rank === 0) {
    payload.set(own!.params, 0);
    let at = header.params;
    for (const [name, n] of header.arrays) {
      payload.set(own!.optimizer!.arrays[name]!, at);
      at += n;
    }
  }
  await comm.broadcast(payload, 0);
  let at = header.params;
  const arrays = Object.fromEntries(header.arrays.map(([name, n]) => [name, payload.slice(at, (at += n))]));
  const optimizer =
    header.arrays.length === 0 && header.scalars.length === 0 ? undefined : { arrays, scalars: Object.fromEntries(header.scalars) };
  return {
    params: payload.slice(0, header.params),
    epoch: header.epoch,
    position: header.position,
    step: header.step,
    rng: header.rng,
    ...(optimizer === undefined ? {} : { optimizer }),
  };
}

/** One growth's record (FitInfo.joins), from the times rank 0 took. */
export function joinRecord(parts: {
  from: ElasticPlace;
  to: ElasticPlace;
  /** When this rank first saw the first newcomer's announcement. */
  seenAt: number | undefined;
  /** When the old generation left its training loop (the epoch boundary). */
  boundaryAt: number;
  /** When training resumed on the bigger world. */
  resumedAt: number;
  epoch: number;
}): JoinRecord {
  const seenAt = parts.seenAt ?? parts.boundaryAt;
  return {
    added: parts.to.members.flatMap((id, rank) => (parts.from.members.includes(id) ? [] : [rank])),
    generation: parts.to.generation,
    workers: parts.to.size,
    epoch: parts.epoch,
    waitMs: Math.max(0, parts.boundaryAt - seenAt),
    reformMs: parts.resumedAt - parts.boundaryAt,
    joinMs: parts.resumedAt - seenAt,
  };
}
