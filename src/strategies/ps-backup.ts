/**
 * The synchronous parameter server with backup workers or a round deadline:
 * `ps-sync:backup=<b>`, `ps-sync:deadline=<ms>[,min=<m>]`, or both (`ps-sync:backup=1,deadline=500`).
 *
 * Backup workers are Chen et al., "Revisiting Distributed Synchronous SGD" (2016): with N + b
 * workers, each round aggregates the first N gradients to arrive and drops the rest, so the b
 * slowest workers of a round hold nobody up. A gradient is refused by its round number: one computed
 * on the parameters of a round that has since closed is stale, counted as dropped, and answered at
 * once with the current parameters. A worker that learns it is behind skips the batches of the rounds
 * that closed without it (`skipStep`), as a worker of the paper reads the current global step and
 * joins it. A round deadline closes a round `deadlineMs` after its first gradient arrived with what
 * has arrived by then (at least `min`, default 1), and a warning names the late ranks.
 *
 * As in TensorFlow's SyncReplicasOptimizer, which implemented the paper, one chief aggregates: rank 0
 * holds the whole parameter vector, sums the round's gradients in ascending rank order, divides by
 * the rows they cover and applies the model's update once. Workers other than rank 0 are protected;
 * a stopped rank 0 stops the run, as a stopped parameter server stops the paper's (its servers are
 * not the stragglers it guards against). With every gradient of every round aggregated the update is
 * ps-sync's, element for element (same sum order, same divisor). Which gradients make a round is a
 * race, so results depend on timing: `backup=0` without a deadline is plain `ps-sync`, deterministic.
 *
 * Ranks meet nowhere else during training (`toleratesStragglers`: the trainer's epoch-end loss
 * all-reduce is skipped, the loss it reports is rank 0's own rows), so a stopped worker holds the
 * others up only at the end, where rank 0 waits (until the timeout) for every worker's goodbye.
 */
import type { Communicator, Message } from '../comm/communicator.js';
import { reduceInto } from '../comm/communicator.js';
import { CommError, ConfigError } from '../core/errors.js';
import type { ApplyUpdate, GradientStrategy, RoundStats, StrategyName } from './strategy.js';

/** How a round of `ps-sync:<options>` closes. */
export interface RoundPolicy {
  /** b: a round closes on the first size − b gradients. */
  backup: number;
  /** A round closes this long after its first gradient arrived, with what arrived (at least `minimum`). */
  deadlineMs?: number;
  /** Fewest gradients a round closed by its deadline aggregates. Default 1. */
  minimum: number;
}

/**
 * Parse `ps-sync:backup=1`, `ps-sync:deadline=200`, `ps-sync:deadline=200,min=2`,
 * `ps-sync:backup=1,deadline=500`. Throws a ConfigError naming the part it cannot read.
 */
export function parseRoundPolicy(name: string): RoundPolicy {
  const options = name.startsWith('ps-sync:') ? name.slice('ps-sync:'.length) : '';
  const policy: RoundPolicy = { backup: 0, minimum: 1 };
  const bad = (part: string, expected: string): ConfigError =>
    new ConfigError(`strategy '${name}': cannot read '${part}'; expected ${expected} (e.g. ps-sync:backup=1, ps-sync:deadline=200,min=2)`, {
      field: 'strategy',
    });
  for (const part of options.split(',')) {
    const [key, text, extra] = part.split('=');
    const value = Number(text);
    if (extra !== undefined || text === undefined || text === '') throw bad(part, 'key=value');
    if (key === 'backup') {
      if (!Number.isInteger(value) || value < 0) throw bad(part, 'backup=<a whole number ≥ 0 of backup workers>');
      policy.backup = value;
    } else if (key === 'deadline') {
      if (!(value > 0) || !Number.isFinite(value)) throw bad(part, 'deadline=<milliseconds > 0>');
      policy.deadlineMs = value;
    } else if (key === 'min') {
      if (!Number.isInteger(value) || value < 1) throw bad(part, 'min=<a whole number ≥ 1 of gradients>');
      policy.minimum = value;
    } else throw bad(part, 'backup=<b>, deadline=<ms> or min=<m>');
  }
  if (policy.minimum !== 1 && policy.deadlineMs === undefined)
    throw new ConfigError(`strategy '${name}': min=${policy.minimum} needs a deadline (min is what a round closed by its deadline needs)`, {
      field: 'strategy',
    });
  return policy;
}

/** Whether the policy changes anything: without backups or a deadline `ps-sync:…` is plain ps-sync. */
export function closesEarly(policy: RoundPolicy): boolean {
  return policy.backup > 0 || policy.deadlineMs !== undefined;
}

