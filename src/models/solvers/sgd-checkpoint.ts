/**
 * The SGD loop's checkpoints (the policy in ModelFitOptions.checkpoint, the file format in
 * core/checkpoint.ts). Under a synchronous strategy every rank holds the same parameters and
 * optimizer state after each step, so rank 0 alone writes; on resume rank 0 reads the newest valid
 * file and broadcasts it, and the loop continues at its (epoch, position in the epoch's batch order,
 * step). The batch order
 * of an epoch is a pure function of (seed, epoch), and dropout masks of (seed, epoch, row), so the
 * resumed run takes the same batches and masks as an uninterrupted one: the same model, bit for bit.
 *
 * Strategy state (a codec's error-feedback residual, DGC velocity, PowerSGD's Q and streams; a
 * parameter server's clock, and the update rule's state, which a parameter server keeps per shard)
 * differs from rank to rank. Each rank writes its own beside the checkpoint, in a rank-state file
 * (core/checkpoint.ts `rankStateFileName`), before rank 0 writes the checkpoint naming how many
 * there are; every rank decides "due" from the step count alone, so they write at the same steps.
 * Per-rank files rather than a gather to rank 0: nothing crosses the wire (a parameter server's
 * receive loop owns the point-to-point channel mid-run, so a gather would have to stop it), and each
 * rank's write overlaps the others'. On resume rank 0 takes the newest checkpoint whose rank files
 * are all there and whole, and each rank reads its own file. A world of another size (an elastic
 * re-form) drops the per-rank codec state with a note — a residual belongs to one rank's rows and
 * cannot be re-sharded — while the parameter server's per-shard update state is re-composed into
 * the whole vector's by rank 0, which fits any size.
 */
import type { Checkpoint, CheckpointStrategy } from '../../core/checkpoint.js';
import { CheckpointError, loadLatestCheckpoint, loadRankState, saveCheckpoint, saveRankState } from '../../core/checkpoint.js';
import { takeCheckpointRequest } from '../../core/checkpoint-request.js';
import { ConfigError } from '../../core/errors.js';
import type { OptimizerState } from '../../nn/optimizers.js';
import type { CheckpointPolicy, TrainContext, TrainingSnapshot } from '../context.js';

/** What the loop hands over to be saved, and gets back on resume (`strategyState`: every rank then imports its rank-state file). */
export type SgdSnapshot = TrainingSnapshot & { strategyState?: boolean };

const OPTIMIZER_PREFIX = 'optimizer.';
const STRATEGY_PREFIX = 'strategy.';

/** The codec the strategy compresses with ('none' when it does not). */
function codecOf(context: TrainContext): string {
  return context.strategy.codecSpec ?? 'none';
}

/**
 * Whether this run keeps per-rank strategy state in its checkpoints: a codec (its residuals and
 * streams), or a parameter server over several ranks (its update state per shard).
 */
export function keepsStrategyState(context: TrainContext): boolean {
  return codecOf(context) !== 'none' || (context.strategy.ownShard !== undefined && context.comm.size > 1);
}

/** Refuse a policy that cannot be kept, before anything is trained. */
export function checkPolicy(policy: CheckpointPolicy, context: TrainContext): void {
  if (typeof policy.dir !== 'string' || policy.dir === '')
    throw new ConfigError('checkpoint: dir must name a folder', { field: 'checkpoint-dir' });
  if (policy.everySteps !== undefined && !(Number.isInteger(policy.everySteps) && policy.everySteps >= 1)) {
    throw new ConfigError(`checkpoint: everySteps must be a whole number ≥ 1, got ${policy.everySteps}`, { field: 'checkpoint-every' });
  }
  if (policy.everySeconds !== undefined && !(policy.everySeconds > 0)) {
    throw new ConfigError(`checkpoint: everySeconds must be > 0, got ${policy.everySeconds}`, { field: 'checkpoint-every' });
  }
  if (policy.keep !== undefined && !(Number.isInteger(policy.keep) && policy.keep >= 0)) {
    throw new ConfigError(`checkpoint: keep must be a whole number ≥ 0, got ${policy.keep}`, { field: 'keep' });
  }
  if (!context.strategy.synchronous) {
    throw new ConfigError(
      `checkpoints need a synchronous strategy (allreduce, ps-sync): under '${context.strategy.name}' the ranks hold different parameters`,
      { field: 'checkpoint-dir' },
    );
  }
  context.acceptCheckpoints?.();
  if (keepsStrategyState(context) && policy.everySeconds !== undefined) {
    throw new ConfigError(
      `checkpoint: under '${context.strategy.name}'${codecOf(context) === 'none' ? '' : ` with --compression ${codecOf(context)}`} every rank writes its own strategy state at the same steps, so the interval must be a number of steps (e.g. 100steps), not ${policy.everySeconds} s of rank 0's clock`,
      { field: 'checkpoint-every' },
    );
  }
}

