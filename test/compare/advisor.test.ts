// The advisor's cost model on known inputs (closed form), its calibration recovering parameters from
// records the model itself generated (plus seeded noise), and its validation being exact on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import type { Paradigm } from '../../src/models/paradigm.js';
import { advise, algorithmFor, algorithmOfRun, calibrateFromRuns, validateAdvisor } from '../../src/compare/advisor.js';
import { nonNegativeLeastSquares, repeatSpread } from '../../src/compare/calibrate.js';
import type { Calibration } from '../../src/compare/cost-model.js';
import { DEFAULT_CALIBRATION, computeKey, parseBandwidth, predict, shippingSeconds, workloadOf } from '../../src/compare/cost-model.js';
import type { RunRecord } from '../../src/compare/record.js';
import { record } from './records.js';

const close = (actual: number, expected: number, relative = 1e-9, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected) + 1e-15, `${what} expected ${expected}, found ${actual}`);

test('workload counts: synchronous SGD steps on every rank, Hogwild on its shard, summation once per pass', () => {
  const sgd = { form: 'sgd' as const, passes: 2, workPerCell: 1, batchSize: 64, payloadValues: 11, collectivesPerPass: 1 };
  const sync = workloadOf(sgd, { rows: 1000, cols: 10, workers: 2, strategy: 'allreduce' });
  // ceil(1000 / 64) = 16 steps per epoch, 2 epochs; one all-reduce per step plus the per-epoch loss.
  assert.deepEqual(sync, { rows: 1000, cols: 10, workers: 2, workUnits: 20_000, stepsPerRank: 32, collectives: 34, payloadBytes: 88 });
  const hogwild = workloadOf(sgd, { rows: 1000, cols: 10, workers: 2, strategy: 'hogwild' });
  assert.equal(hogwild.stepsPerRank, 2 * Math.ceil(500 / 64));
  assert.equal(hogwild.collectives, 2, 'only the per-epoch loss all-reduce');
  const alone = workloadOf(sgd, { rows: 1000, cols: 10, workers: 1, strategy: 'allreduce' });
  assert.equal(alone.collectives, 0);
  const kmeans = workloadOf(
    { form: 'summation', passes: 7, workPerCell: 8, batchSize: null, payloadValues: 170, collectivesPerPass: 1 },
    { rows: 500, cols: 20, workers: 4, strategy: 'allreduce' },
  );
  assert.deepEqual([kmeans.workUnits, kmeans.stepsPerRank, kmeans.collectives, kmeans.payloadBytes], [500 * 20 * 8 * 7, 7, 7, 1360]);
});

