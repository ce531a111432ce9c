/**
 * `shardlearn compare`, `shardlearn runs` and `shardlearn report`: the comparison harness from the
 * command line. compare runs the matrix (default, a --matrix file, or flags), stores every run in
 * the DuckDB file as it finishes, writes the HTML report and prints the summary table. Ctrl-C stops
 * cleanly: finished runs stay in the database and the report covers them.
 */
import { ConfigError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { CompareEvent, FederatedFlags, MatrixFlags, RunFilter } from '../compare/index.js';
import {
  exportRuns,
  etaText,
  exportRunsParquet,
  listRuns,
  nonSgdSolver,
  remainingFederatedSeconds,
  remainingSeconds,
  reportFromStore,
  resolveMatrix,
  resumeCompare,
  runCompare,
} from '../compare/index.js';
import { parseNetworksFlag } from '../compare/matrix.js';
import { shutdownProcessPool } from '../runtime/index.js';
import type { ParsedArgs } from './args.js';
import { rejectLeftovers, takeList, takeNumber, takeString, takeSwitch } from './args.js';
import type { Output } from './output.js';
import { progressBar } from './progress-bar.js';

export const DEFAULT_DB = 'shardlearn-results/results.duckdb';
export const DEFAULT_REPORT = 'shardlearn-results/report.html';

export async function compareCommand(args: ParsedArgs, write: Output): Promise<void> {
  const flags: MatrixFlags = {};
  const matrix = takeString(args, 'matrix');
  if (matrix !== undefined) flags.matrix = matrix;
  const lists = {
    models: takeList(args, 'models'),
    data: takeList(args, 'data'),
    paradigms: takeList(args, 'paradigms'),
    strategies: takeList(args, 'strategies'),
    compression: takeList(args, 'compression'),
    faults: takeList(args, 'faults'),
  };
  for (const [key, value] of Object.entries(lists)) if (value !== undefined) (flags as Record<string, unknown>)[key] = value;
  const workers = takeList(args, 'workers');
  if (workers !== undefined) {
    flags.workers = workers.map((w) => {
      const n = Number(w);
      if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--workers expects whole numbers ≥ 1, got '${w}'`, { field: 'workers' });
      return n;
    });
  }
  const federated = takeFederatedFlags(args);
  if (federated !== undefined) flags.federated = federated;
  const networks = takeString(args, 'networks');
  if (networks !== undefined) flags.networks = parseNetworksFlag(networks);
  const repeats = takeNumber(args, 'repeats', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  if (repeats !== undefined) flags.repeats = repeats;
  const rows = takeNumber(args, 'rows', (n) => Number.isInteger(n) && n >= 10, 'a whole number ≥ 10');
  if (rows !== undefined) flags.rows = rows;
  const targetLoss = takeNumber(args, 'target-loss');
  if (targetLoss !== undefined) flags.targetLoss = targetLoss;
  const targetScore = takeNumber(args, 'target-score');
  if (targetScore !== undefined) flags.targetScore = targetScore;
  const quick = takeSwitch(args, 'quick');
  if (quick) {
    flags.repeats ??= 1;
    flags.rows ??= 20_000;
    // Two workers only: each processes cell costs ~0.5 s of start-up on 2 cores, and ×1 cells show
    // overhead, not the paradigm's split of the work (measured: 31 s with [1, 2], see docs/compare.md).
    flags.workers ??= [2];
  }
  const dbPath = takeString(args, 'db') ?? DEFAULT_DB;
  const reportPath = takeString(args, 'report') ?? DEFAULT_REPORT;
  const json = takeSwitch(args, 'json');
  const resume = takeSwitch(args, 'resume');
  rejectLeftovers(args, 'compare');
  if (resume && (Object.keys(flags).length > 0 || quick)) {
    const given = quick ? ['--quick'] : Object.keys(flags).map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new ConfigError(`--resume continues the stored comparison with its own matrix; drop ${given.join(', ')}`, { field: 'resume' });
  }

  const resolved = resume ? null : await resolveMatrix(flags);
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping after the current fit is abandoned; finished runs are kept (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const bar = progressBar(process.stderr, !json && !write.quiet && process.stderr.isTTY === true);
  let label = '';
  let done = 0;
  let total = 1;
  // The live ETA: seconds per run slot (data split, fit, scoring) by cell, measured as they finish.
  let cellIds: string[] = [];
  let runStartedMs = Date.now();
  const slotSeconds = new Map<string, number[]>();
  let eta = '';
  // The federated fits after the runs, timed from the end of whatever came before each (its
  // centralised fit included), so the ETA counts them too.
  let federatedFits: string[] = [];
  let federatedDone = 0;
  const federatedSeconds = new Map<string, number[]>();
  let lastMarkMs = Date.now();
  let runsLeft: number | null = null;
  const federatedEta = (): string =>
    etaText(runsLeft, {
      left: federatedFits.length - federatedDone,
      seconds: remainingFederatedSeconds(federatedFits, federatedDone, federatedSeconds),
    });
  const onProgress = (event: CompareEvent): void => {
    switch (event.type) {
      case 'start':
        total = Math.max(event.totalRuns, 1);
        cellIds = event.cells.map((cell) => cell.id);
        federatedFits = event.federatedFits;
        lastMarkMs = Date.now();
        if (!json)
          write(
            `compare: ${event.totalRuns} runs in ${event.cells.length} cells${event.skipped.length > 0 ? `, ${event.skipped.length} skipped` : ''}`,
          );
        for (const skipped of event.skipped) if (!json) write(`  skipped ${JSON.stringify(skipped)}`);
        return;
      case 'run-start':
        runStartedMs = Date.now();
        label = `${event.cell.model} ${event.cell.paradigm}×${event.cell.workers} ${nonSgdSolver(event.cell.model, event.cell.params) ?? event.cell.strategy}${event.cell.network.name === 'loopback' ? '' : ` @${event.cell.network.name}`}${eta}`;
        bar.update(done / total, label);
        return;
      case 'fit-progress':
        bar.update((done + event.event.iteration / Math.max(event.event.total, 1)) / total, label);
        return;
      case 'run-end':
        done = event.runIndex;
        slotSeconds.set(event.record.cellId, [...(slotSeconds.get(event.record.cellId) ?? []), (Date.now() - runStartedMs) / 1000]);
        {
          runsLeft = event.runIndex >= event.totalRuns ? 0 : remainingSeconds(cellIds, event.totalRuns, event.runIndex + 1, slotSeconds);
          eta = federatedEta();
        }
        lastMarkMs = Date.now();
        bar.done();
        if (!json) write(`  [${event.runIndex}/${event.totalRuns}] ${event.line}${eta}`);
        return;
      case 'tuning-start':
        bar.update(1, `tuning ${event.spec.model}`);
        return;
      case 'tuning-end':
        lastMarkMs = Date.now();
        bar.done();
        if (!json) write(`  ${event.line}`);
        return;
      case 'federated-end':
        runsLeft = 0;
        federatedDone++;
        federatedSeconds.set(event.result.key, [...(federatedSeconds.get(event.result.key) ?? []), (Date.now() - lastMarkMs) / 1000]);
        lastMarkMs = Date.now();
        eta = federatedEta();
        bar.done();
        if (!json) write(`  ${event.line}${eta}`);
        return;
      case 'federated-start':
        bar.update(1, `federated ${event.cell.model} ${event.cell.aggregator} ${event.cell.partition}${eta}`);
        return;
      case 'warmup':
      case 'skipped':
      case 'end':
        return;
    }
  };
  try {
    const outcome =
      resolved === null
        ? await resumeCompare(dbPath, { reportPath, signal: controller.signal, onProgress })
        : await runCompare(resolved, { dbPath, reportPath, signal: controller.signal, onProgress });
    bar.done();
    if (json) {
      write.data(
        JSON.stringify({
          db: dbPath,
          report: outcome.reportPath,
          summary: outcome.summary,
          tuning: outcome.tuning,
          federated: outcome.federated ?? [],
        }),
      );
      return;
    }
    write('');
    write(outcome.table);
    if (outcome.answer !== '') write(`\nthe answer (fastest paradigm per model and size; why in the report):\n${outcome.answer}`);
    write(`results: ${dbPath}`);
    if (outcome.reportPath !== null) write(`report:  ${outcome.reportPath}`);
  } finally {
    process.off('SIGINT', onSigint);
    await shutdownProcessPool(); // the processes cells' warm children (they would also leave on exit)
  }
}

/** The --federated-… flags (each replaces that list in every federated set), or undefined when none is given. */
function takeFederatedFlags(args: ParsedArgs): FederatedFlags | undefined {
  const flags: FederatedFlags = {};
  const whole = (name: string, list: string[] | undefined): number[] | undefined =>
    list?.map((item) => {
      const n = Number(item);
      if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--${name} expects whole numbers ≥ 1, got '${item}'`, { field: name });
      return n;
    });
  const aggregators = takeList(args, 'federated-aggregators');
  if (aggregators !== undefined) flags.aggregators = aggregators;
  const partitions = takeList(args, 'federated-partitions');
  if (partitions !== undefined) flags.partitions = partitions;
  const clients = whole('federated-clients', takeList(args, 'federated-clients'));
  if (clients !== undefined) flags.clients = clients;
  const localEpochs = whole('federated-local-epochs', takeList(args, 'federated-local-epochs'));
  if (localEpochs !== undefined) flags.localEpochs = localEpochs;
  const target = takeNumber(args, 'federated-target', (n) => n > 0 && n <= 1, 'a score in (0, 1]');
  if (target !== undefined) flags.target = target;
  return Object.keys(flags).length === 0 ? undefined : flags;
}

export async function runsCommand(args: ParsedArgs, write: Output): Promise<void> {
  const dbPath = takeString(args, 'db') ?? DEFAULT_DB;
  const format = takeString(args, 'format') ?? 'table';
  const out = takeString(args, 'out');
  const model = takeString(args, 'model');
  const paradigm = takeString(args, 'paradigm');
  const sessionId = takeString(args, 'session');
  const limit = takeNumber(args, 'limit', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  rejectLeftovers(args, 'runs');
  const filter = {
    ...(model === undefined ? {} : { model }),
    ...(paradigm === undefined ? {} : { paradigm }),
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(limit === undefined ? {} : { limit }),
  };
  if (format !== 'table' && format !== 'csv' && format !== 'json' && format !== 'parquet')
    throw new ConfigError(`--format expects table, csv, json or parquet, got '${format}'`, { field: 'format' });
  if (format === 'parquet') {
    // Parquet is binary: it goes to a file, never to the terminal.
    if (out === undefined) throw new ConfigError('--format parquet writes a file: add --out runs.parquet', { field: 'out' });
    await exportRunsParquet(dbPath, out, filter);
    write(`runs: parquet written to ${out}`);
    return;
  }
  const text = format === 'table' ? await runsTable(dbPath, filter) : await exportRuns(dbPath, format, filter);
  if (out === undefined) {
    write.data(text.replace(/\n$/, ''));
    return;
  }
  await writeFileAtomic(out, text);
  write(`runs: ${format} written to ${out}`);
}

async function runsTable(dbPath: string, filter: RunFilter): Promise<string> {
  const runs = await listRuns(dbPath, filter);
  const lines: string[] = [];
  const write = (line: string): void => void lines.push(line);
  write(['started', 'model', 'paradigm', 'workers', 'strategy', 'network', 'status', 'wall s', 'speedup', 'score'].join('\t'));
  for (const run of runs) {
    write(
      [
        run.startedAt,
        run.model,
        run.paradigm,
        run.workers,
        run.strategy,
        run.network,
        run.status,
        run.wallSeconds.toFixed(3),
        run.speedup === null ? '-' : run.speedup.toFixed(2),
        run.score === null ? '-' : `${run.scoreName}=${run.score.toPrecision(4)}`,
      ].join('\t'),
    );
  }
  write(`${runs.length} runs in ${dbPath}`);
  return `${lines.join('\n')}\n`;
}

export async function reportCommand(args: ParsedArgs, write: Output): Promise<void> {
  const dbPath = takeString(args, 'db') ?? DEFAULT_DB;
  const reportPath = takeString(args, 'report') ?? DEFAULT_REPORT;
  const sessionId = takeString(args, 'session');
  rejectLeftovers(args, 'report');
  write(`report: ${await reportFromStore(dbPath, reportPath, sessionId)}`);
}