/** Refuse a checkpoint of another strategy or codec, naming the field; old checkpoints (no strategy recorded) pass. */
function checkStrategy(path: string, recorded: CheckpointStrategy | undefined, context: TrainContext): void {
  if (recorded === undefined) return;
  if (recorded.name !== context.strategy.name) {
    throw new CheckpointError(path, `field strategy: written under '${recorded.name}', resuming under '${context.strategy.name}'`);
  }
  if (recorded.codec !== codecOf(context)) {
    throw new CheckpointError(path, `field compression: written with codec '${recorded.codec}', resuming with '${codecOf(context)}'`);
  }
}

function identity(context: TrainContext): { model: string; params: string } {
  return { model: context.model?.name ?? 'unknown', params: JSON.stringify(context.model?.params ?? {}) };
}

/** The newest valid checkpoint of this run in `policy.dir` (checked against the model and size), or null. */
export async function resumeSnapshot(policy: CheckpointPolicy, context: TrainContext, dim: number): Promise<SgdSnapshot | null> {
  const rankStates = new Map<number, Checkpoint>();
  const found = await loadLatestCheckpoint(
    policy.dir,
    (file, error) => {
      if (context.comm.rank === 0) process.stderr.write(`shardlearn: warning: skipping checkpoint ${file}: ${error.message}\n`);
    },
    async (_path, checkpoint) => {
      // Complete only with every rank's state file beside it (a kill may fall between the writes).
      rankStates.clear();
      for (let rank = 0; rank < (checkpoint.strategy?.ranks ?? 0); rank++)
        rankStates.set(rank, await loadRankState(policy.dir, checkpoint.step, rank));
    },
  );
  if (found === null) return null;
  const { path, checkpoint } = found;
  checkStrategy(path, checkpoint.strategy, context);
  const expected = identity(context);
  if (checkpoint.model !== expected.model)
    throw new CheckpointError(path, `written by model '${checkpoint.model}', resuming '${expected.model}'`);
  if (JSON.stringify(checkpoint.params) !== expected.params) {
    throw new CheckpointError(path, `written with other hyperparameters (${JSON.stringify(checkpoint.params)}; now ${expected.params})`);
  }
  const params = checkpoint.arrays['params'];
  if (!(params instanceof Float64Array) || params.length !== dim)
    throw new CheckpointError(path, `expected ${dim} float64 parameters, found ${params?.length ?? 'none'}`);
  const arrays: Record<string, Float64Array> = {};
  for (const [name, array] of Object.entries(checkpoint.arrays)) {
    if (name.startsWith(OPTIMIZER_PREFIX) && array instanceof Float64Array) arrays[name.slice(OPTIMIZER_PREFIX.length)] = array;
  }
  // A parameter server's update state is authoritative on each rank's own shard: compose it.
  for (const [rank, state] of rankStates) {
    const shard = state.state?.['shard'];
    if (!Array.isArray(shard)) continue;
    const [start, end] = shard as [number, number];
    for (const [name, whole] of Object.entries(arrays)) {
      const part = state.arrays[OPTIMIZER_PREFIX + name];
      if (whole.length !== dim) continue;
      if (!(part instanceof Float64Array) || part.length !== end - start)
        throw new CheckpointError(path, `rank ${rank}'s state holds no optimizer array '${name}' for its shard [${start}, ${end})`);
      whole.set(part, start);
    }
  }
  let strategyState = false;
  if (context.comm.rank === 0) {
    process.stderr.write(`shardlearn: resuming from ${path} (epoch ${checkpoint.epoch + 1}, step ${checkpoint.step})\n`);
    const ranks = checkpoint.strategy?.ranks ?? 0;
    if (ranks === 0 && keepsStrategyState(context)) {
      const why = checkpoint.strategy === undefined ? 'written before it was kept' : 'written on an outside request';
      process.stderr.write(
        `shardlearn: note: ${path} holds no strategy state (${why}): '${context.strategy.name}' (codec '${codecOf(context)}') starts fresh\n`,
      );
    } else if (ranks > 0 && ranks !== context.comm.size) {
      process.stderr.write(
        `shardlearn: note: ${path} holds the strategy state of ${ranks} ranks, this world has ${context.comm.size}: ${
          codecOf(context) === 'none'
            ? 'the update state is composed from its shards; the per-rank clocks restart'
            : "its per-rank codec state (residuals, streams) cannot be re-sharded and is dropped; the codecs start fresh"
        }\n`,
      );
    } else strategyState = ranks > 0;
  }
  const optimizer =
    Object.keys(arrays).length > 0 || Object.keys(checkpoint.scalars).length > 0 ? { arrays, scalars: checkpoint.scalars } : undefined;
  return {
    params,
    epoch: checkpoint.epoch,
    position: checkpoint.position,
    step: checkpoint.step,
    rng: checkpoint.rng,
    ...(optimizer === undefined ? {} : { optimizer }),
    strategyState,
  };
}

