/**
 * Federated client hosts on other machines: the multi-host counterpart of `--clients-on processes`.
 * The server (the process running the fit, rank 0) and H client hosts (ranks 1..H) form one ZeroMQ
 * world over TCP with CURVE, found the way `cluster` ranks find each other (rendezvous.ts:
 * MASTER_ADDR, MASTER_PORT, WORLD_SIZE = H + 1, RANK, SHARDLEARN_JOB_ID, and the job secret from
 * SHARDLEARN_SECRET or a secret file). A host without the secret is refused at the CURVE handshake.
 *
 * Once the world is formed the server sends each host the job and the rows of the clients it hosts
 * (client c on rank (c mod H) + 1), one message per client, encrypted by CURVE like everything else;
 * then the host serves the server's messages with the same loop as a client process (federated-serve.ts):
 * plain 'train' tasks, and under secure aggregation the client's side of the protocol
 * (federated-secure-client.ts), whose secrets stay on the host.
 *
 * Why the server sends the rows (clientData 'server', the default): this mode simulates a federation
 * by partitioning one dataset (iid, Dirichlet, shards), and the partition needs every row's label.
 *
 * Cross-silo (clientData 'hosts', `train … --client-data hosts`): each host loads its own data
 * (`federated-client --data <spec>`) and splits it into `clientsPerHost` clients (contiguous runs of
 * its rows, federated/partition.ts 'contiguous'); no row crosses the wire. The start is then:
 *   server → host  'client-describe' {}
 *   host → server  'client-hello' {cols, featureNames, labelNames, labels, clientRows} — its layout, the
 *                  label values it holds and each of its clients' row counts (FedAvg's weights: the sizes
 *                  leak, as in FedAvg), or 'failed' {message} (a host without its own data)
 *   server → host  'client-start' {job, clients: the global ids of its clients}, or 'stop' {message}
 *                  when a host's layout disagrees (SiloMismatchError, naming the host and the field)
 * Client ids follow rank order: rank 1's clients are 0..k₁−1, rank 2's k₁..k₁+k₂−1, …
 *
 * @example
 * // server: MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 WORLD_SIZE=3 RANK=0 SHARDLEARN_SECRET_FILE=job.secret \
 * //   shardlearn train mlp --data builtin:digits --paradigm federated --clients-on hosts --clients 20
 * // each client host r ∈ {1, 2}:
 * //   shardlearn federated-client --master 10.0.0.1:29500 --world-size 3 --rank r --secret-file job.secret
 */
import { ZmqCommunicator } from '../comm/zmq/communicator.js';
import { readSecret } from '../comm/zmq/security.js';
import { ConfigError, ShardlearnError } from '../core/errors.js';
import { Dataset } from '../data/dataset.js';
import { contiguousPartition } from '../data/partition.js';
import type { ClientJob } from './federated-client.js';
import type { ServerAudit } from './federated-hosts.js';
import { WorldHosts } from './federated-hosts.js';
import { serveClients } from './federated-serve.js';
import type { Rendezvous } from './rendezvous.js';
import { placeJoinFields } from './rendezvous.js';

/** The first message a client host receives: what its clients share, and which clients it hosts. */
interface StartHeader {
  job: ClientJob;
  cols: number;
  featureNames: string[];
  labelNames: string[] | null;
  source: string;
  clients: number[];
}

/** A client's rows: header {client, rows, rowKeyBase, labelled, keyed}, arrays [x, y?, rowKeys?]. */
const ROWS_TAG = 'client-rows';
const START_TAG = 'client-start';
const DESCRIBE_TAG = 'client-describe';
const HELLO_TAG = 'client-hello';

/** What a cross-silo host reports before training: its data's layout, and its clients' row counts. */
export interface SiloHello {
  cols: number;
  featureNames: string[];
  /** The label names its labels encode (textual labels), or null (numeric labels, or none). */
  labelNames: string[] | null;
  /** The distinct label values it holds, sorted, or null for unlabelled data. */
  labels: number[] | null;
  /** Rows of each of its clients, in client order. */
  clientRows: number[];
}

/** A cross-silo host whose data disagrees with the server's layout: `rank` is the host, `field` what differs. */
export class SiloMismatchError extends ShardlearnError {
  constructor(
    readonly rank: number,
    readonly field: 'cols' | 'labelNames' | 'labels',
    message: string,
  ) {
    super('DATA_FORMAT', `client host rank ${rank}: ${message}`);
  }
}

