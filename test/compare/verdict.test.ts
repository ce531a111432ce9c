// The report's answer on hand-made records with known numbers: who wins, by how much, and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { summarize } from '../../src/compare/summary.js';
import { answers } from '../../src/compare/verdict.js';
import { record } from './records.js';

const small = 'synthetic:blobs?rows=1000&cols=2&seed=1';
const large = 'synthetic:blobs?rows=3000&cols=2&seed=1';

test('per model and size: the fastest paradigm, how much slower the others are, and the part of the time that made them slower', () => {
  const cells = summarize([
    record({ paradigm: 'sequential', wallSeconds: 2, trainSeconds: 2, computeMs: 2000, data: small, trainRows: 1000 }),
    // threads: 0.1 s start-up, 0.2 s communicating, 0.7 s computing
    record({
      paradigm: 'threads',
      workers: 2,
      wallSeconds: 1,
      trainSeconds: 0.9,
      commMs: 200,
      computeMs: 700,
      data: small,
      trainRows: 1000,
    }),
    // a slower threads cell (hogwild) never stands for threads: the fastest cell of each paradigm does
    record({ paradigm: 'threads', workers: 2, strategy: 'hogwild', wallSeconds: 1.5, data: small, trainRows: 1000 }),
    // processes: 1.2 s start-up, 0.5 s communicating, 0.8 s computing → 1.1 s of its 1.5 s gap is start-up
    record({
      paradigm: 'processes',
      workers: 2,
      wallSeconds: 2.5,
      trainSeconds: 1.3,
      commMs: 500,
      computeMs: 800,
      data: small,
      trainRows: 1000,
    }),
    record({ paradigm: 'sequential', wallSeconds: 6, data: large, trainRows: 3000 }),
    record({ paradigm: 'processes', workers: 2, wallSeconds: 4, commMs: 100, computeMs: 3400, data: large, trainRows: 3000 }),
  ]);
  const [kmeans] = answers(cells);
  assert.equal(kmeans!.model, 'kmeans');
  assert.equal(kmeans!.headline, 'threads wins at 1000 rows; processes wins at 3000 rows');
  const [first, second] = kmeans!.sizes;
  assert.equal(first!.winner.paradigm, 'threads');
  assert.equal(first!.winner.strategy, 'allreduce');
  assert.deepEqual(
    first!.rivals.map((r) => r.cell.paradigm),
    ['sequential', 'processes'],
  );
  const processes = first!.rivals[1]!;
  assert.equal(processes.slower, 2.5);
  assert.ok(Math.abs(processes.gap.startupSeconds - 1.1) < 1e-9);
  assert.ok(Math.abs(processes.gap.commSeconds - 0.3) < 1e-9);
  assert.ok(Math.abs(processes.gap.computeSeconds - 0.1) < 1e-9);
  assert.equal(processes.mainCause, 'startupSeconds');
  // sequential: no start-up, no communication, 2 s computing vs 0.7 s → compute
  assert.equal(first!.rivals[0]!.mainCause, 'computeSeconds');
  assert.match(first!.sentence, /^At 1000 training rows, threads×2 allreduce is fastest \(1\.00 s\); sequential 2\.00× slower/);
  assert.match(
    first!.sentence,
    /processes×2 allreduce 2\.50× slower \(2\.50 s\): mostly start-up \(start-up \+1\.10 s, communication \+0\.30 s, compute \+0\.10 s\)/,
  );
  assert.equal(second!.winner.paradigm, 'processes');
  assert.equal(second!.rivals[0]!.slower, 1.5);
});

test('a size where only failed runs exist gives no answer; a lone paradigm says so', () => {
  const cells = summarize([
    record({ paradigm: 'sequential', wallSeconds: 1, data: small, trainRows: 1000 }),
    record({ paradigm: 'threads', workers: 2, wallSeconds: 1, status: 'failed', error: 'boom', data: large, trainRows: 3000 }),
  ]);
  const [kmeans] = answers(cells);
  assert.equal(kmeans!.sizes.length, 1);
  assert.match(kmeans!.sizes[0]!.sentence, /no other paradigm finished at this size/);
});

