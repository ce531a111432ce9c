/**
 * The sequential baseline every speedup is measured against: the median wall seconds of the ok
 * sequential runs of the same model, hyperparameters and data.
 *
 * @example
 * applyBaselines(records); // fills record.speedup and record.efficiency
 */
import type { RunRecord } from './record.js';
import { efficiency, median, speedup } from './stats.js';

/** Key of the sequential baseline a cell's speedup is measured against. */
export function baselineKey(cell: { model: string; params: Record<string, unknown>; data: string }): string {
  return `${cell.model}${JSON.stringify(cell.params)}|${cell.data}`;
}

/** Fill in every ok record's speedup and efficiency against the final sequential medians. */
export function applyBaselines(records: RunRecord[]): void {
  const baselines = sequentialMedians(records);
  for (const record of records) {
    if (record.status !== 'ok') continue;
    record.speedup = speedup(baselines.get(baselineKey(record)) ?? null, record.wallSeconds);
    record.efficiency = efficiency(record.speedup, record.workers);
  }
}

/** Median wall seconds of the ok sequential runs per model/params/data. */
export function sequentialMedians(records: readonly RunRecord[]): Map<string, number> {
  const groups = new Map<string, number[]>();
  for (const record of records) {
    if (record.status !== 'ok' || record.paradigm !== 'sequential') continue;
    const key = baselineKey(record);
    groups.set(key, [...(groups.get(key) ?? []), record.wallSeconds]);
  }
  return new Map([...groups].map(([key, values]) => [key, median(values)]));
}