test('predict: start-up + compute over min(N, cores) + ring all-reduce 2(N−1) hops and 2(N−1)/N bytes', () => {
  const calibration: Calibration = {
    ...DEFAULT_CALIBRATION,
    source: 'runs',
    compute: { m: { secondsPerUnit: 2e-9, secondsPerStep: 1e-5 } },
    // Every rank at the model's own rates (the next test varies them).
    rankCompute: { threads: { factor: 1, fixedSeconds: 0 }, processes: { factor: 1, fixedSeconds: 0 } },
    links: {
      processes: { latencySeconds: 1e-4, secondsPerByte: 1e-9, fixedSeconds: 0.004 },
      threads: { latencySeconds: 2e-5, secondsPerByte: 1e-10 },
    },
    startup: {
      processes: { fixedSeconds: 0.1, perWorkerSeconds: 0.3 },
      threads: { fixedSeconds: 0.05, perWorkerSeconds: 0.1 },
      sequential: { fixedSeconds: 0, perWorkerSeconds: 0 },
    },
  };
  const work = { rows: 1e5, cols: 10, workers: 4, workUnits: 1e7, stepsPerRank: 100, collectives: 50, payloadBytes: 8000 };
  const processes = predict(work, { paradigm: 'processes', workers: 4, cores: 2 }, calibration, 'm');
  close(processes.startupSeconds, 0.1 + 0.3 * 4, 1e-12, 'start-up');
  // 4 ranks on 2 cores: the parallel part runs at 2×, the per-step part is time-shared (×2).
  close(processes.computeSeconds, (2e-9 * 1e7) / 2 + 1e-5 * 100 * 2, 1e-12, 'compute');
  // The per-fit cost once (the first collective waiting for the last rank), then 50 ring all-reduces.
  close(processes.communicationSeconds, 0.004 + 50 * (6 * 1e-4 + 1.5 * 8000 * 1e-9), 1e-12, 'communication');
  close(processes.totalSeconds, processes.startupSeconds + processes.computeSeconds + processes.communicationSeconds);
  const threads = predict(work, { paradigm: 'threads', workers: 4, cores: 8 }, calibration, 'm');
  close(threads.computeSeconds, (2e-9 * 1e7) / 4 + 1e-5 * 100, 1e-12, 'threads compute');
  close(threads.communicationSeconds, 50 * (3 * 2e-5 + 3 * 8000 * 1e-10), 1e-12, 'threads communication');
  // A capped network: the slower of software and wire bandwidth, latencies added; threads unaffected.
  const capped = predict(
    work,
    { paradigm: 'processes', workers: 4, cores: 2, bandwidthBytesPerSecond: 1.25e7, latencySeconds: 1e-3 },
    calibration,
    'm',
  );
  close(capped.communicationSeconds, 0.004 + 50 * (6 * 1.1e-3 + 1.5 * 8000 * 8e-8), 1e-12, 'capped communication');
  // A fit with no collectives pays no per-fit communication cost either.
  assert.equal(
    predict({ ...work, collectives: 0 }, { paradigm: 'processes', workers: 4, cores: 2 }, calibration, 'm').communicationSeconds,
    0,
  );
  close(
    predict(work, { paradigm: 'threads', workers: 4, cores: 8, bandwidthBytesPerSecond: 1 }, calibration, 'm').totalSeconds,
    threads.totalSeconds,
  );
  const sequential = predict({ ...work, workers: 1, collectives: 0 }, { paradigm: 'sequential', workers: 1, cores: 8 }, calibration, 'm');
  close(sequential.totalSeconds, 2e-9 * 1e7 + 1e-5 * 100, 1e-12, 'sequential');
});

test("predict: a paradigm's ranks compute factor × the model's compute + their fixed cost; process ranks pay per byte shipped", () => {
  const calibration: Calibration = {
    ...DEFAULT_CALIBRATION,
    source: 'runs',
    compute: { m: { secondsPerUnit: 2e-9, secondsPerStep: 1e-5, fixedSeconds: 0.004 } },
    rankCompute: { threads: { factor: 1.1, fixedSeconds: 0.001 }, processes: { factor: 1.5, fixedSeconds: 0.01 } },
    links: { processes: { latencySeconds: 1e-4, secondsPerByte: 1e-9 }, threads: { latencySeconds: 2e-5, secondsPerByte: 1e-10 } },
    startup: {
      processes: { fixedSeconds: 0.1, perWorkerSeconds: 0.3, perDataByteSeconds: 3e-9 },
      threads: { fixedSeconds: 0.05, perWorkerSeconds: 0.1 },
      sequential: { fixedSeconds: 0, perWorkerSeconds: 0 },
    },
  };
  const work = { rows: 1e5, cols: 10, workers: 2, workUnits: 1e7, stepsPerRank: 100, collectives: 0, payloadBytes: 8000 };
  const own = (2e-9 * 1e7) / 2 + 1e-5 * 100 + 0.004;
  const sequential = predict({ ...work, workers: 1 }, { paradigm: 'sequential', workers: 1, cores: 2 }, calibration, 'm');
  close(sequential.computeSeconds, 2e-9 * 1e7 + 1e-5 * 100 + 0.004, 1e-12, "sequential: the model's own rates");
  close(predict(work, { paradigm: 'threads', workers: 2, cores: 2 }, calibration, 'm').computeSeconds, 1.1 * own + 0.001, 1e-12, 'threads');
  const processes = predict(work, { paradigm: 'processes', workers: 2, cores: 2 }, calibration, 'm');
  close(processes.computeSeconds, 1.5 * own + 0.01, 1e-12, 'processes compute');
  // Every shard leaves the one launcher: the whole feature matrix, 1e5 × 10 × 8 bytes.
  close(processes.startupSeconds, 0.1 + 0.3 * 2 + 3e-9 * 8e6, 1e-12, 'processes start-up');
  close(
    predict(work, { paradigm: 'threads', workers: 2, cores: 2 }, calibration, 'm').startupSeconds,
    0.05 + 0.1 * 2,
    1e-12,
    'threads ship nothing',
  );
  // Cluster ranks are process ranks (their factor), and each host receives its own shard at once: 1/N of the bytes.
  const cluster = predict({ ...work, workers: 4 }, { paradigm: 'cluster', workers: 4, cores: 2 }, calibration, 'm');
  close(cluster.computeSeconds, 1.5 * ((2e-9 * 1e7) / 4 + 1e-5 * 100 + 0.004) + 0.01, 1e-12, 'cluster compute');
  close(shippingSeconds(work, { paradigm: 'cluster', workers: 4 }, calibration), (3e-9 * 8e6) / 4, 1e-12, 'cluster shipping');
  // A paradigm the runs did not measure takes the default rank speed, as its link and start-up do.
  const unmeasured = predict(work, { paradigm: 'processes', workers: 2, cores: 2 }, { ...calibration, rankCompute: {} }, 'm');
  const fallback = DEFAULT_CALIBRATION.rankCompute!.processes!;
  close(unmeasured.computeSeconds, fallback.factor * own + fallback.fixedSeconds, 1e-12, 'default rank speed');
});

