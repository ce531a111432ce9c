/**
 * The runner: every cell of the matrix, `repeats` times, each fit measured — wall and CPU seconds,
 * peak memory, bytes and messages on the wire, compute vs communication time, test score, loss
 * over time, speedup against the sequential median of the same model and data.
 *
 * Repeats are the outer loop (repeat 0 of every cell, then repeat 1, …) so slow drift of the
 * machine (another job, thermal throttling) spreads over all cells instead of biasing one.
 * Sequential cells come first in each repeat, so a live speedup is known as soon as a parallel
 * cell finishes.
 *
 * @example
 * const result = await runMatrix(defaultMatrix(), { loadData, onProgress: (e) => console.log(e.type) });
 */
import type { Dataset } from '../data/dataset.js';
import type { ProgressEvent } from '../models/context.js';
import { ConfigError } from '../core/errors.js';
import { evaluate, primaryMetric } from '../models/evaluate.js';
import type { FitOptions } from '../models/paradigm.js';
import { availableParadigms } from '../models/paradigm.js';
import type { AnyEstimator } from '../models/registry.js';
import { createModel, modelEntry } from '../models/registry.js';
import { fitInNamespaces } from '../runtime/netns-cluster.js';
import { processPeakRssBytes } from '../runtime/peak-rss.js';
import type { DataLoader, Split } from './data.js';
import { defaultLoader, headRows, trainAndTest } from './data.js';
import { codeVersion, hostInfo } from './environment.js';
import type { Cell, Matrix, SkippedCell } from './matrix.js';
import { expandMatrix, parallelismOptions } from './matrix.js';
import { codecFitOptions } from './codec-axis.js';
import { faultFitOptions, faultOutcome, faultSeed } from './fault-cells.js';
import { nonSgdSolver } from './summary.js';
import type { CompareResult, RunRecord, Session } from './record.js';
import { stageMemoryOf } from './stage-memory.js';
import type { HistoryPoint } from './stats.js';
import type { TuningResult, TuningSpec } from './tuning.js';
import { runTuningCheck, tuningKey, tuningLine } from './tuning.js';
import { efficiency, speedup, timeToTargetLoss } from './stats.js';
import { applyBaselines, baselineKey, sequentialMedians } from './baseline.js';
import { environmentSplit, isEnvironmentSpec, timeToTargetReturnMs, warmupParams } from './rl-cells.js';
import type { FederatedCell } from './federated-cells.js';
import { expandFederated } from './federated-cells.js';
import type { CentralisedFit, FederatedResult } from './federated-run.js';
import { failedFederated, federatedLine, fitCentralised, runFederatedCell } from './federated-run.js';

export type CompareEvent =
  | {
      type: 'start';
      session: Session;
      totalRuns: number;
      cells: Cell[];
      skipped: SkippedCell[];
      /** The federated fits still to run after the runs, in order: their cell's key, once per repeat (resumed fits left out). */
      federatedFits: string[];
    }
  | { type: 'warmup'; model: string }
  | { type: 'run-start'; cell: Cell; repeat: number; runIndex: number; totalRuns: number }
  | { type: 'fit-progress'; cell: Cell; repeat: number; event: ProgressEvent & { elapsedMs: number } }
  | { type: 'run-end'; record: RunRecord; runIndex: number; totalRuns: number; line: string }
  | { type: 'skipped'; skipped: SkippedCell }
  | { type: 'tuning-start'; spec: TuningSpec }
  | { type: 'tuning-end'; result: TuningResult; line: string }
  | { type: 'federated-start'; cell: FederatedCell; repeat: number }
  | { type: 'federated-end'; result: FederatedResult; line: string }
  | { type: 'end'; aborted: boolean };

export interface RunOptions {
  /** Loads a data spec; default: the data module's `loadData` (shared memory). */
  loadData?: DataLoader;
  onProgress?: (event: CompareEvent) => void;
  /** Stops the comparison: no new fit starts, a fit in flight is abandoned, what was measured is kept. */
  signal?: AbortSignal;
  /** Called with each finished run (the store writes it at once, so an interrupted comparison keeps it). */
  onRecord?: (record: RunRecord) => Promise<void> | void;
  /** At most this many rows in a cell's warm-up fit (default: all its training rows). */
  warmupRows?: number;
  /**
   * Continue an interrupted comparison: its session (id, start, matrix) and the runs it stored. Every
   * (cell, repeat) with a stored run is not run again; the stored runs count in baselines and results.
   */
  resume?: { session: Session; records: readonly RunRecord[]; tuning?: readonly TuningResult[]; federated?: readonly FederatedResult[] };
  /** Called with each finished tuning check (stored at once, like runs). */
  onTuning?: (result: TuningResult) => Promise<void> | void;
  /** Called with each finished federated fit (stored at once, like runs). */
  onFederated?: (result: FederatedResult) => Promise<void> | void;
}

