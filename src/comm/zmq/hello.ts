/**
 * The hello handshake and rank 0's rendezvous of the ZeroMQ transport.
 *
 * Every connection opens with a `hello` { job, generation, rank, size, endpoint? }; a router accepts
 * traffic on it only when the hello matches its own job id, generation and world size and names a
 * peer rank not yet joined. Rank 0 additionally collects every other rank's advertised endpoint and,
 * once all size − 1 are in, answers each with a `welcome` listing them all (the torchrun convention).
 *
 * @example
 * const identity = { jobId: 'job-1', generation: 0, rank: 0, size: 3 };
 * helloProblem(identity, { job: 'job-1', generation: 0, rank: 1, size: 3 }, []); // null: accepted
 * const rendezvous = new Rendezvous(3, 'tcp://10.0.0.1:29500');
 * rendezvous.add(1, routingId, 'tcp://10.0.0.2:41000');                         // null until all are in
 */
import { isLocalEndpoint, proofMatches } from './local.js';

/** What a rank says about itself in its hello. */
export interface HelloIdentity {
  jobId: string;
  generation: number;
  rank: number;
  size: number;
  /** On the local path (zmq/local.ts): the proof of the job secret every hello must carry. */
  proof?: string;
}

/**
 * The fields of this rank's hello; `endpoint` (where peers reach it) only on the hello to rank 0, and
 * with it `lane`: the TCP port of this rank's collective lane between hosts (zmq/lane.ts), when it has one.
 */
export function helloFields(identity: HelloIdentity, endpoint?: string, lane?: number): Record<string, unknown> {
  return {
    job: identity.jobId,
    generation: identity.generation,
    rank: identity.rank,
    size: identity.size,
    ...(identity.proof === undefined ? {} : { proof: identity.proof }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(lane === undefined ? {} : { lane }),
  };
}

const isPort = (port: unknown): port is number => Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536;

/** The lane ports of a welcome (index = rank), or null when it does not list `size` ports. */
export function welcomeLanes(fields: Record<string, unknown> | undefined, size: number): number[] | null {
  const lanes = fields?.['lanes'];
  if (!Array.isArray(lanes) || lanes.length !== size || !lanes.every(isPort)) return null;
  return lanes as number[];
}

/** Check a peer's hello against this rank's job; the reason it is refused, or null. `joined`: the ranks already accepted. */
export function helloProblem(own: HelloIdentity, fields: Record<string, unknown> | undefined, joined: Iterable<number>): string | null {
  if (fields === undefined) return 'hello without fields';
  const { job, generation, rank, size } = fields;
  if (job !== own.jobId) return `job id ${JSON.stringify(job)} is not this job's`;
  if (own.proof !== undefined && !proofMatches(own.proof, fields['proof'])) return "its hello does not prove it holds this job's secret";
  if (generation !== own.generation)
    return `generation ${JSON.stringify(generation)} is not this job's generation ${own.generation} (a stale peer of an earlier attempt)`;
  if (size !== own.size) return `world size ${JSON.stringify(size)} differs from this rank's ${own.size}`;
  if (!(Number.isInteger(rank) && (rank as number) >= 0 && (rank as number) < own.size) || rank === own.rank)
    return `rank ${JSON.stringify(rank)} is not a peer rank of a world of ${own.size}`;
  if ([...joined].includes(rank as number)) return `rank ${rank as number} has already joined (a duplicate or replayed peer)`;
  return null;
}

/** The endpoints of a welcome, or null when it does not list `size` of them. */
export function welcomeEndpoints(fields: Record<string, unknown> | undefined, size: number): string[] | null {
  const endpoints = fields?.['endpoints'];
  if (!Array.isArray(endpoints) || endpoints.length !== size || endpoints.some((e) => typeof e !== 'string')) return null;
  return endpoints as string[];
}

/** Rank 0's collection of the other ranks' endpoints; `done` resolves with all of them. */
export class Rendezvous {
  private readonly endpoints: (string | null)[];
  private readonly routingIds: (string | null)[];
  /** With a collective lane over TCP: every rank's lane port (rank 0's given, the others' from their hellos). */
  private readonly lanes: (number | null)[] | null;
  readonly done: Promise<string[]>;
  private resolve: (endpoints: string[]) => void = () => undefined;

  /**
   * `localDir`: on the local path, the job's folder, where every endpoint must be (ipc://…); else
   * endpoints are tcp://host:port. `ownLane`: rank 0's lane port between hosts; every hello must then
   * bring one, and the welcome lists them all.
   */
  constructor(
    size: number,
    ownEndpoint: string,
    private readonly localDir?: string,
    ownLane?: number,
  ) {
    this.lanes = ownLane === undefined ? null : new Array<number | null>(size).fill(null);
    if (this.lanes !== null) this.lanes[0] = ownLane!;
    this.endpoints = new Array<string | null>(size).fill(null);
    this.endpoints[0] = ownEndpoint;
    this.routingIds = new Array<string | null>(size).fill(null);
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  /** The ranks that have not said hello yet. */
  missing(): number[] {
    return this.endpoints.map((endpoint, rank) => (endpoint === null && rank !== 0 ? rank : -1)).filter((rank) => rank >= 0);
  }

  /**
   * Record `peer`'s hello. Returns the reason its endpoint is refused, else null; once every rank is
   * in, `welcome` is called with each peer's routing id and the full endpoint list, and `done` resolves.
   */
  add(
    peer: number,
    routingId: string,
    endpoint: unknown,
    welcome: (routingId: string, endpoints: string[], lanes: number[] | null) => void,
    lane?: unknown,
  ): string | null {
    if (this.lanes !== null && !isPort(lane))
      return `it advertised no collective lane port (${JSON.stringify(lane)}) while rank 0 has a lane between hosts: every rank must agree on --collective-lane (SHARDLEARN_COLLECTIVE_LANE)`;
    if (this.lanes === null && lane !== undefined)
      return 'it advertised a collective lane port while rank 0 has no lane between hosts: every rank must agree on --collective-lane (SHARDLEARN_COLLECTIVE_LANE)';
    if (this.localDir !== undefined) {
      if (!isLocalEndpoint(this.localDir, endpoint))
        return `its endpoint ${JSON.stringify(endpoint)} is not a socket in this job's local folder`;
    } else if (typeof endpoint !== 'string' || !/^tcp:\/\/[\w.:[\]-]+:\d+$/.test(endpoint))
      return `its endpoint ${JSON.stringify(endpoint)} is not tcp://host:port`;
    this.endpoints[peer] = endpoint;
    this.routingIds[peer] = routingId;
    if (this.lanes !== null) this.lanes[peer] = lane as number;
    if (this.missing().length === 0) {
      const endpoints = this.endpoints as string[];
      const lanes = this.lanes as number[] | null;
      for (let rank = 1; rank < endpoints.length; rank++) welcome(this.routingIds[rank]!, endpoints, lanes);
      this.resolve(endpoints);
    }
    return null;
  }

  /** Every rank's lane port once all are in (with a lane between hosts); else null. */
  lanePorts(): number[] | null {
    return this.lanes === null || this.missing().length > 0 ? null : (this.lanes as number[]);
  }
}
