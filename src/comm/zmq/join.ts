/**
 * Where a rank of the ZeroMQ transport listens, and what it says when joining the world fails.
 *
 * Rank 0 binds its router at MASTER_ADDR:MASTER_PORT, which may be a name (a Kubernetes headless
 * service) or an address that is not this host's (NAT, a load balancer); every other rank binds an
 * ephemeral port on the address that routes to rank 0. Each advertises the endpoint peers should
 * connect to, which a launcher may redirect through a proxy (`advertisePort`). A join that does not
 * complete in time names who is missing and the usual causes.
 *
 * It is separate from zmq/transport.ts because this is plain set-up: it runs once, before any
 * message flows, and needs nothing of the transport but its router and options. The hello
 * handshake and rank 0's rendezvous are in zmq/hello.ts.
 *
 * @example
 * const { host, endpoint } = await listen(router, options, log); // endpoint: 'tcp://10.0.0.2:41000'
 * dealer.connect(masterEndpoint(options.masterAddr, options.masterPort));
 */
import { lookup } from 'node:dns/promises';
import type * as zmq from 'zeromq';
import { CommError } from '../../core/errors.js';
import type { ZmqTransportOptions } from './options.js';
import { defaultHost } from './options.js';

/** Where this rank listens: the host it is known by (for error messages) and the endpoint it advertises. */
export interface Listening {
  host: string;
  endpoint: string;
}

/** `tcp://host:port`, with an IPv6 host in brackets; port 0 asks for an ephemeral port. */
function tcpAddress(host: string, port: number | '*'): string {
  return `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The endpoint of rank 0's router. */
export function masterEndpoint(masterAddr: string, masterPort: number): string {
  return tcpAddress(masterAddr, masterPort);
}

async function bind(router: zmq.Router, host: string, port: number): Promise<void> {
  const address = tcpAddress(host, port === 0 ? '*' : port);
  try {
    await router.bind(address);
  } catch (error) {
    throw new CommError('COMM', `cannot listen on ${address}: ${(error as Error).message} (is the port in use, or the address not one of this host's?)`, { cause: error });
  }
}

/** Bind `router` where this rank listens (see the top of this file); reports the bound port to `onListening`. */
export async function listen(router: zmq.Router, options: ZmqTransportOptions, log: (line: string) => void): Promise<Listening> {
  const { rank, masterAddr, masterPort } = options;
  let host: string;
  if (rank === 0) {
    // MASTER_ADDR may be a name (a Kubernetes headless service): listen on what it resolves to,
    // or on every interface when that is not an address of this host (NAT, a load balancer).
    host = options.host ?? (await lookup(masterAddr, { family: 4 })).address;
    try {
      await bind(router, host, masterPort);
    } catch (error) {
      if (options.host !== undefined) throw error;
      log(`MASTER_ADDR ${masterAddr} (${host}) is not an address of this host; listening on all interfaces, port ${masterPort}`);
      await bind(router, '0.0.0.0', masterPort);
    }
    host = masterAddr;
  } else {
    host = options.host ?? (await defaultHost(masterAddr));
    await bind(router, host, 0);
  }
  const bound = router.lastEndpoint!;
  const boundPort = Number(bound.slice(bound.lastIndexOf(':') + 1));
  options.onListening?.(boundPort);
  const advertise = options.advertisePort;
  const endpoint = advertise === undefined ? bound : `${bound.slice(0, bound.lastIndexOf(':') + 1)}${await advertise(boundPort)}`;
  return { host, endpoint };
}

/**
 * The TIMEOUT of a join that took longer than `timeoutMs`. `missing`: on rank 0, the ranks that
 * have not said hello; `boundEndpoint`: rank 0's router endpoint, whose port the others must reach.
 */
export function joinTimeoutError(options: ZmqTransportOptions, timing: { timeoutMs: number; missing: number[]; boundEndpoint: string | null }): CommError {
  const { timeoutMs: ms, missing, boundEndpoint } = timing;
  if (options.rank === 0) {
    return new CommError('TIMEOUT', `rank${missing.length === 1 ? '' : 's'} ${missing.join(', ')} did not join within ${ms} ms (are all WORLD_SIZE=${options.size} ranks started, with the same SHARDLEARN_SECRET, and can they reach ${options.masterAddr}:${boundEndpoint?.split(':').pop()}?)`, missing[0] === undefined ? {} : { rank: missing[0] });
  }
  return new CommError('TIMEOUT', `rank 0 at ${options.masterAddr}:${options.masterPort} did not welcome this rank within ${ms} ms (is rank 0 running, are MASTER_ADDR/MASTER_PORT right, does every rank have the same SHARDLEARN_SECRET?)`, { rank: 0, host: options.masterAddr });
}
