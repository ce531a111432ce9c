/**
 * Network profiles for the `processes` paradigm (FitOptions.network): the launcher puts one seeded
 * FaultProxy (comm/fault-proxy.ts) in front of every rank's listening socket and has the rank
 * advertise the proxy's port instead of its own, so every rank-to-rank connection crosses a proxy
 * that adds the profile's latency, jitter and bandwidth cap. Only delays: nothing is dropped or
 * changed, so the trained model is the same bit for bit (this kernel has no netem to do it lower).
 *
 * @example
 * const proxies = new ProxySet(validateNetwork({ latencyMs: 5 }));
 * const port = await proxies.front(rank, boundPort); // advertise `port`
 * await proxies.close();
 */
import { FaultProxy } from '../comm/fault-proxy.js';
import type { FaultProxyOptions } from '../comm/fault-proxy.js';
import { ConfigError } from '../core/errors.js';
import type { NetworkProfile, Paradigm } from '../models/paradigm.js';

const FIELDS = ['latencyMs', 'jitterMs', 'bandwidthMbit', 'seed'] as const;

/** Check a profile (each field a finite number ≥ 0, bandwidth > 0); throws ConfigError naming the field. */
export function validateNetwork(network: NetworkProfile): NetworkProfile {
  if (typeof network !== 'object' || network === null)
    throw new ConfigError(`network must be an object like { latencyMs: 5, bandwidthMbit: 100 }, got ${String(network)}`, {
      field: 'network',
    });
  for (const key of Object.keys(network)) {
    if (!(FIELDS as readonly string[]).includes(key))
      throw new ConfigError(`network.${key} is not a network setting; expected one of: ${FIELDS.join(', ')}`, { field: `network.${key}` });
  }
  for (const key of FIELDS) {
    const value = network[key];
    if (value === undefined) continue;
    const positive = key === 'bandwidthMbit';
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
      throw new ConfigError(`network.${key} must be a finite number ${positive ? '> 0' : '≥ 0'}, got ${JSON.stringify(value)}`, {
        field: `network.${key}`,
      });
    }
  }
  return network;
}

/** Paradigms other than `processes` refuse a network profile: threads share memory, cluster runs over the real network. */
export function refuseNetwork(network: NetworkProfile | undefined, paradigm: Paradigm): void {
  if (network === undefined) return;
  const why =
    paradigm === 'cluster'
      ? 'cluster ranks talk over the real network'
      : paradigm === 'threads'
        ? 'threads share memory and send nothing over a network'
        : 'a sequential fit has no peers';
  throw new ConfigError(
    `network profiles apply to the processes paradigm only, got paradigm '${paradigm}' (${why}); drop network or use paradigm 'processes'`,
    { field: 'network' },
  );
}

/**
 * A cluster-only setting given to another paradigm: a ConfigError naming the setting, the paradigm
 * and why it does not apply there (`processes`: `processesWhy`; threads and sequential send nothing
 * over a network; federated clients talk to their server).
 */
function refuseOutsideCluster(setting: string, field: string, paradigm: Paradigm, processesWhy: string): never {
  const why =
    paradigm === 'processes'
      ? processesWhy
      : paradigm === 'threads'
        ? 'threads share memory and send nothing over a network'
        : paradigm === 'federated'
          ? 'federated clients send their updates to the server, not collectives to each other'
          : 'a sequential fit has no peers';
  throw new ConfigError(`${setting} applies to the cluster paradigm only, got paradigm '${paradigm}' (${why}); drop it`, { field });
}

/**
 * Paradigms other than `cluster` refuse insecureTransport: it exists for ranks on an isolated
 * network; `processes` already uses the unencrypted, folder-authenticated local path.
 */
export function refuseInsecureTransport(insecure: boolean | undefined, paradigm: Paradigm): void {
  if (insecure !== true) return;
  refuseOutsideCluster(
    'insecure transport',
    'insecureTransport',
    paradigm,
    'processes ranks already use the local path: ipc:// sockets in a 0700 folder, unencrypted',
  );
}

/**
 * Paradigms other than `cluster` refuse collectiveLane: `processes` already carries its collectives
 * on the lane (Unix sockets in the job's folder).
 */
export function refuseCollectiveLane(lane: boolean | undefined, paradigm: Paradigm): void {
  if (lane !== true) return;
  refuseOutsideCluster(
    'the collective lane between hosts',
    'collectiveLane',
    paradigm,
    'processes ranks already carry their collectives on the lane: Unix sockets in the job folder',
  );
}

/** One proxy per listening rank, all with the same profile; closed together whatever the outcome. */
export class ProxySet {
  private readonly started: Promise<FaultProxy>[] = [];

  constructor(private readonly network: NetworkProfile) {}

  /** Start the proxy in front of `rank`'s port on loopback; resolves to the port peers should use. */
  async front(rank: number, port: number): Promise<number> {
    const { latencyMs, jitterMs, bandwidthMbit, seed } = this.network;
    const options: FaultProxyOptions = { target: { host: '127.0.0.1', port }, seed: (seed ?? 0) + rank };
    if (latencyMs !== undefined) options.latencyMs = latencyMs;
    if (jitterMs !== undefined) options.jitterMs = jitterMs;
    if (bandwidthMbit !== undefined) options.bytesPerSecond = (bandwidthMbit * 1e6) / 8;
    const proxy = FaultProxy.start(options);
    this.started.push(proxy);
    return (await proxy).port;
  }

  /** Close every proxy started so far (including one still starting). */
  async close(): Promise<void> {
    const outcomes = await Promise.allSettled(this.started);
    await Promise.all(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.close() : undefined)));
  }
}