test('parseBandwidth reads bit and byte rates', () => {
  assert.equal(parseBandwidth('1Gbit'), 1.25e8);
  assert.equal(parseBandwidth('100Mbit'), 1.25e7);
  assert.equal(parseBandwidth('10mbps'), 1.25e6);
  assert.equal(parseBandwidth('500MB/s'), 5e8);
  assert.equal(parseBandwidth('8e9'), 1e9);
  assert.equal(parseBandwidth('fast'), null);
  assert.equal(parseBandwidth('0Gbit'), null);
});

test('non-negative least squares: exact on consistent data, clamps a negative coefficient to 0', () => {
  const xs = [
    [1, 2],
    [2, 1],
    [3, 5],
    [4, 0.5],
  ];
  const beta = nonNegativeLeastSquares(
    xs,
    xs.map(([a, b]) => 0.7 * a! + 1.3 * b!),
  );
  close(beta[0]!, 0.7, 1e-9);
  close(beta[1]!, 1.3, 1e-9);
  // y = x0 − x1 has a negative coefficient: the best β ≥ 0 keeps x0 only, β0 = Σx0·y / Σx0².
  const ys = xs.map(([a, b]) => a! - b!);
  const clamped = nonNegativeLeastSquares(xs, ys);
  assert.equal(clamped[1], 0);
  close(clamped[0]!, xs.reduce((s, [a], i) => s + a! * ys[i]!, 0) / xs.reduce((s, [a]) => s + a! * a!, 0), 1e-9);
});

