/**
 * How the CLI fails: one line on stderr and a meaningful exit code.
 *   2 usage or configuration error · 3 bad input data or model file · 4 a worker or peer failed or
 *   timed out · 1 anything else (a bug: the stack is printed when SHARDLEARN_DEBUG=1).
 */
import { ShardlearnError } from '../core/errors.js';

export const EXIT = { ok: 0, bug: 1, usage: 2, data: 3, runtime: 4, interrupted: 130 } as const;

export function exitCodeFor(error: unknown): number {
  if (!(error instanceof ShardlearnError)) return EXIT.bug;
  switch (error.code) {
    case 'CONFIG':
    case 'REGISTRY':
      return EXIT.usage;
    case 'DATA_FORMAT':
    case 'DATA_VALUE':
    case 'DATA_MISSING':
    case 'MODEL_FORMAT':
    case 'NOT_FITTED':
    case 'NUMERIC':
      return EXIT.data;
    case 'COMM':
    case 'NETWORK':
    case 'PEER_LOST':
    case 'TIMEOUT':
    case 'WORKER_FAILED':
      return EXIT.runtime;
  }
}

export function describeFailure(error: unknown): string {
  if (error instanceof ShardlearnError) return `shardlearn: ${error.message}`;
  if (error instanceof Error) {
    return process.env['SHARDLEARN_DEBUG'] === '1' ? `shardlearn: internal error: ${error.stack ?? error.message}` : `shardlearn: internal error: ${error.message} (set SHARDLEARN_DEBUG=1 for the stack)`;
  }
  return `shardlearn: internal error: ${String(error)}`;
}
