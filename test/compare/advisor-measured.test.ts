// The advisor against real measurements: a small comparison (sequential, threads, processes; logistic
// regression by SGD, which all-reduces every step) is run here, the cost model is calibrated on it,
// and the advisor's picks must be what was measured fastest (within noise); one more processes run behind a shaped
// link (2 ms, 100 Mbit/s) checks the advisor's capped-link prediction. Then `shardlearn advise` reads the same
// runs back from a DuckDB file and gives the same advice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { advise, algorithmFor, calibrateFromRuns, validateAdvisor } from '../../src/compare/advisor.js';
import type { Advice, AdviseRequest } from '../../src/compare/advisor.js';
import { workloadOf } from '../../src/compare/cost-model.js';
import { parseMatrix } from '../../src/compare/matrix.js';
import type { RunRecord } from '../../src/compare/record.js';
import { runMatrix } from '../../src/compare/runner.js';
import { spread } from '../../src/compare/stats.js';
import { ResultsStore } from '../../src/compare/store.js';
import { main } from '../../src/cli/main.js';

const PARAMS = { solver: 'sgd', epochs: 2 };
const SMALL = 2500; // 2000 training rows
const LARGE = 20_000; // 16000 training rows
// The shaped link of case (b): the fault proxy adds 2 ms to every chunk in each direction and caps
// each direction at 100 Mbit/s (12.5 MB/s), like a WAN hop between two hosts.
const WAN = { name: 'wan', latencyMs: 2, bandwidthMbit: 100, seed: 1 };

/** A cell's measured wall seconds: the median of its repeats, and their median absolute deviation from it. */
function measured(records: readonly RunRecord[], trainRows: number, paradigm: string): { median: number; spread: number } {
  const walls = spread(
    records.filter((r) => r.status === 'ok' && r.trainRows === trainRows && r.paradigm === paradigm).map((r) => r.wallSeconds),
  );
  assert.ok(walls !== null, `${paradigm} at ${trainRows} rows was measured`);
  return { median: walls.median, spread: walls.mad };
}

const measuredMedian = (records: readonly RunRecord[], trainRows: number, paradigm: string): number =>
  measured(records, trainRows, paradigm).median;

