/**
 * A changing rendezvous (etcd's) as the membership of a running elastic `cluster` fit.
 *
 * The backend agrees on worlds (generations) as members register and leases lapse; this file turns
 * them into the places of runtime/elastic.ts. Growth: a world that holds every current member and
 * more is taken in at the next epoch boundary (elastic-growth.ts); its version is the world's
 * generation. Shrink: when the transport loses a peer, the survivors wait for the world the
 * backend agrees without it (etcd: once the lost rank's lease expires, so a shrink takes up to the
 * lease's TTL) and meet there, instead of deriving the world themselves as the static backend's
 * ranks do. Rank 0 of generation g listens at its advertised port + g (a port the previous
 * generations' routers do not hold, as under the static backend).
 *
 * A rank whose first world is a later generation than 0 joins a fit already running: a newcomer,
 * admitted by the members at their next epoch boundary.
 *
 * @example
 * const membership = new RendezvousMembership(rendezvous, await rendezvous.join());
 * const place = membership.placeOf(membership.first, 0);
 */
import type { RendezvousBackend, World } from '../comm/rendezvous-backend.js';
import { CommError } from '../core/errors.js';
import type { ElasticPlace } from './elastic.js';
import type { Membership } from './elastic-growth.js';

/** A member's number in an ElasticPlace: the first 48 bits of its backend id when that is hex (etcd's), else its rank in `world`. */
export function memberNumber(world: World, rank: number): number {
  const id = world.members[rank]!.id;
  return /^[0-9a-f]{12}/.test(id) ? parseInt(id.slice(0, 12), 16) : rank;
}

export class RendezvousMembership implements Membership {
  private readonly worlds = new Map<number, World>();
  private readonly seen = new Map<number, number>();
  private newest: World;
  private readonly waiters = new Set<() => void>();
  private failure: Error | undefined;
  private readonly unwatch: () => void;

  constructor(
    backend: RendezvousBackend,
    readonly first: World,
  ) {
    this.newest = first;
    this.worlds.set(first.generation, first);
    this.unwatch = backend.onChange(
      (world) => {
        this.worlds.set(world.generation, world);
        this.seen.set(world.generation, performance.now());
        if (world.generation > this.newest.generation) this.newest = world;
        for (const wake of this.waiters) wake();
      },
      (error) => {
        this.failure = error;
        for (const wake of this.waiters) wake();
      },
    );
  }

  /** Whether this rank joins a fit already running (its first world is not the job's first). */
  get newcomer(): boolean {
    return this.first.generation > 0;
  }

  version(): number {
    return this.newest.generation;
  }

  seenAt(version: number): number | undefined {
    const after = [...this.seen].filter(([generation]) => generation >= version).map(([, at]) => at);
    return after.length === 0 ? undefined : Math.min(...after);
  }

  placeAt(version: number, current: ElasticPlace): ElasticPlace | undefined {
    const world = this.worlds.get(version);
    if (world === undefined)
      throw new CommError(
        'COMM',
        `the members agreed on rendezvous generation ${version}, which this rank never saw (newest ${this.newest.generation})`,
      );
    return this.placeOf(world, current.restarts);
  }

  /** The place of this rank in `world`. */
  placeOf(world: World, restarts: number): ElasticPlace {
    return {
      generation: world.generation,
      rank: world.rank,
      size: world.worldSize,
      members: world.members.map((_, rank) => memberNumber(world, rank)),
      restarts,
      version: world.generation,
    };
  }

  /** Where generation `place.generation` meets: its rank 0's advertised host, at its advertised port + the generation. */
  masterOf(place: ElasticPlace): { masterAddr: string; masterPort: number } {
    const world = this.worlds.get(place.generation);
    if (world === undefined) throw new CommError('COMM', `rendezvous generation ${place.generation} is unknown to this rank`);
    return { masterAddr: world.masterAddr, masterPort: world.masterPort + world.generation };
  }

  /**
   * The first world after generation `after` that holds none of `lost` (member numbers): the
   * backend's answer to a lost peer. A TIMEOUT after `timeoutMs`; the backend's own failure (lease
   * lost, store unreachable) as it is.
   */
  async without(after: number, lost: readonly number[], timeoutMs: number): Promise<World> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const found = [...this.worlds.values()]
        .filter((world) => world.generation > after)
        .sort((a, b) => a.generation - b.generation)
        .find((world) => world.members.every((_, rank) => !lost.includes(memberNumber(world, rank))));
      if (found !== undefined) return found;
      const left = deadline - performance.now();
      if (left <= 0)
        throw new CommError(
          'TIMEOUT',
          `the rendezvous agreed no world without the lost rank within ${timeoutMs} ms (newest generation ${this.newest.generation})`,
        );
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  stop(): void {
    this.unwatch();
  }
}
