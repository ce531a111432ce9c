/**
 * Every blocking wait of the shared-memory communicator goes through here: it sleeps on an Int32
 * control word with `Atomics.wait` (collectives: the thread has nothing else to do) or
 * `Atomics.waitAsync` (point-to-point: the thread's event loop keeps running, so an asynchronous
 * strategy can serve requests while it waits), in short slices, so that
 *
 * - an aborted run (another worker failed; the launcher set the abort flag) is noticed within one
 *   slice even if a notify was missed, and
 * - a peer that never comes is reported after `timeoutMs` as a `CommError('TIMEOUT')` naming it,
 *   instead of hanging the whole run.
 *
 * No spinning before sleeping: the machine is usually oversubscribed (3 workers on 2 cores, or
 * other jobs), and a 2,000-iteration spin made a 51-value all-reduce 4× slower here (128 vs 30 µs
 * per call, 2 workers, load average 10 on 2 cores).
 */
import { CommError } from '../../core/errors.js';
import { ABORT } from './world.js';

/** Longest single sleep; bounds how late an abort is noticed when its notify raced the wait. */
const SLICE_MS = 100;

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
// Atomics.waitAsync is in Node ≥ 16 but only in TypeScript's ES2024 lib; this project targets ES2022.
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): WaitAsyncResult })
  .waitAsync;

export class Waiter {
  constructor(
    private readonly control: Int32Array,
    private readonly rank: number,
    private readonly timeoutMs: number,
    private readonly waitingIndex: number,
  ) {}

  /** Block the thread while `control[index] === value`. `culprits` names the ranks being waited for. */
  waitSync(index: number, value: number, what: string, culprits: () => number[]): void {
    const deadline = performance.now() + this.timeoutMs;
    Atomics.store(this.control, this.waitingIndex, 1);
    try {
      while (Atomics.load(this.control, index) === value) {
        this.checkAbort(what);
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw this.timeout(what, culprits());
        Atomics.wait(this.control, index, value, Math.min(remaining, SLICE_MS));
      }
    } finally {
      Atomics.store(this.control, this.waitingIndex, 0);
    }
  }

  /** Like `waitSync`, but yields to the event loop while it waits. */
  async waitAsync(index: number, value: number, what: string, culprits: () => number[]): Promise<void> {
    const deadline = performance.now() + this.timeoutMs;
    Atomics.store(this.control, this.waitingIndex, 1);
    try {
      while (Atomics.load(this.control, index) === value) {
        this.checkAbort(what);
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw this.timeout(what, culprits());
        const slice = Math.min(remaining, SLICE_MS);
        const result = waitAsync(this.control, index, value, slice);
        if (result.async) {
          // In Node 20 a pending Atomics.waitAsync does not keep the event loop alive: a worker thread
          // whose only pending work is this wait would exit mid-recv (seen as exit code 0 of a pipeline
          // stage). A referenced timer for the slice keeps the thread alive while it waits.
          const keepAlive = setTimeout(() => undefined, slice + 10);
          try {
            await result.value;
          } finally {
            clearTimeout(keepAlive);
          }
        }
      }
    } finally {
      Atomics.store(this.control, this.waitingIndex, 0);
    }
  }

  checkAbort(what: string): void {
    if (Atomics.load(this.control, ABORT) !== 0) {
      throw new CommError(
        'PEER_LOST',
        `rank ${this.rank}: the run was aborted during ${what} (another worker failed or the launcher gave up)`,
      );
    }
  }

  private timeout(what: string, culprits: number[]): CommError {
    const peers = culprits.length === 0 ? 'a peer' : `rank${culprits.length > 1 ? 's' : ''} ${culprits.join(', ')}`;
    return new CommError(
      'TIMEOUT',
      `rank ${this.rank} waited ${this.timeoutMs} ms in ${what} for ${peers}, which never answered; ` +
        'that worker is stuck or dead (raise timeoutMs if one step legitimately takes longer)',
      culprits[0] === undefined ? {} : { rank: culprits[0] },
    );
  }
}
