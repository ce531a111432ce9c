// The report's opening answer beyond the paradigm race: one plain-words line per federated setting
// and per fault cell, computed from stored results (hand-made here with known numbers), present in
// the report and the terminal answer when the matrix had such cells and absent when it had none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { renderReport } from '../../src/compare/report.js';
import { otherAnswers } from '../../src/compare/verdict.js';
import { faultRecords, faultRun, federatedResults } from './answer-records.js';
import { record, session } from './records.js';

test('federated: one line per setting with rounds to target per aggregator and partition, the bytes against the raw rows, the centralised score', () => {
  const lines = otherAnswers({ federated: federatedResults() });
  assert.deepEqual(
    lines.map((l) => l.topic),
    ['Federated'],
  );
  const line = lines[0]!.line;
  assert.match(line, /^logistic-regression on synthetic:classification\S*, 20 clients \(5 a round\): rounds to accuracy 0\.9 — /);
  assert.match(line, /FedAvg iid 6, dirichlet:0\.1 60; FedSGD:0\.5 iid 59, dirichlet:0\.1 not within 100/);
  // the cheapest reached cell is FedAvg IID: 6 rounds × 1.5 MB = 9 MB, 4.5× the 2 MB of rows
  assert.match(line, /the cheapest \(FedAvg iid\) moved 9\.00 MB up \+ down, 4\.50× the 2\.00 MB of raw rows/);
  assert.match(line, /centralised accuracy 0\.9400$/);
});

test('faults: what one killed rank cost and what completed on how many workers', () => {
  const [line, ...rest] = otherAnswers({ records: faultRecords() });
  assert.equal(rest.length, 0);
  assert.equal(line!.topic, 'Faults');
  assert.equal(
    line!.line,
    'a SIGKILLed rank of logistic-regression processes×3 allreduce cost 0.30 s per fault (detect + re-form + reload), wall +0.40 s and no accuracy against the undisturbed run; 1/1 runs completed, on 2 of 3 workers',
  );
  const worse = otherAnswers({ records: [faultRun('none', 0.93, 4), faultRun('kill', 0.9, 4)] })[0]!.line;
  assert.match(worse, /wall \+0\.00 s and accuracy −0\.0300/);
});

test('faults: runs that ended on different numbers of workers are counted per number, not written as a fraction', () => {
  const onThree = faultRun('kill', 0.93, 4.4);
  onThree.fault = { ...onThree.fault!, finalWorkers: 3 };
  const runs = [faultRun('none', 0.93, 4), faultRun('kill', 0.93, 4.4), onThree, { ...onThree, repeat: 2 }];
  const line = otherAnswers({ records: runs })[0]!.line;
  assert.match(line, /3\/3 runs completed, on 3 of 3 workers in 2 runs, 2 of 3 workers in 1 run$/);
});

test('no federated or fault cells: no such line, in the answers, the report or the terminal answer', async () => {
  const plain = [record({ paradigm: 'sequential', wallSeconds: 2 }), record({ paradigm: 'threads', workers: 2, wallSeconds: 1 })];
  assert.deepEqual(otherAnswers({ federated: [], records: plain }), []);
  // A twin without a faulted run is no fault comparison.
  assert.deepEqual(otherAnswers({ records: [faultRun('none', 0.93, 4)] }), []);
  const base = { session: session(), skipped: [], aborted: false };
  const without = await renderReport({ ...base, records: plain });
  const verdict = (html: string): string => html.slice(html.indexOf('<section id="verdict">'), html.indexOf('</section>'));
  assert.doesNotMatch(verdict(without), /Federated|Faults/);
  const withBoth = await renderReport({ ...base, records: [...plain, ...faultRecords()], federated: federatedResults() });
  assert.match(verdict(withBoth), /<strong>Federated<\/strong>: logistic-regression on /);
  assert.match(verdict(withBoth), /<strong>Faults<\/strong>: a SIGKILLed rank/);
  const federatedOnly = verdict(await renderReport({ ...base, records: plain, federated: federatedResults() }));
  assert.match(federatedOnly, /<strong>Federated<\/strong>/);
  assert.doesNotMatch(federatedOnly, /Faults/);
  // The paradigm answer still comes first.
  assert.ok(verdict(withBoth).indexOf('<strong>kmeans</strong>') < verdict(withBoth).indexOf('<strong>Federated</strong>'));
});
