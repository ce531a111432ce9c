// The pipeline's pure logic: the GPipe and 1F1B schedules' dependency rules and memory, micro-batch cutting, and the
// stage partition (checked against brute force over every cut).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { layerCosts, partitionStages } from '../../src/models/neural/pipeline/partition.js';
import {
  PIPELINE_SCHEDULES,
  bubbleFraction,
  microBatchSizes,
  peakStoredMicroBatches,
  pipelineTimeline,
  stageOperations,
} from '../../src/models/neural/pipeline/schedule.js';

test('schedules (GPipe and 1F1B): each micro-batch goes forward through stages in order, backward in reverse, forward before backward on every stage; one pass per stage per tick', () => {
  for (const schedule of PIPELINE_SCHEDULES)
    for (let stages = 1; stages <= 4; stages++) {
      for (let microBatches = 1; microBatches <= 6; microBatches++) {
        const timeline = pipelineTimeline(stages, microBatches, schedule);
        assert.equal(timeline.length, 2 * stages * microBatches);
        const tick = (kind: 'forward' | 'backward', stage: number, m: number): number =>
          timeline.find((op) => op.kind === kind && op.stage === stage && op.microBatch === m)!.tick;
        for (let m = 0; m < microBatches; m++) {
          for (let s = 0; s < stages; s++) {
            assert.ok(tick('forward', s, m) < tick('backward', s, m), `S=${stages} M=${microBatches}: F${m} before B${m} on stage ${s}`);
            if (s > 0) assert.ok(tick('forward', s - 1, m) < tick('forward', s, m), `forward ${m} reaches stage ${s} after stage ${s - 1}`);
            if (s < stages - 1)
              assert.ok(tick('backward', s + 1, m) < tick('backward', s, m), `backward ${m} reaches stage ${s} after stage ${s + 1}`);
          }
          assert.ok(tick('forward', stages - 1, m) < tick('backward', stages - 1, m));
        }
        for (let s = 0; s < stages; s++) {
          const ticks = timeline.filter((op) => op.stage === s).map((op) => op.tick);
          assert.equal(new Set(ticks).size, ticks.length, `stage ${s} runs one pass per tick`);
        }
        const span = Math.max(...timeline.map((op) => op.tick)) + 1;
        assert.equal(span, 2 * (microBatches + stages - 1));
        // Idle ticks of one stage over the span: the bubble fraction.
        assert.ok(Math.abs((span - 2 * microBatches) / span - bubbleFraction(stages, microBatches)) < 1e-12);
      }
    }
});

test('GPipe ticks are the closed form: forward m on stage s at s + m, backward at (M + S − 1) + (S − 1 − s) + (M − 1 − m)', () => {
  for (let stages = 1; stages <= 4; stages++) {
    for (let microBatches = 1; microBatches <= 6; microBatches++) {
      for (const op of pipelineTimeline(stages, microBatches, 'gpipe')) {
        const expected =
          op.kind === 'forward'
            ? op.stage + op.microBatch
            : microBatches + stages - 1 + (stages - 1 - op.stage) + (microBatches - 1 - op.microBatch);
        assert.equal(op.tick, expected, `S=${stages} M=${microBatches} ${op.kind} ${op.microBatch} on stage ${op.stage}`);
      }
    }
  }
});

test('1F1B: warm-up forwards, then one forward and one backward, then the drain; stage s stores min(S − s, M) micro-batches, GPipe M', () => {
  const ops = (stages: number, microBatches: number, stage: number): string[] =>
    stageOperations(stages, microBatches, stage, '1f1b').map((op) => `${op.kind[0]}${op.microBatch}`);
  assert.deepEqual(ops(3, 4, 0), ['f0', 'f1', 'f2', 'b0', 'f3', 'b1', 'b2', 'b3']);
  assert.deepEqual(ops(3, 4, 1), ['f0', 'f1', 'b0', 'f2', 'b1', 'f3', 'b2', 'b3']);
  assert.deepEqual(ops(3, 4, 2), ['f0', 'b0', 'f1', 'b1', 'f2', 'b2', 'f3', 'b3']);
  for (let stages = 1; stages <= 5; stages++) {
    for (let microBatches = 1; microBatches <= 8; microBatches++) {
      for (let stage = 0; stage < stages; stage++) {
        assert.equal(peakStoredMicroBatches(stageOperations(stages, microBatches, stage, '1f1b')), Math.min(stages - stage, microBatches));
        assert.equal(peakStoredMicroBatches(stageOperations(stages, microBatches, stage, 'gpipe')), microBatches);
      }
    }
  }
});

