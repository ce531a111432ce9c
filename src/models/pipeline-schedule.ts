/**
 * The GPipe schedule (Huang et al., 2019) as pure logic: which micro-batch's forward or backward
 * pass runs on which pipeline stage at which clock tick. No communication, no arithmetic — the stage
 * runner (pipeline-trainer.ts) walks `stageOperations` for its own stage, and the tests check the
 * dependency rules on `pipelineTimeline` directly.
 *
 * With S stages and M micro-batches, stage s runs forward m at tick s + m (the activations of m
 * reach stage s one tick after stage s − 1 produced them), and all forwards finish at tick
 * M + S − 2. Backwards run in reverse: the last stage starts with micro-batch M − 1 at tick M + S − 1,
 * and stage s runs backward m at tick (M + S − 1) + (S − 1 − s) + (M − 1 − m). Each stage is idle
 * for 2(S − 1) of its 2(M + S − 1) ticks: the bubble fraction (S − 1) / (M + S − 1) of the paper.
 *
 * @example
 * stageOperations(2, 3, 1);
 * // [F0, F1, F2, B2, B1, B0] as { kind, microBatch } objects
 * bubbleFraction(2, 4); // 0.2
 */

export type PassKind = 'forward' | 'backward';

export interface PipelineOperation {
  readonly kind: PassKind;
  readonly microBatch: number;
  readonly stage: number;
  /** Clock tick of the idealised schedule (every pass takes one tick). */
  readonly tick: number;
}

/** Every operation of one mini-batch on every stage, sorted by tick then stage. */
export function pipelineTimeline(stages: number, microBatches: number): PipelineOperation[] {
  checkCounts(stages, microBatches);
  const operations: PipelineOperation[] = [];
  const forwardTicks = microBatches + stages - 1;
  for (let stage = 0; stage < stages; stage++) {
    for (let m = 0; m < microBatches; m++) {
      operations.push({ kind: 'forward', microBatch: m, stage, tick: stage + m });
      operations.push({ kind: 'backward', microBatch: m, stage, tick: forwardTicks + (stages - 1 - stage) + (microBatches - 1 - m) });
    }
  }
  return operations.sort((a, b) => a.tick - b.tick || a.stage - b.stage);
}

/** The operations stage `stage` runs, in order: forwards 0…M−1, then backwards M−1…0. */
export function stageOperations(stages: number, microBatches: number, stage: number): PipelineOperation[] {
  if (!Number.isInteger(stage) || stage < 0 || stage >= stages) throw new RangeError(`stage must be an integer in 0..${stages - 1}, got ${stage}`);
  return pipelineTimeline(stages, microBatches).filter((operation) => operation.stage === stage);
}

/** Idle share of each stage's ticks in the idealised schedule: (S − 1) / (M + S − 1). */
export function bubbleFraction(stages: number, microBatches: number): number {
  checkCounts(stages, microBatches);
  return (stages - 1) / (microBatches + stages - 1);
}

/**
 * Sizes of the micro-batches a batch of `rows` rows is cut into: min(microBatches, rows) pieces,
 * as even as possible, the larger ones first (10 rows in 4 → [3, 3, 2, 2]). Consecutive rows of the
 * batch go to the same micro-batch, so their concatenation is the batch in its order.
 */
export function microBatchSizes(rows: number, microBatches: number): number[] {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
  checkCounts(1, microBatches);
  const pieces = Math.min(microBatches, rows);
  const base = Math.floor(rows / Math.max(pieces, 1));
  const extra = rows - base * pieces;
  return Array.from({ length: pieces }, (_, i) => base + (i < extra ? 1 : 0));
}

function checkCounts(stages: number, microBatches: number): void {
  if (!Number.isInteger(stages) || stages < 1) throw new RangeError(`stages must be a positive integer, got ${stages}`);
  if (!Number.isInteger(microBatches) || microBatches < 1) throw new RangeError(`microBatches must be a positive integer, got ${microBatches}`);
}
