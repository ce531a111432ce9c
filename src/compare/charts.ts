/**
 * The report's plots: Vega-Lite specs built from the summaries, compiled and rendered to SVG on the
 * server (Vega's headless 'none' renderer), so the HTML report needs no script and no network.
 *
 * @example
 * const svg = await renderChart(speedupSpec('kmeans', cells));
 */
import type { TopLevelSpec } from 'vega-lite';
import type { RunRecord } from './record.js';
import type { CellSummary } from './summary.js';
import { cellLabel, medianRun } from './summary.js';

const WIDTH = 460;
const HEIGHT = 260;

/**
 * Compile a Vega-Lite spec and render it to an SVG string. Vega and Vega-Lite are imported here, on
 * the first chart, not at the top: they are ~370 modules, and every CLI command and every program
 * importing the library loaded them (with DuckDB, 0.4 of the 0.7 s an import took) though only a
 * report draws charts.
 */
export async function renderChart(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const seriesOf = (c: CellSummary): string => (c.paradigm === 'sequential' ? 'sequential' : `${c.paradigm} ${c.strategy}`);

/** Speedup over sequential against workers, one line per paradigm and strategy, the ideal y = x dashed. */
export function speedupSpec(model: string, cells: readonly CellSummary[]): TopLevelSpec | null {
  const points = cells
    .filter((c) => c.model === model && c.speedup !== null)
    .map((c) => ({ workers: c.workers, speedup: c.speedup!, series: seriesOf(c), data: c.data }));
  if (points.every((p) => p.series === 'sequential')) return null;
  const maxWorkers = Math.max(1, ...points.map((p) => p.workers));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${model}: speedup over sequential (median wall time)`,
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: {
          values: [
            { workers: 1, ideal: 1 },
            { workers: maxWorkers, ideal: maxWorkers },
          ],
        },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'workers', type: 'quantitative' }, y: { field: 'ideal', type: 'quantitative' } },
      },
      {
        data: { values: points },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'workers', type: 'quantitative', title: 'workers', axis: { tickMinStep: 1 } },
          y: { field: 'speedup', type: 'quantitative', title: 'speedup (×, dashed = ideal)' },
          color: { field: 'series', type: 'nominal', title: 'paradigm / strategy' },
          detail: { field: 'data', type: 'nominal' },
        },
      },
    ],
  };
}

/** Training loss against seconds, one curve per cell (its median-time repeat). */
export function lossCurveSpec(model: string, cells: readonly CellSummary[], records: readonly RunRecord[]): TopLevelSpec | null {
  const values: { seconds: number; loss: number; cell: string }[] = [];
  for (const cell of cells.filter((c) => c.model === model)) {
    const run = medianRun(records, cell.cellId);
    const label =
      cells.filter((c) => c.model === model && c.paradigm === cell.paradigm && c.workers === cell.workers && c.strategy === cell.strategy)
        .length > 1
        ? `${cellLabel(cell)} (${cell.trainRows} rows)`
        : cellLabel(cell);
    for (const point of run?.history ?? []) {
      if (point.loss !== null && Number.isFinite(point.loss))
        values.push({ seconds: point.elapsedMs / 1000, loss: point.loss, cell: label });
    }
  }
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${model}: training loss over time (median-time repeat)`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: { size: 12 } },
    encoding: {
      x: { field: 'seconds', type: 'quantitative', title: 'seconds since training started' },
      y: { field: 'loss', type: 'quantitative', title: 'training loss', scale: { zero: false } },
      color: { field: 'cell', type: 'nominal', title: 'paradigm' },
    },
  };
}

/** Median bytes sent per fit, per model and paradigm/strategy. */
export function bytesSpec(cells: readonly CellSummary[]): TopLevelSpec | null {
  const values = cells
    .filter((c) => c.bytesSent !== null)
    .map((c) => ({ label: `${c.model} · ${cellLabel(c)}`, megabytes: c.bytesSent!.median / 1e6, series: seriesOf(c) }));
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'bytes on the wire per fit (median, all ranks)',
    width: WIDTH,
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'label', type: 'nominal', title: null, sort: null, axis: { labelLimit: 320 } },
      x: { field: 'megabytes', type: 'quantitative', title: 'MB sent' },
      color: { field: 'series', type: 'nominal', title: 'paradigm / strategy' },
    },
  };
}

/** Median compute vs communication milliseconds per fit (mean over ranks), stacked. */
export function breakdownSpec(cells: readonly CellSummary[]): TopLevelSpec | null {
  const values = cells.flatMap((c) =>
    c.computeMs === null || c.commMs === null
      ? []
      : [
          { label: `${c.model} · ${cellLabel(c)}`, part: 'compute', ms: c.computeMs.median },
          { label: `${c.model} · ${cellLabel(c)}`, part: 'communication', ms: c.commMs.median },
        ],
  );
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'where training time goes (median ms per rank)',
    width: WIDTH,
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'label', type: 'nominal', title: null, sort: null, axis: { labelLimit: 320 } },
      x: { field: 'ms', type: 'quantitative', title: 'milliseconds', stack: 'zero' },
      color: {
        field: 'part',
        type: 'nominal',
        title: null,
        scale: { domain: ['compute', 'communication'], range: ['#4c78a8', '#e45756'] },
      },
    },
  };
}

/** Median wall seconds against training rows, one line per paradigm/workers/strategy (log–log). */
export function scalingSpec(model: string, cells: readonly CellSummary[]): TopLevelSpec | null {
  const mine = cells.filter((c) => c.model === model && c.wallSeconds !== null);
  if (new Set(mine.map((c) => c.trainRows)).size < 2) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${model}: wall time against data size`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: mine.map((c) => ({ rows: c.trainRows, seconds: c.wallSeconds!.median, cell: cellLabel(c) })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'rows', type: 'quantitative', title: 'training rows', scale: { type: 'log' } },
      y: { field: 'seconds', type: 'quantitative', title: 'median wall seconds', scale: { type: 'log' } },
      color: { field: 'cell', type: 'nominal', title: 'paradigm' },
    },
  };
}

/** The advisor's leave-one-cell-out predictions against the measured median wall seconds (log–log, y = x dashed). */
export function advisorSpec(
  cells: readonly { model: string; label: string; trainRows: number; measuredSeconds: number; predictedSeconds: number }[],
): TopLevelSpec | null {
  const values = cells
    .filter((c) => c.measuredSeconds > 0 && c.predictedSeconds > 0)
    .map((c) => ({ measured: c.measuredSeconds, predicted: c.predictedSeconds, model: c.model, cell: `${c.label} (${c.trainRows} rows)` }));
  if (values.length === 0) return null;
  const all = values.flatMap((v) => [v.measured, v.predicted]);
  const diagonal = [
    { x: Math.min(...all), y: Math.min(...all) },
    { x: Math.max(...all), y: Math.max(...all) },
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'advisor: predicted vs measured wall seconds (each cell left out of its own calibration)',
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: diagonal },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: { type: 'log' } },
          y: { field: 'y', type: 'quantitative', scale: { type: 'log' } },
        },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x: { field: 'measured', type: 'quantitative', title: 'measured median wall s', scale: { type: 'log' } },
          y: { field: 'predicted', type: 'quantitative', title: 'predicted wall s (dashed: exact)', scale: { type: 'log' } },
          color: { field: 'model', type: 'nominal', title: 'model' },
          tooltip: [
            { field: 'cell', type: 'nominal' },
            { field: 'measured', type: 'quantitative', format: '.3f' },
            { field: 'predicted', type: 'quantitative', format: '.3f' },
          ],
        },
      },
    ],
  };
}
