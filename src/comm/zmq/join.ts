/**
 * Where a rank of the ZeroMQ transport listens, and what it says when joining the world fails.
 *
 * Rank 0 binds its router at MASTER_ADDR:MASTER_PORT, which may be a name (a Kubernetes headless
 * service) that resolves to one of its host's addresses; every other rank binds an ephemeral port on
 * the address that routes to rank 0. Every interface (0.0.0.0: behind NAT or a load balancer, where
 * MASTER_ADDR is not an address of rank 0's host) only when SHARDLEARN_HOST asks for it. Each advertises the endpoint peers should
 * connect to, which a launcher may redirect through a proxy (`advertisePort`). A join that does not
 * complete in time names who is missing and the usual causes.
 *
 * It is separate from zmq/transport.ts because this is plain set-up: it runs once, before any
 * message flows, and needs nothing of the transport but its router and options. The hello
 * handshake and rank 0's rendezvous are in zmq/hello.ts.
 *
 * @example
 * const { host, endpoint } = await listen(router, options, log); // endpoint: 'tcp://10.0.0.2:41000'
 * dealer.connect(masterEndpoint(options));
 */
import { lookup } from 'node:dns/promises';
import type * as zmq from 'zeromq';
import { CommError, NetworkError } from '../../core/errors.js';
import type { ZmqTransportOptions } from './options.js';
import { checkLocalDir, ipcEndpoint } from './local.js';
import { ALL_INTERFACES, DEFAULT_TIMEOUT_MS, defaultHost } from './options.js';

/** Where this rank listens: the host it is known by (for error messages) and the endpoint it advertises. */
export interface Listening {
  host: string;
  endpoint: string;
}

