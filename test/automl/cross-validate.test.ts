// Cross-validation against scikit-learn's cross_val_score on the same folds, pipelines fitted inside
// each fold (fixtures by scripts/fixtures/automl.py), and the leak that fitting outside the fold is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Dataset } from '../../src/data/dataset.js';
import { StandardScaler } from '../../src/data/preprocess.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { crossValidate } from '../../src/automl/cross-validate.js';
import type { MetricName } from '../../src/automl/cross-validate.js';
import { foldsFromAssignment, kFold, stratifiedKFold } from '../../src/automl/folds.js';
import type { Fold } from '../../src/automl/folds.js';
import { parsePipeline } from '../../src/automl/pipeline.js';
import { chi2, fClassif, fRegression, lasso, mutualInfoClassif } from '../../src/automl/feature-scores.js';
import { MinMaxScaler } from '../../src/data/preprocess.js';

interface Fixture {
  rows: number;
  cols: number;
  x: number[];
  y: number[];
  k: number;
  kfoldTest: number[][];
  stratifiedTest?: number[][];
  cv: Record<string, number[]>;
  scores: Record<string, number[]>;
  [key: string]: unknown;
}

function fixture(name: string): { doc: Fixture; data: Dataset } {
  const doc = JSON.parse(readFileSync(new URL(`../../../test/fixtures/automl/${name}`, import.meta.url), 'utf8')) as Fixture;
  return { doc, data: new Dataset({ x: Float64Array.from(doc.x), rows: doc.rows, cols: doc.cols, y: Float64Array.from(doc.y) }) };
}

const cls = fixture('classification.json');
const reg = fixture('regression.json');

/** Logistic regression converged tightly, so the comparison is of optima, not stopping rules. */
const logistic = (l2: number): Record<string, number> => ({ l2, tol: 1e-10, maxIter: 10_000 });

function foldsFromTests(tests: number[][], rows: number): Fold[] {
  const assignment = new Uint32Array(rows);
  tests.forEach((rowsOfFold, f) => rowsOfFold.forEach((i) => (assignment[i] = f)));
  return foldsFromAssignment(assignment, tests.length);
}

function close(actual: number[], expected: number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) =>
    assert.ok(
      Math.abs(a - expected[i]!) <= tolerance * Math.max(1, Math.abs(expected[i]!)),
      `${what}[${i}]: ${a} vs scikit-learn ${expected[i]}`,
    ),
  );
}

test("unshuffled k-fold and stratified k-fold give scikit-learn's folds", () => {
  const ours = kFold(cls.doc.rows, { k: cls.doc.k }).map((f) => Array.from(f.test));
  assert.deepEqual(ours, cls.doc.kfoldTest);
  const stratified = stratifiedKFold(cls.data.labels(), { k: cls.doc.k }).map((f) => Array.from(f.test));
  assert.deepEqual(stratified, cls.doc.stratifiedTest);
  // Every row tested exactly once; train is the complement.
  for (const fold of stratifiedKFold(cls.data.labels(), { k: 5, shuffle: true, seed: 3 })) {
    assert.equal(fold.train.length + fold.test.length, cls.doc.rows);
    assert.equal(new Set([...fold.train, ...fold.test]).size, cls.doc.rows);
  }
});

test('shuffled folds follow the seed and keep each class in proportion', () => {
  const labels = cls.data.labels();
  const a = stratifiedKFold(labels, { k: 5, shuffle: true, seed: 1 });
  assert.deepEqual(a, stratifiedKFold(labels, { k: 5, shuffle: true, seed: 1 }));
  assert.notDeepEqual(
    a.map((f) => Array.from(f.test)),
    stratifiedKFold(labels, { k: 5, shuffle: true, seed: 2 }).map((f) => Array.from(f.test)),
  );
  const total = [0, 1, 2].map((c) => labels.filter((v) => v === c).length);
  for (const fold of a) {
    for (const c of [0, 1, 2]) {
      const inFold = Array.from(fold.test).filter((i) => labels[i] === c).length;
      assert.ok(Math.abs(inFold - total[c]! / 5) <= 1, `class ${c}: ${inFold} in a fold of a class of ${total[c]}`);
    }
  }
});

