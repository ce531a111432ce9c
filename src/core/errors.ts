/**
 * Typed errors. Every error shardlearn throws on purpose is a `ShardlearnError` with a stable
 * `code`, so callers (and the CLI) can tell bad input from a lost peer from a bug, and a message
 * that says what was expected, what was found and what to do next.
 *
 * `recoverable` follows Horovod's split: a lost peer or a timeout may succeed on retry/restart;
 * bad data or a bad config will not.
 */
export type ErrorCode =
  | 'DATA_FORMAT'
  | 'DATA_VALUE'
  | 'DATA_MISSING'
  | 'CONFIG'
  | 'NOT_FITTED'
  | 'MODEL_FORMAT'
  | 'CHECKPOINT'
  | 'REGISTRY'
  | 'COMM'
  | 'NETWORK'
  | 'PEER_LOST'
  | 'TIMEOUT'
  | 'WORKER_FAILED'
  | 'RENDEZVOUS'
  | 'NUMERIC'
  | 'FILE';

export interface ErrorOptions {
  cause?: unknown;
  recoverable?: boolean;
}

export class ShardlearnError extends Error {
  readonly code: ErrorCode;
  readonly recoverable: boolean;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.recoverable = options.recoverable ?? false;
  }
}

/** Where in an input file a problem sits. Lines and rows are 1-based, as editors show them. */
export interface DataLocation {
  file?: string | undefined;
  line?: number | undefined;
  row?: number | undefined;
  column?: string | number | undefined;
}

function describeLocation(where: DataLocation): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.file);
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.row !== undefined) parts.push(`row ${where.row}`);
  if (where.column !== undefined) parts.push(`column ${typeof where.column === 'number' ? where.column : `'${where.column}'`}`);
  return parts.join(', ');
}

/** Bad input data: the message starts with the file, line/row and column at fault. */
export class DataError extends ShardlearnError {
  readonly where: DataLocation;

  constructor(code: 'DATA_FORMAT' | 'DATA_VALUE' | 'DATA_MISSING', where: DataLocation, message: string, options: ErrorOptions = {}) {
    const location = describeLocation(where);
    super(code, location === '' ? message : `${location}: ${message}`, options);
    this.where = where;
  }
}

/** A bad option, flag or config file entry; `field` names it. */
export class ConfigError extends ShardlearnError {
  readonly field: string | undefined;

  constructor(message: string, options: ErrorOptions & { field?: string } = {}) {
    super('CONFIG', message, options);
    this.field = options.field;
  }
}

/** predict/score/save before fit. */
export class NotFittedError extends ShardlearnError {
  constructor(modelName: string) {
    super('NOT_FITTED', `This ${modelName} instance is not fitted yet. Call 'fit' with training data before using it.`);
  }
}

/** A communication failure; `rank` and `host` name the peer at fault when known. */
export class CommError extends ShardlearnError {
  readonly rank: number | undefined;
  readonly host: string | undefined;

  constructor(code: 'COMM' | 'PEER_LOST' | 'TIMEOUT', message: string, options: ErrorOptions & { rank?: number; host?: string } = {}) {
    super(code, message, { ...options, recoverable: options.recoverable ?? code !== 'COMM' });
    this.rank = options.rank;
    this.host = options.host;
  }
}

/**
 * The network this rank was configured with cannot be used: a host name that does not resolve, an
 * address this host cannot listen on, a port already taken. `host` (and `port` when one is involved)
 * name what was asked for, `osCode` what the operating system answered (ENOTFOUND, EADDRINUSE, ...).
 * Unlike a CommError no peer is at fault: the fix is in MASTER_ADDR, MASTER_PORT, SHARDLEARN_HOST or
 * the host's network, so it is not recoverable by a retry, except a DNS server that did not answer.
 */
export class NetworkError extends ShardlearnError {
  readonly host: string;
  readonly port: number | undefined;
  readonly osCode: string | undefined;

  constructor(message: string, options: ErrorOptions & { host: string; port?: number; osCode?: string }) {
    super('NETWORK', message, options);
    this.host = options.host;
    this.port = options.port;
    this.osCode = options.osCode;
  }
}

/**
 * The rendezvous store (etcd) could not be used or did not agree on a world in time: `endpoint` names
 * the store, `operation` what was asked of it (kv/range, lease/keepalive, the join itself). Recoverable
 * (a store that restarts, members that arrive late) unless the store answered that the request is bad.
 */
export class RendezvousError extends ShardlearnError {
  readonly endpoint: string;
  readonly operation: string;

  constructor(message: string, options: ErrorOptions & { endpoint: string; operation: string }) {
    super('RENDEZVOUS', message, { ...options, recoverable: options.recoverable ?? true });
    this.endpoint = options.endpoint;
    this.operation = options.operation;
  }
}

/** A worker's own error, carried to the caller with the rank it happened on. */
export class WorkerError extends ShardlearnError {
  readonly rank: number;

  constructor(rank: number, message: string, options: ErrorOptions = {}) {
    super('WORKER_FAILED', `worker rank ${rank} failed: ${message}`, options);
    this.rank = rank;
  }
}

/** What the operating system's error codes mean, for a FileError's message. */
const FILE_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a folder, expected a file',
  ENOTDIR: 'a part of the path is not a folder',
  ENOENT: 'no such file or folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EEXIST: 'it already exists',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EBUSY: 'the file is busy',
};

/** What was being done to the file: `access` when the caller cannot tell (an open of either kind). */
export type FileOperation = 'read' | 'write' | 'access';

/**
 * A file or folder could not be read or written (permission, missing folder, a folder where a file
 * was expected, disk full): `path` names it, `systemCode` is the OS's code (EACCES, ENOSPC, …).
 */
export class FileError extends ShardlearnError {
  readonly path: string;
  readonly systemCode: string;

  constructor(path: string, systemCode: string, operation: FileOperation, detail?: string, options: ErrorOptions = {}) {
    super('FILE', `cannot ${operation} '${path}': ${detail ?? FILE_REASONS[systemCode] ?? systemCode}`, options);
    this.path = path;
    this.systemCode = systemCode;
  }

  /** `error` as a FileError about `path` when it is a file-system error (else unchanged). */
  static from(error: unknown, path: string, operation: FileOperation): unknown {
    if (error instanceof ShardlearnError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !Object.hasOwn(FILE_REASONS, code)) return error;
    return new FileError(path, code, operation, undefined, { cause: error });
  }
}

/** Closes every switch over a union: the compiler proves this is never reached. */
export function assertUnreachable(value: never, what = 'value'): never {
  throw new ShardlearnError('CONFIG', `unexpected ${what}: ${String(value)}`);
}
