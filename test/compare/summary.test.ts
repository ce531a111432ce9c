// Summaries and claims on hand-made records with known numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { applyBaselines } from '../../src/compare/baseline.js';
import { crossovers, evaluateClaims } from '../../src/compare/claims.js';
import { cellLabel, summarize, summaryTable } from '../../src/compare/summary.js';
import { codecTableRows } from '../../src/compare/codec-report.js';
import { record } from './records.js';

test('per-cell medians, spread and speedup as a ratio of medians', () => {
  const records = [
    record({ paradigm: 'sequential', wallSeconds: 4 }),
    record({ paradigm: 'sequential', wallSeconds: 6 }),
    record({ paradigm: 'sequential', wallSeconds: 100 }), // one slow outlier: the median ignores it
    record({ paradigm: 'threads', workers: 2, wallSeconds: 2, commMs: 500, bytesSent: 1000 }),
    record({ paradigm: 'threads', workers: 2, wallSeconds: 4, commMs: 1500, bytesSent: 3000 }),
    record({ paradigm: 'threads', workers: 2, wallSeconds: 3, status: 'failed', error: 'boom' }),
  ];
  applyBaselines(records);
  const [sequential, threads] = summarize(records);
  assert.equal(sequential!.wallSeconds!.median, 6);
  assert.equal(sequential!.speedup, 1);
  assert.equal(threads!.runs, 2);
  assert.equal(threads!.failures, 1);
  assert.equal(threads!.wallSeconds!.median, 3);
  assert.equal(threads!.speedup, 2); // 6 / 3
  assert.equal(threads!.efficiency, 1);
  assert.equal(threads!.bytesSent!.median, 2000);
  assert.equal(threads!.commFraction, 1000 / 3000);
  assert.equal(records[3]!.speedup, 3); // per run: 6 / 2
  assert.equal(records[5]!.speedup, null); // failed runs get none
  const text = summaryTable(summarize(records));
  assert.match(text, /threads×2 allreduce/);
  assert.match(text, /2\.00×/);
  assert.match(text, /\(\+1 failed\)/);
});

test('claims: without a distributed paradigm, the distributed claims say "not measured yet"', () => {
  const cells = summarize([
    record({ paradigm: 'sequential', wallSeconds: 4 }),
    record({ paradigm: 'threads', workers: 2, wallSeconds: 2, speedup: null }),
  ]);
  const claims = new Map(evaluateClaims(cells).map((c) => [c.id, c]));
  assert.equal(claims.get('parallel-wins-small')!.verdict, 'not measured yet');
  assert.match(claims.get('parallel-wins-small')!.evidence, /no distributed paradigm/);
  assert.equal(claims.get('distributed-wins-large')!.verdict, 'not measured yet');
  assert.equal(claims.get('multicore-speedup')!.verdict, 'supported'); // 2× on 2 workers
  assert.equal(claims.get('gradient-compression')!.verdict, 'not measured yet');
  // Without fault cells the fault claim says how to get them (fault-cells.ts).
  assert.equal(claims.get('fault-tolerance')!.verdict, 'not measured yet');
  assert.match(claims.get('fault-tolerance')!.evidence, /matrix field `faults`/);
  // Claims whose cells another issue still owes say which.
  assert.equal(claims.get('federated-privacy')!.verdict, 'not measured yet');
  assert.match(claims.get('federated-privacy')!.evidence, /no federated cell/);
});

test('claims: a slowdown contradicts the multi-core claim; hogwild slower than allreduce contradicts the async claim', () => {
  const cells = summarize([
    record({ paradigm: 'sequential', wallSeconds: 1 }),
    record({ paradigm: 'threads', workers: 2, wallSeconds: 2 }),
    record({ paradigm: 'threads', workers: 2, strategy: 'hogwild', wallSeconds: 3, score: 0.8 }),
  ]);
  const claims = new Map(evaluateClaims(cells).map((c) => [c.id, c]));
  assert.equal(claims.get('multicore-speedup')!.verdict, 'contradicted');
  assert.equal(claims.get('async-faster-less-consistent')!.verdict, 'contradicted');
  assert.match(claims.get('async-faster-less-consistent')!.evidence, /accuracy worse by 0\.10/);
  assert.equal(claims.get('same-accuracy')!.verdict, 'supported');
});