const ABORTED = Symbol('aborted');

/** `promise`, or ABORTED as soon as `signal` fires (the abandoned promise's rejection is swallowed). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof ABORTED> {
  if (signal === undefined) return promise;
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function newId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** One line for a live display: what ran, how long, how fast against sequential, how well. */
export function describeRun(record: RunRecord): string {
  const what = `${record.model} ${record.paradigm}×${record.workers}${record.paradigm === 'sequential' ? '' : ` ${nonSgdSolver(record.model, record.params) ?? record.strategy}`}${record.compression === 'none' ? '' : ` ${record.compression}`}${record.network === 'loopback' ? '' : ` @${record.network}`}${record.fault === undefined ? '' : ` fault=${record.fault.kind}`} #${record.repeat + 1}`;
  if (record.status === 'failed') return `${what}: failed — ${record.error ?? 'unknown error'}`;
  const parts = [`${record.wallSeconds.toFixed(2)} s`];
  if (record.speedup !== null) parts.push(`speedup ${record.speedup.toFixed(2)}×`);
  if (record.score !== null) parts.push(`${record.scoreName} ${record.score.toPrecision(4)}`);
  if (record.bytesSent > 0) parts.push(`${(record.bytesSent / 1e6).toFixed(2)} MB sent`);
  const rate = record.metrics['envStepsPerSecond'];
  if (typeof rate === 'number') parts.push(`${Math.round(rate)} env steps/s`);
  return `${what}: ${parts.join(', ')}`;
}

function historyOf(model: AnyEstimator): HistoryPoint[] {
  return (model.fitInfo?.history ?? []).map((h) => ({
    elapsedMs: h.elapsedMs,
    iteration: h.iteration,
    total: h.total,
    loss: h.loss ?? null,
  }));
}

interface MeasureInput {
  cell: Cell;
  repeat: number;
  split: Split;
  session: Session;
  baselineSeconds: number | null;
  options: RunOptions;
}

/** A fit's record, and whether it failed on configuration (which every repeat would repeat). */
type Measured = { record: RunRecord; configFailure: boolean } | typeof ABORTED;

