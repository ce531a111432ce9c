// The one rank body (runtime/rank.ts) seen from every paradigm that runs on this machine: fit
// settings the runtime does not consume reach the model's TrainContext.options untouched on every
// rank, every paradigm accounts compute, communication and CPU per rank the same way, a setting
// that cannot cross a thread or process boundary is refused by name, and a rank's failure report
// becomes the caller's error naming the peer it blames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { CommError, ConfigError, WorkerError } from '../../src/core/errors.js';
import { Dataset } from '../../src/data/dataset.js';
import type { FitOptions, Paradigm } from '../../src/models/paradigm.js';
import { rankFailure } from '../../src/runtime/job.js';
import { errorReport } from '../../src/runtime/rank.js';
import { OptionsModel } from './fixtures/fixture-models.js';

const workerModules = [new URL('./fixtures/fixture-models.js', import.meta.url).href];
const data = new Dataset({ x: Float64Array.from({ length: 20 }, (_, i) => i), rows: 10, cols: 2, y: new Float64Array(10) });
/** Settings other parts of shardlearn may add to FitOptions (a codec, a checkpoint policy); not checked by the estimator. */
const extra = { codec: 'fp16', experiment: { tags: ['a', 'b'] }, checkpoint: { everySteps: 10, dir: '/tmp/x' } };

const cases: { paradigm: Paradigm; workers: number }[] = [
  { paradigm: 'sequential', workers: 1 },
  { paradigm: 'threads', workers: 2 },
  { paradigm: 'processes', workers: 2 },
];

for (const { paradigm, workers } of cases) {
  test(`${paradigm}×${workers}: extra fit settings reach TrainContext.options on every rank; compute, communication and CPU are accounted per rank`, async () => {
    const options = { paradigm, ...(workers > 1 ? { workers, workerModules } : {}), timeoutMs: 30_000, ...extra } as FitOptions;
    const model = await new OptionsModel().fit(data, options);
    assert.deepEqual(model.state.options, extra, 'the runtime passes them untouched and keeps its own settings out');
    assert.equal(model.state.ranksAgreeing, workers, 'every rank saw the same options');
    const info = model.fitInfo!;
    assert.equal(info.comm.length, workers);
    assert.equal(info.computeMs?.length, workers);
    info.computeMs!.forEach((ms, rank) => assert.ok(Number.isFinite(ms) && ms >= 0, `rank ${rank} compute ${ms} ms`));
    assert.equal(info.cpuMs?.length, workers, 'CPU ms per rank (Linux)');
    info.cpuMs!.forEach((ms, rank) => assert.ok(Number.isFinite(ms) && ms >= 0, `rank ${rank} CPU ${ms} ms`));
  });
}

test('a fit setting that cannot cross to the ranks (a function) is refused, naming it', async () => {
  const options = { paradigm: 'threads', workers: 2, workerModules, codec: () => 'fp16' } as unknown as FitOptions;
  await assert.rejects(
    new OptionsModel().fit(data, options),
    (error: unknown) => error instanceof ConfigError && error.field === 'codec' && /codec/.test(error.message),
  );
});

test('an unknown source.scale is refused before any worker starts, naming the field', async () => {
  const source = { spec: 'synthetic:regression?rows=50&cols=2&seed=1', scale: 'zscore' } as unknown as NonNullable<FitOptions['source']>;
  await assert.rejects(
    new OptionsModel().fit(data, { paradigm: 'processes', workers: 2, workerModules, source }),
    (error: unknown) => error instanceof ConfigError && error.field === 'source.scale' && /standardize, minmax/.test(error.message),
  );
});

test("a rank's report becomes the caller's error: a timeout names the silent peer and who reports it; an own error keeps the rank and stack", () => {
  const silent = rankFailure(errorReport(2, new CommError('TIMEOUT', 'no message from rank 1 for 500 ms', { rank: 1, host: '10.0.0.2' })));
  assert.ok(silent instanceof CommError);
  assert.equal(silent.code, 'TIMEOUT');
  assert.equal(silent.rank, 1);
  assert.equal(silent.host, '10.0.0.2');
  assert.match(silent.message, /^worker rank 2 reports: no message from rank 1/);
  const named = rankFailure(errorReport(0, new CommError('TIMEOUT', 'rank 0 waited 500 ms in allReduce for rank 1', { rank: 1 })));
  assert.equal(named.message, 'rank 0 waited 500 ms in allReduce for rank 1', 'a message that names its reporter is kept');
  const own = rankFailure(errorReport(1, new RangeError('bad row 7')));
  assert.ok(own instanceof WorkerError);
  assert.equal(own.rank, 1);
  assert.match(own.message, /worker rank 1 failed: bad row 7/);
  assert.match(own.stack ?? '', /at rank 1:\nRangeError: bad row 7/);
});
