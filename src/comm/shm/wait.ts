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
 * A synchronous wait (a barrier) spins briefly before it sleeps, but only while this rank's recent
 * waits were short (`SpinPolicy`): waking a thread asleep in Atomics.wait costs tens of µs here
 * (a 51-value all-reduce between 2 threads: ~15 µs per call back to back, ~27 µs with 8 µs of work
 * between calls — SGD's per-step pattern), so a step whose peer arrives within microseconds should
 * not sleep at all. An unconditional spin is wrong when the machine is oversubscribed (3 workers on
 * 2 cores, or other jobs): a fixed 2,000-iteration spin once made that all-reduce 4× slower (128 vs
 * 30 µs, load average 10); the spinning thread holds the core the late peer needs. So the spin is
 * bounded in time and taken only while the typical wait is shorter than that bound: a peer that is
 * descheduled, or a step that is long (k-means, L-BFGS), makes waits long and the rank sleeps at once.
 *
 * Until every rank has crossed the world's start line (`allowStartUp`), a peer's start-up does not
 * count against `timeoutMs`: the wait may last the start-up allowance instead, and `timeoutMs` runs
 * from the moment the last rank is seen to have started.
 */
import { CommError } from '../../core/errors.js';
import { ABORT } from './world.js';

/** Longest single sleep; bounds how late an abort is noticed when its notify raced the wait. */
const SLICE_MS = 100;

/**
 * The spin bounds. Two threads stepping SGD on 32 rows each arrive within a few µs of each other,
 * and a wake from Atomics.wait costs ~10–40 µs here: spinning longer than 0.05 ms gains nothing.
 * The floor keeps a rank that keeps missing trying cheaply (1 µs is ~1,000 loads) so it finds out
 * when its peers become punctual again.
 */
const MAX_SPIN_MS = 0.05;
const MIN_SPIN_MS = 0.001;
/** Loads of the control word between two reads of the clock while spinning. */
const SPIN_LOADS_PER_CLOCK = 64;

/**
 * How long a synchronous wait spins before it sleeps: the budget doubles (up to `maxSpinMs`) each
 * time a spin catches the peers and halves (down to `minSpinMs`) each time it does not, as adaptive
 * mutexes do. Punctual peers (fine-grained steps, a core per rank) keep the budget at the top, so
 * such waits never sleep; late ones (coarse steps, a peer waiting for a core on an oversubscribed
 * machine) drive it to the floor, so the spinning costs ~1 µs per wait and leaves the core to them.
 */
export class SpinPolicy {
  private budgetMs: number;

  constructor(
    readonly maxSpinMs: number = MAX_SPIN_MS,
    readonly minSpinMs: number = MIN_SPIN_MS,
  ) {
    this.budgetMs = maxSpinMs;
  }

  /** How long the next wait may spin before it sleeps, ms. */
  spinMs(): number {
    return this.budgetMs;
  }

  /** Record whether the last spin saw the wait end (`caught`) or ran out and slept. */
  spun(caught: boolean): void {
    this.budgetMs = caught ? Math.min(this.maxSpinMs, this.budgetMs * 2) : Math.max(this.minSpinMs, this.budgetMs / 2);
  }
}

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
// Atomics.waitAsync is in Node ≥ 16 but only in TypeScript's ES2024 lib; this project targets ES2022.
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): WaitAsyncResult })
  .waitAsync;

/** The start line: `control[index]` counts the ranks that crossed it, `size` of them in all. */
interface StartLine {
  readonly index: number;
  readonly size: number;
  /** How long a wait may last while some rank has not crossed it. */
  readonly timeoutMs: number;
}

export class Waiter {
  private readonly spin: SpinPolicy;
  private startLine: StartLine | null = null;

  constructor(
    private readonly control: Int32Array,
    private readonly rank: number,
    private readonly timeoutMs: number,
    private readonly waitingIndex: number,
    spin: SpinPolicy = new SpinPolicy(),
  ) {
    this.spin = spin;
  }

