/**
 * A small multi-host network on one machine: one Linux network namespace per host, all joined to a
 * bridge that lives in a namespace of its own (the "switch"), each host's link optionally capped by
 * a `tc tbf` qdisc. Hosts get addresses in 198.18.0.0/15 (RFC 2544's benchmarking range), so nothing
 * here can collide with a real network. Names carry this process's pid, a counter and a random part,
 * so parallel runs (and the leftovers of an aborted one) never collide.
 *
 * Needs root and iproute2 (`ip netns`, veth, bridge, `tc ... tbf`). This kernel has no netem, so
 * the only shaping is tbf: a rate cap whose queue holds at most `queueLatencyMs` of traffic, which is
 * also the worst delay a queued packet sees. `close()` always deletes every namespace (and with them
 * the veth pairs and the bridge); so do SIGINT, SIGTERM and process exit while a network is open.
 *
 * @example
 * if (namespacesUnavailable() === null) {
 *   const net = NamespaceNetwork.create({ hosts: 2, rateMbit: 100 });
 *   try { spawn('ip', net.exec(0, [process.execPath, 'rank.js'])); } finally { net.close(); }
 * }
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ConfigError, ShardlearnError } from '../core/errors.js';

/** The most hosts a network takes (addresses are one /24). */
export const MAX_HOSTS = 250;
/** tbf's queue limit, as the longest a packet may wait for tokens, in milliseconds. */
export const DEFAULT_QUEUE_LATENCY_MS = 50;

export interface NamespaceNetworkOptions {
  /** Number of hosts (namespaces), ≥ 1. */
  hosts: number;
  /** Cap of each host's outgoing link in megabits per second (tc tbf); absent = no cap. */
  rateMbit?: number;
  /** tbf queue limit in milliseconds (default 50): the added delay at most, when the queue is full. */
  queueLatencyMs?: number;
  /** Longest any one `ip`/`tc` command may take, in milliseconds (default 10 000). */
  commandTimeoutMs?: number;
}

export interface NamespaceHost {
  /** The namespace's name (`ip netns exec <namespace> …`). */
  namespace: string;
  /** Its address on the bridge, e.g. '198.18.0.1'. */
  address: string;
  /** Its interface (inside the namespace). */
  device: string;
}

let probed: string | null | undefined;
let counter = 0;

/**
 * A fresh name prefix: 'sl' + pid + '-' + counter + '-' + random hex. The pid and counter keep live
 * processes apart; the random part keeps a new process apart from the leftovers of a killed one that
 * had the same pid.
 */
function uniquePrefix(): string {
  counter += 1;
  return `sl${process.pid.toString(36)}-${counter.toString(36)}-${randomBytes(3).toString('hex')}`;
}

function run(command: string, args: readonly string[], timeoutMs: number): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new ShardlearnError('COMM', `'${command} ${args.join(' ')}' failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}

/**
 * Why namespaces cannot be used here, or null when they can: root, and a trial `ip netns add`
 * / `ip netns del` and `tc -V` that work. Probed once per process; the answer is cached.
 */
export function namespacesUnavailable(): string | null {
  if (probed !== undefined) return probed;
  if (process.platform !== 'linux') probed = `network namespaces need Linux (this is ${process.platform})`;
  else if (process.getuid?.() !== 0) probed = 'network namespaces need root (run compare as root, or in a container with CAP_NET_ADMIN)';
  else {
    const name = `${uniquePrefix()}probe`;
    try {
      run('ip', ['netns', 'add', name], 10_000);
      run('ip', ['netns', 'del', name], 10_000);
      run('tc', ['-V'], 10_000);
      probed = null;
    } catch (error) {
      probed = `ip netns / tc not permitted here: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  return probed;
}

/** Namespaces of networks not yet closed, deleted on SIGINT/SIGTERM/exit if still there. */
const live = new Set<NamespaceNetwork>();

function closeAllLive(): void {
  for (const network of live) network.close();
}

function onSignal(signal: NodeJS.Signals): void {
  const alone = process.listenerCount(signal) === 1; // before closing: the last close removes this handler
  closeAllLive();
  // Ours was the only handler: end the process as Node would have without it, with the shell's
  // 128 + signal code (re-raising the signal is not enough: a process started in the background
  // inherits SIGINT ignored, and removing our handler restores that).
  if (alone) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
}

function install(): void {
  if (live.size !== 1) return;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', closeAllLive);
}

function uninstall(): void {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('exit', closeAllLive);
}

/** N hosts on a bridge; see the module comment. Create with `NamespaceNetwork.create`, end with `close()`. */
export class NamespaceNetwork {
  readonly hosts: readonly NamespaceHost[];
  /** The namespace holding the bridge. */
  readonly switchNamespace: string;
  private closed = false;

  private constructor(
    prefix: string,
    count: number,
    private readonly timeoutMs: number,
  ) {
    this.switchNamespace = `${prefix}s`;
    this.hosts = Array.from({ length: count }, (_, i) => ({ namespace: `${prefix}h${i}`, address: `198.18.0.${i + 1}`, device: 'eth0' }));
  }

