/**
 * The launcher's side of a rank job (rank.ts is the rank's): settings checked and defaulted once,
 * the job every rank of a fit runs, the contiguous row ranges, the FitInfo parts assembled from the
 * ranks' results, and the caller's error for a rank's failure report. Every paradigm uses these, so
 * a fit is checked, split and accounted the same way whichever paradigm runs it.
 *
 * @example
 * const timeoutMs = resolveTimeout(options.timeoutMs);
 * const job = jobFor(request, { kind: 'rows', init: shardCopy(data, rank, size), start: 0, end: … }, timeoutMs);
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_TIMEOUT_MS } from '../comm/communicator.js';
import { CommError, ConfigError, WorkerError } from '../core/errors.js';
import type { Dataset, DatasetInit } from '../data/dataset.js';
import type { ModelFitOptions } from '../models/context.js';
import type { FitInfo, FitOptions, LaunchRequest } from '../models/paradigm.js';
import type { RankData, RankErrorReport, RankJob, RankResult } from './rank.js';
import { checkScale } from './scale.js';

/** `timeoutMs`, or the default; a ConfigError unless positive. */
export function resolveTimeout(timeoutMs: number | undefined): number {
  const resolved = timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(resolved > 0)) throw new ConfigError(`timeoutMs must be positive, got ${resolved}`, { field: 'timeoutMs' });
  return resolved;
}

/** The world size: `requested`, or the cores up to 4; at most one rank per row unless ranks load their own shards. */
export function resolveWorkers(requested: number | undefined, rows: number, fromSource: boolean): number {
  const workers = requested ?? Math.min(availableParallelism(), 4);
  if (!Number.isInteger(workers) || workers < 1)
    throw new ConfigError(`workers must be a positive integer, got ${workers}`, { field: 'workers' });
  if (!fromSource && workers > rows)
    throw new ConfigError(
      `workers=${workers} exceeds the ${rows} rows of the data: every worker needs at least one row; use fewer workers`,
      { field: 'workers' },
    );
  return workers;
}

/** Rank `rank`'s contiguous rows [start, end) of `rows` over `size` ranks (the same in every paradigm). */
export function shardRange(rows: number, rank: number, size: number): { start: number; end: number } {
  return { start: Math.floor((rank * rows) / size), end: Math.floor(((rank + 1) * rows) / size) };
}

/**
 * Rank `rank`'s contiguous shard of `data`, copied into ordinary memory (it crosses a process
 * boundary; shared memory cannot be serialised), with its row keys: the model keys per-row
 * decisions (dropout masks, the split) by them, so they must travel with the rows.
 */
export function shardCopy(data: Dataset, rank: number, size: number): DatasetInit {
  const { start, end } = shardRange(data.rows, rank, size);
  const shard = data.slice(start, end);
  return {
    x: shard.x.slice(),
    y: shard.y === null ? null : shard.y.slice(),
    rows: shard.rows,
    cols: shard.cols,
    featureNames: shard.featureNames,
    labelNames: shard.labelNames,
    source: shard.source,
    rowKeys: shard.rowKeys === null ? null : shard.rowKeys.slice(),
    rowKeyBase: shard.rowKeyBase,
  };
}

/** Bytes of training data a shard copy ships (FitInfo.setupBytes). */
export function shardBytes(init: DatasetInit): number {
  return init.x.byteLength + (init.y?.byteLength ?? 0) + (init.rowKeys?.byteLength ?? 0);
}