/** Records generated by the cost model itself with known parameters, times (1 + noise·N(0,1)). */
function syntheticRuns(truth: Calibration, noise: number, seed = 7): RunRecord[] {
  const rng = new Rng(seed);
  const jitter = (): number => 1 + noise * rng.normal();
  const runs: RunRecord[] = [];
  const models = [
    // Sizes chosen so every parameter moves the times by well over the noise: 50 columns make the
    // per-row work of SGD visible beside its per-step cost, and k-means' 16 × 200 statistic (25.7 kB)
    // is 63× logistic's 408 B payload, which separates bandwidth from latency.
    { model: 'logistic-regression', params: { solver: 'sgd', epochs: 2 }, cols: 50, iterations: 2 },
    { model: 'kmeans', params: { k: 16 }, cols: 200, iterations: 9 },
    // PCA's one all-reduce of a 201² statistic (323 kB) makes the per-byte cost tell from the per-fit
    // one: on k-means and SGD alone, bytes were ≤ 10% of processes' communication, and a 2% noise
    // moved the fitted per-byte cost by up to 45%.
    { model: 'pca', params: {}, cols: 200, iterations: 1 },
  ];
  for (const spec of models) {
    for (const rows of [2000, 20_000, 60_000]) {
      for (const [paradigm, workers] of [
        ['sequential', 1],
        ['threads', 2],
        ['threads', 4],
        ['processes', 2],
        ['processes', 4],
      ] as [Paradigm, number][]) {
        for (let repeat = 0; repeat < 2; repeat++) {
          const history = Array.from({ length: spec.iterations }, (_, i) => ({
            elapsedMs: i,
            iteration: i + 1,
            total: spec.iterations,
            loss: 1,
          }));
          const base = record({
            model: spec.model,
            params: spec.params,
            data: `synthetic:x?rows=${rows}&cols=${spec.cols}`,
            paradigm,
            workers,
            wallSeconds: 1,
            trainRows: rows,
            cols: spec.cols,
            history,
            repeat,
          });
          const algorithm = algorithmOfRun(base);
          const work = workloadOf(algorithm, { rows, cols: spec.cols, workers, strategy: 'allreduce' });
          const p = predict(work, { paradigm, workers, cores: 2 }, truth, computeKey(spec.model, algorithm.form));
          const computeMs = p.computeSeconds * 1000 * jitter();
          const commMs = p.communicationSeconds * 1000 * jitter();
          runs.push({ ...base, computeMs, commMs, wallSeconds: p.startupSeconds * jitter() + (computeMs + commMs) / 1000 });
        }
      }
    }
  }
  return runs;
}

const TRUTH: Calibration = {
  ...DEFAULT_CALIBRATION,
  source: 'runs',
  compute: {
    'logistic-regression/sgd': { secondsPerUnit: 3e-9, secondsPerStep: 2.5e-5, fixedSeconds: 0.003 },
    kmeans: { secondsPerUnit: 1.5e-9, secondsPerStep: 1e-3, fixedSeconds: 0.02 },
    pca: { secondsPerUnit: 1e-9, secondsPerStep: 0, fixedSeconds: 0.005 },
  },
  // As measured (docs/notes/advisor.md): thread ranks near the sequential speed, process ranks slower.
  rankCompute: { threads: { factor: 1.1, fixedSeconds: 0.002 }, processes: { factor: 1.5, fixedSeconds: 0.01 } },
  links: {
    threads: { latencySeconds: 1.5e-4, secondsPerByte: 2e-9, fixedSeconds: 0.002 },
    processes: { latencySeconds: 6e-4, secondsPerByte: 1e-8, fixedSeconds: 0.008 },
  },
  startup: {
    sequential: { fixedSeconds: 0.001, perWorkerSeconds: 0 },
    threads: { fixedSeconds: 0.04, perWorkerSeconds: 0.1 },
    processes: { fixedSeconds: 0.2, perWorkerSeconds: 0.35, perDataByteSeconds: 3e-9 },
  },
};