  /** Build the network; on any failure what was built is deleted and the error names the step. */
  static create(options: NamespaceNetworkOptions): NamespaceNetwork {
    const { hosts, rateMbit } = options;
    if (!Number.isInteger(hosts) || hosts < 1 || hosts > MAX_HOSTS)
      throw new ConfigError(`hosts must be a whole number 1..${MAX_HOSTS}, got ${hosts}`, { field: 'hosts' });
    if (rateMbit !== undefined && !(Number.isFinite(rateMbit) && rateMbit > 0))
      throw new ConfigError(`rateMbit must be a finite number > 0, got ${rateMbit}`, { field: 'rateMbit' });
    const queueLatencyMs = options.queueLatencyMs ?? DEFAULT_QUEUE_LATENCY_MS;
    if (!(Number.isFinite(queueLatencyMs) && queueLatencyMs > 0))
      throw new ConfigError(`queueLatencyMs must be a finite number > 0, got ${queueLatencyMs}`, { field: 'queueLatencyMs' });
    const reason = namespacesUnavailable();
    if (reason !== null) throw new ConfigError(`cannot build a namespace network: ${reason}`, { field: 'paradigm' });
    const network = new NamespaceNetwork(uniquePrefix(), hosts, options.commandTimeoutMs ?? 10_000);
    live.add(network);
    install();
    try {
      network.build(rateMbit, queueLatencyMs);
    } catch (error) {
      network.close();
      throw error;
    }
    return network;
  }

  private ip(...args: string[]): void {
    run('ip', args, this.timeoutMs);
  }

  private build(rateMbit: number | undefined, queueLatencyMs: number): void {
    const sw = this.switchNamespace;
    this.ip('netns', 'add', sw);
    this.ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    this.ip('-n', sw, 'link', 'set', 'br0', 'up');
    this.hosts.forEach((host, i) => {
      this.ip('netns', 'add', host.namespace);
      // Both ends are created straight inside their namespaces, so no name is ever taken in the root one.
      this.ip('link', 'add', host.device, 'netns', host.namespace, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', sw);
      this.ip('-n', sw, 'link', 'set', `p${i}`, 'master', 'br0');
      this.ip('-n', sw, 'link', 'set', `p${i}`, 'up');
      this.ip('-n', host.namespace, 'addr', 'add', `${host.address}/24`, 'dev', host.device);
      this.ip('-n', host.namespace, 'link', 'set', host.device, 'up');
      this.ip('-n', host.namespace, 'link', 'set', 'lo', 'up');
      if (rateMbit !== undefined) {
        // Burst: at least 10 ms of traffic at the rate (and ≥ 16 kB), so the token bucket — not the
        // timer granularity — decides the rate; limit from `latency` (tc-tbf(8)).
        const burstBytes = Math.max(16_384, Math.ceil((rateMbit * 1e6) / 8 / 100));
        run(
          'ip',
          [
            'netns',
            'exec',
            host.namespace,
            'tc',
            'qdisc',
            'add',
            'dev',
            host.device,
            'root',
            'tbf',
            'rate',
            `${rateMbit}mbit`,
            'burst',
            String(burstBytes),
            'latency',
            `${queueLatencyMs}ms`,
          ],
          this.timeoutMs,
        );
      }
    });
  }

  /** argv of `ip netns exec <host's namespace> …command` (spawn('ip', net.exec(0, [...]))). */
  exec(host: number, command: readonly string[]): string[] {
    const entry = this.hosts[host];
    if (entry === undefined)
      throw new ConfigError(`host ${host} is not in this network (hosts 0..${this.hosts.length - 1})`, { field: 'host' });
    return ['netns', 'exec', entry.namespace, ...command];
  }

  /** Bytes host `host` has sent on its link so far (its veth's tx counter). */
  bytesSent(host: number): number {
    const entry = this.hosts[host]!;
    return Number(
      run('ip', ['netns', 'exec', entry.namespace, 'cat', `/sys/class/net/${entry.device}/statistics/tx_bytes`], this.timeoutMs),
    );
  }

  /**
   * Delete every namespace (deleting a namespace deletes its veth ends, so the pairs and the bridge
   * go too). Synchronous, so it can run in an 'exit' handler; idempotent; never throws. Processes
   * still inside a namespace keep it alive until they exit: stop them first.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const namespace of [...this.hosts.map((h) => h.namespace), this.switchNamespace]) {
      try {
        execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore', timeout: this.timeoutMs });
      } catch {
        // Never created (a failed build) or already gone.
      }
    }
    live.delete(this);
    if (live.size === 0) uninstall();
  }
}

/** Names of the namespaces that exist now (`ip netns list`), for checks that nothing was left behind. */
export function listNamespaces(): string[] {
  return run('ip', ['netns', 'list'], 10_000)
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}