  /**
   * From now until `control[index]` reaches `size` (every rank has crossed the start line), a wait for
   * a peer may last `timeoutMs` (the start-up allowance) rather than the collectives' timeout.
   */
  allowStartUp(index: number, size: number, timeoutMs: number): void {
    this.startLine = { index, size, timeoutMs };
  }

  /**
   * Block the thread while `control[index] === value`, spinning first while recent waits were short
   * (SpinPolicy). `culprits` names the ranks being waited for.
   */
  waitSync(index: number, value: number, what: string, culprits: () => number[]): void {
    const started = performance.now();
    Atomics.store(this.control, this.waitingIndex, 1);
    try {
      const caught = this.spinWhile(index, value, started + this.spin.spinMs());
      this.spin.spun(caught);
      if (caught) return;
      const clock = this.clock(started);
      while (Atomics.load(this.control, index) === value) {
        this.checkAbort(what);
        const remaining = clock.remaining(what, culprits);
        Atomics.wait(this.control, index, value, Math.min(remaining, SLICE_MS));
      }
    } finally {
      Atomics.store(this.control, this.waitingIndex, 0);
    }
  }

  /**
   * A wait's deadline: `timeoutMs` after it began or, when a rank had not crossed the start line yet,
   * after this wait saw the last one cross; while some rank has not, the start-up allowance after it
   * began. `remaining` throws the TIMEOUT once the deadline has passed.
   */
  private clock(started: number): { remaining(what: string, culprits: () => number[]): number } {
    let counted = started;
    let startingUp = false;
    return {
      remaining: (what, culprits) => {
        const now = performance.now();
        const line = this.startLine;
        if (line !== null && Atomics.load(this.control, line.index) < line.size) {
          const left = started + line.timeoutMs - now;
          if (left <= 0) throw this.timeout(what, culprits(), line.timeoutMs, true);
          startingUp = true;
          return Math.min(left, this.timeoutMs);
        }
        this.startLine = null;
        if (startingUp) {
          startingUp = false;
          counted = now;
        }
        const left = counted + this.timeoutMs - now;
        if (left <= 0) throw this.timeout(what, culprits(), this.timeoutMs, false);
        return left;
      },
    };
  }

  /** Re-read `control[index]` until it differs from `value` (true) or the clock passes `untilMs` (false). */
  private spinWhile(index: number, value: number, untilMs: number): boolean {
    for (;;) {
      for (let i = 0; i < SPIN_LOADS_PER_CLOCK; i++) if (Atomics.load(this.control, index) !== value) return true;
      if (performance.now() >= untilMs) return false;
    }
  }

  /** Like `waitSync`, but yields to the event loop while it waits. */
  async waitAsync(index: number, value: number, what: string, culprits: () => number[]): Promise<void> {
    const clock = this.clock(performance.now());
    Atomics.store(this.control, this.waitingIndex, 1);
    try {
      while (Atomics.load(this.control, index) === value) {
        this.checkAbort(what);
        const slice = Math.min(clock.remaining(what, culprits), SLICE_MS);
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

  private timeout(what: string, culprits: number[], waitedMs: number, startingUp: boolean): CommError {
    const peers = culprits.length === 0 ? 'a peer' : `rank${culprits.length > 1 ? 's' : ''} ${culprits.join(', ')}`;
    return new CommError(
      'TIMEOUT',
      startingUp
        ? `rank ${this.rank} waited ${waitedMs} ms in ${what} for ${peers}, and not every rank reached the start of training; ` +
            'a worker is stuck starting up or dead'
        : `rank ${this.rank} waited ${waitedMs} ms in ${what} for ${peers}, which never answered; ` +
            'that worker is stuck or dead (raise timeoutMs if one step legitimately takes longer)',
      culprits[0] === undefined ? {} : { rank: culprits[0] },
    );
  }
}
