/**
 * Elastic membership through etcd, modelled on torchrun's etcd rendezvous backend: each rank
 * registers under the job's prefix with a lease it keeps alive (its heartbeat); the ranks agree on a
 * world (rank order, addresses, a size between minWorkers and maxWorkers) for a generation; a change
 * of membership (a lease expiring because a rank died, a rank leaving, a new rank registering) makes
 * a new generation that every member observes through its watch.
 *
 * Keys, under `<prefix><jobId>/`:
 *   members/<id>  one per live rank, bound to its lease: { id, host, port } (port: where it would
 *                 listen as rank 0 of a generation)
 *   world         the agreed world: { generation, members: [{ id, host, port }] in rank order }
 *
 * Agreement: the live member registered first (lowest create revision) proposes. Once at least
 * minWorkers are registered and they differ from the current world, it waits `lastCallMs` for more
 * to arrive (torchrun's last call; no wait when maxWorkers are there, nor when members were only
 * lost: survivors should not idle for newcomers that may never come), then writes the next world
 * with a compare-and-swap on the world key's revision, so two proposers can never both succeed. The
 * world holds the first maxWorkers members by registration order: survivors keep their relative
 * order, newcomers go last, and a member over the maximum waits for a later generation. If the
 * proposer itself dies, the next in order becomes the proposer when its lease expires.
 *
 * Every etcd call has a timeout (`callTimeoutMs`); failures are RendezvousErrors naming the
 * endpoint. The member's lease is renewed every third of its TTL; a lease etcd reports expired (a
 * rank paused longer than its TTL) is reported to onChange's error listener: that rank is out.
 *
 * @example
 * const rdzv = new EtcdRendezvous({ endpoint: '10.0.0.5:2379', jobId: 'run-7', minWorkers: 2, maxWorkers: 4 });
 * try {
 *   await new MLP().fit(shard, { paradigm: 'cluster', rendezvous: rdzv });
 * } finally {
 *   await rdzv.leave();
 * }
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolveHost } from '../comm/zmq/join.js';
import { defaultHost } from '../comm/zmq/options.js';
import type { RendezvousBackend, World, WorldMember } from '../comm/rendezvous-backend.js';
import { ConfigError, RendezvousError } from '../core/errors.js';
import type { EtcdEvent, EtcdKeyValue } from './etcd-client.js';
import { EtcdClient } from './etcd-client.js';

export interface EtcdRendezvousOptions {
  /** etcd's client endpoint, host:port (or an http:// URL). */
  endpoint: string;
  /** The job: ranks with the same id meet (CLI `--rdzv-id`). */
  jobId: string;
  /** The fewest members a world may have, and the most. */
  minWorkers: number;
  maxWorkers: number;
  /** Lease time-to-live, seconds: how long a dead rank stays a member. Default 3 (etcd's minimum is about 2). */
  leaseSeconds?: number;
  /** Once minWorkers are registered, how long to wait for more before agreeing. Default 1000 ms. */
  lastCallMs?: number;
  /** How long `join` waits for a world holding this member. Default 300000 ms (5 min). */
  joinTimeoutMs?: number;
  /** Timeout of every etcd call. Default 5000 ms. */
  callTimeoutMs?: number;
  /** The address this rank advertises and binds. Default: its address on the route to etcd. */
  host?: string;
  /** This rank's index on its host, reported in the World. Default 0. */
  localRank?: number;
  /** Key prefix. Default '/shardlearn/rdzv/'. */
  prefix?: string;
}

interface WorldRecord {
  generation: number;
  members: WorldMember[];
}

type Listener = { onChange: (world: World) => void; onError: ((error: Error) => void) | undefined };

const DEFAULTS = { leaseSeconds: 3, lastCallMs: 1000, joinTimeoutMs: 300_000, callTimeoutMs: 5000, prefix: '/shardlearn/rdzv/' };

/** A port free on `host` right now (the kernel picks it). */
function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function checkOptions(options: EtcdRendezvousOptions): void {
  const { minWorkers, maxWorkers } = options;
  if (!Number.isInteger(minWorkers) || minWorkers < 1)
    throw new ConfigError(`etcd rendezvous: minWorkers must be a whole number ≥ 1, got ${minWorkers}`, { field: 'min-workers' });
  if (!Number.isInteger(maxWorkers) || maxWorkers < minWorkers)
    throw new ConfigError(`etcd rendezvous: maxWorkers must be a whole number ≥ minWorkers (${minWorkers}), got ${maxWorkers}`, {
      field: 'max-workers',
    });
  if (options.jobId === '' || /[\s/]/.test(options.jobId))
    throw new ConfigError(`etcd rendezvous: the job id must be non-empty, without spaces or '/', got '${options.jobId}'`, {
      field: 'rdzv-id',
    });
  if (options.endpoint === '') throw new ConfigError('etcd rendezvous: the endpoint (host:port) is empty', { field: 'rdzv-endpoint' });
}

