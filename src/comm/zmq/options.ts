/**
 * The settings of the ZeroMQ transport (zmq/transport.ts): the options a rank joins with, their
 * defaults, the message-size cap from SHARDLEARN_MAX_MESSAGE_BYTES, and the address a rank binds.
 *
 * @example
 * const options: ZmqTransportOptions = { rank: 1, size: 2, masterAddr: '10.0.0.1', masterPort: 29500, secret, jobId: 'job-1', timeoutMs: 30_000 };
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { CommError, NetworkError } from '../../core/errors.js';

export interface ZmqTransportOptions {
  rank: number;
  size: number;
  /** Rank 0's address (it binds there) and port; port 0 lets rank 0 pick one (reported by `onListening`). */
  masterAddr: string;
  masterPort: number;
  /**
   * Address this rank binds and advertises. Default: rank 0 the address MASTER_ADDR resolves to; the
   * others 127.0.0.1 when the master is on loopback, else the local address that routes to it.
   * ALL_INTERFACES (0.0.0.0) listens on every interface; a rank other than 0 then still advertises
   * the address that routes to rank 0.
   */
  host?: string | undefined;
  /**
   * The local path (zmq/local.ts): every rank of the job runs on this host and binds an ipc:// socket
   * in this folder (mode 0700, owned by this user; checked before binding), with the NULL mechanism
   * instead of CURVE; `masterAddr`/`masterPort`/`host` are then unused. Default: TCP with CURVE.
   */
  ipcDir?: string | undefined;
  /**
   * TCP without CURVE (NULL mechanism): nothing encrypted, the hello's proof of the job secret the
   * only check (zmq/local.ts). For isolated networks only; `cluster` takes it only when asked for by
   * name (`--insecure-transport`, FitOptions.insecureTransport). Every rank of a job must agree.
   */
  insecure?: boolean | undefined;
  /**
   * Start this rank's collective lane between hosts (zmq/lane.ts) on `host`, the address the router
   * has just bound, and resolve with its TCP port, advertised in the join beside the endpoint
   * (ZmqCommunicator sets it). Every rank of a job must have a lane, or none.
   */
  laneListen?: ((host: string) => Promise<number>) | undefined;
  /** The per-job secret every rank holds (see zmq/security.ts). */
  secret: Uint8Array;
  jobId: string;
  /** Incremented on every restart of a job, so peers of an earlier attempt are refused. */
  generation?: number;
  /** Longest wait for any one message. Default 120 s. */
  timeoutMs?: number;
  /** Longest wait to join the world. Default `timeoutMs`. */
  joinTimeoutMs?: number;
  /** A connection silent this long (no ZMTP heartbeat answered) is dropped. Default 10 s. */
  peerTimeoutMs?: number;
  /**
   * A connection that has not completed its security handshake after this long is closed (garbage,
   * slowloris, idle connections). Default: rank 0 RENDEZVOUS_HANDSHAKE_TIMEOUT_MS, the others
   * HANDSHAKE_TIMEOUT_MS (see handshakeTimeoutFor).
   */
  handshakeTimeoutMs?: number;
  /** Largest frame the sockets accept; larger ones drop the connection before allocation. Default SHARDLEARN_MAX_MESSAGE_BYTES, else 64 MiB. */
  maxMessageBytes?: number;
  onListening?: (port: number) => void;
  /**
   * Given the port this rank bound, the port peers should connect to instead (e.g. a proxy in front
   * of it that the launcher started). Default: the bound port. Rank 0's answer matters only to a
   * launcher that hands it to the others as `masterPort`.
   */
  advertisePort?: (port: number) => Promise<number>;
  /** Where refusals and drops are reported. Default: stderr, prefixed with the rank. */
  log?: (line: string) => void;
  /**
   * Called once per peer this transport finds lost (its connection dropped without a goodbye): the
   * elastic runtime (runtime/elastic.ts) then abandons the generation at once, whatever it waits on.
   */
  onPeerLost?: (rank: number, reason: string) => void;
  /**
   * A synchronous collective that has waited this long for one peer logs a warning naming it (a
   * straggler; Horovod warns at 60 s). 0 turns the warning off. Default STRAGGLER_WARNING_MS.
   */
  stragglerWarningMs?: number;
}

