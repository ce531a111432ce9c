/**
 * A seeded, fault-injecting TCP proxy: put it between two ranks to get a bad network on loopback
 * (this kernel has no netem). Faults apply per chunk the proxy reads (a TCP read, not a ZeroMQ
 * frame — the proxy does not parse the stream; with CURVE a changed byte anywhere fails the MAC,
 * which is what a real corrupting link does too):
 *
 *   latencyMs + jitterMs   delay every chunk by latency ± uniform jitter (order is kept)
 *   bytesPerSecond         cap the throughput of each direction of each connection
 *   dropProbability        drop a chunk (the stream is then corrupt: the receiver must notice)
 *   corruptProbability     flip one byte of a chunk
 *   truncateProbability    forward half a chunk, then close the connection
 *   resetProbability       reset the connection (both sides) instead of forwarding a chunk
 *   faultBudget            stop injecting those four after this many faults
 *
 * Every random choice comes from the seeded Rng, so a failing run is repeated exactly.
 *
 * @example
 * const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: 29500 }, latencyMs: 20, bytesPerSecond: 10e6, seed: 1 });
 * // connect to 127.0.0.1:proxy.port instead of 29500 …
 * await proxy.close();
 */
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { Rng } from '../core/rng.js';

/** How long a closing connection may take to flush what the proxy already wrote to it. */
const FLUSH_TIMEOUT_MS = 5000;

export interface FaultProfile {
  latencyMs?: number;
  jitterMs?: number;
  bytesPerSecond?: number;
  dropProbability?: number;
  corruptProbability?: number;
  truncateProbability?: number;
  resetProbability?: number;
  /** Stop injecting drops, corruptions, truncations and resets after this many (default unlimited). */
  faultBudget?: number;
}

export interface FaultProxyOptions extends FaultProfile {
  target: { host: string; port: number };
  /** Port to listen on (127.0.0.1); 0 picks a free one. */
  listenPort?: number;
  seed?: number;
}

export interface FaultCounts {
  connections: number;
  bytesForwarded: number;
  dropped: number;
  corrupted: number;
  truncated: number;
  resets: number;
}

export class FaultProxy {
  readonly counts: FaultCounts = { connections: 0, bytesForwarded: 0, dropped: 0, corrupted: 0, truncated: 0, resets: 0 };
  private readonly sockets = new Set<Socket>();
  private readonly rng: Rng;
  /** The faults in force; change them while running (e.g. corrupt only after the handshake). */
  profile: FaultProfile;

  private constructor(
    private readonly server: Server,
    private readonly options: FaultProxyOptions,
  ) {
    this.rng = new Rng(options.seed ?? 0);
    this.profile = { ...options };
  }

  /** The port clients connect to. */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, options);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listenPort ?? 0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  private accept(client: Socket): void {
    this.counts.connections++;
    const upstream = connect(this.options.target.port, this.options.target.host);
    const links = [this.pipe(client, upstream), this.pipe(upstream, client)];
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined); // a reset is one of the faults; both ends are closed below
      socket.on('close', () => {
        this.sockets.delete(socket);
        // Chunks still in flight (delayed by latency or the bandwidth cap) are delivered before the
        // other end is closed, as a real link would: closing at once dropped a rank's goodbye that
        // was still "on the wire", and its peer then saw a connection closed without a goodbye.
        // Then end, not destroy: destroy discards what is still in a socket's write buffer (the last
        // ~90 kB of a 4 MiB stream were lost that way in test/comm/fault-proxy-order.test.ts). A
        // socket whose peer never finishes reading is destroyed after FLUSH_TIMEOUT_MS.
        void Promise.all(links.map((link) => link.drained())).then(() => {
          for (const end of [client, upstream]) {
            if (end.destroyed) continue;
            end.end();
            setTimeout(() => end.destroy(), FLUSH_TIMEOUT_MS).unref();
          }
        });
      });
    }
  }

  /**
   * Forward `from` → `to` through the faults. Chunks wait in one FIFO queue per direction, drained by
   * one timer, so they leave in the order they came. (One timer per chunk did not keep order: Node
   * starts a timer from the event loop's cached clock, not performance.now(), and fires timers of
   * different durations by expiry, so a chunk read later in the same loop turn, or an end-of-stream,
   * could leave first. That scrambled ZMTP streams under load: see docs/notes/netprofiles.md.)
   */
  private pipe(from: Socket, to: Socket): { drained: () => Promise<void> } {
    const queue: { dueAt: number; data: Buffer | null; truncate: boolean }[] = []; // data null: end of stream
    let readyAt = 0; // when the previous chunk leaves: paces the bandwidth cap
    let timer: NodeJS.Timeout | null = null;
    let onDrained: (() => void)[] = [];
    const drain = (): void => {
      timer = null;
      while (queue.length > 0 && (queue[0]!.dueAt <= performance.now() || to.destroyed)) {
        const { data, truncate } = queue.shift()!;
        if (to.destroyed || to.writableEnded) continue;
        if (data === null) {
          to.end();
          continue;
        }
        this.counts.bytesForwarded += data.length;
        to.write(data);
        if (truncate) to.end();
      }
      if (queue.length > 0) timer = setTimeout(drain, Math.max(1, queue[0]!.dueAt - performance.now()));
      else {
        for (const resolve of onDrained) resolve();
        onDrained = [];
      }
    };
    const push = (dueAt: number, data: Buffer | null, truncate: boolean): void => {
      queue.push({ dueAt, data, truncate });
      timer ??= setTimeout(drain, Math.max(0, queue[0]!.dueAt - performance.now()));
    };
    from.on('data', (chunk: Buffer) => {
      const p = this.faultsLeft()
        ? this.profile
        : { ...this.profile, resetProbability: 0, dropProbability: 0, corruptProbability: 0, truncateProbability: 0 };
      if (this.rng.uniform() < (p.resetProbability ?? 0)) {
        this.counts.resets++;
        from.resetAndDestroy();
        to.resetAndDestroy();
        return;
      }
      if (this.rng.uniform() < (p.dropProbability ?? 0)) {
        this.counts.dropped++;
        return;
      }
      let data = chunk;
      if (this.rng.uniform() < (p.corruptProbability ?? 0)) {
        data = Buffer.from(chunk);
        data[this.rng.int(data.length)]! ^= 0xff;
        this.counts.corrupted++;
      }
      const truncate = this.rng.uniform() < (p.truncateProbability ?? 0);
      if (truncate) {
        data = data.subarray(0, data.length >> 1);
        this.counts.truncated++;
      }
      const jitter = (p.jitterMs ?? 0) * (2 * this.rng.uniform() - 1);
      const transfer = p.bytesPerSecond === undefined ? 0 : (1000 * data.length) / p.bytesPerSecond;
      readyAt = Math.max(readyAt, performance.now() + Math.max(0, (p.latencyMs ?? 0) + jitter)) + transfer;
      push(readyAt, data, truncate);
    });
    from.on('end', () => push(Math.max(readyAt, performance.now()), null, false));
    return {
      drained: () => (queue.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => onDrained.push(resolve))),
    };
  }

  private faultsLeft(): boolean {
    const { dropped, corrupted, truncated, resets } = this.counts;
    return dropped + corrupted + truncated + resets < (this.profile.faultBudget ?? Infinity);
  }

  /** Reset every open connection now. */
  resetAll(): void {
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.counts.resets++;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