test('crossover: distributed overtakes parallel between two measured sizes', () => {
  const small = 'synthetic:blobs?rows=1000&cols=2&seed=1';
  const large = 'synthetic:blobs?rows=3000&cols=2&seed=1';
  const cells = summarize([
    record({ paradigm: 'threads', workers: 2, wallSeconds: 1, data: small, trainRows: 1000, commMs: 100 }),
    record({ paradigm: 'processes', workers: 2, wallSeconds: 3, data: small, trainRows: 1000, commMs: 500 }),
    record({ paradigm: 'threads', workers: 2, wallSeconds: 9, data: large, trainRows: 3000, commMs: 200 }),
    record({ paradigm: 'processes', workers: 2, wallSeconds: 7, data: large, trainRows: 3000, commMs: 900 }),
    // a hogwild threads cell that communicates more than processes: the communication claim compares allreduce with allreduce only
    record({ paradigm: 'threads', workers: 2, strategy: 'hogwild', wallSeconds: 9.5, data: large, trainRows: 3000, commMs: 1000 }),
    // single-worker cells never enter the parallel-vs-distributed comparison
    record({ paradigm: 'processes', workers: 1, wallSeconds: 0.5, data: small, trainRows: 1000 }),
  ]);
  // distributed − parallel: +2 at 1000 rows, −2 at 3000 rows → crossover at 2000 rows
  assert.deepEqual(crossovers(cells), [{ model: 'kmeans', rows: 2000, sizes: [1000, 3000] }]);
  const claims = new Map(evaluateClaims(cells).map((c) => [c.id, c]));
  assert.equal(claims.get('parallel-wins-small')!.verdict, 'supported');
  assert.equal(claims.get('distributed-wins-large')!.verdict, 'supported');
  assert.match(claims.get('distributed-wins-large')!.evidence, /≈2000 rows/);
  assert.equal(claims.get('parallel-less-communication')!.verdict, 'supported');
  assert.match(claims.get('parallel-less-communication')!.evidence, /threads×2 allreduce 200\.0 ms vs processes×2 allreduce 900\.0 ms/);
});

test('claims: parallel staying faster on one host makes the scalability claim "not testable here", on several hosts "contradicted"', () => {
  const small = 'synthetic:blobs?rows=1000&cols=2&seed=1';
  const large = 'synthetic:blobs?rows=3000&cols=2&seed=1';
  const cells = summarize([
    record({ paradigm: 'threads', workers: 2, wallSeconds: 1, data: small, trainRows: 1000 }),
    record({ paradigm: 'processes', workers: 2, wallSeconds: 3, data: small, trainRows: 1000 }),
    record({ paradigm: 'threads', workers: 2, wallSeconds: 5, data: large, trainRows: 3000 }),
    record({ paradigm: 'processes', workers: 2, wallSeconds: 7, data: large, trainRows: 3000 }),
  ]);
  const here = evaluateClaims(cells, { cores: 2, hosts: 1 }).find((c) => c.id === 'distributed-wins-large')!;
  assert.equal(here.verdict, 'not testable here');
  assert.match(here.evidence, /one machine \(2 cores\)/);
  assert.match(here.evidence, /parallel stays faster up to 3000 rows/);
  // The default context is one host: the same verdict.
  assert.equal(evaluateClaims(cells).find((c) => c.id === 'distributed-wins-large')!.verdict, 'not testable here');
  // Ranks on several machines could have shown it: there the same numbers contradict the claim.
  assert.equal(evaluateClaims(cells, { cores: 2, hosts: 3 }).find((c) => c.id === 'distributed-wins-large')!.verdict, 'contradicted');
  // One model's crossover among others' none is not a verdict on one host either (at tiny sizes it is noise).
  const oneCrosses = summarize([
    ...['kmeans', 'pca'].flatMap((model) => [
      record({ model, paradigm: 'threads', workers: 2, wallSeconds: 1, data: small, trainRows: 1000 }),
      record({ model, paradigm: 'processes', workers: 2, wallSeconds: model === 'pca' ? 0.9 : 3, data: small, trainRows: 1000 }),
      record({ model, paradigm: 'threads', workers: 2, wallSeconds: 5, data: large, trainRows: 3000 }),
      record({ model, paradigm: 'processes', workers: 2, wallSeconds: model === 'pca' ? 4 : 7, data: large, trainRows: 3000 }),
    ]),
  ]);
  const mixedHere = evaluateClaims(oneCrosses, { cores: 2, hosts: 1 }).find((c) => c.id === 'distributed-wins-large')!;
  assert.equal(mixedHere.verdict, 'not testable here');
  assert.match(mixedHere.evidence, /pca: distributed overtakes parallel at ≈1000 rows/);
  assert.equal(evaluateClaims(oneCrosses, { cores: 2, hosts: 2 }).find((c) => c.id === 'distributed-wins-large')!.verdict, 'mixed');
  // The small-task claim is testable on one machine and stays judged.
  assert.equal(evaluateClaims(cells, { cores: 2, hosts: 1 }).find((c) => c.id === 'parallel-wins-small')!.verdict, 'supported');
});