/** When a collective's wait on one peer is reported as a straggler, by default (Horovod's stall check: 60 s). */
export const STRAGGLER_WARNING_MS = 60_000;

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
export { DEFAULT_TIMEOUT_MS } from '../communicator.js';
export const HEARTBEAT_INTERVAL_MS = 1000;
/** Listen on every interface: only when asked for, through `host` (SHARDLEARN_HOST) or MASTER_ADDR. */
export const ALL_INTERFACES = '0.0.0.0';
/** Handshake limit of a rank's router other than rank 0's: see handshakeTimeoutFor. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Handshake limit of rank 0's router, the well-known MASTER_PORT: see handshakeTimeoutFor. */
export const RENDEZVOUS_HANDSHAKE_TIMEOUT_MS = 3000;

/**
 * How long a connection to `rank`'s router may take to complete its CURVE handshake before libzmq
 * closes it (ZMQ_HANDSHAKE_IVL). This is what caps the connections pending a handshake: libzmq has no
 * limit on their number, and each holds a file descriptor. A flood of idle TCP connections that
 * exhausts the process's descriptors (RLIMIT_NOFILE; Node raises its soft limit to the hard one, so
 * that many connections: 20 000 on this machine, 1024 to 4096 on some hosts) leaves a real rank's connection unaccepted in
 * the listen backlog until the idle ones time out: with rank 0 under `ulimit -n 256` and 300 idle
 * connections opened 1 s before, a join took 9.0 s at the old 10 s, 2.0 s at 3 s (the case of
 * test/comm/zmq-join.test.ts). Rank 0 waits 3 s instead: its router, on the
 * well-known MASTER_PORT, takes connections only during the rendezvous, while its event loop is free to
 * answer the ZAP request (zmq/security.ts) at once, and a real CURVE handshake is three round trips:
 * under 3 s up to ~500 ms of one-way latency. The other ranks' routers keep 10 s: their peers
 * connect after the welcome, when they may already be computing and the ZAP answer waits for their
 * event loop.
 */
export function handshakeTimeoutFor(options: Pick<ZmqTransportOptions, 'rank' | 'handshakeTimeoutMs'>): number {
  return options.handshakeTimeoutMs ?? (options.rank === 0 ? RENDEZVOUS_HANDSHAKE_TIMEOUT_MS : HANDSHAKE_TIMEOUT_MS);
}
/** Log at most this many drops per unidentified connection, so a flood of garbage cannot flood the log. */
export const MAX_LOGGED_DROPS = 5;

/** SHARDLEARN_MAX_MESSAGE_BYTES, when set to a whole number of bytes (it must be the same on every rank). */
export function maxMessageBytesFromEnv(): number | undefined {
  const text = process.env['SHARDLEARN_MAX_MESSAGE_BYTES'];
  if (text === undefined || text === '') return undefined;
  const bytes = Number(text);
  if (!Number.isSafeInteger(bytes) || bytes < 1024)
    throw new CommError('COMM', `SHARDLEARN_MAX_MESSAGE_BYTES=${text}: expected a whole number of bytes ≥ 1024`);
  return bytes;
}

const isLoopback = (address: string): boolean => address === 'localhost' || address.startsWith('127.') || address === '::1';

/** The local address the kernel would use to reach `address` (a UDP connect sends no packet). */
async function localAddressToward(address: string): Promise<string> {
  const { address: resolved } = await lookup(address, { family: 4 });
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(9, resolved, resolve);
    });
    return socket.address().address;
  } catch (error) {
    const osCode = (error as NodeJS.ErrnoException).code;
    throw new NetworkError(
      `this host has no route to MASTER_ADDR=${address} (${resolved}): ${(error as Error).message}; check MASTER_ADDR and this host's network, or set SHARDLEARN_HOST to the address to listen on`,
      { host: address, ...(osCode === undefined ? {} : { osCode }), cause: error },
    );
  } finally {
    socket.close();
  }
}

/** The address a rank other than 0 binds and advertises when `host` is not set: 127.0.0.1 toward a loopback master, else the local address that routes to it. */
export async function defaultHost(masterAddr: string): Promise<string> {
  return isLoopback(masterAddr) ? '127.0.0.1' : localAddressToward(masterAddr);
}
