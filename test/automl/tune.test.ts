// tune() end to end on small synthetic data with real fits: failures recorded, trials running at once
// on worker threads, budgets (epochs, rows) for ASHA and HyperBand, a score-vs-time Pareto front.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { tune } from '../../src/automl/tune.js';
import { crossValidate } from '../../src/automl/cross-validate.js';
import { dominates } from '../../src/automl/pareto.js';
import { ConfigError } from '../../src/core/errors.js';
import { shutdownThreadPool } from '../../src/runtime/index.js';

const classes = syntheticGenerator({ kind: 'classification', rows: 240, cols: 6, classes: 3, separation: 1.5, seed: 11 }).generate();
const regression = syntheticGenerator({ kind: 'regression', rows: 240, cols: 5, noise: 1, seed: 3 }).generate();

test('a failing trial is recorded with its error code and message, and the study goes on', async () => {
  const study = await tune(classes, {
    model: 'logistic-regression',
    searcher: 'grid',
    cv: 3,
    space: { solver: { type: 'choice', values: ['lbfgs', 'newton'] }, l2: { type: 'choice', values: [0.001, 0.1] } },
  });
  assert.equal(study.trials.length, 4);
  const failed = study.trials.filter((t) => t.status === 'failed');
  assert.equal(failed.length, 2);
  for (const trial of failed) {
    assert.equal(trial.params['solver'], 'newton');
    assert.equal(trial.error?.code, 'CONFIG');
    assert.match(trial.error!.message, /solver/);
    assert.equal(trial.score, null);
  }
  assert.equal(study.best?.params['solver'], 'lbfgs');
  assert.ok(study.best!.score! > 0.5);
});

test('trials run concurrently on worker threads and score as the same fits run sequentially', async () => {
  try {
    const space = { l2: { type: 'log-uniform', low: 1e-4, high: 1 } };
    const study = await tune(classes, {
      model: 'logistic-regression',
      space,
      searcher: 'random',
      trials: 4,
      cv: 3,
      concurrency: 2,
      fit: { paradigm: 'threads', workers: 1 },
      seed: 5,
    });
    assert.equal(study.trials.filter((t) => t.status === 'ok').length, 4, JSON.stringify(study.trials.map((t) => t.error)));
    const byId = [...study.trials].sort((a, b) => a.id - b.id);
    const [first, second] = byId as [(typeof byId)[0], (typeof byId)[0]];
    assert.ok(second.startedAt < first.startedAt + first.seconds, 'the second trial started while the first ran');
    for (const trial of study.trials) {
      const sequential = await crossValidate(classes, { model: 'logistic-regression', params: trial.params, folds: { k: 3 } });
      assert.deepEqual(trial.foldScores, sequential.scores);
    }
  } finally {
    await shutdownThreadPool();
  }
});

test('trials whose folds each train on 2 processes run two at a time and score as sequential fits', async () => {
  const space = { l2: { type: 'choice', values: [1e-3, 1e-1] } };
  const study = await tune(classes, {
    model: 'logistic-regression',
    space,
    searcher: 'grid',
    cv: 2,
    concurrency: 2,
    fit: { paradigm: 'processes', workers: 2, timeoutMs: 60_000 },
  });
  assert.equal(study.trials.filter((t) => t.status === 'ok').length, 2, JSON.stringify(study.trials.map((t) => t.error)));
  assert.equal(study.fit.paradigm, 'processes', 'a named paradigm is kept');
  for (const trial of study.trials) {
    const sequential = await crossValidate(classes, { model: 'logistic-regression', params: trial.params, folds: { k: 2 } });
    assert.deepEqual(trial.foldScores, sequential.scores);
  }
});

