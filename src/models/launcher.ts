/**
 * The seam between models and paradigms. `Estimator.fit` asks for the launcher of a paradigm;
 * `runtime/` registers one per paradigm (it is the one place that knows them), so model code never
 * imports a transport. Registering a paradigm twice throws.
 */
import type { CommStats } from '../comm/communicator.js';
import { ConfigError, ShardlearnError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { LoadOptions } from '../data/load.js';
import type { ProgressEvent } from './context.js';
import type { Trainable } from './estimator.js';

export type Paradigm = 'sequential' | 'threads' | 'processes' | 'cluster';
export const PARADIGMS: readonly Paradigm[] = ['sequential', 'threads', 'processes', 'cluster'];

export interface FitOptions {
  paradigm?: Paradigm;
  /** Number of workers (world size); 1 for sequential. */
  workers?: number;
  /** How gradients are combined for SGD-trained models (`allreduce`, `hogwild`, …). */
  strategy?: string;
  /** Called on the caller's thread as rank 0 reports progress. */
  onProgress?: (event: ProgressEvent & { elapsedMs: number }) => void;
  /** Give up (and stop all workers) when no worker has made progress for this long. */
  timeoutMs?: number;
  /**
   * Modules (paths or file: URLs) every worker imports before rebuilding the model — where a custom
   * model registered with `registerModel` outside shardlearn lives. Paradigms with workers only.
   */
  workerModules?: readonly string[];
  /**
   * Where the training rows come from, for paradigms whose workers load their own shard (data
   * locality: `processes` workers call loadData(spec, { shard }) and split locally, so no training
   * row passes through the caller). Without it, `processes` ships each worker its slice of `data`
   * once at start (counted in FitInfo.setupBytes, apart from training communication).
   */
  source?: DataSource;
}

/** A data source every worker can load its own shard of (see FitOptions.source). */
export interface DataSource {
  /** A loadData spec: a path, builtin:…, synthetic:… */
  spec: string;
  /** loadData options; `shard` and `placement` are set by the worker. */
  load?: Omit<LoadOptions, 'shard' | 'placement'>;
  /** Keep only the training part of this per-row hash split (trainTestSplit), when the source has no test part of its own. */
  split?: { testFraction: number; seed: number };
}

/** How a fit ran. */
export interface FitInfo {
  paradigm: Paradigm;
  workers: number;
  strategy: string;
  /** Wall time of training, data loading excluded. */
  seconds: number;
  /** Per-rank communication statistics, index = rank. */
  comm: CommStats[];
  /**
   * Per-rank milliseconds of training spent outside communication (train wall time − commMs),
   * index = rank; set by paradigms that run workers.
   */
  computeMs?: number[];
  /**
   * Per-rank CPU milliseconds of the worker's thread during training, where the platform reports it
   * (Linux). Unlike wall time it does not grow when other processes compete for the cores.
   */
  cpuMs?: number[];
  /**
   * Bytes of training data the launcher shipped to workers before training (processes paradigm with
   * in-memory data); 0 or absent when workers load their own shards. Not part of `comm`.
   */
  setupBytes?: number;
  /** Rank 0's progress events with elapsed milliseconds since training started. */
  history: (ProgressEvent & { elapsedMs: number })[];
}

export interface LaunchRequest<State> {
  model: Trainable<State>;
  data: Dataset;
  options: FitOptions;
}

export type Launcher = <State>(request: LaunchRequest<State>) => Promise<{ state: State; info: FitInfo }>;

const launchers = new Map<Paradigm, Launcher>();

export function registerLauncher(paradigm: Paradigm, launcher: Launcher): void {
  if (launchers.has(paradigm)) throw new ShardlearnError('REGISTRY', `a launcher for paradigm '${paradigm}' is already registered`);
  launchers.set(paradigm, launcher);
}

export function getLauncher(paradigm: Paradigm): Launcher {
  const launcher = launchers.get(paradigm);
  if (launcher !== undefined) return launcher;
  if (!PARADIGMS.includes(paradigm)) {
    throw new ConfigError(`unknown paradigm '${String(paradigm)}'; expected one of: ${PARADIGMS.join(', ')}`, { field: 'paradigm' });
  }
  const available = [...launchers.keys()];
  throw new ConfigError(
    available.length === 0
      ? `no paradigm is available: import 'shardlearn' (the package entry), which registers the launchers`
      : `paradigm '${paradigm}' is not available in this build; available: ${available.join(', ')}`,
    { field: 'paradigm' },
  );
}

export function availableParadigms(): Paradigm[] {
  return [...launchers.keys()];
}
