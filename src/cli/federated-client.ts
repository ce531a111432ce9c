/**
 * `shardlearn federated-client --master host:port --world-size N --rank R [--secret-file F]
 * [--data <spec> [--clients-per-host K]]`: serve as one client host of a federated server started
 * with `train … --paradigm federated --clients-on hosts` (runtime/federated-remote.ts). With --data
 * (and the data flags of `train`: --target, --delimiter, --header, --missing, --dtype,
 * --max-record-bytes) the host is a cross-silo client: it loads its own rows and the server
 * (`--client-data hosts`) never receives them. The place comes from the flags, else from the environment a
 * `cluster` rank reads (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, SHARDLEARN_JOB_ID); the secret
 * from --secret-file, else SHARDLEARN_SECRET. Runs until the server stops it.
 *
 * @example
 * shardlearn federated-client --master 10.0.0.1:29500 --world-size 3 --rank 1 --secret-file job.secret
 */
import { ConfigError } from '../core/errors.js';
import { loadData } from '../data/index.js';
import { serveRemoteClientHost } from '../runtime/federated-remote.js';
import { rendezvousFromEnv } from '../runtime/rendezvous.js';
import type { ParsedArgs } from './args.js';
import { takeNumber, takeString } from './args.js';
import type { Output } from './output.js';
import { useSecretFile } from './secret-file.js';
import { takeLoadOptions } from './data-flags.js';

export async function federatedClientCommand(args: ParsedArgs, out: Output): Promise<void> {
  const master = takeString(args, 'master');
  const worldSize = takeNumber(args, 'world-size', (n) => Number.isInteger(n) && n >= 2, 'a whole number ≥ 2');
  const rank = takeNumber(args, 'rank', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  const jobId = takeString(args, 'job-id');
  const timeoutMs = takeNumber(args, 'timeout-ms', (n) => n > 0, 'a positive number of milliseconds') ?? 120_000;
  useSecretFile(takeString(args, 'secret-file'));
  // Cross-silo: this host's own data (the training part of the source), split into its clients here.
  const clientsPerHost = takeNumber(args, 'clients-per-host', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  const load = args.flags.has('data') ? takeLoadOptions(args) : null;
  if (load === null && clientsPerHost !== undefined)
    throw new ConfigError("--clients-per-host splits this host's own data: give --data too", { field: 'clients-per-host' });
  const unknown = [...args.flags.keys()];
  if (unknown.length > 0) throw new ConfigError(`federated-client does not take --${unknown[0]}`, { field: unknown[0]! });
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (master !== undefined) {
    const at = master.lastIndexOf(':');
    if (at <= 0) throw new ConfigError(`--master expects host:port, got '${master}'`, { field: 'master' });
    env['MASTER_ADDR'] = master.slice(0, at).replace(/^\[(.*)\]$/, '$1');
    env['MASTER_PORT'] = master.slice(at + 1);
  }
  if (worldSize !== undefined) env['WORLD_SIZE'] = String(worldSize);
  if (rank !== undefined) env['RANK'] = String(rank);
  if (jobId !== undefined) env['SHARDLEARN_JOB_ID'] = jobId;
  const place = rendezvousFromEnv(env);
  const own = load === null ? undefined : { data: (await loadData(load.spec, load.options)).train, clientsPerHost: clientsPerHost ?? 1 };
  const served = await serveRemoteClientHost(place, { timeoutMs, log: (line) => out(line), ...(own === undefined ? {} : { own }) });
  out(`federated client host rank ${place.rank}: served ${served.tasks} messages for ${served.clients} clients; the server stopped it`);
}