/** A module path or URL as the file: URL a rank imports. */
export function moduleUrl(module: string): string {
  if (/^(file|data|node):/.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/** The FitOptions the runtime consumes itself; every other setting passes through to the model. */
const RUNTIME_OPTIONS: ReadonlySet<string> = new Set([
  'paradigm',
  'workers',
  'strategy',
  'onProgress',
  'timeoutMs',
  'workerModules',
  'source',
  'network',
  'reuseThreads',
  'reuseProcesses',
  'insecureTransport',
  'collectiveLane',
  'rendezvous',
  'federated',
  'minWorkers',
  'maxWorkers',
  'maxRestarts',
  'stragglerWarningSeconds',
  'inject',
]);

/**
 * The fit settings the ranks pass untouched into TrainContext.options: every FitOptions entry the
 * runtime does not consume (a pipeline setting, a codec, a checkpoint policy…), so a setting added
 * to FitOptions reaches the model in every paradigm without a change here. They must be
 * serialisable: a function is refused, naming the option.
 */
export function rankOptions(options: FitOptions): ModelFitOptions {
  const passed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (RUNTIME_OPTIONS.has(key) || value === undefined) continue;
    if (typeof value === 'function')
      throw new ConfigError(
        `fit option '${key}' is a function; options the ranks receive must be data (they cross thread and process boundaries)`,
        { field: key },
      );
    passed[key] = value;
  }
  return passed as ModelFitOptions; // FitOptions = the runtime's keys (skipped above) + ModelFitOptions
}

/** The job every rank of `request` runs, with its own `data`. */
export function jobFor(request: LaunchRequest<unknown>, data: RankData, timeoutMs: number): RankJob {
  const { model, options } = request;
  if (data.kind === 'source' && data.source.scale !== undefined) checkScale(data.source.scale); // here, not once per rank
  const straggler = options.stragglerWarningSeconds;
  if (straggler !== undefined && !(straggler >= 0))
    throw new ConfigError(`stragglerWarningSeconds must be ≥ 0 (0: no warning), got ${straggler}`, { field: 'straggler-warning' });
  return {
    model: { name: model.name, params: { ...model.params } as Record<string, unknown> },
    data,
    strategy: options.strategy ?? 'allreduce',
    timeoutMs,
    modules: (options.workerModules ?? []).map(moduleUrl),
    options: rankOptions(options),
    ...(straggler === undefined ? {} : { stragglerWarningMs: straggler * 1000 }),
  };
}

/** The per-rank parts of FitInfo, from every rank's result (index = rank). */
export function fitInfoParts(
  results: readonly Omit<RankResult, 'state'>[],
): Pick<FitInfo, 'comm' | 'rows' | 'computeMs' | 'cpuMs' | 'peakRssBytes' | 'preprocess' | 'rounds'> {
  const cpuMs = results.map((result) => result.cpuMs);
  const peakRssBytes = results.map((result) => result.peakRssBytes);
  const preprocess = results[0]?.preprocess;
  const rounds = results[0]?.rounds;
  return {
    comm: results.map((result) => result.stats),
    rows: results.map((result) => result.rows),
    computeMs: results.map((result) => result.computeMs),
    ...(cpuMs.every((ms): ms is number => ms !== undefined) ? { cpuMs } : {}),
    ...(peakRssBytes.every((bytes): bytes is number => bytes !== undefined) ? { peakRssBytes } : {}),
    ...(preprocess === undefined ? {} : { preprocess }),
    ...(rounds === undefined ? {} : { rounds }),
  };
}

/**
 * The caller's error for a rank's failure report: a lost or silent peer it names (CommError with
 * that peer's rank and host), else the rank's own failure (WorkerError with its rank and stack).
 */
export function rankFailure(report: RankErrorReport): Error {
  const original = new Error(report.message);
  original.name = report.name;
  if (report.stack !== undefined) original.stack = report.stack;
  if (report.code === 'TIMEOUT' || report.code === 'PEER_LOST') {
    // Say who reports, unless the message already does ("rank 0 waited 500 ms … for rank 1").
    const message = report.message.startsWith(`rank ${report.rank} `)
      ? report.message
      : `worker rank ${report.rank} reports: ${report.message}`;
    return new CommError(report.code, message, {
      cause: original,
      ...(report.peer === undefined ? {} : { rank: report.peer }),
      ...(report.host === undefined ? {} : { host: report.host }),
    });
  }
  const error = new WorkerError(report.rank, report.message, { cause: original });
  // The stack that matters is where the rank threw; keep it visible where users look first.
  if (report.stack !== undefined) error.stack = `${error.name}: ${error.message}\n    at rank ${report.rank}:\n${report.stack}`;
  return error;
}