test('calibration recovers the parameters that generated the runs (2% noise)', () => {
  const fitted = calibrateFromRuns(syntheticRuns(TRUTH, 0.02), 2);
  assert.equal(fitted.source, 'runs');
  for (const key of ['logistic-regression/sgd', 'kmeans']) {
    close(fitted.compute[key]!.secondsPerUnit, TRUTH.compute[key]!.secondsPerUnit, 0.1, `${key} rate`);
    close(fitted.compute[key]!.secondsPerStep, TRUTH.compute[key]!.secondsPerStep, 0.1, `${key} step`);
    close(fitted.compute[key]!.fixedSeconds!, TRUTH.compute[key]!.fixedSeconds!, 0.15, `${key} fixed`);
  }
  for (const paradigm of ['threads', 'processes'] as const) {
    close(fitted.rankCompute![paradigm]!.factor, TRUTH.rankCompute![paradigm]!.factor, 0.05, `${paradigm} rank factor`);
    close(fitted.rankCompute![paradigm]!.fixedSeconds, TRUTH.rankCompute![paradigm]!.fixedSeconds, 0.3, `${paradigm} rank fixed`);
  }
  close(fitted.startup.processes!.perDataByteSeconds!, TRUTH.startup.processes!.perDataByteSeconds!, 0.1, 'processes start-up per byte');
  assert.equal(fitted.startup.threads!.perDataByteSeconds, undefined, 'threads share memory: nothing shipped');
  for (const paradigm of ['threads', 'processes'] as const) {
    close(fitted.links[paradigm]!.latencySeconds, TRUTH.links[paradigm]!.latencySeconds, 0.1, `${paradigm} latency`);
    close(fitted.links[paradigm]!.secondsPerByte, TRUTH.links[paradigm]!.secondsPerByte, 0.15, `${paradigm} s/byte`);
    close(fitted.links[paradigm]!.fixedSeconds!, TRUTH.links[paradigm]!.fixedSeconds!, 0.3, `${paradigm} per-fit communication`);
    close(fitted.startup[paradigm]!.fixedSeconds, TRUTH.startup[paradigm]!.fixedSeconds, 0.25, `${paradigm} fixed start-up`);
    close(fitted.startup[paradigm]!.perWorkerSeconds, TRUTH.startup[paradigm]!.perWorkerSeconds, 0.1, `${paradigm} start-up per worker`);
  }
  assert.equal(fitted.passes.kmeans, 9, "k-means iterations from the runs' histories");
  assert.equal(fitted.passes['logistic-regression'], undefined, 'SGD epochs come from the parameters, not the history');
});

test("calibration fits each cell at its repeats' medians: a cold repeat in every cell moves nothing", () => {
  // Three repeats per cell: the model's own times twice, and a first repeat 4× slower in every part,
  // as a cold first repeat measures on a shared machine. Fitted at the cells' medians, the calibration
  // is the noiseless one; fitted run by run, the cold repeats pulled every rate and latency up.
  const clean = syntheticRuns(TRUTH, 0).filter((r) => r.repeat === 0);
  const cold = (r: RunRecord): RunRecord => ({ ...r, wallSeconds: 4 * r.wallSeconds, computeMs: 4 * r.computeMs, commMs: 4 * r.commMs });
  const repeated = clean.flatMap((r) => [cold(r), { ...r, repeat: 1, runId: `${r.runId}-1` }, { ...r, repeat: 2, runId: `${r.runId}-2` }]);
  const expected = calibrateFromRuns(clean, 2);
  const fitted = calibrateFromRuns(repeated, 2);
  assert.equal(fitted.runs, 3 * clean.length, 'every run counted');
  for (const key of ['logistic-regression/sgd', 'kmeans']) {
    close(fitted.compute[key]!.secondsPerUnit, expected.compute[key]!.secondsPerUnit, 1e-6, `${key} rate`);
    close(fitted.compute[key]!.secondsPerStep, expected.compute[key]!.secondsPerStep, 1e-6, `${key} step`);
  }
  for (const paradigm of ['threads', 'processes'] as const) {
    close(fitted.links[paradigm]!.latencySeconds, expected.links[paradigm]!.latencySeconds, 1e-6, `${paradigm} latency`);
    close(fitted.links[paradigm]!.fixedSeconds!, expected.links[paradigm]!.fixedSeconds!, 1e-6, `${paradigm} per-fit communication`);
    close(fitted.startup[paradigm]!.perWorkerSeconds, expected.startup[paradigm]!.perWorkerSeconds, 1e-6, `${paradigm} start-up`);
    close(fitted.rankCompute![paradigm]!.factor, TRUTH.rankCompute![paradigm]!.factor, 1e-3, `${paradigm} rank factor`);
  }
  assert.equal(fitted.passes.kmeans, 9);
});

