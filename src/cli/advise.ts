/**
 * `shardlearn advise --model kmeans --rows 1000000 --cols 20 [--workers 2,4,8] [--paradigms …]
 * [--bandwidth 1Gbit] [--latency-ms 0.5] [--cores N] [--db results.duckdb] [--session id] [--json]
 * [model options, e.g. --k 8 --solver sgd]`: the cost model's ranked prediction of every paradigm ×
 * worker count × strategy, with its reasoning, calibrated on the runs in the results database
 * (defaults, said so, when there are none).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ConfigError } from '../core/errors.js';
import type { Paradigm } from '../models/index.js';
import { PARADIGMS } from '../models/index.js';
import type { AdviseRequest, Calibration } from '../compare/index.js';
import { DEFAULT_CALIBRATION, advise, calibrateFromRuns, listRuns, median, parseBandwidth } from '../compare/index.js';
import type { ParsedArgs } from './args.js';
import { remainingOptions, takeList, takeNumber, takeString, takeSwitch } from './args.js';
import { DEFAULT_DB } from './compare.js';
import type { Output } from './output.js';

function whole(args: ParsedArgs, name: string): number | undefined {
  return takeNumber(args, name, (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
}

async function calibrationFrom(
  dbPath: string | undefined,
  sessionId: string | undefined,
): Promise<{ calibration: Calibration; from: string }> {
  const path = dbPath ?? DEFAULT_DB;
  if (!existsSync(path)) {
    if (dbPath !== undefined)
      throw new ConfigError(
        `--db '${dbPath}' does not exist; run 'shardlearn compare --db ${dbPath}' first, or leave --db out to use the default parameters`,
        { field: 'db' },
      );
    return { calibration: DEFAULT_CALIBRATION, from: `defaults (no results database at ${path})` };
  }
  const runs = await listRuns(path, sessionId === undefined ? {} : { sessionId });
  // Calibrate for the machine that measured the runs: its cores bound their parallelism.
  const cpus = runs.map((r) => Number(r.host.cpus)).filter((n) => Number.isInteger(n) && n > 0);
  const calibration = calibrateFromRuns(runs, cpus.length === 0 ? availableParallelism() : median(cpus));
  return {
    calibration,
    from: calibration.source === 'defaults' ? `defaults (${path} holds no finished run)` : `${calibration.runs} runs in ${path}`,
  };
}

const fmt = (s: number): string => (s >= 10 ? s.toFixed(1) : s >= 0.01 ? s.toFixed(3) : s.toPrecision(2));

export async function adviseCommand(args: ParsedArgs, write: Output): Promise<void> {
  const model = takeString(args, 'model') ?? args.positionals[0];
  if (model === undefined) throw new ConfigError('advise needs --model <name> (see shardlearn info)', { field: 'model' });
  const rows = whole(args, 'rows');
  const cols = whole(args, 'cols');
  if (rows === undefined || cols === undefined)
    throw new ConfigError('advise needs the data size: --rows N --cols D', { field: rows === undefined ? 'rows' : 'cols' });
  const request: AdviseRequest = { model, rows, cols };
  const workers = takeList(args, 'workers');
  if (workers !== undefined) {
    request.workers = workers.map((w) => {
      const n = Number(w);
      if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--workers expects whole numbers ≥ 1, got '${w}'`, { field: 'workers' });
      return n;
    });
  }
  const paradigms = takeList(args, 'paradigms');
  if (paradigms !== undefined) {
    request.paradigms = paradigms.map((p) => {
      if (!(PARADIGMS as readonly string[]).includes(p))
        throw new ConfigError(`--paradigms expects some of ${PARADIGMS.join(', ')}, got '${p}'`, { field: 'paradigms' });
      return p as Paradigm;
    });
  }
  const strategies = takeList(args, 'strategies');
  if (strategies !== undefined) request.strategies = strategies;
  const cores = whole(args, 'cores');
  if (cores !== undefined) request.cores = cores;
  const bandwidth = takeString(args, 'bandwidth');
  if (bandwidth !== undefined) {
    const bytes = parseBandwidth(bandwidth);
    if (bytes === null)
      throw new ConfigError(`--bandwidth expects a rate such as 1Gbit, 100Mbit or 500MB/s, got '${bandwidth}'`, { field: 'bandwidth' });
    request.bandwidthBytesPerSecond = bytes;
  }
  const latencyMs = takeNumber(args, 'latency-ms', (n) => n >= 0, 'milliseconds ≥ 0');
  if (latencyMs !== undefined) request.latencyMs = latencyMs;
  const json = takeSwitch(args, 'json');
  const dbPath = takeString(args, 'db');
  const sessionId = takeString(args, 'session');
  const params = args.flags.size === 0 ? {} : remainingOptions(args);
  if (Object.keys(params).length > 0) request.params = params;

  const { calibration, from } = await calibrationFrom(dbPath, sessionId);
  const advice = advise({ ...request, calibration });
  if (json) {
    write.data(JSON.stringify({ ...advice, calibratedFrom: from }));
    return;
  }
  const network =
    request.bandwidthBytesPerSecond === undefined && latencyMs === undefined
      ? 'loopback (as calibrated)'
      : `${request.bandwidthBytesPerSecond === undefined ? 'calibrated bandwidth' : `${((request.bandwidthBytesPerSecond * 8) / 1e6).toFixed(0)} Mbit/s`}, +${latencyMs ?? 0} ms per hop`;
  write(`advise: ${model}, ${rows} rows × ${cols} cols, ${request.cores ?? availableParallelism()} cores per host, network ${network}`);
  write(`calibration: ${from}`);
  write('');
  const header = ['#', 'option', 'predicted s', 'vs best', 'start-up s', 'compute s', 'comm s'];
  const table = advice.options.map((o, i) => [
    String(i + 1),
    o.label,
    fmt(o.totalSeconds),
    `${o.relativeToBest.toFixed(2)}×`,
    fmt(o.startupSeconds),
    fmt(o.computeSeconds),
    fmt(o.communicationSeconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  for (const line of [header, ...table]) write(line.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  write('');
  for (const line of advice.summary.split('\n')) write(line);
  write('');
  write('reasoning:');
  for (const o of advice.options) write(`  ${o.label}: ${o.reasoning}`);
  for (const note of calibration.notes) write(`note: ${note}`);
}
