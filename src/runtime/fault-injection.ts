/**
 * Fault injection (FitOptions.inject): the launcher that started the ranks' processes sends one of
 * them a signal at a seeded point of the run, so a comparison can measure what a lost (SIGKILL) or
 * frozen (SIGSTOP) rank costs. It lives in the launcher, not in a test or in compare, because only
 * the launcher holds both things the injection needs: every rank's pid, and rank 0's progress as it
 * happens. The point is a fraction of rank 0's planned iterations (epochs for SGD), not seconds:
 * under load a run's start-up and pace vary by seconds, and a fraction keeps the fault mid-run.
 *
 * A SIGSTOPped rank gets SIGCONT after `holdMs`, or at the latest when the run ends (`release`,
 * called before the launcher reaps its children: a stopped process does not act on SIGTERM, so a
 * reap without it would wait for the SIGKILL grace period), or when this process exits.
 *
 * @example
 * const plan = planFault({ signal: 'SIGKILL', seed: 7 }, 3);   // the same seed, the same rank and point
 * const injector = new FaultInjector(plan, (rank) => children[rank]?.pid);
 * onProgress = (event) => injector.observe(event);
 * try { ... } finally { injector.release(); }
 */
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { FaultInjection, InjectedFault, Paradigm } from '../models/paradigm.js';

/** Where the seeded point falls: mid-run, so the fault has work before it to lose and after it to finish. */
export const FAULT_WINDOW = { from: 0.25, to: 0.75 } as const;
/** How long a SIGSTOPped rank stays stopped, by default. */
export const DEFAULT_HOLD_MS = 2000;

/** An injection with every choice made. */
export interface FaultPlan {
  signal: 'SIGKILL' | 'SIGSTOP';
  rank: number;
  atFraction: number;
  holdMs: number;
}

/**
 * The fault to inject into a world of `workers` ranks: the rank and the point `injection` leaves open
 * drawn from its seed (so the same seed gives the same victim and the same point), the rest checked.
 */
export function planFault(injection: FaultInjection, workers: number): FaultPlan {
  const { signal, rank, atFraction, seed = 0, holdMs = DEFAULT_HOLD_MS } = injection;
  if (signal !== 'SIGKILL' && signal !== 'SIGSTOP')
    throw new ConfigError(`inject.signal must be 'SIGKILL' or 'SIGSTOP', got ${JSON.stringify(signal)}`, { field: 'inject.signal' });
  if (!Number.isInteger(seed)) throw new ConfigError(`inject.seed must be an integer, got ${seed}`, { field: 'inject.seed' });
  if (rank !== undefined && !(Number.isInteger(rank) && rank >= 0 && rank < workers))
    throw new ConfigError(`inject.rank must be a rank of the ${workers} workers (0..${workers - 1}), got ${rank}`, {
      field: 'inject.rank',
    });
  if (atFraction !== undefined && !(atFraction > 0 && atFraction < 1))
    throw new ConfigError(`inject.atFraction must be between 0 and 1 (exclusive), got ${atFraction}`, { field: 'inject.atFraction' });
  if (!(holdMs >= 0)) throw new ConfigError(`inject.holdMs must be ≥ 0, got ${holdMs}`, { field: 'inject.holdMs' });
  // Drawn in a fixed order whatever is given, so fixing the rank does not move the seeded point.
  const rng = new Rng(seed);
  const drawnRank = rng.int(workers);
  const drawnAt = FAULT_WINDOW.from + (FAULT_WINDOW.to - FAULT_WINDOW.from) * rng.uniform();
  return { signal, rank: rank ?? drawnRank, atFraction: atFraction ?? drawnAt, holdMs };
}

/** Refuse an injection where the paradigm has no rank processes of its own to signal. */
export function refuseInjection(injection: FaultInjection | undefined, paradigm: Paradigm): void {
  if (injection === undefined) return;
  throw new ConfigError(
    `fault injection (inject) signals a rank's process: paradigm 'processes' has them (and compare's namespace cluster cells); '${paradigm}' ${
      paradigm === 'cluster'
        ? 'starts one rank per process under an orchestrator, which is where to send it a signal'
        : 'runs its ranks inside this process'
    }`,
    { field: 'inject' },
  );
}

/**
 * Sends the planned signal once rank 0's progress passes the planned point. `pidOf` gives a rank's
 * process id (numbered as at launch), or undefined once it is gone.
 */
export class FaultInjector {
  private readonly startedAt = performance.now();
  private firedAt: number | null = null;
  private stoppedPid: number | undefined;
  private heldMs: number | undefined;
  private holdTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly plan: FaultPlan,
    private readonly pidOf: (rank: number) => number | undefined,
  ) {}

  /** A progress event of rank 0: fire when it reaches the planned point (never at the run's last iteration: nothing would be left to lose). */
  observe(event: { iteration: number; total: number }): void {
    if (this.firedAt !== null || !(event.total > 0) || event.iteration >= event.total) return;
    if (event.iteration / event.total < this.plan.atFraction) return;
    this.fire();
  }

  /** Send the signal now (observe calls it at the planned point). */
  fire(): void {
    if (this.firedAt !== null) return;
    const pid = this.pidOf(this.plan.rank);
    if (pid === undefined) return;
    this.firedAt = performance.now();
    try {
      process.kill(pid, this.plan.signal);
    } catch {
      return; // the rank had already exited: nothing to stop or kill
    }
    if (this.plan.signal === 'SIGSTOP') {
      this.stoppedPid = pid;
      this.holdUntil(this.firedAt + this.plan.holdMs);
      // Should this process exit during the hold (an interrupted comparison), the rank must not stay
      // stopped: continued, it finds its launcher gone and exits.
      process.once('exit', this.onExit);
    }
  }

  /** SIGCONT a rank still stopped (the run is ending, or its hold is over). Safe to call more than once. */
  release(): void {
    this.resume();
  }

  /** What was planned and done, for FitInfo.injected. */
  report(): InjectedFault {
    return {
      signal: this.plan.signal,
      rank: this.plan.rank,
      atFraction: this.plan.atFraction,
      firedAtMs: this.firedAt === null ? null : this.firedAt - this.startedAt,
      ...(this.heldMs === undefined ? {} : { heldMs: this.heldMs }),
    };
  }

  private readonly onExit = (): void => this.resume();

  /**
   * Resume at `end` (performance.now() time), not before: a timer can fire up to a millisecond early
   * by performance.now() (libuv schedules from its loop time, cached in whole ms at the loop's turn),
   * which made a 1,000 ms hold 999.8 ms; an early firing waits out the rest.
   */
  private holdUntil(end: number): void {
    this.holdTimer = setTimeout(
      () => {
        const left = end - performance.now();
        if (left > 0) this.holdUntil(end);
        else this.resume();
      },
      Math.max(0, Math.ceil(end - performance.now())),
    );
  }

  private resume(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const pid = this.stoppedPid;
    if (pid === undefined) return;
    this.stoppedPid = undefined;
    process.removeListener('exit', this.onExit);
    this.heldMs = performance.now() - this.firedAt!;
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone already (killed by the reaper or the kernel): nothing to resume
    }
  }
}