async function measure(input: MeasureInput): Promise<Measured> {
  const { cell, repeat, split, session, options } = input;
  const model = createModel(cell.model, cell.params);
  const fitOptions: FitOptions = {
    paradigm: cell.paradigm,
    workers: cell.workers,
    ...parallelismOptions(cell.strategy),
    ...codecFitOptions(cell.compression),
    ...faultFitOptions(cell, faultSeed(session.matrix.seed, repeat)),
    onProgress: (event) => options.onProgress?.({ type: 'fit-progress', cell, repeat, event }),
  };
  // Processes cells run on the warm process pool, as threads cells run on the warm thread pool: a
  // repeat does not pay fork, Node's boot and the library's import (the pool skips elastic and fault
  // cells on its own); the cell's warm-up fit (warmUp) paid them.
  if (cell.paradigm === 'processes') fitOptions.reuseProcesses = true;
  if (session.matrix.timeoutMs !== null) fitOptions.timeoutMs = session.matrix.timeoutMs;
  const { name: networkName, kind: networkKind, ...profile } = cell.network;
  if (networkKind === undefined && Object.keys(profile).length > 0) fitOptions.network = profile;
  const base = {
    runId: newId(),
    sessionId: session.sessionId,
    startedAt: new Date().toISOString(),
    cellId: cell.id,
    model: cell.model,
    modelKind: modelEntry(cell.model).kind,
    params: cell.params,
    data: cell.data,
    paradigm: cell.paradigm,
    workers: cell.workers,
    strategy: cell.strategy,
    network: networkName,
    compression: cell.compression,
    repeat,
    trainRows: split.train.rows,
    testRows: split.test.rows,
    cols: split.train.cols,
  };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let outcome: AnyEstimator | typeof ABORTED;
  try {
    const fitting =
      cell.paradigm === 'cluster'
        ? fitCluster(model, cell, split.train, session, options.signal, faultFitOptions(cell, faultSeed(session.matrix.seed, repeat)))
        : model.fit(split.train, fitOptions);
    outcome = await unlessAborted(fitting, options.signal);
  } catch (error) {
    const wallSeconds = (performance.now() - started) / 1000;
    const record: RunRecord = {
      ...base,
      ...emptyMeasurements(model),
      wallSeconds,
      status: 'failed',
      error: error instanceof Error ? error.message : String(error),
      ...(cell.fault === undefined
        ? {}
        : { fault: faultOutcome({ ...cell, fault: cell.fault }, faultSeed(session.matrix.seed, repeat), null) }),
    };
    return { record, configFailure: error instanceof ConfigError };
  }
  if (outcome === ABORTED) return ABORTED;
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // The launcher's peak by the same measure its thread ranks report (VmHWM), so the two compare.
  const peakRssBytes = processPeakRssBytes();
  const info = model.fitInfo!;
  const ranks = info.comm.length === 0 ? 1 : info.comm.length;
  const sum = (pick: (s: (typeof info.comm)[number]) => number): number => info.comm.reduce((total, s) => total + pick(s), 0);
  const commMs = sum((s) => s.commMs) / ranks;
  const metrics = evaluate(model, split.test);
  const { name: scoreName, higherIsBetter } = primaryMetric(model);
  const scoreValue = metrics[scoreName];
  const score = typeof scoreValue === 'number' ? scoreValue : null;
  const history = historyOf(model);
  const losses = history.filter((h) => h.loss !== null);
  const target = cell.target;
  const run = speedup(input.baselineSeconds, wallSeconds);
  const record: RunRecord = {
    ...base,
    status: 'ok',
    error: null,
    wallSeconds,
    trainSeconds: info.seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssBytes,
    rankPeakRssBytes: info.peakRssBytes !== undefined && info.peakRssBytes.length > 0 ? Math.max(...info.peakRssBytes) : null,
    stageMemory: stageMemoryOf(model),
    startupMs: info.startupMs ?? null,
    bytesSent: sum((s) => s.bytesSent),
    bytesReceived: sum((s) => s.bytesReceived),
    messagesSent: sum((s) => s.messagesSent),
    setupBytes: info.setupBytes ?? 0,
    commMs,
    computeMs:
      info.computeMs !== undefined && info.computeMs.length > 0
        ? info.computeMs.reduce((a, b) => a + b, 0) / info.computeMs.length
        : Math.max(0, info.seconds * 1000 - commMs),
    score,
    scoreName,
    higherIsBetter,
    metrics,
    finalLoss: losses.length === 0 ? null : losses[losses.length - 1]!.loss,
    // An agent's target is a return (its environment's, or the cell's score target): RL's time to target.
    timeToTargetMs: isEnvironmentSpec(cell.data)
      ? timeToTargetReturnMs(model, target?.score)
      : target?.loss === undefined
        ? null
        : timeToTargetLoss(history, target.loss),
    reachedScoreTarget:
      target?.score === undefined || score === null ? null : higherIsBetter ? score >= target.score : score <= target.score,
    speedup: run,
    efficiency: efficiency(run, cell.workers),
    history,
    ...(cell.fault === undefined
      ? {}
      : { fault: faultOutcome({ ...cell, fault: cell.fault }, faultSeed(session.matrix.seed, repeat), info) }),
  };
  return { record, configFailure: false };
}

/**
 * A cluster cell: one network namespace per rank on a bridge (tbf-capped for a tbf profile, the veth
 * at full speed for loopback), ranks started with `ip netns exec` (runtime/netns-cluster.ts). The
 * learned state comes back from rank 0 and is installed in `model`, so it is scored like any other.
 */
async function fitCluster(
  model: AnyEstimator,
  cell: Cell,
  train: Dataset,
  session: Session,
  signal: AbortSignal | undefined,
  faults: ReturnType<typeof faultFitOptions>,
): Promise<AnyEstimator> {
  const { state, info } = await fitInNamespaces<object>({
    ...faults,
    model: cell.model,
    params: cell.params,
    data: train,
    workers: cell.workers,
    ...parallelismOptions(cell.strategy),
    options: codecFitOptions(cell.compression),
    ...(cell.network.kind === 'tbf' && cell.network.bandwidthMbit !== undefined ? { rateMbit: cell.network.bandwidthMbit } : {}),
    ...(session.matrix.timeoutMs === null ? {} : { timeoutMs: session.matrix.timeoutMs }),
    ...(signal === undefined ? {} : { signal }),
  });
  model.setState(state);
  model.fitInfo = info;
  return model;
}

function emptyMeasurements(
  model: AnyEstimator,
): Omit<
  RunRecord,
  | keyof Cell
  | 'runId'
  | 'sessionId'
  | 'startedAt'
  | 'cellId'
  | 'modelKind'
  | 'repeat'
  | 'trainRows'
  | 'testRows'
  | 'cols'
  | 'wallSeconds'
  | 'status'
  | 'error'