export class EtcdRendezvous implements RendezvousBackend {
  readonly name = 'etcd';
  /** This member's id (random: it names a process, not a model choice, so it needs no seed). */
  readonly id = randomBytes(8).toString('hex');
  private readonly options: Required<Omit<EtcdRendezvousOptions, 'host'>> & { host: string | undefined };
  private readonly etcd: EtcdClient;
  private readonly root: string;
  private readonly memberKey: string;
  private readonly worldKey: string;
  /** Live members by key, and the world key's last value. */
  private readonly members = new Map<string, EtcdKeyValue>();
  private worldKv: EtcdKeyValue | null = null;
  private revision = 0;
  private lease: string | undefined;
  private advertised: { host: string; port: number } | undefined;
  private current: World | undefined;
  /** Worlds written since the last evaluate, in order: each is delivered, so a running fit sees every generation (runtime/rendezvous-membership.ts). */
  private arrived: WorldRecord[] = [];
  private joining: Promise<World> | undefined;
  private resolveJoin: ((world: World) => void) | undefined;
  private rejectJoin: ((error: Error) => void) | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly watch = new AbortController();
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private proposalTimer: NodeJS.Timeout | undefined;
  private left = false;

  constructor(options: EtcdRendezvousOptions) {
    checkOptions(options);
    this.options = { ...DEFAULTS, localRank: 0, ...options, host: options.host };
    this.etcd = new EtcdClient(options.endpoint, { timeoutMs: this.options.callTimeoutMs });
    this.root = `${this.options.prefix}${options.jobId}/`;
    this.memberKey = `${this.root}members/${this.id}`;
    this.worldKey = `${this.root}world`;
  }

  join(): Promise<World> {
    if (this.current !== undefined) return Promise.resolve(this.current);
    if (this.left) return Promise.reject(this.failure('join', 'this member has left the job'));
    this.joining ??= this.register();
    return this.joining;
  }

  onChange(onChange: (world: World) => void, onError?: (error: Error) => void): () => void {
    const listener = { onChange, onError };
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    clearTimeout(this.keepAliveTimer);
    clearTimeout(this.proposalTimer);
    this.watch.abort();
    this.listeners.clear();
    if (this.current === undefined) this.rejectJoin?.(this.failure('join', 'left before a world was agreed'));
    // Revoking deletes the member key now; were etcd unreachable, the lease would expire on its own.
    if (this.lease !== undefined) await this.etcd.revokeLease(this.lease).catch(() => undefined);
  }

  private failure(operation: string, detail: string, recoverable = true): RendezvousError {
    return new RendezvousError(`etcd at ${this.etcd.endpoint}: ${operation}: ${detail}`, {
      endpoint: this.etcd.endpoint,
      operation,
      recoverable,
    });
  }

