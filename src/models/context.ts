/**
 * What an SPMD trainer is given besides its shard: the communicator, the gradient strategy (for
 * SGD-trained models), and a progress reporter. Interfaces only — the runtime supplies them.
 */
import type { Communicator } from '../comm/communicator.js';
import type { ResidentTypes } from '../core/kernels.js';
import type { Dataset } from '../data/dataset.js';
import type { GradientStrategy } from '../strategies/strategy.js';
import type { PipelineOptions } from './neural/pipeline/settings.js';

export interface ProgressEvent {
  /** Iterations (epochs for SGD, Lloyd iterations for k-means, …) done so far. */
  iteration: number;
  /** Iterations planned (an upper bound when the model may stop early). */
  total: number;
  /** Training loss (or inertia) at this point, when the model computes it. */
  loss?: number;
  /** RL agents: mean return of the recent training episodes (all actors). */
  meanReturn?: number;
  /** RL agents: environment steps taken so far by all actors. */
  envSteps?: number;
  /** RL agents: episodes finished so far by all actors. */
  episodes?: number;
  /**
   * DQN: fraction of the learner's wall time so far spent in gradient steps (sampling the replay,
   * the update, the target update) rather than acting, receiving transitions or waiting.
   */
  learnerUtilisation?: number;
}

/**
 * The part of the fit options that travels to every rank, read there by the model or by the strategy
 * the rank builds (not by the launcher). They cross thread and process boundaries unchanged, so they
 * are plain data. `FitOptions` extends this (models/paradigm.ts), and a setting added here reaches
 * every rank in every paradigm with no launcher change.
 */
export interface ModelFitOptions {
  /**
   * Gradient compression for the all-reduce strategy and the parameter server's pushes (CLI
   * `--compression`): 'none', 'fp16', 'bf16',
   * 'topk:<ratio>[:<momentum>]', 'topk16:<ratio>[:<momentum>]', 'randomk:<ratio>', 'qsgd:<levels>', 'terngrad', 'signsgd',
   * 'powersgd:<rank>'. Applied in every paradigm, sequential included; see docs/distributed.md.
   * Under the federated paradigm it compresses each client's upload (docs/federated.md).
   *
   * @example
   * await model.fit(data, { paradigm: 'threads', workers: 2, compression: 'topk:0.01', compressionWarmup: 1 });
   */
  compression?: string;
  /** Epochs of compression warm-up (CLI `--compression-warmup`; DGC's schedule for top-k/random-k). Default 0. */
  compressionWarmup?: number;
  /**
   * Tensor fusion for the all-reduce strategy (CLI `--bucket-bytes`): the model's parameter tensors
   * are grouped into buckets of at most this many bytes on the wire (small tensors fused, a large one
   * alone), each all-reduced or compressed on its own — top-k then selects per bucket, PowerSGD
   * factors each bucket. Default: the whole gradient in one bucket. See strategies/buckets.ts.
   *
   * @example
   * await model.fit(data, { paradigm: 'threads', workers: 2, compression: 'topk16:0.01', bucketBytes: 65536 });
   */
  bucketBytes?: number;
  /**
   * Model parallelism for the neural models (mlp, cnn, rnn): cut the layers into one stage per
   * worker (per worker of a replica) and stream micro-batches through them, GPipe or 1F1B; with
   * `replicas` > 1, that many data-parallel copies of the pipeline. `{}` takes the defaults
   * (4 micro-batches, GPipe, 1 replica). Replicas combine gradients by all-reduce, so `strategy` must
   * be left at 'allreduce'; other models are refused before launch. See models/neural/pipeline/settings.ts.
   *
   * @example
   * await new MLP().fit(data, { paradigm: 'threads', workers: 4, pipeline: { microBatches: 8, schedule: '1f1b', replicas: 2 } });
   */
  pipeline?: PipelineOptions;
  /**
   * Checkpoints of an SGD-trained model under a synchronous strategy (CLI `--checkpoint-dir`,
   * `--checkpoint-every`, `--keep`, `--resume`); see CheckpointPolicy and docs/distributed.md.
   *
   * @example
   * await model.fit(data, { paradigm: 'threads', workers: 2, checkpoint: { dir: 'ckpt', everySteps: 100, keep: 3, resume: true } });
   */
  checkpoint?: CheckpointPolicy;
}

/**
 * When and where the SGD loop writes checkpoints (core/checkpoint.ts): rank 0 writes, every rank
 * resumes from the same file. Neither `everySteps` nor `everySeconds`: one at the end of each epoch.
 */
export interface CheckpointPolicy {
  /** The folder (created when missing). */
  dir: string;
  /** A checkpoint after every `everySteps` updates. */
  everySteps?: number;
  /** A checkpoint after the first update that ends `everySeconds` or more after the last one (rank 0's clock). */
  everySeconds?: number;
  /** Keep the newest `keep` checkpoints (0 or absent: all). */
  keep?: number;
  /** Continue from the newest valid checkpoint in `dir`, when there is one (corrupt ones are skipped with a warning). */
  resume?: boolean;
}