test('claims: gradient compression reads each codec cell against the same cell uncompressed; the paradigm claims ignore codec cells', () => {
  const mlp = { model: 'mlp', data: 'synthetic:classification?rows=1000&cols=4&seed=1', workers: 2 };
  const records = [
    record({ ...mlp, paradigm: 'sequential', workers: 1, wallSeconds: 4 }),
    record({ ...mlp, paradigm: 'threads', wallSeconds: 2, bytesSent: 1_000_000, score: 0.9 }),
    record({ ...mlp, paradigm: 'threads', wallSeconds: 1, bytesSent: 20_000, score: 0.88, compression: 'topk16:0.01' }),
    record({ ...mlp, paradigm: 'threads', wallSeconds: 3, bytesSent: 2_000_000, score: 0.9, compression: 'fp16' }),
  ];
  const cells = summarize(records);
  assert.equal(cells.length, 4, 'a codec is a cell of its own');
  const claims = new Map(evaluateClaims(cells).map((c) => [c.id, c]));
  const compression = claims.get('gradient-compression')!;
  assert.equal(compression.verdict, 'mixed'); // top-k sent 50× fewer bytes, the (made-up) fp16 cell twice as many
  assert.match(compression.evidence, /topk16:0\.01: 50\.0× fewer bytes, accuracy −0\.0200/);
  assert.match(compression.evidence, /fp16: 0\.5× fewer bytes/);
  // The multi-core claim is measured on the uncompressed threads cell (2×), not the faster top-k one (4×).
  assert.match(claims.get('multicore-speedup')!.evidence, /2\.00×/);
  assert.doesNotMatch(claims.get('multicore-speedup')!.evidence, /4\.00×/);
  const { rows } = codecTableRows(cells);
  assert.deepEqual(
    rows.map((r) => [r[2], r[3], r[6]]),
    [
      ['threads×2 allreduce', 'topk16:0.01', '50.0×'],
      ['threads×2 allreduce', 'fp16', '0.5×'],
    ],
  );
  // Without a codec cell the claim stays unmeasured.
  assert.equal(
    new Map(evaluateClaims(summarize(records.slice(0, 2))).map((c) => [c.id, c])).get('gradient-compression')!.verdict,
    'not measured yet',
  );
});

test("a cell whose model trains by another solver than SGD is labelled by the solver, not by a strategy that does not apply", () => {
  const threads = { paradigm: 'threads' as const, workers: 2, strategy: 'allreduce' };
  // `--models logistic-regression`: no params, so the default solver (L-BFGS)
  assert.equal(cellLabel({ ...threads, model: 'logistic-regression', params: {} }), 'threads×2 lbfgs');
  assert.equal(cellLabel({ ...threads, model: 'logistic-regression', params: { solver: 'sgd' } }), 'threads×2 allreduce');
  assert.equal(cellLabel({ ...threads, model: 'linear-regression', params: {}, network: 'wan' }), 'threads×2 exact @wan');
  assert.equal(cellLabel({ ...threads, model: 'kmeans', params: { k: 3 } }), 'threads×2 allreduce');
  assert.equal(cellLabel({ ...threads, model: 'logistic-regression', params: { solver: 'nonesuch' } }), 'threads×2 allreduce', 'options this version rejects');
  const cells = summarize([
    record({ model: 'logistic-regression', paradigm: 'sequential', wallSeconds: 2 }),
    record({ model: 'logistic-regression', paradigm: 'threads', workers: 2, wallSeconds: 1 }),
  ]);
  assert.match(summaryTable(cells), /threads×2 lbfgs/);
  assert.doesNotMatch(summaryTable(cells), /allreduce/);
});