  private async register(): Promise<World> {
    const { joinTimeoutMs } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const agreed = new Promise<World>((resolve, reject) => {
      this.resolveJoin = resolve;
      this.rejectJoin = reject;
      timer = setTimeout(() => {
        const registered = [...this.members.values()].length;
        reject(
          this.failure(
            'join',
            `no world of ${this.options.minWorkers}..${this.options.maxWorkers} members holding this rank within ${joinTimeoutMs} ms ` +
              `(${registered} registered under ${this.root}; are the other ranks started with the same --rdzv-id and endpoint?)`,
          ),
        );
      }, joinTimeoutMs);
    });
    agreed.catch(() => undefined); // awaited once start() is done; it may be settled before
    try {
      await this.start();
      return await agreed;
    } catch (error) {
      await this.leave();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Register with a lease, read the job's keys, watch them. */
  private async start(): Promise<void> {
    const url = new URL(/^https?:\/\//.test(this.options.endpoint) ? this.options.endpoint : `http://${this.options.endpoint}`);
    const etcdHost = url.hostname.replace(/^\[(.*)\]$/, '$1'); // an IPv6 literal without its brackets
    const host = this.options.host ?? (await defaultHost(await resolveHost(etcdHost, '--rdzv-endpoint', this.options.callTimeoutMs)));
    this.advertised = { host, port: await freePortOn(host) };
    const lease = await this.etcd.grantLease(this.options.leaseSeconds);
    this.lease = lease.id;
    this.keepAlive(lease.ttlSeconds);
    await this.etcd.put(this.memberKey, JSON.stringify({ id: this.id, ...this.advertised }), lease.id);
    await this.follow();
  }

  /** Read the job's keys, then watch them from the next revision (again after a broken watch). */
  private async follow(): Promise<void> {
    const { kvs, revision } = await this.etcd.rangePrefix(this.root);
    this.members.clear();
    this.worldKv = null;
    for (const kv of kvs) this.apply({ type: 'PUT', kv });
    this.revision = revision;
    await this.etcd.watchPrefix(
      this.root,
      revision + 1,
      {
        onEvents: (events, at) => {
          for (const event of events) this.apply(event);
          this.revision = Math.max(this.revision, at);
          this.evaluate();
        },
        onError: (error) => this.rewatch(error),
      },
      this.watch.signal,
    );
    this.evaluate();
  }

  /** A broken watch: read and watch again once; if that fails too, the listeners hear of it. */
  private rewatch(error: RendezvousError): void {
    if (this.left) return;
    setTimeout(() => {
      if (this.left) return;
      this.follow().catch((again: unknown) => this.report(again instanceof Error ? again : error));
    }, 250);
  }

  private apply(event: EtcdEvent): void {
    const { key } = event.kv;
    if (key === this.worldKey) {
      this.worldKv = event.type === 'PUT' ? event.kv : null;
      if (event.type === 'PUT') this.arrived.push(JSON.parse(event.kv.value) as WorldRecord);
    } else if (key.startsWith(`${this.root}members/`)) {
      if (event.type === 'PUT') this.members.set(key, event.kv);
      else this.members.delete(key);
    }
  }

  /** Renew the lease every third of its TTL; a lease etcd no longer knows, or no renewal for a whole TTL, is reported. */
  private keepAlive(ttlSeconds: number): void {
    let lastRenewed = performance.now();
    const tick = async (): Promise<void> => {
      if (this.left) return;
      try {
        const left = await this.etcd.keepAlive(this.lease!);
        if (left <= 0) {
          this.report(this.failure('lease/keepalive', `the lease of member ${this.id} expired: this rank is no longer in the job`, false));
          return;
        }
        lastRenewed = performance.now();
      } catch (error) {
        if (performance.now() - lastRenewed > ttlSeconds * 1000) {
          this.report(error as Error);
          return;
        }
      }
      if (!this.left) this.keepAliveTimer = setTimeout(() => void tick(), (ttlSeconds * 1000) / 3).unref();
    };
    // Unref'd, as the watch's socket: the membership never keeps a finished process alive (its lease then expires).
    this.keepAliveTimer = setTimeout(() => void tick(), (ttlSeconds * 1000) / 3).unref();
  }

  private report(error: Error): void {
    if (this.left) return;
    for (const listener of this.listeners) listener.onError?.(error);
  }

  /** Live members in registration order. */
  private live(): WorldMember[] {
    return [...this.members.values()].sort((a, b) => a.createRevision - b.createRevision).map((kv) => JSON.parse(kv.value) as WorldMember);
  }

  private world(): WorldRecord | null {
    return this.worldKv === null ? null : (JSON.parse(this.worldKv.value) as WorldRecord);
  }

  /** After every change: deliver a new world that holds this member; propose one if this member leads. */
  private evaluate(): void {
    if (this.left) return;
    const world = this.world();
    const arrived = this.arrived;
    this.arrived = [];
    for (const record of arrived) {
      if (record.generation <= (this.current?.generation ?? -1)) continue;
      const rank = record.members.findIndex((member) => member.id === this.id);
      if (rank >= 0) this.deliver(record, rank);
    }
    const live = this.live();
    if (live[0]?.id !== this.id) {
      clearTimeout(this.proposalTimer);
      this.proposalTimer = undefined;
      return;
    }
    const wanted = live.slice(0, this.options.maxWorkers);
    const same = world !== null && world.members.length === wanted.length && world.members.every((m, i) => m.id === wanted[i]!.id);
    if (wanted.length < this.options.minWorkers || same) {
      clearTimeout(this.proposalTimer);
      this.proposalTimer = undefined;
      return;
    }
    if (this.proposalTimer !== undefined) return; // the last call is running
    // The last call waits for more newcomers; a world that only lost members is agreed at once.
    const known = new Set(world?.members.map((m) => m.id));
    const newcomers = wanted.some((m) => !known.has(m.id));
    const delayMs = live.length >= this.options.maxWorkers || !newcomers ? 0 : this.options.lastCallMs;
    this.proposalTimer = setTimeout(() => {
      this.proposalTimer = undefined;
      this.propose().catch((error: unknown) => this.report(error as Error));
    }, delayMs).unref();
  }

  /** Write the next world if the world key has not changed since this member last saw it. */
  private async propose(): Promise<void> {
    if (this.left) return;
    const live = this.live();
    if (live[0]?.id !== this.id) return;
    const members = live.slice(0, this.options.maxWorkers);
    if (members.length < this.options.minWorkers) return;
    const next: WorldRecord = { generation: (this.world()?.generation ?? -1) + 1, members };
    // Lost (false) when another proposer wrote first: the watch brings its world, and evaluate runs again.
    await this.etcd.putIf([{ key: this.worldKey, modRevision: this.worldKv?.modRevision ?? 0 }], this.worldKey, JSON.stringify(next));
  }

  private deliver(record: WorldRecord, rank: number): void {
    const master = record.members[0]!;
    const world: World = {
      generation: record.generation,
      rank,
      worldSize: record.members.length,
      localRank: this.options.localRank,
      masterAddr: master.host,
      masterPort: master.port,
      jobId: this.options.jobId,
      host: this.options.host,
      members: record.members,
    };
    const first = this.current === undefined;
    this.current = world;
    if (first) this.resolveJoin?.(world);
    else for (const listener of this.listeners) listener.onChange(world);
  }
}
