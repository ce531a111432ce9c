/**
 * The world of one: the `sequential` paradigm's communicator. Collectives are identities (a reduction
 * over one rank is the buffer itself), so sequential training runs the very same SPMD code with no
 * transport at all. Point-to-point has no peer and says so.
 */
import { CommError } from '../core/errors.js';
import type { Communicator, CommStats, Message, ReduceOp } from './communicator.js';
import { emptyStats } from './communicator.js';
import type { FloatArray } from '../core/storage.js';

export class LocalCommunicator implements Communicator {
  readonly rank = 0;
  readonly size = 1;
  readonly stats: CommStats = emptyStats();

  allReduce(_buffer: FloatArray, _op: ReduceOp = 'sum'): Promise<void> {
    this.stats.collectives++;
    return Promise.resolve();
  }

  broadcast(_buffer: FloatArray, root: number): Promise<void> {
    if (root !== 0) return Promise.reject(new CommError('COMM', `broadcast root ${root} does not exist in a world of size 1`));
    this.stats.collectives++;
    return Promise.resolve();
  }

  send(to: number, _message: Message): Promise<void> {
    return Promise.reject(new CommError('COMM', `send to rank ${to}: a world of size 1 has no peers`));
  }

  recv(from?: number): Promise<Message & { from: number }> {
    return Promise.reject(new CommError('COMM', `recv from ${from ?? 'any rank'}: a world of size 1 has no peers`));
  }

  barrier(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
