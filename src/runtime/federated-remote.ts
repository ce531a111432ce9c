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
 * Why the server sends the rows: this paradigm simulates a federation by partitioning one dataset
 * (iid, Dirichlet, shards), and the partition needs every row's label. A deployment whose clients own
 * their data would load it on the host instead; only the partition's row indices would then travel.
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
import type { ClientJob } from './federated-client.js';
import type { ServerAudit } from './federated-hosts.js';
import { serverCodec, WorldHosts } from './federated-hosts.js';
import { serveClients } from './federated-serve.js';
import type { Rendezvous } from './rendezvous.js';

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

/** Join as rank 0 over TCP with CURVE, wait for the H client hosts, and send each its job and its clients' rows. */
export async function startRemoteHosts(
  job: ClientJob,
  data: Dataset,
  parts: readonly Uint32Array[],
  place: Rendezvous,
  timeoutMs: number,
  audit: ServerAudit = () => undefined,
): Promise<WorldHosts> {
  if (place.rank !== 0)
    throw new ConfigError(
      `this process is rank ${place.rank}: the federated server is rank 0; a client host runs 'shardlearn federated-client' (RANK ≥ 1)`,
      { field: 'RANK' },
    );
  const hosts = place.worldSize - 1;
  if (hosts < 1)
    throw new ConfigError(`--clients-on hosts needs WORLD_SIZE ≥ 2 (the server and at least one client host), found ${place.worldSize}`, {
      field: 'WORLD_SIZE',
    });
  const comm = await ZmqCommunicator.join({
    rank: 0,
    size: place.worldSize,
    masterAddr: place.masterAddr,
    masterPort: place.masterPort,
    host: place.host,
    secret: readSecret(),
    jobId: place.jobId,
    generation: place.generation,
    timeoutMs,
  });
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
  return new WorldHosts(comm, hosts, () => Promise.resolve(), serverCodec(job), audit);
}

/**
 * A client host: join the server's world at `place` (RANK ≥ 1) over TCP with CURVE, receive the job
 * and the rows of the clients it hosts, and serve until the server stops it.
 */
export async function serveRemoteClientHost(
  place: Rendezvous,
  options: { timeoutMs: number; log?: (line: string) => void },
): Promise<{ clients: number; tasks: number }> {
  if (place.rank === 0)
    throw new ConfigError('a federated client host is rank ≥ 1; rank 0 is the server (shardlearn train … --clients-on hosts)', {
      field: 'RANK',
    });
  const comm = await ZmqCommunicator.join({
    rank: place.rank,
    size: place.worldSize,
    masterAddr: place.masterAddr,
    masterPort: place.masterPort,
    host: place.host,
    secret: readSecret(),
    jobId: place.jobId,
    generation: place.generation,
    timeoutMs: options.timeoutMs,
  });
  try {
    const start = await comm.recv(0);
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