/**
 * After a resume (`snapshot.strategyState`) and the strategy's setup: every rank reads its own
 * rank-state file of the checkpoint and hands the strategy its state.
 */
export async function importStrategyState(policy: CheckpointPolicy, context: TrainContext, snapshot: SgdSnapshot): Promise<void> {
  if (snapshot.strategyState !== true || context.strategy.importState === undefined) return;
  const saved = await loadRankState(policy.dir, snapshot.step, context.comm.rank);
  const arrays: Record<string, Float64Array> = {};
  for (const [name, array] of Object.entries(saved.arrays))
    if (name.startsWith(STRATEGY_PREFIX) && array instanceof Float64Array) arrays[name.slice(STRATEGY_PREFIX.length)] = array;
  const meta = saved.state?.['strategy'];
  if (meta !== undefined && meta !== null) context.strategy.importState({ arrays, meta: meta as Record<string, unknown> });
}

/**
 * The checkpoint every rank resumes from: rank 0 reads it (resumeSnapshot) and broadcasts it, so
 * only rank 0 needs the folder (hosts without a shared file system resume too). `template` is this
 * rank's optimizer state: its array names and lengths, and scalar names, lay out the broadcast.
 * Other ranks get no RNG state (their own streams are not rank 0's; synchronous training draws none).
 */
export async function resumeOnEveryRank(
  policy: CheckpointPolicy,
  context: TrainContext,
  dim: number,
  template: OptimizerState | undefined,
): Promise<SgdSnapshot | null> {
  const { comm } = context;
  const local = comm.rank === 0 ? await resumeSnapshot(policy, context, dim) : null;
  if (comm.size === 1) return local;
  const arrayNames = Object.keys(template?.arrays ?? {}).sort();
  const scalarNames = Object.keys(template?.scalars ?? {}).sort();
  const head = new Float64Array(5);
  if (local !== null) {
    for (const name of arrayNames) {
      if (local.optimizer?.arrays[name]?.length !== template!.arrays[name]!.length) {
        throw new CheckpointError(
          policy.dir,
          `the newest checkpoint has no optimizer array '${name}' of ${template!.arrays[name]!.length} values`,
        );
      }
    }
    head.set([1, local.epoch, local.position, local.step, local.strategyState === true ? 1 : 0]);
  }
  await comm.broadcast(head, 0);
  if (head[0] !== 1) return null;
  const payload = new Float64Array(dim + arrayNames.reduce((sum, name) => sum + template!.arrays[name]!.length, 0) + scalarNames.length);
  if (local !== null) {
    let at = 0;
    payload.set(local.params, at);
    at += dim;
    for (const name of arrayNames) {
      payload.set(local.optimizer!.arrays[name]!, at);
      at += local.optimizer!.arrays[name]!.length;
    }
    for (const name of scalarNames) payload[at++] = local.optimizer!.scalars[name] ?? NaN;
  }
  await comm.broadcast(payload, 0);
  if (local !== null) return local;
  let at = dim;
  const arrays: Record<string, Float64Array> = {};
  for (const name of arrayNames) {
    const length = template!.arrays[name]!.length;
    arrays[name] = payload.slice(at, at + length);
    at += length;
  }
  const scalars: Record<string, number> = {};
  for (const name of scalarNames) scalars[name] = payload[at++]!;
  return {
    params: payload.slice(0, dim),
    epoch: head[1]!,
    position: head[2]!,
    step: head[3]!,
    strategyState: head[4] === 1,
    rng: {},
    ...(template === undefined ? {} : { optimizer: { arrays, scalars } }),
  };
}