/** The cross-silo world once every host said what it holds (startSiloHosts then sends the job). */
export interface SiloWorld {
  comm: ZmqCommunicator;
  hosts: number;
  /** Clients over all hosts; client c lives on rank rankOf(c). */
  clients: number;
  /** Each client's rows (FedAvg's weights), by client id. */
  clientRows: number[];
  /** The union of the hosts' label values, sorted (null for unlabelled data). */
  classes: number[] | null;
  rankOf: (client: number) => number;
  /** The global client ids on each rank (index rank − 1). */
  clientsOf: number[][];
}

/**
 * The server's side of a cross-silo start: join as rank 0, ask each host what it holds, and check
 * it against `layout` (the server's own data: feature count, label names, whether it is labelled).
 * A host that disagrees ends the start with a SiloMismatchError naming it; every host is told why.
 */
export async function joinSiloHosts(
  place: Rendezvous,
  timeoutMs: number,
  layout: { cols: number; labelNames: readonly string[] | null; labelled: boolean },
  audit: ServerAudit = () => undefined,
): Promise<SiloWorld> {
  const comm = await joinAsServer(place, timeoutMs);
  const hosts = place.worldSize - 1;
  try {
    const hellos: SiloHello[] = [];
    for (let rank = 1; rank <= hosts; rank++) await comm.send(rank, { tag: DESCRIBE_TAG, header: {} });
    for (let rank = 1; rank <= hosts; rank++) {
      const message = await comm.recv(rank);
      audit(-rank, message); // a host's start message: client −rank
      if (message.tag === 'failed')
        throw new ConfigError(`client host rank ${rank}: ${String(message.header?.['message'] ?? 'failed')}`, { field: 'client-data' });
      if (message.tag !== HELLO_TAG)
        throw new ShardlearnError(
          'COMM',
          `client host rank ${rank} sent '${message.tag}'; expected '${HELLO_TAG}' (the same shardlearn version on every host?)`,
        );
      hellos.push(message.header as unknown as SiloHello);
    }
    const problem = hellos.map((hello, index) => mismatch(index + 1, hello, layout)).find((error) => error !== null);
    if (problem !== undefined) {
      for (let rank = 1; rank <= hosts; rank++)
        await comm.send(rank, { tag: 'stop', header: { message: problem.message } }).catch(() => undefined);
      throw problem;
    }
    const clientsOf: number[][] = [];
    const clientRows: number[] = [];
    const owner: number[] = [];
    hellos.forEach((hello, index) => {
      clientsOf.push(hello.clientRows.map((_, k) => clientRows.length + k));
      for (const rows of hello.clientRows) {
        clientRows.push(rows);
        owner.push(index + 1);
      }
    });
    const classes = layout.labelled ? [...new Set(hellos.flatMap((hello) => hello.labels ?? []))].sort((a, b) => a - b) : null;
    return { comm, hosts, clients: clientRows.length, clientRows, classes, rankOf: (client) => owner[client]!, clientsOf };
  } catch (error) {
    await comm.close();
    throw error;
  }
}

function mismatch(
  rank: number,
  hello: SiloHello,
  layout: { cols: number; labelNames: readonly string[] | null; labelled: boolean },
): SiloMismatchError | null {
  if (hello.cols !== layout.cols)
    return new SiloMismatchError(
      rank,
      'cols',
      `its data has ${hello.cols} feature columns, the server's has ${layout.cols}: every silo needs the server's columns`,
    );
  if ((hello.labels !== null) !== layout.labelled)
    return new SiloMismatchError(
      rank,
      'labels',
      `its data is ${hello.labels === null ? 'unlabelled' : 'labelled'}, the server's is ${layout.labelled ? 'labelled' : 'not'}`,
    );
  if (JSON.stringify(hello.labelNames) !== JSON.stringify(layout.labelNames ?? null))
    return new SiloMismatchError(
      rank,
      'labelNames',
      `its label names are ${JSON.stringify(hello.labelNames)}, the server's ${JSON.stringify(layout.labelNames ?? null)}: the same classes must have the same codes everywhere`,
    );
  return null;
}