test('schedule: a stage runs forwards 0…M−1 then backwards M−1…0 (GPipe)', () => {
  const ops = stageOperations(3, 4, 1).map((op) => `${op.kind[0]}${op.microBatch}`);
  assert.deepEqual(ops, ['f0', 'f1', 'f2', 'f3', 'b3', 'b2', 'b1', 'b0']);
  assert.throws(() => stageOperations(3, 4, 3), RangeError);
  assert.throws(() => pipelineTimeline(0, 4), RangeError);
  assert.equal(bubbleFraction(2, 4), 0.2);
});

test('micro-batches: consecutive, as even as possible, larger first, never empty', () => {
  assert.deepEqual(microBatchSizes(10, 4), [3, 3, 2, 2]);
  assert.deepEqual(microBatchSizes(64, 4), [16, 16, 16, 16]);
  assert.deepEqual(microBatchSizes(3, 4), [1, 1, 1]);
  assert.deepEqual(microBatchSizes(0, 4), []);
  for (let rows = 1; rows < 40; rows++) {
    for (let m = 1; m < 9; m++) {
      const sizes = microBatchSizes(rows, m);
      assert.equal(
        sizes.reduce((a, b) => a + b, 0),
        rows,
      );
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1 && Math.min(...sizes) >= 1);
    }
  }
});

/** The smallest largest-stage cost over every way to cut `costs` into `stages` non-empty runs. */
function bruteForce(costs: number[], stages: number): number {
  if (stages === 1) return costs.reduce((a, b) => a + b, 0);
  let best = Infinity;
  for (let cut = 1; cut <= costs.length - stages + 1; cut++) {
    const head = costs.slice(0, cut).reduce((a, b) => a + b, 0);
    best = Math.min(best, Math.max(head, bruteForce(costs.slice(cut), stages - 1)));
  }
  return best;
}

test('partition: consecutive non-empty stages covering every layer, with the brute-force optimum of the largest stage cost', () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.int(8);
    const costs = Array.from({ length: n }, () => 1 + rng.int(100));
    const stages = 1 + rng.int(n);
    const ranges = partitionStages(costs, stages);
    assert.equal(ranges.length, stages);
    assert.equal(ranges[0]!.start, 0);
    assert.equal(ranges[stages - 1]!.end, n);
    for (let s = 0; s < stages; s++) {
      assert.ok(ranges[s]!.end > ranges[s]!.start, 'non-empty');
      if (s > 0) assert.equal(ranges[s]!.start, ranges[s - 1]!.end, 'consecutive');
    }
    const largest = Math.max(...ranges.map(({ start, end }) => costs.slice(start, end).reduce((a, b) => a + b, 0)));
    assert.equal(largest, bruteForce(costs, stages), `costs ${costs.join(',')} in ${stages}`);
  }
  assert.throws(
    () => partitionStages([1, 2], 3),
    (e: unknown) => e instanceof ConfigError && e.field === 'workers' && /at least 3 layers/.test(e.message),
  );
});

test('layer costs are multiply-adds per row: dense = weights + biases, conv = parameters × output positions', () => {
  const mlp = layerCosts([{ type: 'dense', units: 128 }, { type: 'relu' }, { type: 'dense', units: 10 }], [784], 'float64');
  assert.deepEqual(mlp, [784 * 128 + 128, 128, 128 * 10 + 10]);
  const cnn = layerCosts(
    [
      { type: 'conv2d', filters: 32, kernelSize: 5, stride: 1, padding: 0 },
      { type: 'maxPool2d', size: 2, stride: 2 },
    ],
    [28, 28, 1],
    'float64',
  );
  assert.deepEqual(cnn, [(25 * 32 + 32) * 24 * 24, 24 * 24 * 32]);
});