/** Decides when to write, and writes: rank 0 the checkpoint; every rank its strategy state when the run keeps some. */
export class SgdCheckpointer {
  private lastStep: number;
  private lastTime = performance.now();
  /** The reason of an outside request (core/checkpoint-request.ts) the next write answers. */
  private requested: string | undefined;
  /** Every rank writes its strategy state beside each checkpoint (keepsStrategyState). */
  private readonly perRank: boolean;

  constructor(
    private readonly policy: CheckpointPolicy,
    private readonly context: TrainContext,
    startStep: number,
  ) {
    this.lastStep = startStep;
    this.perRank = keepsStrategyState(context);
  }

  /**
   * Whether to write after update `step` (`epochEnd`: it ended an epoch). Without strategy state only
   * rank 0 writes; with it every rank decides from the step count alone (checkPolicy refused a
   * time interval), so all write at the same steps. An outside request (SIGUSR1 under Slurm) makes
   * one due at once on rank 0, whatever the interval; with strategy state that checkpoint goes
   * without it (the other ranks did not get the request at this step) and leaves the interval as it was.
   */
  due(step: number, epochEnd: boolean): boolean {
    if (step === this.lastStep) return false;
    if (this.context.comm.rank !== 0 && !this.perRank) return false;
    if (this.context.comm.rank === 0) {
      this.requested ??= takeCheckpointRequest();
      if (this.requested !== undefined) return true;
    }
    const { everySteps, everySeconds } = this.policy;
    if (everySteps !== undefined) return step - this.lastStep >= everySteps;
    if (everySeconds !== undefined) return performance.now() - this.lastTime >= everySeconds * 1000;
    return epochEnd;
  }

  /** Write what is due; returns rank 0's checkpoint path (other ranks: their rank-state file's, or null). */
  async write(snapshot: SgdSnapshot): Promise<string | null> {
    const { model, params } = identity(this.context);
    const { strategy, comm } = this.context;
    const requested = this.requested !== undefined;
    // An off-interval request on rank 0 alone: the others write no state now.
    const withState = this.perRank && !requested;
    const common = {
      model,
      params: JSON.parse(params) as unknown,
      worldSize: comm.size,
      epoch: snapshot.epoch,
      position: snapshot.position,
      step: snapshot.step,
    };
    let rankPath: string | null = null;
    if (withState) {
      const arrays: Checkpoint['arrays'] = {};
      const exported = strategy.exportState?.() ?? null;
      for (const [name, array] of Object.entries(exported?.arrays ?? {})) arrays[STRATEGY_PREFIX + name] = array;
      const state: Record<string, unknown> = { strategy: exported?.meta ?? null };
      const shard = comm.size > 1 ? strategy.ownShard?.() : undefined;
      if (shard !== undefined) {
        state['shard'] = shard;
        for (const [name, array] of Object.entries(snapshot.optimizer?.arrays ?? {}))
          if (array.length === snapshot.params.length) arrays[OPTIMIZER_PREFIX + name] = array.slice(shard[0], shard[1]);
      }
      rankPath = await saveRankState(this.policy.dir, comm.rank, { ...common, rng: {}, scalars: {}, state, arrays });
      this.lastStep = snapshot.step;
      if (comm.rank !== 0) return rankPath;
    }
    const arrays: Checkpoint['arrays'] = { params: snapshot.params };
    for (const [name, array] of Object.entries(snapshot.optimizer?.arrays ?? {})) arrays[OPTIMIZER_PREFIX + name] = array;
    const path = await saveCheckpoint(
      this.policy.dir,
      {
        ...common,
        rng: snapshot.rng,
        scalars: snapshot.optimizer?.scalars ?? {},
        strategy: { name: strategy.name, codec: codecOf(this.context), ranks: withState ? comm.size : 0 },
        arrays,
      },
      this.policy.keep === undefined ? {} : { keep: this.policy.keep },
    );
    if (!(this.perRank && requested)) {
      this.lastStep = snapshot.step;
      this.lastTime = performance.now();
    }
    if (requested) {
      process.stderr.write(
        `shardlearn: ${this.requested}: checkpoint written to ${path} (step ${snapshot.step})${this.perRank ? ' without strategy state (a resume from it starts the strategy fresh)' : ''}\n`,
      );
    }
    this.requested = undefined;
    return path;
  }
}