/** Send each cross-silo host the job and its clients' global ids; the hosts then serve. */
export async function startSiloHosts(world: SiloWorld, job: ClientJob, audit: ServerAudit = () => undefined): Promise<WorldHosts> {
  try {
    for (let rank = 1; rank <= world.hosts; rank++)
      await world.comm.send(rank, {
        tag: START_TAG,
        header: { job, clients: world.clientsOf[rank - 1]! } as unknown as Record<string, unknown>,
      });
  } catch (error) {
    await world.comm.close();
    throw error;
  }
  return new WorldHosts(world.comm, world.hosts, () => Promise.resolve(), job, audit, world.rankOf);
}

async function joinAsServer(place: Rendezvous, timeoutMs: number): Promise<ZmqCommunicator> {
  if (place.rank !== 0)
    throw new ConfigError(
      `this process is rank ${place.rank}: the federated server is rank 0; a client host runs 'shardlearn federated-client' (RANK ≥ 1)`,
      { field: 'RANK' },
    );
  if (place.worldSize - 1 < 1)
    throw new ConfigError(`--clients-on hosts needs WORLD_SIZE ≥ 2 (the server and at least one client host), found ${place.worldSize}`, {
      field: 'WORLD_SIZE',
    });
  return ZmqCommunicator.join({ ...placeJoinFields(place), secret: readSecret(), timeoutMs });
}

/** Join as rank 0 over TCP with CURVE, wait for the H client hosts, and send each its job and its clients' rows. */
export async function startRemoteHosts(
  job: ClientJob,
  data: Dataset,
  parts: readonly Uint32Array[],
  place: Rendezvous,
  timeoutMs: number,
  audit: ServerAudit = () => undefined,
): Promise<WorldHosts> {
  const hosts = place.worldSize - 1;
  const comm = await joinAsServer(place, timeoutMs);
  try {
    for (let rank = 1; rank <= hosts; rank++) {
      const clients = parts.map((_, client) => client).filter((client) => client % hosts === rank - 1);
      const header: StartHeader = {
        job,
        cols: data.cols,
        featureNames: [...data.featureNames],
        labelNames: data.labelNames === null ? null : [...data.labelNames],
        source: data.source,
        clients,
      };
      await comm.send(rank, { tag: START_TAG, header: header as unknown as Record<string, unknown> });
      for (const client of clients) {
        const rows = data.take(parts[client]!);
        const arrays = [rows.x, ...(rows.y === null ? [] : [rows.y]), ...(rows.rowKeys === null ? [] : [rows.rowKeys])];
        await comm.send(rank, {
          tag: ROWS_TAG,
          header: { client, rows: rows.rows, rowKeyBase: rows.rowKeyBase, labelled: rows.y !== null, keyed: rows.rowKeys !== null },
          arrays,
        });
      }
    }
  } catch (error) {
    await comm.close();
    throw error;
  }
  return new WorldHosts(comm, hosts, () => Promise.resolve(), job, audit);
}

/**
 * A client host: join the server's world at `place` (RANK ≥ 1) over TCP with CURVE, receive the job
 * and the rows of the clients it hosts (or, cross-silo, split `own` into `clientsPerHost` clients and
 * report only their layout and sizes), and serve until the server stops it.
 */
