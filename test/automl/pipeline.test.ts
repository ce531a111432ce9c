// Pipeline steps on hand-made data: one-hot coding with unseen categories, selection keeping column
// order and names, the text and JSON forms, and errors naming the step field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/data/dataset.js';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { digamma } from '../../src/automl/feature-scores.js';
import { fitPipeline, formatPipeline, parsePipeline } from '../../src/automl/pipeline.js';

const train = new Dataset({
  // colour (0, 2, 5), size, constant
  x: Float64Array.of(2, 1.0, 7, 0, 3.0, 7, 5, 2.0, 7, 2, 4.0, 7),
  rows: 4,
  cols: 3,
  y: Float64Array.of(0, 1, 0, 1),
  featureNames: ['colour', 'size', 'flat'],
});

test('one-hot replaces the column in place by one 0/1 column per training category; unseen codes as zeros', () => {
  const fitted = fitPipeline(parsePipeline('one-hot:colour'), train, 'classifier');
  const out = fitted.transform(
    new Dataset({ x: Float64Array.of(5, 9, 7, 3, 8, 7), rows: 2, cols: 3, featureNames: ['colour', 'size', 'flat'] }),
  );
  assert.deepEqual(out.featureNames, ['colour=0', 'colour=2', 'colour=5', 'size', 'flat']);
  assert.deepEqual(Array.from(out.x), [0, 0, 1, 9, 7, 0, 0, 0, 8, 7]);
});

test('variance threshold drops the constant column; selection keeps names and column order', () => {
  const out = fitPipeline(parsePipeline([{ step: 'variance' }]), train, 'classifier').transform(train);
  assert.deepEqual(out.featureNames, ['colour', 'size']);
  const best = fitPipeline(parsePipeline('variance,kbest:f:1'), train, 'classifier').transform(train);
  assert.equal(best.cols, 1);
  assert.throws(() => fitPipeline(parsePipeline('variance:100'), train, 'classifier'), DataError);
  assert.throws(
    () => fitPipeline(parsePipeline('kbest:chi2:1'), train, 'regressor'),
    (e: unknown) => e instanceof ConfigError && e.field === 'score',
  );
  const negative = train.with({ x: train.x.map((v) => -v) });
  assert.throws(() => fitPipeline(parsePipeline('kbest:chi2:1'), negative, 'classifier'), /non-negative features/);
});

test('a fitted pipeline refuses data of another width', () => {
  const fitted = fitPipeline(parsePipeline('standardize,variance'), train, 'classifier');
  assert.throws(() => fitted.transform(new Dataset({ x: new Float64Array(4), rows: 2, cols: 2 })), DataError);
});

test('text and JSON forms round-trip; bad steps name the field', () => {
  const text = 'standardize,minmax,one-hot:0:colour,variance:0.5,kbest:mutual-info:3,l1:0.01';
  assert.equal(formatPipeline(parsePipeline(text)), text);
  assert.deepEqual(parsePipeline(''), []);
  const cases: [unknown, string][] = [
    ['scale', 'pipeline[0].step'],
    ['standardize,kbest:f', 'pipeline[1].k'],
    ['kbest:anova:3', 'pipeline[0].score'],
    ['l1:-1', 'pipeline[0].alpha'],
    [[{ step: 'one-hot', columns: [] }], 'pipeline[0].columns'],
    [[{ step: 'kbest', score: 'f', k: 0 }], 'pipeline[0].k'],
    [{ step: 'standardize' }, 'pipeline'],
  ];
  for (const [raw, field] of cases) {
    assert.throws(
      () => parsePipeline(raw),
      (e: unknown) => e instanceof ConfigError && e.field === field,
      JSON.stringify(raw),
    );
  }
});

test('digamma matches known values (ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(10))', () => {
  const gamma = 0.5772156649015329;
  assert.ok(Math.abs(digamma(1) + gamma) < 1e-12);
  assert.ok(Math.abs(digamma(0.5) + gamma + 2 * Math.LN2) < 1e-12);
  assert.ok(Math.abs(digamma(10) - 2.251752589066721) < 1e-12);
});