> {
  const { name, higherIsBetter } = primaryMetric(model);
  return {
    trainSeconds: NaN,
    cpuSeconds: NaN,
    peakRssBytes: NaN,
    rankPeakRssBytes: null,
    stageMemory: null,
    startupMs: null,
    bytesSent: 0,
    bytesReceived: 0,
    messagesSent: 0,
    setupBytes: 0,
    commMs: NaN,
    computeMs: NaN,
    score: null,
    scoreName: name,
    higherIsBetter,
    metrics: {},
    finalLoss: null,
    timeToTargetMs: null,
    reachedScoreTarget: null,
    speedup: null,
    efficiency: null,
    history: [],
  };
}

/** Run the matrix. Never throws for a failing fit (the record says 'failed'); a bad matrix throws ConfigError. */
export async function runMatrix(matrix: Matrix, options: RunOptions): Promise<CompareResult> {
  const { cells, skipped } = expandMatrix(matrix, availableParadigms());
  const session: Session = options.resume?.session ?? {
    sessionId: newId(),
    startedAt: new Date().toISOString(),
    matrix,
    code: codeVersion(),
    host: hostInfo(),
  };
  const finished = new Set((options.resume?.records ?? []).map((r) => `${r.repeat}|${r.cellId}`));
  const totalRuns = cells.length * matrix.repeats;
  const emit = options.onProgress ?? ((): void => undefined);
  const resumedFits = new Set((options.resume?.federated ?? []).map((r) => `${r.repeat}|${r.key}`));
  const federatedFits = expandFederated(matrix.federated ?? []).flatMap(({ cell, repeats }) =>
    Array.from({ length: repeats }, (_, repeat) => repeat).flatMap((repeat) =>
      resumedFits.has(`${repeat}|${cell.key}`) ? [] : [cell.key],
    ),
  );
  emit({ type: 'start', session, totalRuns, cells, skipped: [...skipped], federatedFits });
  const records: RunRecord[] = [...(options.resume?.records ?? [])];
  const splits = new Map<string, Split | Error>();
  const dead = new Set<string>();
  const warmed = new Set<string>();
  let runIndex = 0;
  let aborted = false;

  const splitFor = async (spec: string): Promise<Split | Error> => {
    let split = splits.get(spec);
    if (split === undefined && isEnvironmentSpec(spec)) split = environmentSplit(spec);
    if (split === undefined) {
      try {
        split = trainAndTest(await (options.loadData ?? defaultLoader)(spec), matrix.testFraction, matrix.seed);
      } catch (error) {
        split = error instanceof Error ? error : new Error(String(error));
      }
      splits.set(spec, split);
    }
    return split;
  };
  const skip = (cell: Cell, reason: string): void => {
    dead.add(cell.id);
    const entry = {
      model: cell.model,
      data: cell.data,
      paradigm: cell.paradigm,
      workers: cell.workers,
      strategy: cell.strategy,
      ...(cell.compression === 'none' ? {} : { compression: cell.compression }),
      reason,
    };
    skipped.push(entry);
    emit({ type: 'skipped', skipped: entry });
  };

  outer: for (let repeat = 0; repeat < matrix.repeats; repeat++) {
    for (const cell of cells) {
      if (options.signal?.aborted === true) {
        aborted = true;
        break outer;
      }
      runIndex++;
      if (dead.has(cell.id) || finished.has(`${repeat}|${cell.id}`)) continue;
      const split = await splitFor(cell.data);
      if (split instanceof Error) {
        skip(cell, `data '${cell.data}' could not be loaded: ${split.message}`);
        continue;
      }
      if (matrix.warmup && !warmed.has(cell.id)) {
        warmed.add(cell.id);
        emit({ type: 'warmup', model: cell.model });
        await warmUp(cell, split.train, options.warmupRows ?? Infinity);
      }
      emit({ type: 'run-start', cell, repeat, runIndex, totalRuns });
      const baselineSeconds = sequentialMedians(records).get(baselineKey(cell)) ?? null;
      const measured = await measure({ cell, repeat, split, session, baselineSeconds, options });
      if (measured === ABORTED) {
        aborted = true;
        break outer;
      }
      const { record, configFailure } = measured;
      records.push(record);
      await options.onRecord?.(record);
      emit({ type: 'run-end', record, runIndex, totalRuns, line: describeRun(record) });
      // A configuration error (a strategy the paradigm lacks, …) repeats identically: say so once
      // and skip the cell's other repeats.
      if (configFailure) skip(cell, record.error ?? 'failed');
    }
  }
  // The tuning checks, after the cells (their fits are sequential and measure scores, not time).
  const tuning: TuningResult[] = [...(options.resume?.tuning ?? [])];
  const tuned = new Set(tuning.map(tuningKey));
  for (const spec of matrix.tuning ?? []) {
    if (aborted || options.signal?.aborted === true) {
      aborted = true;
      break;
    }
    if (tuned.has(tuningKey(spec))) continue;
    const split = await splitFor(spec.data);
    if (split instanceof Error) continue;
    emit({ type: 'tuning-start', spec });
    const result = await unlessAborted(runTuningCheck(spec, split), options.signal);
    if (result === ABORTED) {
      aborted = true;
      break;
    }
    tuning.push(result);
    await options.onTuning?.(result);
    emit({ type: 'tuning-end', result, line: tuningLine(result) });
  }
  // The federated cells, last (each a federated fit to a target score, beside one centralised fit per model and data).
  const federated: FederatedResult[] = [...(options.resume?.federated ?? [])];
  const fitted = new Set(federated.map((r) => `${r.repeat}|${r.key}`));
  const centralised = new Map<string, CentralisedFit>(
    federated.map((r) => [`${r.model}${JSON.stringify(r.params)}|${r.data}`, r.centralised]),
  );
  federatedLoop: for (const { cell, repeats } of expandFederated(matrix.federated ?? [])) {
    for (let repeat = 0; repeat < repeats; repeat++) {
      if (aborted || options.signal?.aborted === true) {
        aborted = true;
        break federatedLoop;
      }
      if (fitted.has(`${repeat}|${cell.key}`)) continue;
      const split = await splitFor(cell.data);
      if (split instanceof Error) {
        const result = failedFederated(cell, repeat, `data '${cell.data}' could not be loaded: ${split.message}`);
        federated.push(result);
        await options.onFederated?.(result);
        emit({ type: 'federated-end', result, line: federatedLine(result) });
        continue;
      }
      const baseKey = `${cell.model}${JSON.stringify(cell.params)}|${cell.data}`;
      if (!centralised.has(baseKey)) centralised.set(baseKey, await fitCentralised(cell, split));
      emit({ type: 'federated-start', cell, repeat });
      const result = await unlessAborted(
        runFederatedCell(cell, { split, repeat, centralised: centralised.get(baseKey)!, timeoutMs: matrix.timeoutMs }),
        options.signal,
      );
      if (result === ABORTED) {
        aborted = true;
        break federatedLoop;
      }
      federated.push(result);
      await options.onFederated?.(result);
      emit({ type: 'federated-end', result, line: federatedLine(result) });
    }
  }
  applyBaselines(records);
  emit({ type: 'end', aborted });
  return { session, records, skipped, aborted, tuning, ...(federated.length === 0 ? {} : { federated }) };
}

