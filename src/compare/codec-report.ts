/**
 * The codec cells in the report (issue 17): each compressed cell against the same cell
 * uncompressed — bytes counted at the transport and the test score — and the evidence for the seed's
 * claim that gradient compression reduces the data sent between processors (§4). The matrix side
 * (the `compression` list, which cells take a codec) is codec-axis.ts.
 */
import { NO_COMPRESSION } from './codec-axis.js';
import type { CellSummary } from './summary.js';
import { cellLabel, formatBytes } from './summary.js';

/** One codec against the same cell uncompressed (same model, data, paradigm, workers, strategy, network). */
export interface CodecComparison {
  plain: CellSummary;
  compressed: CellSummary;
  /** Median bytes sent uncompressed ÷ compressed: how many times fewer bytes the codec sent. */
  fewerBytes: number;
  /** Median score compressed − uncompressed (higher-is-better scores: negative = worse). */
  scoreChange: number | null;
}

const twin = (cell: CellSummary): string =>
  [cell.model, JSON.stringify(cell.params), cell.data, cell.paradigm, cell.workers, cell.strategy, cell.network].join('|');

/** Every compressed cell with a measured uncompressed twin, in the cells' order. */
export function codecComparisons(cells: readonly CellSummary[]): CodecComparison[] {
  const plain = new Map(cells.filter((c) => c.compression === NO_COMPRESSION && c.bytesSent !== null).map((c) => [twin(c), c]));
  const out: CodecComparison[] = [];
  for (const compressed of cells) {
    if (compressed.compression === NO_COMPRESSION || compressed.bytesSent === null) continue;
    const base = plain.get(twin(compressed));
    if (base === undefined) continue;
    const scoreChange = compressed.score === null || base.score === null ? null : compressed.score.median - base.score.median;
    out.push({ plain: base, compressed, fewerBytes: base.bytesSent!.median / compressed.bytesSent!.median, scoreChange });
  }
  return out;
}

/** Rows of the report's codec table: one per compressed cell measured beside its uncompressed twin. */
export function codecTableRows(cells: readonly CellSummary[]): { header: string[]; rows: string[][] } {
  const header = [
    'model',
    'rows',
    'cell',
    'codec',
    'sent',
    'sent uncompressed',
    'fewer bytes',
    'score',
    'score uncompressed',
    'wall s',
    'wall s uncompressed',
  ];
  const rows = codecComparisons(cells).map(({ plain, compressed, fewerBytes }) => [
    compressed.model,
    String(compressed.trainRows),
    cellLabel({ ...compressed, compression: NO_COMPRESSION }),
    compressed.compression,
    formatBytes(compressed.bytesSent!.median),
    formatBytes(plain.bytesSent!.median),
    `${fewerBytes.toFixed(1)}×`,
    compressed.score === null ? '–' : `${compressed.scoreName} ${compressed.score.median.toPrecision(4)}`,
    plain.score === null ? '–' : plain.score.median.toPrecision(4),
    compressed.wallSeconds === null ? '–' : compressed.wallSeconds.median.toFixed(3),
    plain.wallSeconds === null ? '–' : plain.wallSeconds.median.toFixed(3),
  ]);
  return { header, rows };
}

/**
 * The evidence for "gradient compression reduces the amount of data sent between processors":
 * each compressed cell for it when it sent fewer bytes than its uncompressed twin, against it when
 * not; the score change is reported beside, since fewer bytes at a worse model is not a free win.
 */
export function compressionEvidence(cells: readonly CellSummary[]): { forCount: number; againstCount: number; evidence: string } {
  const pairs = codecComparisons(cells);
  if (pairs.length === 0)
    return {
      forCount: 0,
      againstCount: 0,
      evidence: 'no compressed cell was measured beside the same cell uncompressed (matrix field `compression`, CLI --compression)',
    };
  const forIt = pairs.filter((p) => p.fewerBytes > 1);
  const parts = pairs.map(({ compressed, fewerBytes, scoreChange }) => {
    const change =
      scoreChange === null ? '' : `, ${compressed.scoreName} ${scoreChange >= 0 ? '+' : '−'}${Math.abs(scoreChange).toFixed(4)}`;
    return `${compressed.model} ${cellLabel({ ...compressed, compression: NO_COMPRESSION })} ${compressed.compression}: ${fewerBytes.toFixed(1)}× fewer bytes${change}`;
  });
  return {
    forCount: forIt.length,
    againstCount: pairs.length - forIt.length,
    evidence: `bytes counted at the transport, median over repeats, against the same cell uncompressed: ${parts.join('; ')}`,
  };
}