test('validation: leave-one-cell-out predictions are exact on noiseless model-generated runs', () => {
  const runs = syntheticRuns(TRUTH, 0);
  const validation = validateAdvisor(runs, 2);
  assert.equal(validation.cells.length, 3 * 3 * 5);
  assert.ok(validation.medianRelativeError! < 1e-6, `median error ${validation.medianRelativeError}`);
  assert.equal(validation.rankAgreement, 1);
  // With noise the error grows, and the median is the median of the cells' errors.
  const noisy = validateAdvisor(syntheticRuns(TRUTH, 0.1), 2);
  const errors = noisy.cells.map((c) => c.relativeError).sort((a, b) => a - b);
  close(noisy.medianRelativeError!, errors[22]!, 1e-12);
  assert.ok(noisy.medianRelativeError! > 1e-3);
});

test("validation is honest: a cell's own runs never inform its prediction", () => {
  const runs = syntheticRuns(TRUTH, 0.02);
  const held = runs.find((r) => r.paradigm === 'processes' && r.workers === 4 && r.model === 'kmeans')!.cellId;
  // The held-out cell measured 10× slower in every part: its prediction must not move, the others' must not either.
  const slowed = runs.map((r) =>
    r.cellId === held ? { ...r, wallSeconds: r.wallSeconds * 10, computeMs: r.computeMs * 10, commMs: r.commMs * 10 } : r,
  );
  const before = validateAdvisor(runs, 2).cells;
  const after = validateAdvisor(slowed, 2).cells;
  const predicted = (cells: typeof before, id: string): number => cells.find((c) => c.cellId === id)!.predictedSeconds;
  close(predicted(after, held), predicted(before, held), 1e-12, 'held-out cell');
  close(after.find((c) => c.cellId === held)!.measuredSeconds, 10 * before.find((c) => c.cellId === held)!.measuredSeconds, 1e-12);
  // Every other cell's calibration does include the slowed cell, so at least one of them moves.
  assert.ok(before.some((c) => c.cellId !== held && Math.abs(predicted(after, c.cellId) - c.predictedSeconds) > 1e-6 * c.predictedSeconds));
});

test('advise ranks every option, explains each, and says when its parameters are defaults', () => {
  const advice = advise({ model: 'logistic-regression', params: { solver: 'sgd' }, rows: 100_000, cols: 20, workers: [2, 4], cores: 2 });
  assert.equal(advice.calibration.source, 'defaults');
  assert.match(advice.summary, /DEFAULTS/);
  assert.equal(
    advice.options.length,
    1 + 2 * 2 + 2,
    'sequential; threads × {allreduce, hogwild} × 2 counts; processes × allreduce × 2 counts',
  );
  assert.ok(advice.options.every((o) => o.strategy !== 'hogwild' || o.paradigm === 'threads'));
  assert.deepEqual(
    advice.options.map((o) => o.totalSeconds),
    advice.options.map((o) => o.totalSeconds).sort((a, b) => a - b),
  );
  assert.equal(advice.best.relativeToBest, 1);
  for (const option of advice.options) assert.match(option.reasoning, /start-up .* compute .*(communication|no communication)/);
  // Calibrated: the summary names its runs; k-means takes its iterations from them.
  const calibrated = calibrateFromRuns(syntheticRuns(TRUTH, 0), 2);
  const kmeans = advise({
    model: 'kmeans',
    params: { k: 16 },
    rows: 10_000,
    cols: 200,
    paradigms: ['sequential'],
    calibration: calibrated,
    cores: 2,
  });
  assert.match(kmeans.summary, /calibrated on 90 measured runs/);
  const expected = predict(
    workloadOf(algorithmFor('kmeans', { k: 16 }, 200, 9), { rows: 10_000, cols: 200, workers: 1, strategy: 'allreduce' }),
    { paradigm: 'sequential', workers: 1, cores: 2 },
    calibrated,
    'kmeans',
  );
  close(kmeans.best.totalSeconds, expected.totalSeconds, 1e-12);
  assert.throws(
    () => advise({ model: 'kmeans', rows: 0, cols: 3 }),
    (e: unknown) => e instanceof ConfigError && /'rows' must be a whole number > 0, found 0/.test(e.message),
  );
  assert.throws(() => advise({ model: 'nope', rows: 10, cols: 3 }), ConfigError);
});

