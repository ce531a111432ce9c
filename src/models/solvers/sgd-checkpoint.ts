/**
 * The SGD loop's checkpoints (the policy in ModelFitOptions.checkpoint, the file format in
 * core/checkpoint.ts). Under a synchronous strategy every rank holds the same parameters and
 * optimizer state after each step, so rank 0 alone writes; on resume rank 0 reads the newest valid
 * file and broadcasts it, and the loop continues at its (epoch, position in the epoch's batch order,
 * step). The batch order
 * of an epoch is a pure function of (seed, epoch), and dropout masks of (seed, epoch, row), so the
 * resumed run takes the same batches and masks as an uninterrupted one: the same model, bit for bit.
 */
import type { Checkpoint } from '../../core/checkpoint.js';
import { CheckpointError, loadLatestCheckpoint, saveCheckpoint } from '../../core/checkpoint.js';
import { takeCheckpointRequest } from '../../core/checkpoint-request.js';
import { ConfigError } from '../../core/errors.js';
import type { OptimizerState } from '../../nn/optimizers.js';
import type { CheckpointPolicy, TrainContext, TrainingSnapshot } from '../context.js';

/** What the loop hands over to be saved, and gets back on resume. */
export type SgdSnapshot = TrainingSnapshot;

const OPTIMIZER_PREFIX = 'optimizer.';

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
  const compression = context.options?.compression;
  if (compression !== undefined && compression !== 'none') {
    throw new ConfigError(
      `checkpoints do not yet hold a codec's error-feedback state: drop --compression ${compression} or the checkpoint flags`,
      { field: 'checkpoint-dir' },
    );
  }
}

function identity(context: TrainContext): { model: string; params: string } {
  return { model: context.model?.name ?? 'unknown', params: JSON.stringify(context.model?.params ?? {}) };
}

/** The newest valid checkpoint of this run in `policy.dir` (checked against the model and size), or null. */
export async function resumeSnapshot(policy: CheckpointPolicy, context: TrainContext, dim: number): Promise<SgdSnapshot | null> {
  const found = await loadLatestCheckpoint(policy.dir, (file, error) => {
    if (context.comm.rank === 0) process.stderr.write(`shardlearn: warning: skipping checkpoint ${file}: ${error.message}\n`);
  });
  if (found === null) return null;
  const { path, checkpoint } = found;
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
  if (context.comm.rank === 0)
    process.stderr.write(`shardlearn: resuming from ${path} (epoch ${checkpoint.epoch + 1}, step ${checkpoint.step})\n`);
  const optimizer =
    Object.keys(arrays).length > 0 || Object.keys(checkpoint.scalars).length > 0 ? { arrays, scalars: checkpoint.scalars } : undefined;
  return {
    params,
    epoch: checkpoint.epoch,
    position: checkpoint.position,
    step: checkpoint.step,
    rng: checkpoint.rng,
    ...(optimizer === undefined ? {} : { optimizer }),
  };
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
  const head = new Float64Array(4);
  if (local !== null) {
    for (const name of arrayNames) {
      if (local.optimizer?.arrays[name]?.length !== template!.arrays[name]!.length) {
        throw new CheckpointError(
          policy.dir,
          `the newest checkpoint has no optimizer array '${name}' of ${template!.arrays[name]!.length} values`,
        );
      }
    }
    head.set([1, local.epoch, local.position, local.step]);
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
    rng: {},
    ...(template === undefined ? {} : { optimizer: { arrays, scalars } }),
  };
}

/** Decides when rank 0 writes, and writes. */
export class SgdCheckpointer {
  private lastStep: number;
  private lastTime = performance.now();
  /** The reason of an outside request (core/checkpoint-request.ts) the next write answers. */
  private requested: string | undefined;

  constructor(
    private readonly policy: CheckpointPolicy,
    private readonly context: TrainContext,
    startStep: number,
  ) {
    this.lastStep = startStep;
  }

  /**
   * Whether to write after update `step` (`epochEnd`: it ended an epoch). Only rank 0 writes. An
   * outside request (SIGUSR1 under Slurm) makes one due at once, whatever the interval.
   */
  due(step: number, epochEnd: boolean): boolean {
    if (this.context.comm.rank !== 0 || step === this.lastStep) return false;
    this.requested ??= takeCheckpointRequest();
    if (this.requested !== undefined) return true;
    const { everySteps, everySeconds } = this.policy;
    if (everySteps !== undefined) return step - this.lastStep >= everySteps;
    if (everySeconds !== undefined) return performance.now() - this.lastTime >= everySeconds * 1000;
    return epochEnd;
  }

  async write(snapshot: SgdSnapshot): Promise<string> {
    const arrays: Checkpoint['arrays'] = { params: snapshot.params };
    for (const [name, array] of Object.entries(snapshot.optimizer?.arrays ?? {})) arrays[OPTIMIZER_PREFIX + name] = array;
    const { model, params } = identity(this.context);
    const path = await saveCheckpoint(
      this.policy.dir,
      {
        model,
        params: JSON.parse(params) as unknown,
        worldSize: this.context.comm.size,
        epoch: snapshot.epoch,
        position: snapshot.position,
        step: snapshot.step,
        rng: snapshot.rng,
        scalars: snapshot.optimizer?.scalars ?? {},
        arrays,
      },
      this.policy.keep === undefined ? {} : { keep: this.policy.keep },
    );
    this.lastStep = snapshot.step;
    this.lastTime = performance.now();
    if (this.requested !== undefined)
      process.stderr.write(`shardlearn: ${this.requested}: checkpoint written to ${path} (step ${snapshot.step})\n`);
    this.requested = undefined;
    return path;
  }
}