interface Push {
  from: number;
  /** The round the gradient is for: one more than the version of the parameters it was computed on. */
  round: number;
  /** Rows the gradient sums over. */
  rows: number;
  gradient: Float64Array;
}

type Log = (line: string) => void;

export class BackupParameterServer implements GradientStrategy {
  readonly name: StrategyName;
  readonly synchronous = true;
  readonly toleratesStragglers = true;
  private readonly rank: number;
  private readonly size: number;
  /** Gradients that close a round without its deadline: size − backup. */
  private readonly quorum: number;
  private readonly log: Log;
  // Worker side.
  /** Version (closed rounds) of the parameters this rank holds. */
  private known = 0;
  /** Steps this rank has taken or skipped. */
  private clock = 0;
  private params: Float64Array | null = null;
  private ownAnswer: (() => void) | null = null;
  // Chief side (rank 0).
  private replica: Float64Array = new Float64Array(0);
  private version = 0;
  private apply: ApplyUpdate | null = null;
  private pending: Push[] = [];
  private deadline: NodeJS.Timeout | undefined;
  private deadlinePassed = false;
  private readonly done: boolean[];
  private pump: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private lastLate = '';
  private readonly stats: RoundStats;

  constructor(
    private readonly comm: Communicator,
    private readonly policy: RoundPolicy,
    name: string,
    log?: Log,
  ) {
    this.name = name as StrategyName;
    this.rank = comm.rank;
    this.size = comm.size;
    if (policy.backup >= this.size)
      throw new ConfigError(
        `strategy '${name}': ${policy.backup} backup workers need more than ${policy.backup} workers, got ${this.size} (a round needs at least one gradient)`,
        { field: 'strategy' },
      );
    if (policy.minimum > this.size)
      throw new ConfigError(`strategy '${name}': min=${policy.minimum} is more than the ${this.size} workers`, { field: 'strategy' });
    this.quorum = this.size - policy.backup;
    this.log = log ?? ((line) => process.stderr.write(`[shardlearn rank ${this.rank}] ${line}\n`));
    this.done = new Array<boolean>(this.size).fill(false);
    this.stats = {
      rounds: 0,
      aggregated: 0,
      dropped: 0,
      deadlineRounds: 0,
      missedByRank: new Array<number>(this.size).fill(0),
      droppedByRank: new Array<number>(this.size).fill(0),
    };
  }

  setup(initial: Float64Array): Promise<Float64Array> {
    if (this.rank === 0) {
      this.replica = Float64Array.from(initial);
      if (this.size > 1) this.pump = this.serve();
    }
    return Promise.resolve(initial);
  }

  /** The chief's counts (rank 0); undefined on the other ranks, which see only their own answers. */
  rounds(): RoundStats | undefined {
    return this.rank === 0 ? structuredClone(this.stats) : undefined;
  }

  /** True when the next step's round already closed without this rank: the trainer skips its batch. */
  skipStep(): boolean {
    if (this.known <= this.clock) return false;
    this.clock++;
    return true;
  }

  async step(params: Float64Array, gradientSum: Float64Array, count: number, apply: ApplyUpdate, rows?: number): Promise<void> {
    if (this.failure !== null) throw this.failure;
    this.clock++;
    this.params = params;
    // Without the trainer's row count (a caller that does not pass it), the even share of the batch.
    const push = { from: this.rank, round: this.known + 1, rows: rows ?? count / this.size };
    if (this.size === 1) {
      this.replica = params;
      if (push.rows > 0) this.applyMean(gradientSum, push.rows, apply);
      this.known++;
      this.stats.rounds++;
      this.stats.aggregated++;
      return;
    }
    if (this.rank === 0) {
      this.apply = apply;
      const answered = new Promise<void>((resolve) => (this.ownAnswer = resolve));
      this.onPush({ ...push, gradient: Float64Array.from(gradientSum) });
      await answered;
      this.ownAnswer = null;
      if (this.failure !== null) throw this.failure;
      return;
    }
    await this.comm.send(0, { tag: 'ps-push', header: { round: push.round, rows: push.rows }, arrays: [gradientSum] });
    const answer = await this.comm.recv(0);
    this.onAnswer(answer);
  }

  private onAnswer(answer: Message & { from: number }): void {
    const values = answer.arrays?.[0];
    const version = answer.header?.['version'];
    if (answer.tag !== 'ps-params' || typeof version !== 'number' || values?.length !== this.params!.length)
      throw new CommError(
        'COMM',
        `parameter server: expected the parameters (${this.params!.length} values) from rank 0, got '${answer.tag}'`,
        {
          rank: 0,
        },
      );
    this.params!.set(values);
    this.known = version;
  }

