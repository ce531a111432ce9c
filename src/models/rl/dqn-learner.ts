/**
 * DQN's learner and the two ways actors feed it (dqn.ts explains the shapes):
 * - `trainSynchronously`: rounds in lockstep. Every rank acts `roundSteps`; the other ranks send
 *   their transitions to rank 0, which adds them in rank order, takes the gradient steps due, and
 *   broadcasts the weights. Deterministic for a fixed seed and world size.
 * - `trainAsynchronously` (Ape-X): rank 0 only learns. It answers each actor's transitions with the
 *   current weights and otherwise takes gradient steps, never more than the sequential replay
 *   ratio allows (one per `trainEvery` env steps received). Acting and learning overlap; when the
 *   learner owes more than `maxLag` gradient steps it catches up before answering, so the actors
 *   wait and the replay ratio stays within `maxLag` steps of sequential DQN's.
 */
import type { Communicator } from '../../comm/communicator.js';
import type { Rng } from '../../core/rng.js';
import { dtypeArray } from '../../nn/tensor.js';
import type { ReplayBuffer } from '../../rl/replay.js';
import type { TrainContext } from '../context.js';
import type { Actor, ActorStats } from './dqn-actor.js';
import type { DType } from '../../core/storage.js';
import type { QNetwork, TdLoss, TransitionBatch, UpdateOptions } from './q-network.js';

/** Rank 0 reports progress about this often, in environment steps of all actors. */
const REPORT_EVERY_STEPS = 1000;

/** The DQN options the learner reads (dqn.ts's DQNParams documents each). */
export interface LearnerSettings {
  steps: number;
  batchSize: number;
  precision: DType;
  gamma: number;
  lr: number;
  lrSchedule: 'constant' | 'linear';
  double: boolean;
  loss: TdLoss;
  /** null: no clipping. */
  maxGradNorm: number | null;
  huberDelta: number;
  learningStarts: number;
  trainEvery: number;
  gradientSteps: number;
  targetUpdate: 'hard' | 'polyak';
  targetEvery: number;
  tau: number;
  /** Multiply trainEvery and a hard targetEvery by the actor count (dqn.ts's DQNParams). */
  scaleTrainEvery: boolean;
}

export class Learner {
  /** Env steps of all actors received so far. */
  globalSteps = 0;
  episodes = 0;
  stepsToTarget: number | null = null;
  /** Gradient steps taken. */
  updates = 0;
  /** Wall milliseconds spent in gradient steps (sampling, update, target update). */
  busyMs = 0;
  private readonly startedMs = performance.now();
  /** Env steps (all actors) per round of gradient steps, and between hard target copies. */
  private readonly trainEvery: number;
  private readonly targetEvery: number;
  private owed = 0;
  private targetCopyDue = false;
  private lastReport = 0;
  private meanReturn = 0;
  private readonly stats: ActorStats[] = [];
  private readonly batch: TransitionBatch;
  private readonly indices: Int32Array;
  private readonly update: UpdateOptions;

  constructor(
    private readonly q: QNetwork,
    private readonly p: LearnerSettings,
    private readonly buffer: ReplayBuffer,
    private readonly sampler: Rng,
    private readonly target: number,
    private readonly context: TrainContext,
    actors: number,
  ) {
    const d = buffer.observationLength;
    const scale = p.scaleTrainEvery ? actors : 1;
    this.trainEvery = p.trainEvery * scale;
    this.targetEvery = p.targetEvery * scale;
    this.batch = {
      size: p.batchSize,
      observations: dtypeArray(p.precision, p.batchSize * d),
      actions: new Int32Array(p.batchSize),
      rewards: new Float64Array(p.batchSize),
      nextObservations: dtypeArray(p.precision, p.batchSize * d),
      terminated: new Uint8Array(p.batchSize),
    };
    this.indices = new Int32Array(p.batchSize);
    this.update = {
      gamma: p.gamma,
      lr: p.lr,
      double: p.double,
      loss: p.loss,
      maxGradNorm: p.maxGradNorm ?? Infinity,
      huberDelta: p.huberDelta,
    };
  }

  /** Gradient steps due but not yet taken. */
  get backlog(): number {
    return this.owed;
  }

  /** Add an actor's round of transitions and its statistics. */
  add(actor: number, packed: ArrayLike<number>, count: number, stats: ActorStats): void {
    this.buffer.addPacked(packed, count);
    this.stats[actor] = stats;
  }

  /** Recount the steps of all actors; schedule the gradient steps and target copy they make due; check the target; report. */
  settle(): void {
    const before = this.globalSteps;
    let steps = 0;
    let sum = 0;
    let count = 0;
    let episodes = 0;
    // forEach skips actors not heard from yet (holes: asynchronous actors arrive in any order).
    this.stats.forEach(([windowSum, windowCount, actorSteps, actorEpisodes]) => {
      sum += windowSum;
      count += windowCount;
      steps += actorSteps;
      episodes += actorEpisodes;
    });
    this.globalSteps = steps;
    this.episodes = episodes;
    this.owed += (this.dueBy(steps) - this.dueBy(before)) * this.p.gradientSteps;
    if (this.p.targetUpdate === 'hard' && Math.floor(steps / this.targetEvery) > Math.floor(before / this.targetEvery))
      this.targetCopyDue = true;
    this.meanReturn = sum / Math.max(count, 1);
    if (this.stepsToTarget === null && count >= 100 && this.meanReturn >= this.target) this.stepsToTarget = steps;
    if (steps - this.lastReport >= REPORT_EVERY_STEPS) this.report();
  }

  /** Fraction of the learner's wall time so far spent in gradient steps. */
  get utilisation(): number {
    const elapsed = performance.now() - this.startedMs;
    return elapsed > 0 ? Math.min(this.busyMs / elapsed, 1) : 0;
  }

