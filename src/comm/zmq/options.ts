/**
 * The settings of the ZeroMQ transport (zmq/transport.ts): the options a rank joins with, their
 * defaults, the message-size cap from SHARDLEARN_MAX_MESSAGE_BYTES, and the address a rank binds.
 *
 * @example
 * const options: ZmqTransportOptions = { rank: 1, size: 2, masterAddr: '10.0.0.1', masterPort: 29500, secret, jobId: 'job-1', timeoutMs: 30_000 };
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { CommError } from '../../core/errors.js';

export interface ZmqTransportOptions {
  rank: number;
  size: number;
  /** Rank 0's address (it binds there) and port; port 0 lets rank 0 pick one (reported by `onListening`). */
  masterAddr: string;
  masterPort: number;
  /** Address this rank binds and advertises. Default: 127.0.0.1 when the master is on loopback, else the local address that routes to it. */
  host?: string | undefined;
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
  /** A connection that has not completed its security handshake after this long is closed (garbage, slowloris). Default 10 s. */
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
}

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
export { DEFAULT_TIMEOUT_MS } from '../communicator.js';
export const HEARTBEAT_INTERVAL_MS = 1000;
/** Log at most this many drops per unidentified connection, so a flood of garbage cannot flood the log. */
export const MAX_LOGGED_DROPS = 5;

/** SHARDLEARN_MAX_MESSAGE_BYTES, when set to a whole number of bytes (it must be the same on every rank). */
export function maxMessageBytesFromEnv(): number | undefined {
  const text = process.env['SHARDLEARN_MAX_MESSAGE_BYTES'];
  if (text === undefined || text === '') return undefined;
  const bytes = Number(text);
  if (!Number.isSafeInteger(bytes) || bytes < 1024) throw new CommError('COMM', `SHARDLEARN_MAX_MESSAGE_BYTES=${text}: expected a whole number of bytes ≥ 1024`);
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
  } finally {
    socket.close();
  }
}

/** The address a rank other than 0 binds and advertises when `host` is not set: 127.0.0.1 toward a loopback master, else the local address that routes to it. */
export async function defaultHost(masterAddr: string): Promise<string> {
  return isLoopback(masterAddr) ? '127.0.0.1' : localAddressToward(masterAddr);
}
