/**
 * How the CLI fails: one line on stderr and a meaningful exit code.
 *   2 usage or configuration error · 3 bad input data or model file · 4 a worker or peer failed or
 *   timed out, a host could not be reached or resolved, or the rendezvous (etcd) failed · 5 a file or folder could not be read or
 *   written (permission, missing folder, a folder given for a file, disk full; the path is named) ·
 *   1 anything else (a bug: the stack is printed when SHARDLEARN_DEBUG=1) · 130 interrupted.
 */
import { CommError, FileError, ShardlearnError } from '../core/errors.js';

export const EXIT = { ok: 0, bug: 1, usage: 2, data: 3, runtime: 4, file: 5, interrupted: 130 } as const;

/** Node's own errors that carry an OS code: fs errors name `path`, DNS errors `hostname`. */
interface SystemError extends Error {
  code: string;
  path?: string;
  dest?: string;
  syscall?: string;
  hostname?: string;
}

/** System calls whose failure says which way the file was used (an `open` can be either). */
const READS = new Set(['read', 'scandir', 'readlink']);
const WRITES = new Set(['write', 'rename', 'mkdir', 'unlink', 'rmdir', 'fsync', 'symlink', 'link', 'copyfile', 'chmod', 'ftruncate']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL', 'EADDRINUSE']);

function systemError(error: unknown): SystemError | null {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' ? (error as SystemError) : null;
}

/**
 * A file-system error the code did not wrap (reading a model file, writing into a missing folder) as
 * a FileError naming the path; a DNS or socket error as a CommError naming the host.
 */
function typed(error: unknown): unknown {
  const system = systemError(error);
  if (system === null) return error;
  const operation = READS.has(system.syscall ?? '') ? 'read' : WRITES.has(system.syscall ?? '') ? 'write' : 'access';
  if (typeof system.path === 'string')
    return FileError.from(error, system.syscall === 'rename' && system.dest !== undefined ? system.dest : system.path, operation);
  // Some fs errors carry no path (reading a folder: EISDIR from read(2)); still a file-system error.
  if (FileError.from(error, '', operation) instanceof FileError)
    return new ShardlearnError('FILE', `file-system error: ${system.message}`, { cause: error });
  if (DNS_CODES.has(system.code)) {
    const host = system.hostname ?? 'the host';
    return new CommError('COMM', `cannot resolve host '${host}' (${system.code}): check MASTER_ADDR / SHARDLEARN_HOST and the DNS`, {
      host,
      cause: error,
    });
  }
  if (NETWORK_CODES.has(system.code)) return new CommError('COMM', `network error: ${system.message}`, { cause: error });
  return error;
}

export function exitCodeFor(error: unknown): number {
  const known = typed(error);
  if (!(known instanceof ShardlearnError)) return EXIT.bug;
  switch (known.code) {
    case 'CONFIG':
    case 'REGISTRY':
      return EXIT.usage;
    case 'DATA_FORMAT':
    case 'DATA_VALUE':
    case 'DATA_MISSING':
    case 'MODEL_FORMAT':
    case 'CHECKPOINT':
    case 'NOT_FITTED':
    case 'NUMERIC':
      return EXIT.data;
    case 'COMM':
    case 'NETWORK':
    case 'PEER_LOST':
    case 'TIMEOUT':
    case 'WORKER_FAILED':
    case 'RENDEZVOUS':
      return EXIT.runtime;
    case 'FILE':
      return EXIT.file;
  }
}

export function describeFailure(error: unknown): string {
  const known = typed(error);
  if (known instanceof ShardlearnError) {
    // A network error (CommError, or a NetworkError about MASTER_ADDR / SHARDLEARN_HOST) that knows
    // its host but does not say it: say it.
    const where = (known as { host?: unknown }).host;
    const host = typeof where === 'string' && where !== '' && !known.message.includes(where) ? ` (host ${where})` : '';
    return `shardlearn: ${known.message}${host}`;
  }
  if (known instanceof Error) {
    return process.env['SHARDLEARN_DEBUG'] === '1'
      ? `shardlearn: internal error: ${known.stack ?? known.message}`
      : `shardlearn: internal error: ${known.message} (set SHARDLEARN_DEBUG=1 for the stack)`;
  }
  return `shardlearn: internal error: ${String(known)}`;
}