test("classification CV scores equal scikit-learn's cross_val_score, pipelines fitted in each fold", async () => {
  const l2 = cls.doc['l2'] as number;
  for (const [key, expected] of Object.entries(cls.doc.cv)) {
    const [pipeline, splitter] = key.split('|') as [string, 'kfold' | 'stratified'];
    const folds = foldsFromTests(splitter === 'kfold' ? cls.doc.kfoldTest : cls.doc.stratifiedTest!, cls.doc.rows);
    const result = await crossValidate(cls.data, {
      model: 'logistic-regression',
      params: logistic(l2),
      folds,
      pipeline: parsePipeline(pipeline),
      metric: 'accuracy',
    });
    assert.deepEqual(result.scores, expected, `${key}: ours ${result.scores} vs scikit-learn ${expected}`);
  }
});

test("regression CV scores (R², negative MSE) equal scikit-learn's, with variance, F-test and L1 selection", async () => {
  const folds = foldsFromTests(reg.doc.kfoldTest, reg.doc.rows);
  for (const [key, expected] of Object.entries(reg.doc.cv)) {
    const [pipeline, model, metric] = key.split('|') as [string, 'ridge' | 'ols', MetricName];
    const steps = parsePipeline(pipeline.replace('l1', `l1:${reg.doc['lassoAlpha'] as number}`));
    const params = model === 'ridge' ? { l2: reg.doc['ridgeAlpha'] as number } : {};
    const result = await crossValidate(reg.data, { model: 'linear-regression', params, folds, pipeline: steps, metric });
    close(result.scores, expected, 1e-9, key);
  }
});

test('fitting the scaler on all rows instead of inside each fold changes the score (the leak), as it does in scikit-learn', async () => {
  const l2 = cls.doc['l2'] as number;
  const folds = foldsFromTests(cls.doc.stratifiedTest!, cls.doc.rows);
  const inFold = await crossValidate(cls.data, {
    model: 'logistic-regression',
    params: logistic(l2),
    folds,
    pipeline: parsePipeline('standardize'),
  });
  const leakedData = new StandardScaler().fit(cls.data).transform(cls.data);
  const leaked = await crossValidate(leakedData, { model: 'logistic-regression', params: logistic(l2), folds });
  assert.deepEqual(leaked.scores, cls.doc['leakedStandardizeStratified']);
  assert.deepEqual(inFold.scores, cls.doc.cv['standardize|stratified']);
  assert.notDeepEqual(leaked.scores, inFold.scores);
});

test('selecting features on all rows leaks: on labels independent of the features it scores far above chance, in-fold does not', async () => {
  // 60 rows, 200 noise features, random labels: any accuracy above ~0.5 is the leak.
  const noise = syntheticGenerator({ kind: 'classification', rows: 60, cols: 200, separation: 0, seed: 4 }).generate();
  const folds = stratifiedKFold(noise.labels(), { k: 5 });
  const params = { l2: 1e-3 };
  const inFold = await crossValidate(noise, { model: 'logistic-regression', params, folds, pipeline: parsePipeline('kbest:f:5') });
  const outside = parsePipeline('kbest:f:5');
  const { fitPipeline } = await import('../../src/automl/pipeline.js');
  const selectedOnAll = fitPipeline(outside, noise, 'classifier').transform(noise);
  const leaked = await crossValidate(selectedOnAll, { model: 'logistic-regression', params, folds });
  assert.ok(leaked.mean > 0.7, `leaked selection scores ${leaked.mean}`);
  assert.ok(inFold.mean < 0.65, `in-fold selection scores ${inFold.mean}`);
});

test("feature scores equal scikit-learn's f_classif, chi2, mutual_info_classif, f_regression and Lasso", () => {
  close(Array.from(fClassif(cls.data, cls.data.labels())), cls.doc.scores['f']!, 1e-9, 'f_classif');
  const scaled = new MinMaxScaler().fit(cls.data).transform(cls.data);
  close(Array.from(chi2(scaled, cls.data.labels())), cls.doc.scores['chi2']!, 1e-9, 'chi2');
  close(Array.from(mutualInfoClassif(cls.data, cls.data.labels())), cls.doc.scores['mutualInfo']!, 1e-9, 'mutual_info_classif');
  close(Array.from(fRegression(reg.data, reg.data.labels())), reg.doc.scores['f']!, 1e-9, 'f_regression');
  const standardized = new StandardScaler().fit(reg.data).transform(reg.data);
  close(
    Array.from(lasso(standardized, reg.data.labels(), { alpha: reg.doc['lassoAlpha'] as number })),
    reg.doc.scores['lassoOnStandardized']!,
    1e-7,
    'Lasso',
  );
});