test('one-worker cells of a parallel paradigm never stand for it: a threads×1 cell faster than sequential does not make threads win', () => {
  const cells = summarize([
    record({ paradigm: 'sequential', wallSeconds: 2, data: small, trainRows: 1000 }),
    record({ paradigm: 'threads', workers: 1, wallSeconds: 1, data: small, trainRows: 1000 }),
    record({ paradigm: 'threads', workers: 2, wallSeconds: 3, data: small, trainRows: 1000 }),
  ]);
  const [size] = answers(cells)[0]!.sizes;
  assert.equal(size!.winner.paradigm, 'sequential');
  assert.deepEqual(
    size!.rivals.map((r) => `${r.cell.paradigm}×${r.cell.workers}`),
    ['threads×2'],
  );
});

test('a measured start-up (FitInfo.startupMs) is used as start-up, and the wall time left over is "other", not start-up', () => {
  const cells = summarize([
    record({ paradigm: 'threads', workers: 2, wallSeconds: 1, commMs: 200, computeMs: 700, startupMs: 50, data: small, trainRows: 1000 }),
    // processes: 0.9 s start-up timed by the paradigm, 0.5 s communicating, 0.8 s computing, 0.3 s else
    record({
      paradigm: 'processes',
      workers: 2,
      wallSeconds: 2.5,
      commMs: 500,
      computeMs: 800,
      startupMs: 900,
      data: small,
      trainRows: 1000,
    }),
  ]);
  const rival = answers(cells)[0]!.sizes[0]!.rivals[0]!;
  assert.equal(rival.cell.paradigm, 'processes');
  assert.ok(Math.abs(rival.gap.startupSeconds - 0.85) < 1e-9, String(rival.gap.startupSeconds));
  assert.ok(Math.abs(rival.gap.otherSeconds - 0.25) < 1e-9, String(rival.gap.otherSeconds));
  assert.ok(Math.abs(rival.gap.commSeconds - 0.3) < 1e-9);
  assert.equal(rival.mainCause, 'startupSeconds');
  assert.match(answers(cells)[0]!.sizes[0]!.sentence, /start-up \+0\.85 s, communication \+0\.30 s, compute \+0\.10 s, other \+0\.25 s/);
});

test("a runner-up within one run's spread of the winner is too close to call, in the sentence and the headline; fewer than 3 runs never are", () => {
  const runs = (paradigm: 'sequential' | 'threads', data: string, trainRows: number, walls: number[]) =>
    walls.map((wallSeconds, repeat) =>
      record({
        paradigm,
        workers: paradigm === 'sequential' ? 1 : 2,
        wallSeconds,
        data,
        trainRows,
        repeat,
        runId: `${paradigm}-${trainRows}-${repeat}`,
      }),
    );
  const cells = summarize([
    // 1000 rows: threads' median 1.0 s (MAD 0.1), sequential's 1.15 s (MAD 0.2): a gap of 0.15 s ≤ 0.2 s
    ...runs('threads', small, 1000, [1, 0.9, 1.1]),
    ...runs('sequential', small, 1000, [1.15, 0.95, 1.4]),
    // 3000 rows: threads 2.0 s (MAD 0.05), sequential 2.5 s (MAD 0.1): a gap of 0.5 s, threads wins
    ...runs('threads', large, 3000, [2, 1.95, 2.05]),
    ...runs('sequential', large, 3000, [2.5, 2.4, 2.6]),
  ]);
  const [kmeans] = answers(cells);
  const [tied, clear] = kmeans!.sizes;
  assert.equal(tied!.rivals[0]!.tooCloseToCall, true);
  assert.ok(Math.abs(tied!.rivals[0]!.spreadSeconds! - 0.2) < 1e-9);
  assert.match(
    tied!.sentence,
    /sequential 1\.15× slower \(1\.15 s\): .*; too close to call: within one run's spread between repeats \(±0\.20 s\)/,
  );
  assert.equal(clear!.rivals[0]!.tooCloseToCall, false);
  assert.doesNotMatch(clear!.sentence, /too close to call/);
  assert.equal(kmeans!.headline, 'threads and sequential are too close to call at 1000 rows; threads wins at 3000 rows');

  // The same medians from 2 runs each: too few to know one run's spread, so the winner is named.
  const two = answers(summarize([...runs('threads', small, 1000, [1, 1]), ...runs('sequential', small, 1000, [1.15, 1.15])]))[0]!;
  assert.equal(two.sizes[0]!.rivals[0]!.spreadSeconds, null);
  assert.equal(two.headline, 'threads wins at 1000 rows');
});
