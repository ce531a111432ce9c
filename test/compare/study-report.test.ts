// A study's report page rendered for real (Vega to SVG): which charts appear for which studies,
// the Pareto marks, the trial table (escaped), failed trials listed with their error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paretoSpec, parallelCoordinatesSpec, renderStudyReport, trialCurvesSpec } from '../../src/compare/study-report.js';
import type { ReportTrial } from '../../src/compare/study-report.js';

const trial = (id: number, configId: number, resource: number | null, score: number | null, lr: number): ReportTrial => ({
  id,
  configId,
  params: { lr, hidden: [8] },
  resource,
  status: score === null ? 'failed' : 'ok',
  score,
  fitSeconds: score === null ? null : 0.1 * (id + 1),
  error: score === null ? { code: 'CONFIG', message: 'mlp: option <lr> must be > 0' } : null,
});

test('a budgeted multi-objective study gets trial curves, parallel coordinates and the Pareto front; the table lists every trial', async () => {
  const trials = [trial(0, 0, 1, 0.6, 0.01), trial(1, 1, 1, 0.7, 0.02), trial(2, 1, 3, 0.8, 0.02), trial(3, 2, 1, null, -1)];
  const input = { title: 'mlp <asha>', metric: 'accuracy', trials, paretoFront: [0, 1, 2] };
  const curves = trialCurvesSpec(input) as unknown as { data: { values: { config: number }[] } };
  assert.deepEqual(
    curves.data.values.map((p) => p.config),
    [0, 1, 1],
  );
  const pareto = paretoSpec(input) as unknown as { data: { values: { trial: number; front: string }[] } };
  assert.deepEqual(
    pareto.data.values.map((p) => p.front),
    ['Pareto front', 'Pareto front', 'Pareto front'],
  );
  const html = await renderStudyReport(input);
  assert.equal(html.match(/<svg/g)?.length, 3);
  assert.match(html, /<title>mlp &lt;asha&gt;<\/title>/);
  assert.equal(html.match(/<tr><td>/g)?.length, 4);
  assert.match(html, /CONFIG: mlp: option &lt;lr&gt; must be &gt; 0/);
  assert.match(html, /Pareto front: #0, #1, #2/);
});

test('without budgets there are no trial curves; with one trial no parallel coordinates', () => {
  const plain = { title: 't', metric: 'r2', trials: [trial(0, 0, null, 0.5, 0.1), trial(1, 1, null, 0.6, 0.2)], paretoFront: [1] };
  assert.equal(trialCurvesSpec(plain), null);
  assert.notEqual(parallelCoordinatesSpec(plain), null);
  assert.equal(parallelCoordinatesSpec({ ...plain, trials: plain.trials.slice(0, 1) }), null);
});