export async function serveRemoteClientHost(
  place: Rendezvous,
  options: { timeoutMs: number; log?: (line: string) => void; own?: { data: Dataset; clientsPerHost: number } },
): Promise<{ clients: number; tasks: number }> {
  if (place.rank === 0)
    throw new ConfigError('a federated client host is rank ≥ 1; rank 0 is the server (shardlearn train … --clients-on hosts)', {
      field: 'RANK',
    });
  const comm = await ZmqCommunicator.join({ ...placeJoinFields(place), secret: readSecret(), timeoutMs: options.timeoutMs });
  try {
    const start = await comm.recv(0);
    if (start.tag === DESCRIBE_TAG) return await serveSilo(comm, place, options);
    if (options.own !== undefined)
      throw new ConfigError(
        `this host was given its own data (--data) but the server partitions its data and sends the rows; start the server with --client-data hosts, or drop --data here`,
        { field: 'data' },
      );
    if (start.tag !== START_TAG)
      throw new ShardlearnError(
        'COMM',
        `the federated server sent '${start.tag}' first; expected '${START_TAG}' (the same shardlearn version on every host?)`,
      );
    const header = start.header as unknown as StartHeader;
    for (const module of header.job.modules) await import(module);
    const rows = new Map<number, Dataset>();
    for (let k = 0; k < header.clients.length; k++) {
      const message = await comm.recv(0);
      const part = message.header as { client: number; rows: number; rowKeyBase: number; labelled: boolean; keyed: boolean };
      if (message.tag !== ROWS_TAG) throw new ShardlearnError('COMM', `the federated server sent '${message.tag}' before all client rows`);
      const [x, ...rest] = message.arrays!;
      const y = part.labelled ? (rest.shift() as Float64Array) : null;
      const rowKeys = part.keyed ? (rest.shift() as Float64Array) : null;
      rows.set(
        part.client,
        new Dataset({
          x: x!,
          rows: part.rows,
          cols: header.cols,
          y,
          featureNames: header.featureNames,
          labelNames: header.labelNames,
          source: header.source,
          rowKeys,
          rowKeyBase: part.rowKeyBase,
        }),
      );
    }
    options.log?.(
      `federated client host rank ${place.rank}: hosting clients ${header.clients.join(', ')} of the server at ${place.masterAddr}:${place.masterPort}`,
    );
    const rowsOf = (client: number): Dataset => {
      const dataset = rows.get(client);
      if (dataset === undefined) throw new ShardlearnError('CONFIG', `client ${client} is not hosted by rank ${place.rank}`);
      return dataset;
    };
    const { tasks } = await serveClients(comm, header.job, rowsOf);
    return { clients: header.clients.length, tasks };
  } finally {
    await comm.close();
  }
}

/** A cross-silo host's start: report its layout and clients' sizes, get the job and its clients' ids, serve. */
async function serveSilo(
  comm: ZmqCommunicator,
  place: Rendezvous,
  options: { log?: (line: string) => void; own?: { data: Dataset; clientsPerHost: number } },
): Promise<{ clients: number; tasks: number }> {
  if (options.own === undefined) {
    const message = `it has no data of its own: the server expects each host to load its own (shardlearn federated-client … --data <spec>)`;
    await comm.send(0, { tag: 'failed', header: { message } });
    throw new ConfigError(`rank ${place.rank}: ${message}`, { field: 'data' });
  }
  const { data, clientsPerHost } = options.own;
  if (!(Number.isInteger(clientsPerHost) && clientsPerHost >= 1 && clientsPerHost <= data.rows))
    throw new ConfigError(`--clients-per-host must be a whole number from 1 to this host's ${data.rows} rows, found ${clientsPerHost}`, {
      field: 'clients-per-host',
    });
  const parts = contiguousPartition(data.rows, clientsPerHost);
  const hello: SiloHello = {
    cols: data.cols,
    featureNames: [...data.featureNames],
    labelNames: data.labelNames === null ? null : [...data.labelNames],
    labels: data.y === null ? null : [...new Set(data.y)].sort((a, b) => a - b),
    clientRows: parts.map((part) => part.length),
  };
  await comm.send(0, { tag: HELLO_TAG, header: hello as unknown as Record<string, unknown> });
  const start = await comm.recv(0);
  if (start.tag === 'stop')
    throw new ShardlearnError('DATA_FORMAT', `the federated server refused this host: ${String(start.header?.['message'] ?? '?')}`);
  if (start.tag !== START_TAG) throw new ShardlearnError('COMM', `the federated server sent '${start.tag}'; expected '${START_TAG}'`);
  const { job, clients } = start.header as unknown as { job: ClientJob; clients: number[] };
  for (const module of job.modules) await import(module);
  const rows = new Map(clients.map((client, k) => [client, data.take(parts[k]!)]));
  options.log?.(
    `federated client host rank ${place.rank}: ${data.rows} rows of its own as clients ${clients.join(', ')} of the server at ${place.masterAddr}:${place.masterPort}`,
  );
  const { tasks } = await serveClients(comm, job, (client) => {
    const dataset = rows.get(client);
    if (dataset === undefined) throw new ShardlearnError('CONFIG', `client ${client} is not hosted by rank ${place.rank}`);
    return dataset;
  });
  return { clients: clients.length, tasks };
}