test('ASHA on an MLP with an epochs budget: the best over every budget, under half the budget of full trials', async () => {
  const study = await tune(classes, {
    model: 'mlp',
    searcher: 'asha',
    trials: 12,
    cv: 3,
    stratified: true,
    resource: { kind: 'epochs', min: 1, max: 9 },
    eta: 3,
    seed: 1,
    space: { hidden: { type: 'choice', values: [[8], [16]] }, lr: { type: 'log-uniform', low: 1e-3, high: 3e-2 }, batchSize: 32 },
  });
  assert.ok(
    study.trials.every((t) => t.status === 'ok'),
    JSON.stringify(study.trials.find((t) => t.error !== null)?.error),
  );
  assert.equal(study.best?.score, Math.max(...study.trials.map((t) => t.score!)));
  assert.ok(
    study.trials.some((t) => t.resource === 9),
    'a configuration reached the full budget',
  );
  assert.ok(study.resourceSpent <= (12 * 9) / 2, `ASHA spent ${study.resourceSpent} epochs against 108 for 12 full trials`);
  assert.ok(new Set(study.trials.map((t) => t.resource)).size >= 2);
});

test('HyperBand with a rows budget on linear regression: more rows never hurt the best R² here', async () => {
  const study = await tune(regression, {
    model: 'linear-regression',
    searcher: 'hyperband',
    trials: 30,
    cv: 4,
    metric: 'r2',
    resource: { kind: 'rows', min: 20, max: 180 },
    seed: 2,
    space: { l2: { type: 'log-uniform', low: 1e-3, high: 1e3 } },
    pipeline: 'standardize',
  });
  assert.equal(study.metric, 'r2');
  assert.equal(study.best?.resource, 180);
  const small = study.trials.filter((t) => t.resource === 20).map((t) => t.score!);
  assert.ok(study.best!.score! >= Math.max(...small), 'the best at 180 rows beats every 20-row trial');
});

test('score vs fit seconds: the Pareto front is non-dominated and dominates every other trial', async () => {
  const study = await tune(classes, {
    model: 'logistic-regression',
    searcher: 'random',
    trials: 8,
    cv: 3,
    objectives: ['score', 'fitSeconds'],
    seed: 3,
    space: { maxIter: { type: 'int', low: 1, high: 60, log: true }, l2: { type: 'log-uniform', low: 1e-4, high: 1 } },
  });
  const point = (t: { objectives: number[] | null }): number[] => [t.objectives![0]!, -t.objectives![1]!];
  assert.ok(study.paretoFront.length >= 1);
  for (const a of study.paretoFront) for (const b of study.paretoFront) assert.ok(!dominates(point(a), point(b)));
  for (const trial of study.trials.filter((t) => !study.paretoFront.includes(t))) {
    assert.ok(
      study.paretoFront.some((f) => dominates(point(f), point(trial))),
      `trial ${trial.id} is off the front but undominated`,
    );
  }
});

test('bad options name the field', async () => {
  const space = { l2: { type: 'log-uniform', low: 1e-4, high: 1 } };
  await assert.rejects(
    tune(classes, { model: 'logistic-regression', space, searcher: 'asha' }),
    (e: unknown) => e instanceof ConfigError && e.field === 'resource',
  );
  await assert.rejects(
    tune(classes, { model: 'mlp', space: { epochs: 3 }, searcher: 'asha', resource: { kind: 'epochs', min: 1, max: 3 } }),
    (e: unknown) => e instanceof ConfigError && e.field === 'epochs',
  );
  await assert.rejects(
    tune(classes, { model: 'logistic-regression', space, trials: 0 }),
    (e: unknown) => e instanceof ConfigError && e.field === 'trials',
  );
  await assert.rejects(
    tune(classes, { model: 'logistic-regression', space, metric: 'auc' as never }),
    (e: unknown) => e instanceof ConfigError && e.field === 'metric',
  );
});

test('a raw space with an option called params (a list value) is parsed, not taken for a parsed space', async () => {
  const study = await tune(regression, {
    model: 'linear-regression',
    space: { params: [1, 2], l2: 0.1 } as Record<string, unknown>,
    searcher: 'grid',
    cv: 2,
  });
  // linear-regression has no option 'params': every trial fails with the model's own error naming it.
  assert.equal(study.trials.length, 1);
  assert.equal(study.trials[0]!.error?.code, 'CONFIG');
  assert.match(study.trials[0]!.error!.message, /no option 'params'/);
});