  /** The last progress event, once every gradient step is taken (its utilisation covers the whole run). */
  finish(): void {
    this.report();
  }

  private report(): void {
    const steps = this.globalSteps;
    this.lastReport = steps;
    this.context.report({
      iteration: steps,
      total: this.p.steps,
      meanReturn: this.meanReturn,
      envSteps: steps,
      episodes: this.episodes,
      learnerUtilisation: this.utilisation,
    });
  }

  /** Take every gradient step owed, then the target copy if one is due. */
  trainAll(): void {
    while (this.trainOne());
  }

  /** One owed gradient step (and the target copy once none is owed); false when nothing was owed. */
  trainOne(): boolean {
    if (this.owed === 0) {
      this.copyTargetIfDue();
      return false;
    }
    const started = performance.now();
    const { p, q, batch } = this;
    if (p.lrSchedule === 'linear') this.update.lr = p.lr * Math.max(1 - this.globalSteps / p.steps, 0);
    this.buffer.sample(batch.size, this.sampler, this.indices);
    this.buffer.gather(this.indices, 'observations', batch.observations);
    this.buffer.gather(this.indices, 'nextObservations', batch.nextObservations);
    for (let i = 0; i < batch.size; i++) {
      const at = this.indices[i]!;
      batch.actions[i] = this.buffer.actions[at]!;
      batch.rewards[i] = this.buffer.rewards[at]!;
      batch.terminated[i] = this.buffer.terminated[at]!;
    }
    q.train(batch, this.update);
    if (p.targetUpdate === 'polyak') q.updateTarget(p.tau);
    this.owed--;
    this.updates++;
    if (this.owed === 0) this.copyTargetIfDue();
    this.busyMs += performance.now() - started;
    return true;
  }

  /** Gradient steps due after `steps` env steps: one per `trainEvery` once `learningStarts` is reached. */
  private dueBy(steps: number): number {
    const { learningStarts } = this.p;
    const { trainEvery } = this;
    return steps >= learningStarts ? Math.floor(steps / trainEvery) - Math.floor(Math.max(learningStarts - 1, 0) / trainEvery) : 0;
  }

  private copyTargetIfDue(): void {
    if (!this.targetCopyDue) return;
    this.targetCopyDue = false;
    this.q.updateTarget(1);
  }
}

interface TransitionsHeader {
  count: number;
  stats: ActorStats;
  last: boolean;
}

export async function trainSynchronously(
  comm: Communicator,
  q: QNetwork,
  learner: Learner | null,
  actor: Actor,
  steps: number,
  rounds: number,
  roundSteps: number,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const count = Math.min(roundSteps, steps - actor.steps);
    actor.act(count, q);
    if (learner !== null) {
      learner.add(0, actor.packed, count, actor.stats);
      for (let from = 1; from < comm.size; from++) {
        const message = await comm.recv(from);
        const header = message.header as unknown as TransitionsHeader;
        learner.add(from, message.arrays![0]!, header.count, header.stats);
      }
      learner.settle();
      learner.trainAll();
    } else {
      const header: TransitionsHeader = { count, stats: actor.stats, last: round === rounds - 1 };
      await comm.send(0, {
        tag: 'transitions',
        header: { ...header },
        arrays: [actor.packed.subarray(0, count * (actor.packed.length / roundSteps))],
      });
    }
    // The online network's own values, in its float type (float32 by default: half the bytes of the
    // float64 master copy, and what the actors' network would round them to anyway), straight into
    // the actors' networks.
    if (comm.size > 1) await comm.broadcast(q.online.store.values, 0);
  }
  learner?.finish();
}

export async function trainAsynchronously(
  comm: Communicator,
  q: QNetwork,
  learner: Learner | null,
  actor: Actor | null,
  steps: number,
  roundSteps: number,
  actors: number,
  maxLag: number,
): Promise<void> {
  if (actor !== null) {
    const width = actor.packed.length / roundSteps;
    while (actor.steps < steps) {
      const count = Math.min(roundSteps, steps - actor.steps);
      actor.act(count, q);
      const header: TransitionsHeader = { count, stats: actor.stats, last: actor.steps >= steps };
      await comm.send(0, { tag: 'transitions', header: { ...header }, arrays: [actor.packed.subarray(0, count * width)] });
      const weights = await comm.recv(0);
      q.online.loadParameters(weights.arrays![0]!);
    }
    return;
  }
  const learning = learner!;
  let active = actors;
  let arrived: Awaited<ReturnType<Communicator['recv']>> | null = null;
  let failure: unknown = null;
  const receive = (): Promise<void> =>
    comm.recv().then(
      (message) => void (arrived = message),
      (error: unknown) => void (failure = error),
    );
  let pending = receive();
  while (active > 0) {
    if (failure !== null) throw failure;
    const message = arrived as Awaited<ReturnType<Communicator['recv']>> | null;
    if (message !== null) {
      arrived = null;
      const header = message.header as unknown as TransitionsHeader;
      learning.add(message.from - 1, message.arrays![0]!, header.count, header.stats);
      learning.settle();
      // Flow control: an actor waits for its weights while the learner owes more than maxLag steps.
      while (learning.backlog > maxLag) learning.trainOne();
      await comm.send(message.from, { tag: 'weights', arrays: [q.online.store.values] });
      if (header.last) active--;
      if (active > 0) pending = receive();
      continue;
    }
    // Between gradient steps, let the event loop deliver a message that has arrived.
    if (learning.trainOne()) await new Promise((resolve) => setImmediate(resolve));
    else await pending;
  }
  learning.finish();
}