test("the repeats' spread: per paradigm, fixed + relative × median fitted to cells of ≥ 3 repeats; the advice calls a gap within it too close to call", () => {
  const cell = (paradigm: Paradigm, rows: number, walls: number[]): RunRecord[] =>
    walls.map((wallSeconds, repeat) =>
      record({
        paradigm,
        workers: paradigm === 'sequential' ? 1 : 2,
        data: `synthetic:blobs?rows=${rows}&cols=2&seed=1`,
        wallSeconds,
        repeat,
      }),
    );
  const runs = [
    // threads: medians 1, 2, 3 s with median absolute deviations 0.15, 0.2, 0.25 s: 0.1 s + 5%
    ...cell('threads', 1000, [1, 0.85, 1.15]),
    ...cell('threads', 2000, [2.2, 2, 1.8, 2, 9]),
    ...cell('threads', 3000, [3, 2.75, 3.25]),
    // processes: one cell of 3 repeats (0.5 s about 4 s: relative alone, 0.125); a cell of 2 repeats does not count
    ...cell('processes', 1000, [4, 4.5, 3]),
    ...cell('processes', 2000, [1, 10]),
    // sequential: only 2 repeats, so no spread
    ...cell('sequential', 1000, [1, 1.5]),
  ];
  const spread = repeatSpread(runs);
  close(spread.threads!.fixedSeconds, 0.1, 1e-9, 'threads fixed');
  close(spread.threads!.relative, 0.05, 1e-9, 'threads relative');
  assert.deepEqual(spread.processes, { fixedSeconds: 0, relative: 0.125 });
  assert.equal(spread.sequential, undefined, 'no cell of sequential had 3 repeats');
  assert.deepEqual(calibrateFromRuns(runs, 2).spread, spread, 'calibration carries it');

  // The advice: threads predicted 1 s, processes 1.15 s. Within the larger spread (0.01 s + 13% of
  // 1.15 s) the summary says so; with smaller spreads, or one of them unmeasured, it does not.
  const calibration: Calibration = {
    ...DEFAULT_CALIBRATION,
    source: 'runs',
    compute: { kmeans: { secondsPerUnit: 0, secondsPerStep: 0, fixedSeconds: 0 } },
    startup: {
      threads: { fixedSeconds: 1, perWorkerSeconds: 0 },
      processes: { fixedSeconds: 1.15, perWorkerSeconds: 0, perDataByteSeconds: 0 },
    },
    links: { threads: { latencySeconds: 0, secondsPerByte: 0 }, processes: { latencySeconds: 0, secondsPerByte: 0 } },
    runs: 1,
    notes: [],
  };
  const summary = (withSpread: Calibration['spread']): string =>
    advise({
      model: 'kmeans',
      rows: 1000,
      cols: 2,
      paradigms: ['threads', 'processes'],
      workers: [2],
      cores: 2,
      calibration: { ...calibration, ...(withSpread === undefined ? {} : { spread: withSpread }) },
    }).summary;
  const tie = /too close to call: the gap is within one run's measured spread \(±(\S+) s/;
  const wide = { threads: { fixedSeconds: 0, relative: 0.1 }, processes: { fixedSeconds: 0.01, relative: 0.13 } };
  const measured = summary(wide).match(tie);
  assert.ok(measured !== null, summary(wide));
  close(Number(measured[1]), 0.1595, 0.01, 'the band: 0.01 s + 0.13 × 1.15 s');
  assert.doesNotMatch(summary({ threads: { fixedSeconds: 0, relative: 0.1 }, processes: { fixedSeconds: 0, relative: 0.12 } }), tie);
  assert.doesNotMatch(summary({ threads: wide.threads }), tie);
  assert.doesNotMatch(summary(undefined), tie);
});
