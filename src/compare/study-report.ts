/**
 * A tuning study's report page: one self-contained HTML file (SVG rendered on the server, as the
 * comparison report) with the trial curves (score against budget, a line per configuration), the
 * parallel coordinates of the numeric options and the score, the Pareto front of score against fit
 * seconds, and the table of trials. Takes plain trial records (automl's TrialRecord fits), since
 * compare/ does not import automl/.
 *
 * @example
 * writeFileSync('study.html', await renderStudyReport({ title: 'mlp', metric: 'accuracy', trials, paretoFront: [3, 7] }));
 */
import type { TopLevelSpec } from 'vega-lite';
import { renderChart } from './charts.js';
import { escapeHtml } from './report.js';

export interface ReportTrial {
  id: number;
  configId: number;
  params: Record<string, unknown>;
  resource: number | null;
  status: string;
  score: number | null;
  fitSeconds: number | null;
  error: { code: string; message: string } | null;
}

export interface StudyReportInput {
  title: string;
  metric: string;
  trials: readonly ReportTrial[];
  /** Ids of the trials on the Pareto front. */
  paretoFront: readonly number[];
}

const WIDTH = 460;
const HEIGHT = 260;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Score against budget, one line per configuration; null when no trial had a budget. */
export function trialCurvesSpec(input: StudyReportInput): TopLevelSpec | null {
  const points = input.trials
    .filter((t) => t.status === 'ok' && t.resource !== null)
    .map((t) => ({ config: t.configId, budget: t.resource!, score: t.score! }));
  if (points.length === 0) return null;
  return {
    $schema: SCHEMA,
    title: `${input.metric} by budget (a line per configuration)`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'budget', type: 'quantitative', scale: { type: 'log' }, title: 'budget' },
      y: { field: 'score', type: 'quantitative', scale: { zero: false }, title: input.metric },
      detail: { field: 'config', type: 'nominal' },
      color: { field: 'config', type: 'nominal', legend: null },
    },
  };
}

/** Each numeric option and the score scaled to [0, 1], a line per successful trial coloured by score. */
export function parallelCoordinatesSpec(input: StudyReportInput): TopLevelSpec | null {
  const ok = input.trials.filter((t) => t.status === 'ok');
  const names = [...new Set(ok.flatMap((t) => Object.keys(t.params).filter((k) => typeof t.params[k] === 'number')))].sort();
  if (ok.length < 2 || names.length === 0) return null;
  const axes = [...names, input.metric];
  const valueOf = (t: ReportTrial, axis: string): number | undefined =>
    axis === input.metric ? t.score! : (t.params[axis] as number | undefined);
  const range = new Map(
    axes.map((axis) => {
      const values = ok.map((t) => valueOf(t, axis)).filter((v): v is number => v !== undefined);
      return [axis, { min: Math.min(...values), max: Math.max(...values) }];
    }),
  );
  const values = ok.flatMap((t) =>
    axes.flatMap((axis) => {
      const v = valueOf(t, axis);
      if (v === undefined) return [];
      const { min, max } = range.get(axis)!;
      return [{ trial: t.id, axis, scaled: max > min ? (v - min) / (max - min) : 0.5, value: v, score: t.score! }];
    }),
  );
  return {
    $schema: SCHEMA,
    title: 'parallel coordinates (each axis scaled to its range)',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', opacity: 0.6 },
    encoding: {
      x: { field: 'axis', type: 'nominal', sort: axes, title: null },
      y: { field: 'scaled', type: 'quantitative', title: null, axis: null },
      detail: { field: 'trial', type: 'nominal' },
      color: { field: 'score', type: 'quantitative', title: input.metric },
    },
  };
}

/** Score against fit seconds, the front's trials marked. */
export function paretoSpec(input: StudyReportInput): TopLevelSpec | null {
  const front = new Set(input.paretoFront);
  const points = input.trials
    .filter((t) => t.status === 'ok' && t.fitSeconds !== null)
    .map((t) => ({ trial: t.id, seconds: t.fitSeconds!, score: t.score!, front: front.has(t.id) ? 'Pareto front' : 'dominated' }));
  if (points.length === 0) return null;
  return {
    $schema: SCHEMA,
    title: `${input.metric} against fit seconds`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: points },
    mark: { type: 'point', filled: true, size: 60 },
    encoding: {
      x: { field: 'seconds', type: 'quantitative', title: 'fit seconds (all folds)' },
      y: { field: 'score', type: 'quantitative', scale: { zero: false }, title: input.metric },
      color: { field: 'front', type: 'nominal', title: null },
      tooltip: [{ field: 'trial' }, { field: 'score' }, { field: 'seconds' }],
    },
  };
}

export async function renderStudyReport(input: StudyReportInput): Promise<string> {
  const charts: string[] = [];
  for (const spec of [trialCurvesSpec(input), parallelCoordinatesSpec(input), paretoSpec(input)]) {
    if (spec !== null) charts.push(`<figure>${await renderChart(spec)}</figure>`);
  }
  const cell = (value: unknown): string =>
    `<td>${escapeHtml(value === null || value === undefined ? '' : typeof value === 'number' ? String(Number(value.toPrecision(5))) : String(value))}</td>`;
  const rows = [...input.trials]
    .sort((a, b) => (b.score ?? -Infinity) - (a.score ?? -Infinity))
    .map(
      (t) =>
        `<tr>${cell(t.id)}${cell(t.configId)}${cell(t.resource)}${cell(t.status)}${cell(t.score)}${cell(t.fitSeconds)}${cell(JSON.stringify(t.params))}${cell(t.error === null ? '' : `${t.error.code}: ${t.error.message}`)}</tr>`,
    );
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}figure{display:inline-block;margin:0 1em 1em 0}</style>
</head><body>
<h1>${escapeHtml(input.title)}</h1>
<p>${input.trials.length} trials, ${input.trials.filter((t) => t.status === 'failed').length} failed; Pareto front: ${input.paretoFront.map((id) => `#${id}`).join(', ') || 'none'}</p>
${charts.join('\n')}
<table><thead><tr><th>trial</th><th>config</th><th>budget</th><th>status</th><th>${escapeHtml(input.metric)}</th><th>fit s</th><th>options</th><th>error</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</body></html>
`;
}