/**
 * One unmeasured fit of the cell as its repeats will run it — paradigm, workers, strategy, codec, on
 * its pool — on its training rows (at most `rows`), without its network profile or fault; none for
 * cluster cells, whose every fit starts new processes in their namespaces. A paradigm that runs in
 * threads or child processes has isolates of its own, cold until they have fitted the model, and
 * the first fits of a process run code V8 still optimises (and, on the second fit's new closures,
 * re-optimises). With a 2000-row sequential warm-up per model only, a cell's three repeats measured
 * that warming (logistic SGD, 16k rows: processes×2 0.27, 0.11, 0.03 s; threads×2 0.11, 0.04, 0.06;
 * sequential 0.034, 0.021, 0.014), and the first repeat paid the pool's start-up (0.3–0.7 s), which
 * a long-lived program pays once: the medians then compared warm-up, not paradigms.
 */
async function warmUp(cell: Cell, train: Dataset, rows: number): Promise<void> {
  if (cell.fault !== undefined || cell.paradigm === 'cluster' || !availableParadigms().includes(cell.paradigm)) return;
  try {
    const environment = isEnvironmentSpec(cell.data);
    const params = environment ? warmupParams(cell.model, cell.params) : cell.params;
    const data = environment || rows >= train.rows ? train : headRows(train, Math.max(rows, cell.workers));
    await createModel(cell.model, params).fit(data, {
      paradigm: cell.paradigm,
      workers: cell.workers,
      ...parallelismOptions(cell.strategy),
      ...codecFitOptions(cell.compression),
      ...(cell.paradigm === 'processes' ? { reuseProcesses: true } : {}),
    });
  } catch {
    // A cell that cannot run fails for real in its measured repeats, with its own message; the
    // warm-up itself is best effort.
  }
}