  async finish(params: Float64Array): Promise<void> {
    if (this.size === 1) return;
    if (this.rank !== 0) {
      await this.comm.send(0, { tag: 'ps-done' });
      return;
    }
    this.done[0] = true;
    this.closeIfDue();
    await this.pump;
    clearTimeout(this.deadline);
    if (this.failure !== null) throw this.failure;
    params.set(this.replica);
  }

  // ---- the chief ----

  /** Receive pushes and goodbyes until every other worker said goodbye. */
  private async serve(): Promise<void> {
    try {
      while (this.done.some((d, r) => !d && r !== 0)) {
        const message = await this.comm.recv();
        if (message.tag === 'ps-push') {
          const header = message.header ?? {};
          this.onPush({
            from: message.from,
            round: header['round'] as number,
            rows: header['rows'] as number,
            gradient: message.arrays?.[0] as Float64Array,
          });
        } else if (message.tag === 'ps-done') {
          this.done[message.from] = true;
          this.closeIfDue();
        } else
          throw new CommError('COMM', `parameter server: unexpected message '${message.tag}' from rank ${message.from}`, {
            rank: message.from,
          });
      }
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.failure ??= error instanceof Error ? error : new Error(String(error));
    clearTimeout(this.deadline);
    this.ownAnswer?.();
  }

  private onPush(push: Push): void {
    if (push.round !== this.version + 1) {
      // Computed on the parameters of a round that closed without it: refused, answered with the current ones.
      this.stats.dropped++;
      this.stats.droppedByRank[push.from]!++;
      this.answer(push.from);
      return;
    }
    this.pending.push(push);
    if (this.pending.length === 1 && this.policy.deadlineMs !== undefined) {
      this.deadline = setTimeout(() => {
        this.deadlinePassed = true;
        this.closeIfDue();
      }, this.policy.deadlineMs);
    }
    this.closeIfDue();
  }

  /** Close the round when the quorum arrived, or its deadline passed with at least the minimum. */
  private closeIfDue(): void {
    if (this.pending.length === 0) return;
    // A worker says goodbye only after its last answer: every pending gradient is from a live worker.
    const live = this.done.filter((d) => !d).length;
    if (this.pending.length >= Math.min(this.quorum, live)) this.close(false);
    else if (this.deadlinePassed && this.pending.length >= Math.min(this.policy.minimum, live)) this.close(true);
  }

  private close(byDeadline: boolean): void {
    clearTimeout(this.deadline);
    this.deadlinePassed = false;
    const ordered = this.pending.sort((a, b) => a.from - b.from);
    this.pending = [];
    const sum = Float64Array.from(ordered[0]!.gradient);
    let rows = ordered[0]!.rows;
    for (const other of ordered.slice(1)) {
      reduceInto(sum, other.gradient, 'sum');
      rows += other.rows;
    }
    if (rows > 0) this.applyMean(sum, rows, this.apply!);
    this.version++;
    this.stats.rounds++;
    this.stats.aggregated += ordered.length;
    if (byDeadline) this.stats.deadlineRounds++;
    const late: number[] = [];
    for (let r = 0; r < this.size; r++) {
      if (ordered.some((p) => p.from === r)) continue;
      this.stats.missedByRank[r]!++;
      if (!this.done[r]) late.push(r);
    }
    // One line when the set of late ranks changes, not one per round of a stopped worker.
    const key = late.join(',');
    if (byDeadline && key !== this.lastLate)
      this.log(
        `ps-sync: round ${this.version} closed at its ${this.policy.deadlineMs} ms deadline with ${ordered.length} of ${this.size} gradients; late: rank ${late.join(', rank ')}`,
      );
    this.lastLate = byDeadline ? key : '';
    for (const push of ordered) this.answer(push.from);
  }

  /** replica ← apply(replica, sum / rows): the same arithmetic as ps-sync's servers. */
  private applyMean(sum: Float64Array, rows: number, apply: ApplyUpdate): void {
    const scale = 1 / rows;
    const mean = new Float64Array(sum.length);
    for (let i = 0; i < sum.length; i++) mean[i] = sum[i]! * scale;
    apply(this.replica, mean);
  }

  private answer(worker: number): void {
    if (worker === 0) {
      this.params!.set(this.replica);
      this.known = this.version;
      this.ownAnswer?.();
      return;
    }
    this.comm
      .send(worker, { tag: 'ps-params', header: { version: this.version }, arrays: [this.replica.slice()] })
      .catch((error: unknown) => this.fail(error));
  }
}