export interface TrainContext {
  readonly comm: Communicator;
  readonly strategy: GradientStrategy;
  /** Called by the trainer on every rank; the runtime keeps rank 0's and timestamps them. */
  report(event: ProgressEvent): void;
  /**
   * Every rank's rows, where this rank can read them at no cost (the `threads` paradigm: one
   * SharedArrayBuffer), and the index in them of this rank's first row. Absent where a rank holds
   * only its own shard (processes, hosts; and sequential, whose shard is everything).
   */
  readonly shared?: SharedRows;
  /**
   * Σ over every rank's rows of `accumulate`'s terms, the same array on every rank, where the runtime
   * can share the pass out dynamically (threads: the ranks claim chunks of the shared rows from a
   * board, so a rank on a slower or interrupted core takes fewer). Models call it through
   * `sumOverRows` (models/row-sums.ts), which does the plain local pass plus one all-reduce elsewhere.
   */
  readonly sumRows?: RowSummer;
  /**
   * The fit settings the model reads itself (FitOptions minus what the runtime consumes), the same
   * on every rank and in every paradigm: runtime/job.ts passes them through untouched.
   */
  readonly options?: Readonly<ModelFitOptions>;
  /** The model's registry name and hyperparameters, written into checkpoints and checked on resume. */
  readonly model?: { readonly name: string; readonly params: object };
  /**
   * The sorted class values agreed before training, where a rank cannot learn them from its peers: a
   * federated client's rows may lack classes the federation has, yet every client must build the
   * same output layer. Classifiers take them instead of discovering the classes by all-reduce.
   */
  readonly classes?: Float64Array;
  /** Called by a trainer that honours `options.checkpoint` (the runtime warns when none did). */
  acceptCheckpoints?(): void;
  /** Elastic recovery (runtime/elastic.ts): where to resume, and the step-boundary snapshots. */
  readonly recovery?: RecoveryHooks;
}

/**
 * The state of a synchronous SGD run at a step boundary (the same on every rank): what a re-formed
 * world continues from after a lost rank (runtime/elastic.ts), and what a checkpoint file holds.
 */
export interface TrainingSnapshot {
  params: Float64Array;
  epoch: number;
  /** First position in the epoch's batch order not yet trained. */
  position: number;
  step: number;
  rng: Record<string, number[]>;
  optimizer?: { arrays: Record<string, Float64Array>; scalars: Record<string, number> };
}

/**
 * The runtime's hooks into a synchronous training loop for elastic recovery (runtime/elastic.ts).
 * `take` returns views of the loop's live state: a hook that keeps a snapshot copies it.
 */
export interface RecoveryHooks {
  /** Continue from this state instead of the initial parameters (a re-formed world). */
  readonly resume?: TrainingSnapshot;
  /** After every step of a synchronous strategy, after every epoch of an asynchronous one: the state at that boundary. */
  stepDone?(take: () => TrainingSnapshot): void;
  /** The loop has restored its state and is about to take its first batch. */
  started?(): void;
  /**
   * At the boundary before epoch `epoch` (never after the last), on every rank, after `stepDone`:
   * where newcomers join (runtime/elastic-growth.ts). It may throw to end the generation there.
   */
  epochDone?(epoch: number): Promise<void>;
}

export interface SharedRows {
  /** All ranks' rows in rank order: the shards, concatenated. */
  readonly data: Dataset;
  /** Index in `data` of this rank's first row. */
  readonly first: number;
  /** Every rank's first row in `data`, in rank order, then `data.rows` (size + 1 numbers). */
  readonly shardStarts?: readonly number[];
  /**
   * A zeroed array of `length` elements that every rank of the job reads and writes, where the
   * kernels run over it in place: per-row state a model keeps from one row pass to the next when any
   * rank may take any chunk of `data` (TrainContext.sumRows), such as k-means' labels and bounds.
   * Collective: every rank calls it, in the same order, with the same arguments, and gets the same
   * array. It lives until the job ends (the runtime frees it then). Resolves to undefined on every
   * rank when there is no room; absent where the ranks do not share the kernels' memory.
   */
  readonly zeros?: <K extends keyof ResidentTypes>(type: K, length: number) => Promise<ResidentTypes[K] | undefined>;
}

/**
 * Adds the terms of rows `start` … `start + count − 1` of `data` into `out` (width numbers, zeroed,
 * in the kernels' memory when they are WASM: kernels add into it in place): one chunk of a row pass.
 * It must depend only on those rows (no state carried from chunk to chunk), as chunks may be taken
 * in any order and by any rank.
 */
export type RowAccumulator = (data: Dataset, start: number, count: number, out: Float64Array) => void;

/**
 * Σ of `accumulate` over every rank's rows, `width` numbers, identical on every rank
 * (TrainContext.sumRows); undefined when this pass is better done as the plain local pass plus an
 * all-reduce (one rank, few rows, a very wide pass), which `sumOverRows` then does. Every rank gets
 * the same answer for the same pass.
 */
export type RowSummer = (width: number, accumulate: RowAccumulator) => Promise<Float64Array> | undefined;

/** What a launcher needs of a model: its registry name, hyperparameters and SPMD trainer. */
export interface Trainable<State> {
  readonly name: string;
  readonly params: object;
  train(shard: Dataset, context: TrainContext): Promise<State>;
}
