/**
 * The timeouts and straggler warnings of many waits, kept by one timer (the collective lane's,
 * zmq/lane.ts). Arming a timer per wait — as the lane did, two of them (its timeout and the
 * straggler warning, zmq/straggler.ts) — costs more than the wait itself at the rate of an SGD step:
 * each setTimeout/clearTimeout pair of a 120 s timer creates and removes Node's timer list for that
 * duration and re-schedules libuv's timer, ~15% of a rank's CPU in a profile of back-to-back 21-value
 * all-reduces (bench/step-allreduce.ts). Here a wait only notes when it began; the one timer is
 * armed for the earliest warning or timeout still pending and, when it fires, fails the waits that
 * are past their timeout, warns once for those past the warning delay, and re-arms for the next. A
 * wait of a few µs never meets the timer; every wait still has its timeout.
 *
 * The timer is unref()ed: a rank waiting on a peer is kept alive by the peer's open connection,
 * and a process with nothing else left should not wait out a 2-minute timer to exit.
 *
 * @example
 * const deadlines = new Deadlines<Waiter>({ timeoutMs: 120_000, warnMs: 60_000, timedOut: (w) => w.reject(…), warn: (w, ms) => log(…) });
 * const wait: Waiter = { startedMs: performance.now(), warned: false, reject };
 * deadlines.add(wait);
 * // … the frame arrived:
 * deadlines.remove(wait);
 */

/** One wait: when it began. */
export interface TimedWait {
  /** `performance.now()` when the wait began. */
  readonly startedMs: number;
  /** Set by Deadlines once `warn` was called for this wait. */
  warned: boolean;
}

export interface DeadlineOptions<W extends TimedWait> {
  timeoutMs: number;
  /** Warning delay; 0, or ≥ timeoutMs, turns warnings off (as zmq/straggler.ts). */
  warnMs: number;
  /** `wait` passed its timeout: fail it (it is no longer watched). */
  timedOut(wait: W): void;
  /** `wait` passed the warning delay (once per wait). */
  warn(wait: W, waitedMs: number): void;
}

export class Deadlines<W extends TimedWait> {
  /** Pending waits, in the order they began. */
  private readonly waits = new Set<W>();
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer is due (performance.now() time); Infinity when none is armed. */
  private dueMs = Infinity;
  private readonly warnMs: number;

  constructor(private readonly options: DeadlineOptions<W>) {
    this.warnMs = options.warnMs > 0 && options.warnMs < options.timeoutMs ? options.warnMs : 0;
  }

  /** Watch `wait` from its `startedMs` on. */
  add(wait: W): void {
    this.waits.add(wait);
    const due = wait.startedMs + (this.warnMs > 0 ? this.warnMs : this.options.timeoutMs);
    if (due < this.dueMs) this.arm(due);
  }

  /** Stop watching `wait` (it ended). The timer stays armed: it finds nothing to do, or the next wait. */
  remove(wait: W): void {
    this.waits.delete(wait);
  }

  /** Stop watching every wait and disarm (the lane closed or was aborted; its waits were failed by it). */
  clear(): void {
    this.waits.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.dueMs = Infinity;
  }

  private arm(dueMs: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.dueMs = dueMs;
    this.timer = setTimeout(() => this.fire(), Math.max(0, dueMs - performance.now()));
    this.timer.unref();
  }

  private fire(): void {
    const now = performance.now();
    // Fired far past its time: this process itself was frozen (SIGSTOP, swapped out), not the peer,
    // whose message may be waiting to be read; warn only after another delay (as zmq/straggler.ts).
    const frozen = this.warnMs > 0 && now - this.dueMs > this.warnMs;
    this.timer = null;
    this.dueMs = Infinity;
    let next = Infinity;
    for (const wait of this.waits) {
      const waited = now - wait.startedMs;
      if (waited >= this.options.timeoutMs) {
        this.waits.delete(wait);
        this.options.timedOut(wait);
        continue;
      }
      if (this.warnMs > 0 && !wait.warned) {
        if (waited >= this.warnMs && !frozen) {
          wait.warned = true;
          this.options.warn(wait, waited);
        } else {
          next = Math.min(next, frozen ? now + this.warnMs : wait.startedMs + this.warnMs);
        }
      }
      next = Math.min(next, wait.startedMs + this.options.timeoutMs);
    }
    if (next < Infinity) this.arm(next);
  }
}