test('the advisor calibrated on a real comparison picks what was measured fastest', async (t) => {
  const matrix = parseMatrix({
    name: 'advisor-check',
    models: [
      {
        name: 'logistic-regression',
        params: PARAMS,
        data: [SMALL, LARGE].map((rows) => `synthetic:classification?rows=${rows}&cols=10&seed=1`),
      },
    ],
    paradigms: ['sequential', 'threads', 'processes'],
    workers: [2],
    strategies: ['allreduce'],
    // Five repeats: each cell's median is then a warm fit's. Of two, the lower was one sample, and a
    // threads or processes fit on 2,000 rows varies 10–50 ms between warm repeats (one fresh-clone CI
    // run in four failed on it: processes measured 43 ms, 11 ms over threads, the fit predicting a tie).
    repeats: 5,
  });
  const result = await runMatrix(matrix, {});
  const records = result.records;
  assert.ok(
    records.every((r) => r.status === 'ok'),
    records.map((r) => r.error).join('; '),
  );
  const calibration = calibrateFromRuns(records);
  // Five repeats per cell: the calibration knows how far one run lands from its cell's median.
  for (const paradigm of ['sequential', 'threads', 'processes'] as const) {
    const fitted = calibration.spread?.[paradigm];
    assert.ok(fitted !== undefined && fitted.fixedSeconds >= 0 && fitted.relative >= 0, `${paradigm}: ${JSON.stringify(fitted)}`);
  }
  const small = records.find((r) => r.trainRows < 5000)!.trainRows;
  const large = records.find((r) => r.trainRows > 5000)!.trainRows;

  // Measured fastest, or within noise of it: 10%, at least 10 ms, and at least the compared cells'
  // spread (the median absolute deviation of their repeats). On warm pools (the runner warms every
  // cell first) threads and processes are a few ms apart at these sizes, either can win, and a warm
  // processes×2 fit on 2,000 rows measured 7 and 46 ms in two repeats on a quiet machine. Measured
  // over 20 such comparisons here: the median of 5 repeats told threads from processes beyond that
  // noise in 3 of 40 cells (in 29 of 30 with a third process busy on one core, where processes are
  // 5–10× slower), so the assertion bites where a measured difference is real.
  const withinNoise = (picked: number, fastest: number, spread: number): boolean =>
    picked <= fastest + Math.max(0.1 * fastest, 0.01, spread);
  /** The advisor's ranking for this model on `rows` rows, 2 workers, all-reduce; on loopback unless `link` caps it. */
  const adviseOn = (rows: number, paradigms?: AdviseRequest['paradigms'], link: Partial<AdviseRequest> = {}): Advice =>
    advise({
      model: 'logistic-regression',
      params: PARAMS,
      rows,
      cols: 10,
      ...(paradigms === undefined ? {} : { paradigms }),
      workers: [2],
      strategies: ['allreduce'],
      ...link,
      calibration,
    });
  /** The advisor's pick between threads and processes on `rows` rows is the measured faster of the two; their medians. */
  const picksMeasuredFaster = (rows: number): { advice: Advice; threads: number; processes: number } => {
    const advice = adviseOn(rows, ['threads', 'processes']);
    const { median: threads, spread: threadsSpread } = measured(records, rows, 'threads');
    const { median: processes, spread: processesSpread } = measured(records, rows, 'processes');
    assert.ok(
      withinNoise(
        advice.best.paradigm === 'threads' ? threads : processes,
        Math.min(threads, processes),
        Math.max(threadsSpread, processesSpread),
      ),
      `${advice.summary}\nmeasured on loopback, ${rows} rows: threads ${threads} s (± ${threadsSpread}), processes ${processes} s (± ${processesSpread})`,
    );
    return { advice, threads, processes };
  };

  // (a) Small data, 2 workers: the advisor's pick between threads and processes is the measured faster.
  const { advice: parallel } = picksMeasuredFaster(small);
  // With sequential in the race, the advisor's overall pick is also the measured fastest (on 2000
  // rows nothing amortises a worker's start-up).
  const all = adviseOn(small);
  const cells = {
    sequential: measured(records, small, 'sequential'),
    threads: measured(records, small, 'threads'),
    processes: measured(records, small, 'processes'),
  };
  // Sequential and threads can tie here (a few ms apart on 2,000 rows), and then either pick is right:
  // the pick must be measured fastest, or within noise of it.
  const fastest = Math.min(...Object.values(cells).map((c) => c.median));
  const picked = cells[all.best.paradigm as keyof typeof cells];
  assert.ok(picked !== undefined, all.summary);
  assert.ok(
    withinNoise(picked.median, fastest, Math.max(...Object.values(cells).map((c) => c.spread))),
    `${all.summary}\nmeasured ${JSON.stringify(cells)}`,
  );

  // (b) Larger data over a capped link (100 Mbit/s, +2 ms per hop): every SGD step is a synchronous
  // 2-hop ring all-reduce, so the model says processes lose mostly on communication. Measured: one
  // processes×2 run behind the shaping proxy (src/runtime/network.ts) against the loopback runs.
  const capped = adviseOn(large, ['threads', 'processes'], {
    bandwidthBytesPerSecond: (WAN.bandwidthMbit * 1e6) / 8,
    latencyMs: WAN.latencyMs,
  });
  // On loopback the pick between the two is the measured faster (within noise).
  const { advice: loopback, threads: threadsLarge, processes: processesLarge } = picksMeasuredFaster(large);
  const processes = capped.options.find((o) => o.paradigm === 'processes')!;
  assert.equal(capped.best.paradigm, 'threads', capped.summary);
  // The capped link's cost shows up as communication (not start-up, which the calibration measures
  // and which grows with the machine's load: 3 s was seen at load 10).
  const loopbackProcesses = loopback.options.find((o) => o.paradigm === 'processes')!;
  assert.ok(
    processes.communicationSeconds > 2 * loopbackProcesses.communicationSeconds,
    `${processes.reasoning}\nloopback: ${loopbackProcesses.reasoning}`,
  );
  assert.ok(processes.totalSeconds > loopbackProcesses.totalSeconds, 'a capped link predicts processes slower than loopback');
  // Measured: one processes×2 run behind the shaping proxy.
  const shapedMatrix = parseMatrix({
    name: 'advisor-check-wan',
    models: [{ name: 'logistic-regression', params: PARAMS, data: [`synthetic:classification?rows=${LARGE}&cols=10&seed=1`] }],
    paradigms: ['processes'],
    workers: [2],
    strategies: ['allreduce'],
    networks: [WAN],
    repeats: 1,
  });
  const shapedRecords = (await runMatrix(shapedMatrix, {})).records;
  assert.ok(
    shapedRecords.every((r) => r.status === 'ok' && r.network === WAN.name),
    shapedRecords.map((r) => r.error).join('; '),
  );
  const shaped = measuredMedian(shapedRecords, large, 'processes');
  // The floor the proxy adds: each all-reduce is 2 sequential hops (reduce-scatter, all-gather), each
  // waiting for a chunk delayed by latencyMs. Only half the floor is asserted, so start-up noise on a
  // shared 2-core machine (±0.5 s per process) cannot flip it.
  const collectives = workloadOf(algorithmFor('logistic-regression', PARAMS, 10), {
    rows: large,
    cols: 10,
    workers: 2,
    strategy: 'allreduce',
  }).collectives;
  const floorSeconds = (collectives * 2 * WAN.latencyMs) / 1000;
  t.diagnostic(
    `processes×2 over ${WAN.latencyMs} ms/${WAN.bandwidthMbit} Mbit: measured ${shaped.toFixed(2)} s (predicted ${processes.totalSeconds.toFixed(2)} s) vs loopback ${processesLarge.toFixed(2)} s (predicted ${loopbackProcesses.totalSeconds.toFixed(2)} s), threads ${threadsLarge.toFixed(2)} s; latency floor ${floorSeconds.toFixed(2)} s over ${collectives} all-reduces`,
  );
  assert.ok(floorSeconds >= 1, `the shaped run has ≥ 1 s of added latency to measure (${collectives} all-reduces)`);
  assert.ok(
    shaped > processesLarge + floorSeconds / 2,
    `measured: processes over the shaped link ${shaped} s, on loopback ${processesLarge} s, latency floor ${floorSeconds} s`,
  );
  assert.ok(shaped > threadsLarge * 3, `measured: processes over the shaped link ${shaped} s, threads ${threadsLarge} s`);

  const validation = validateAdvisor(records);
  t.diagnostic(
    `leave-one-cell-out median relative error ${(validation.medianRelativeError! * 100).toFixed(1)}% over ${validation.cells.length} cells; rank agreement ${validation.rankAgreement}`,
  );
  assert.equal(validation.cells.length, 6);
  // A sanity bound, not a precision claim: each cell predicted from the others within a factor of 2.
  assert.ok(validation.medianRelativeError! < 1, `median relative error ${validation.medianRelativeError}`);

  // The CLI reads the runs back from the results database and gives the same advice.
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-advise-'));
  try {
    const dbPath = join(dir, 'results.duckdb');
    const store = await ResultsStore.open(dbPath);
    try {
      await store.writeSession(result.session);
      for (const record of records) await store.writeRun(record, result.session);
    } finally {
      store.close();
    }
    const lines: string[] = [];
    const code = await main(
      [
        'advise',
        '--model',
        'logistic-regression',
        '--solver',
        'sgd',
        '--epochs',
        '2',
        '--rows',
        String(small),
        '--cols',
        '10',
        '--paradigms',
        'threads,processes',
        '--workers',
        '2',
        '--strategies',
        'allreduce',
        '--db',
        dbPath,
        '--json',
      ],
      (line) => lines.push(line),
    );
    assert.equal(code, 0);
    const cli = JSON.parse(lines.join('')) as {
      best: { label: string; totalSeconds: number };
      calibration: { runs: number; source: string };
    };
    assert.equal(cli.calibration.source, 'runs');
    assert.equal(cli.calibration.runs, records.length);
    assert.equal(cli.best.label, parallel.best.label);
    const text: string[] = [];
    assert.equal(
      await main(
        [
          'advise',
          '--model',
          'logistic-regression',
          '--solver',
          'sgd',
          '--rows',
          '100000',
          '--cols',
          '10',
          '--db',
          dbPath,
          '--bandwidth',
          '100Mbit',
        ],
        (line) => text.push(line),
      ),
      0,
    );
    assert.match(text.join('\n'), /is predicted fastest/);
    assert.ok(text.includes(`calibration: ${records.length} runs in ${dbPath}`), text.join('\n'));
    assert.equal(
      await main(['advise', '--model', 'kmeans', '--rows', '10', '--cols', '2', '--db', join(dir, 'missing.duckdb')], () => undefined),
      2,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
