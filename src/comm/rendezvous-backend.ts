/**
 * The contract of a rendezvous backend: how the ranks of a `cluster` job agree on a world (who is
 * in it, in which rank order, where rank 0 listens) and learn when it changes. torchrun's
 * `RendezvousHandler` is the model: `join` is its next_rendezvous, `onChange` its "num nodes
 * waiting" / membership-change signal, `leave` its shutdown.
 *
 * Two backends implement it (runtime/): the static one (the world the environment describes:
 * MASTER_ADDR, WORLD_SIZE, RANK, Slurm's or a Kubernetes Indexed Job's variables; it never changes)
 * and etcd's (ranks register under a job prefix with a lease kept alive; a membership change makes
 * a new generation every member observes). Interfaces only: this file has no transport.
 *
 * @example
 * const world = await backend.join();                 // { generation: 1, rank: 0, worldSize: 2, … }
 * const stop = backend.onChange((next) => reform(next)); // a rank lost or a new one registered
 * await backend.leave();
 */

/** One member of a world, in rank order. */
export interface WorldMember {
  /** The member's id in the backend (etcd: a random id per process; static: `rank-<r>`). */
  id: string;
  /** The address it advertises (its host on the network that reaches the others). */
  host: string;
  /** The port it would listen on as rank 0 (its ZeroMQ router when it is rank 0 of a generation). */
  port: number;
}

/** The world of one generation, as one member sees it. */
export interface World {
  /** Grows by one with every membership change (a rank lost, a rank added); the static world's is fixed. */
  generation: number;
  /** This member's rank in the generation, 0..worldSize-1. */
  rank: number;
  worldSize: number;
  /** This member's index among the ranks on its host (0 where the backend cannot tell). */
  localRank: number;
  /** Rank 0's address and port: where the ZeroMQ world of this generation meets. */
  masterAddr: string;
  masterPort: number;
  /** The job id bound into every connection. */
  jobId: string;
  /** The address this rank binds and advertises, when one is configured (SHARDLEARN_HOST, or the backend's). */
  host: string | undefined;
  /** Every member, index = rank. */
  members: readonly WorldMember[];
}

/** A rendezvous: join once, observe later generations, leave at the end. */
export interface RendezvousBackend {
  /** 'static' or 'etcd'. */
  readonly name: string;
  /**
   * The world this member belongs to: the first call registers and waits (within the backend's
   * timeout) for a world of an allowed size that holds it; later calls return the newest generation
   * seen. Rejects with a typed error naming the backend's endpoint.
   */
  join(): Promise<World>;
  /**
   * Call `listener` with every later generation that holds this member (not with the one join
   * returned). `onError` hears of a failure of the backend itself (lease lost, store unreachable).
   * Returns a function that removes both.
   */
  onChange(listener: (world: World) => void, onError?: (error: Error) => void): () => void;
  /** Leave the job: the others see a new generation at once (no lease to wait out). Idempotent. */
  leave(): Promise<void>;
}