/** `tcp://host:port`, with an IPv6 host in brackets; port 0 asks for an ephemeral port. */
function tcpAddress(host: string, port: number | '*'): string {
  return `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The endpoint of rank 0's router: in the job's local folder on the local path, else MASTER_ADDR:MASTER_PORT. */
export function masterEndpoint(options: Pick<ZmqTransportOptions, 'masterAddr' | 'masterPort' | 'ipcDir'>): string {
  return options.ipcDir !== undefined ? ipcEndpoint(options.ipcDir, 0) : tcpAddress(options.masterAddr, options.masterPort);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `host`'s IPv4 address. A name that DNS says does not exist (ENOTFOUND) fails at once with a
 * NetworkError naming it and the variable it came from: waiting out the join timeout cannot make it
 * exist. A DNS server that did not answer (EAI_AGAIN) is asked again, with backoff, for `withinMs`.
 */
export async function resolveHost(host: string, variable: string, withinMs: number): Promise<string> {
  const deadline = performance.now() + withinMs;
  for (let pauseMs = 250; ; pauseMs = Math.min(2 * pauseMs, 2000)) {
    try {
      return (await lookup(host, { family: 4 })).address;
    } catch (error) {
      const osCode = (error as NodeJS.ErrnoException).code;
      const transient = osCode === 'EAI_AGAIN';
      if (transient && performance.now() + pauseMs < deadline) {
        await sleep(pauseMs);
        continue;
      }
      const why = transient
        ? `no DNS server answered within ${withinMs} ms`
        : 'no such host name (check the spelling, and that every rank can resolve it)';
      throw new NetworkError(`${variable}=${host} does not resolve to an IPv4 address: ${why} (${osCode ?? (error as Error).message})`, {
        host,
        osCode: osCode ?? 'UNKNOWN',
        recoverable: transient,
        cause: error,
      });
    }
  }
}

/** What to do about a bind that failed with `osCode`. */
function bindAdvice(osCode: string | undefined, rank: number, explicitHost: boolean): string {
  switch (osCode) {
    case 'EADDRINUSE':
      return rank === 0
        ? 'the port is taken on this host (another job, or a rank of an earlier run still alive): choose another MASTER_PORT'
        : 'the address is taken on this host';
    case 'EACCES':
      return 'ports below 1024 need privileges: choose a MASTER_PORT of 1024 or more';
    case 'EADDRNOTAVAIL':
    case 'ENODEV':
      return explicitHost
        ? 'SHARDLEARN_HOST must be an address of this host (or 0.0.0.0 for every interface)'
        : "MASTER_ADDR must be an address of rank 0's own host; behind NAT or a load balancer, set SHARDLEARN_HOST=0.0.0.0 on rank 0 to listen on every interface";
    default:
      return "is the address one of this host's, and the port free?";
  }
}

/** Bind `router` at host:port (port 0: an ephemeral one); a failure is a NetworkError naming both and the OS's answer. */
async function bind(router: zmq.Router, host: string, port: number, rank: number, explicitHost: boolean): Promise<void> {
  const address = tcpAddress(host, port === 0 ? '*' : port);
  try {
    await router.bind(address);
  } catch (error) {
    const osCode = (error as NodeJS.ErrnoException).code;
    const role = rank === 0 ? 'rank 0 (MASTER_ADDR:MASTER_PORT)' : `rank ${rank}`;
    throw new NetworkError(
      `${role} cannot listen on ${address}: ${(error as Error).message}${osCode === undefined ? '' : ` (${osCode})`}; ${bindAdvice(osCode, rank, explicitHost)}`,
      {
        host,
        ...(port === 0 ? {} : { port }),
        ...(osCode === undefined ? {} : { osCode }),
        cause: error,
      },
    );
  }
}

/**
 * Bind `router` where this rank listens (see the top of this file); reports the bound port to
 * `onListening`. MASTER_ADDR is resolved first on every rank, so a name that does not exist fails
 * the join at once rather than after its timeout.
 *
 * Rank 0 listens only on the address MASTER_ADDR resolves to (or SHARDLEARN_HOST), and a failure to
 * bind there is an error: never a silent fallback to every interface, which would open the job's port
 * on networks its operator did not choose. Every interface is used only when asked for, by
 * SHARDLEARN_HOST=0.0.0.0 (or MASTER_ADDR=0.0.0.0); a rank other than 0 listening so still advertises
 * the address that routes to rank 0.
 */
export async function listen(router: zmq.Router, options: ZmqTransportOptions, log: (line: string) => void): Promise<Listening> {
  if (options.ipcDir !== undefined) return listenLocal(router, options.ipcDir, options);
  const { rank, masterAddr, masterPort } = options;
  const masterIp = await resolveHost(masterAddr, 'MASTER_ADDR', options.joinTimeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const explicitHost = options.host !== undefined;
  const bindHost = options.host ?? (rank === 0 ? masterIp : await defaultHost(masterIp));
  if (bindHost === ALL_INTERFACES) log(`listening on all interfaces (${ALL_INTERFACES}), as asked`);
  await bind(router, bindHost, rank === 0 ? masterPort : 0, rank, explicitHost);
  const bound = router.lastEndpoint!;
  const boundPort = Number(bound.slice(bound.lastIndexOf(':') + 1));
  options.onListening?.(boundPort);
  const host = rank === 0 ? masterAddr : bindHost === ALL_INTERFACES ? await defaultHost(masterIp) : bindHost;
  const advertise = options.advertisePort;
  const port = advertise === undefined ? boundPort : await advertise(boundPort);
  return {
    host,
    endpoint: rank === 0 || bindHost !== ALL_INTERFACES ? `${bound.slice(0, bound.lastIndexOf(':') + 1)}${port}` : tcpAddress(host, port),
  };
}

/** The local path (zmq/local.ts): bind this rank's socket in the job's 0700 folder, checked first. */
async function listenLocal(router: zmq.Router, dir: string, options: ZmqTransportOptions): Promise<Listening> {
  await checkLocalDir(dir);
  const endpoint = ipcEndpoint(dir, options.rank);
  try {
    await router.bind(endpoint);
  } catch (error) {
    const osCode = (error as NodeJS.ErrnoException).code;
    throw new NetworkError(
      `rank ${options.rank} cannot listen on ${endpoint}: ${(error as Error).message}${osCode === undefined ? '' : ` (${osCode})`}; is another job using this folder?`,
      { host: LOCAL_HOST, ...(osCode === undefined ? {} : { osCode }), cause: error },
    );
  }
  options.onListening?.(0);
  return { host: LOCAL_HOST, endpoint };
}

/** How a rank on the local path is named in messages. */
export const LOCAL_HOST = 'this host (ipc)';

/**
 * The TIMEOUT of a join that took longer than `timeoutMs`. `missing`: on rank 0, the ranks that
 * have not said hello; `boundEndpoint`: rank 0's router endpoint, whose port the others must reach.
 */
export function joinTimeoutError(
  options: ZmqTransportOptions,
  timing: { timeoutMs: number; missing: number[]; boundEndpoint: string | null },
): CommError {
  const { timeoutMs: ms, missing, boundEndpoint } = timing;
  if (options.rank === 0) {
    return new CommError(
      'TIMEOUT',
      `rank${missing.length === 1 ? '' : 's'} ${missing.join(', ')} did not join within ${ms} ms (are all WORLD_SIZE=${options.size} ranks started, with the same SHARDLEARN_SECRET, and can they reach ${options.masterAddr}:${boundEndpoint?.split(':').pop()}?)`,
      missing[0] === undefined ? {} : { rank: missing[0] },
    );
  }
  return new CommError(
    'TIMEOUT',
    `rank 0 at ${options.masterAddr}:${options.masterPort} did not welcome this rank within ${ms} ms (is rank 0 running, are MASTER_ADDR/MASTER_PORT right, does every rank have the same SHARDLEARN_SECRET?)`,
    { rank: 0, host: options.masterAddr },
  );
}
