/**
 * Which rows each federated client holds (`--partition`): 'iid', 'dirichlet:<α>' (label skew, Hsu
 * et al. 2019), 'shards:<n>' (n label-sorted shards per client, McMahan et al. 2017) or 'contiguous'
 * (client c holds the c-th run of consecutive rows, unshuffled: how a cross-silo host splits its own
 * file into its clients, so a simulation on the hosts' files concatenated can reproduce it). Seeded: the
 * same spec, labels and seed give the same clients. Only row indices are kept per client (4 bytes a
 * row); a client's rows are copied out when it is sampled, so 1,000 clients cost 1,000 index arrays.
 *
 * @example
 * const parts = clientPartition('dirichlet:0.5', { rows: data.rows, labels: data.y, clients: 100, seed: 1 });
 */
import { ConfigError } from '../core/errors.js';
import { contiguousPartition, dirichletPartition, iidPartition, shardsPartition } from '../data/partition.js';

export type PartitionSpec =
  { kind: 'iid' } | { kind: 'contiguous' } | { kind: 'dirichlet'; alpha: number } | { kind: 'shards'; perClient: number };

const USAGE = "'iid', 'dirichlet:<α>', 'shards:<n>' or 'contiguous'";

export function parsePartition(spec: string): PartitionSpec {
  const [kind, arg, ...rest] = spec.split(':');
  if (kind === 'iid' && arg === undefined) return { kind: 'iid' };
  if (kind === 'contiguous' && arg === undefined) return { kind: 'contiguous' };
  const value = Number(arg);
  if (kind === 'dirichlet' && rest.length === 0 && arg !== '' && value > 0 && Number.isFinite(value))
    return { kind: 'dirichlet', alpha: value };
  if (kind === 'shards' && rest.length === 0 && Number.isInteger(value) && value >= 1) return { kind: 'shards', perClient: value };
  throw new ConfigError(`--partition '${spec}' is not understood; expected ${USAGE} (α > 0, n a positive integer)`, { field: 'partition' });
}

/** Each client's sorted row indices, index = client id. */
export function clientPartition(
  spec: string,
  options: { rows: number; labels: ArrayLike<number> | null; clients: number; seed: number },
): Uint32Array[] {
  const parsed = parsePartition(spec);
  const { rows, labels, clients, seed } = options;
  if (clients > rows)
    throw new ConfigError(`${clients} clients but only ${rows} training rows: every client needs at least one row`, { field: 'clients' });
  if (parsed.kind === 'iid') return iidPartition(rows, clients, seed);
  if (parsed.kind === 'contiguous') return contiguousPartition(rows, clients);
  if (labels === null)
    throw new ConfigError(`--partition ${spec} splits by label and the data has none; use --partition iid`, { field: 'partition' });
  if (parsed.kind === 'dirichlet') return dirichletPartition(labels, clients, { alpha: parsed.alpha, seed });
  return shardsPartition(labels, clients, parsed.perClient, seed);
}
