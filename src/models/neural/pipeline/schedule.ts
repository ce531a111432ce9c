/**
 * Pipeline schedules as pure logic: which micro-batch's forward or backward pass runs on which
 * stage, in which order, at which clock tick. No communication, no arithmetic — the stage runner
 * (neural/pipeline/trainer.ts) walks `stageOperations` for its own stage, and the tests check the
 * dependency rules on `pipelineTimeline` directly.
 *
 * Two schedules, both "flush" schedules (every micro-batch's gradient goes into the same update, so
 * both give the same model as sequential training):
 * - `gpipe` (Huang et al., 2019): every stage runs forwards 0…M−1, then backwards M−1…0. A stage
 *   holds the activations of all M micro-batches at once.
 * - `1f1b` (PipeDream-Flush, Narayanan et al., 2021): stage s runs w = min(S − 1 − s, M) warm-up
 *   forwards, then alternates one forward and one backward, then drains the last w backwards.
 *   Micro-batch m's backward frees its activations before forward m + S − s starts, so stage s holds
 *   at most min(S − s, M) micro-batches — bounded by the stage count, not M.
 *
 * Ticks come from simulating the per-stage orders with unit-time passes: a pass starts one tick
 * after both its stage's previous pass and the pass it depends on (forward m on stage s − 1,
 * backward m on stage s + 1). Both schedules then span 2(M + S − 1) ticks and leave each stage idle
 * for 2(S − 1) of them: the bubble fraction (S − 1) / (M + S − 1). 1F1B saves memory, not time.
 *
 * @example
 * stageOperations(2, 3, 1);          // GPipe: [F0, F1, F2, B2, B1, B0] as { kind, microBatch, … }
 * stageOperations(3, 4, 0, '1f1b');  // [F0, F1, F2, B0, F3, B1, B2, B3]
 * peakStoredMicroBatches(stageOperations(3, 8, 0, '1f1b')); // 3
 * bubbleFraction(2, 4); // 0.2
 */

import type { PipelineSchedule } from './settings.js';

export type { PipelineSchedule };
export type PassKind = 'forward' | 'backward';

/** The schedules a pipeline can run (strategy `pipeline:<m>:gpipe` or `pipeline:<m>:1f1b`). */
export const PIPELINE_SCHEDULES: readonly PipelineSchedule[] = ['gpipe', '1f1b'];

export interface PipelineOperation {
  readonly kind: PassKind;
  readonly microBatch: number;
  readonly stage: number;
  /** Clock tick of the idealised schedule (every pass takes one tick). */
  readonly tick: number;
}

/** The passes of stage `stage`, in the order it runs them (no ticks yet). */
function stageOrder(
  stages: number,
  microBatches: number,
  stage: number,
  schedule: PipelineSchedule,
): { kind: PassKind; microBatch: number }[] {
  const order: { kind: PassKind; microBatch: number }[] = [];
  const forward = (m: number): void => void order.push({ kind: 'forward', microBatch: m });
  const backward = (m: number): void => void order.push({ kind: 'backward', microBatch: m });
  if (schedule === 'gpipe') {
    for (let m = 0; m < microBatches; m++) forward(m);
    for (let m = microBatches - 1; m >= 0; m--) backward(m);
    return order;
  }
  const warmUp = Math.min(stages - 1 - stage, microBatches);
  for (let m = 0; m < warmUp; m++) forward(m);
  for (let m = 0; m < microBatches - warmUp; m++) {
    forward(warmUp + m);
    backward(m);
  }
  for (let m = microBatches - warmUp; m < microBatches; m++) backward(m);
  return order;
}

/** Every operation of one mini-batch on every stage, sorted by tick then stage. */
export function pipelineTimeline(stages: number, microBatches: number, schedule: PipelineSchedule = 'gpipe'): PipelineOperation[] {
  checkCounts(stages, microBatches);
  const orders = Array.from({ length: stages }, (_, s) => stageOrder(stages, microBatches, s, schedule));
  // tickOf[kind][stage][m]; -1 while not placed.
  const tickOf = {
    forward: orders.map(() => new Array<number>(microBatches).fill(-1)),
    backward: orders.map(() => new Array<number>(microBatches).fill(-1)),
  };
  const next = new Array<number>(stages).fill(0);
  const free = new Array<number>(stages).fill(0); // first tick the stage is idle
  const operations: PipelineOperation[] = [];
  for (let placed = 0; placed < 2 * stages * microBatches;) {
    let progressed = false;
    for (let s = 0; s < stages; s++) {
      const pass = orders[s]![next[s]!];
      if (pass === undefined) continue;
      const { kind, microBatch: m } = pass;
      const before =
        kind === 'forward'
          ? s > 0
            ? tickOf.forward[s - 1]![m]!
            : 0
          : s < stages - 1
            ? tickOf.backward[s + 1]![m]!
            : tickOf.forward[s]![m]!;
      const own = kind === 'backward' ? tickOf.forward[s]![m]! : 0;
      if (before < 0 || own < 0) continue; // its input is not computed yet
      const isFirst = kind === 'forward' && s === 0;
      const tick = Math.max(free[s]!, isFirst ? 0 : before + 1, kind === 'backward' ? own + 1 : 0);
      tickOf[kind][s]![m] = tick;
      free[s] = tick + 1;
      next[s]!++;
      operations.push({ kind, microBatch: m, stage: s, tick });
      placed++;
      progressed = true;
    }
    // Cannot happen for the two schedules above; guards a future schedule that waits on itself.
    if (!progressed) throw new Error(`pipeline schedule '${schedule}' deadlocks with ${stages} stages and ${microBatches} micro-batches`);
  }
  return operations.sort((a, b) => a.tick - b.tick || a.stage - b.stage);
}

/** The operations stage `stage` runs, in order (GPipe: forwards 0…M−1, then backwards M−1…0). */
export function stageOperations(
  stages: number,
  microBatches: number,
  stage: number,
  schedule: PipelineSchedule = 'gpipe',
): PipelineOperation[] {
  if (!Number.isInteger(stage) || stage < 0 || stage >= stages)
    throw new RangeError(`stage must be an integer in 0..${stages - 1}, got ${stage}`);
  return pipelineTimeline(stages, microBatches, schedule).filter((operation) => operation.stage === stage);
}

/** Most micro-batches whose forward ran and backward did not yet, over one stage's operations. */
export function peakStoredMicroBatches(operations: readonly { kind: PassKind }[]): number {
  let stored = 0;
  let peak = 0;
  for (const { kind } of operations) {
    stored += kind === 'forward' ? 1 : -1;
    peak = Math.max(peak, stored);
  }
  return peak;
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
  if (!Number.isInteger(microBatches) || microBatches < 1)
    throw new RangeError(`microBatches must be a positive integer, got ${microBatches}`);
}
