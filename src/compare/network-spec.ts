/**
 * Network profiles of the comparison matrix (`networks` field, `--networks` flag). Two kinds:
 *
 * - proxy (the default): latency, jitter and a bandwidth cap added by a TCP proxy on loopback in
 *   front of every `processes` rank (runtime/network.ts). `wan:5ms:100mbit`.
 * - tbf: a `tc tbf` rate cap on each rank's link between network namespaces, for `cluster` cells
 *   (runtime/netns.ts). `lan:tbf:1000mbit`. tbf shapes rate only; the delay it adds is the queueing
 *   its 50 ms queue allows, so a tbf profile takes no latency or jitter (that needs netem, which this
 *   kernel lacks).
 *
 * 'loopback' is both: no proxy for processes, the uncapped veth for cluster.
 *
 * @example
 * parseNetworksFlag('loopback,wan:5ms:100mbit,lan:tbf:1000mbit');
 * // → [{ name: 'loopback' }, { name: 'wan', latencyMs: 5, bandwidthMbit: 100 }, { name: 'lan', kind: 'tbf', bandwidthMbit: 1000 }]
 */
import { ConfigError } from '../core/errors.js';
import type { NetworkProfile, Paradigm } from '../models/paradigm.js';
import { checkKeys, fail, isRecord, nonEmptyList } from './matrix-fields.js';

/** A named network profile: a proxy profile for processes cells, or a tbf cap (kind 'tbf') for cluster cells. */
export interface NetworkSpec extends NetworkProfile {
  name: string;
  /** 'tbf': a tc tbf rate cap between namespaces (cluster cells); absent: the loopback proxy (processes cells). */
  kind?: 'tbf';
}

/** No shaping: what sequential and threads cells run on, and the unshaped choice of processes and cluster. */
export const LOOPBACK: NetworkSpec = { name: 'loopback' };

const NETWORK_KEYS = ['name', 'kind', 'latencyMs', 'jitterMs', 'bandwidthMbit', 'seed'] as const;
const PROXY_ONLY = ['latencyMs', 'jitterMs', 'seed'] as const;
const KINDS = ['proxy', 'tbf'];

function parseNetwork(index: number, value: unknown): NetworkSpec {
  const field = `networks[${index}]`;
  if (!isRecord(value))
    fail(
      field,
      'an object such as { "name": "wan", "latencyMs": 5, "bandwidthMbit": 100 } or { "name": "lan", "kind": "tbf", "bandwidthMbit": 1000 }',
      value,
    );
  checkKeys(field, value, NETWORK_KEYS);
  const name = value.name;
  if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) fail(`${field}.name`, 'a name of letters, digits, _ . -', name);
  const kind = value.kind;
  if (kind !== undefined && (typeof kind !== 'string' || !KINDS.includes(kind))) fail(`${field}.kind`, `one of ${KINDS.join(', ')}`, kind);
  const network: NetworkSpec = kind === 'tbf' ? { name, kind } : { name };
  for (const key of NETWORK_KEYS.slice(2) as ('latencyMs' | 'jitterMs' | 'bandwidthMbit' | 'seed')[]) {
    const v = value[key];
    if (v === undefined) continue;
    const positive = key === 'bandwidthMbit';
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (positive && v === 0))
      fail(`${field}.${key}`, `a finite number ${positive ? '> 0' : '>= 0'}`, v);
    if (kind === 'tbf' && (PROXY_ONLY as readonly string[]).includes(key)) {
      fail(
        `${field}.${key}`,
        'nothing: a tbf profile caps the rate only (its delay is tbf\'s queueing; added latency needs netem, which this kernel lacks) — drop it, or drop "kind": "tbf" for a processes proxy profile',
        v,
      );
    }
    network[key] = v;
  }
  if (kind === 'tbf' && network.bandwidthMbit === undefined)
    fail(`${field}.bandwidthMbit`, 'the tbf rate in Mbit/s (a tbf profile is a rate cap)', undefined);
  if (name === 'loopback' && Object.keys(network).length > 1)
    fail(`${field}.name`, "another name: 'loopback' means no shaping, so it takes no settings", name);
  return network;
}

/** Validate the matrix's `networks` list (names unique). */
export function networkList(value: unknown): NetworkSpec[] {
  const networks = nonEmptyList('networks', value).map((n, i) => parseNetwork(i, n));
  networks.forEach((network, i) => {
    if (networks.findIndex((other) => other.name === network.name) !== i)
      fail(`networks[${i}].name`, 'a name not used by an earlier profile', network.name);
  });
  return networks;
}

/**
 * The `--networks` flag: comma-separated profiles `name[:<n>ms][:<n>mbit][:<n>jitter]` (proxy, for
 * processes cells) or `name:tbf:<n>mbit` (tc tbf between namespaces, for cluster cells), e.g.
 * `loopback,wan:5ms:100mbit,lan:tbf:1000mbit`. Pure; the result is validated again by parseMatrix.
 */
export function parseNetworksFlag(text: string): NetworkSpec[] {
  return text.split(',').map((item, i) => {
    const [name = '', ...settings] = item.trim().split(':');
    const network: NetworkSpec = { name };
    const tbf = settings.some((s) => s.trim().toLowerCase() === 'tbf');
    if (tbf) network.kind = 'tbf';
    for (const setting of settings) {
      if (setting.trim().toLowerCase() === 'tbf') continue;
      const match = /^(\d+(?:\.\d+)?)(ms|mbit|jitter)$/i.exec(setting.trim());
      if (match === null)
        throw new ConfigError(
          `--networks item ${i + 1} '${item}': expected name[:<n>ms][:<n>mbit][:<n>jitter] such as 'wan:5ms:100mbit', or name:tbf:<n>mbit such as 'lan:tbf:1000mbit', found '${setting}'`,
          { field: 'networks' },
        );
      const unit = match[2]!.toLowerCase();
      if (tbf && unit !== 'mbit')
        throw new ConfigError(
          `--networks item ${i + 1} '${item}': a tbf profile takes only a rate (name:tbf:<n>mbit, e.g. 'lan:tbf:1000mbit'), found '${setting}'; latency and jitter need netem, which this kernel lacks — use a proxy profile (without ':tbf') for processes cells`,
          { field: 'networks' },
        );
      network[unit === 'ms' ? 'latencyMs' : unit === 'mbit' ? 'bandwidthMbit' : 'jitterMs'] = Number(match[1]);
    }
    if (tbf && network.bandwidthMbit === undefined)
      throw new ConfigError(`--networks item ${i + 1} '${item}': a tbf profile needs its rate, e.g. 'lan:tbf:1000mbit'`, {
        field: 'networks',
      });
    return network;
  });
}

/**
 * The profiles a paradigm's cells run under: processes take loopback and proxy profiles, cluster
 * takes loopback (the veth uncapped) and tbf profiles; the others run once, on loopback.
 */
export function networksFor(paradigm: Paradigm, networks: readonly NetworkSpec[]): NetworkSpec[] {
  if (paradigm === 'processes') return networks.filter((n) => n.kind !== 'tbf');
  if (paradigm === 'cluster') return networks.filter((n) => n.kind === 'tbf' || n.name === LOOPBACK.name);
  return [LOOPBACK];
}
