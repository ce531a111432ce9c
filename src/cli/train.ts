/**
 * `shardlearn train <model> --data <spec> [flags]`: load, split, (scale), fit in the chosen
 * paradigm, evaluate, optionally save. `--json` prints one object whose shape scripts and the
 * comparison harness rely on:
 *   { model, paradigm, workers, strategy, seconds, loadSeconds, trainSamples, evalSamples, eval,
 *     metrics, comm: { bytesSent, messagesSent, collectives } }
 */
import { ConfigError } from '../core/errors.js';
import type { Paradigm } from '../models/index.js';
import { PARADIGMS, createModel, evaluate, modelNames, saveModel } from '../models/index.js';
import type { ParsedArgs } from './args.js';
import { remainingOptions, takeNumber, takeString, takeSwitch } from './args.js';
import { prepareData } from './data-flags.js';
import { rendezvousFromEnv } from '../runtime/index.js';
import { progressBar } from './progress-bar.js';
import type { AgentTrainReport } from './rl-flags.js';
import { isAgentModel, trainAgentCommand } from './rl-flags.js';

export interface TrainReport {
  model: string;
  paradigm: Paradigm;
  workers: number;
  strategy: string;
  seconds: number;
  loadSeconds: number;
  trainSamples: number;
  evalSamples: number;
  eval: 'train' | 'test';
  metrics: Record<string, number | number[]>;
  comm: { bytesSent: number; messagesSent: number; collectives: number };
  out?: string;
}

export function takeParadigm(args: ParsedArgs): { paradigm: Paradigm; workers: number | undefined; strategy: string | undefined; timeoutMs: number | undefined } {
  const paradigm = (takeString(args, 'paradigm') ?? 'sequential') as Paradigm;
  if (!PARADIGMS.includes(paradigm)) throw new ConfigError(`--paradigm expects one of ${PARADIGMS.join(', ')}, got '${paradigm}'`, { field: 'paradigm' });
  const workers = takeNumber(args, 'workers', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  const strategy = takeString(args, 'strategy');
  const timeoutMs = takeNumber(args, 'timeout-ms', (n) => n > 0, 'a positive number of milliseconds');
  return { paradigm, workers, strategy, timeoutMs };
}

function cloneArgs(args: ParsedArgs): ParsedArgs {
  return { positionals: [...args.positionals], flags: new Map(args.flags), rest: [...args.rest] };
}

/** Returns the report, or null on a cluster rank other than 0 (which prints nothing). */
export async function trainCommand(args: ParsedArgs, write: (line: string) => void): Promise<TrainReport | AgentTrainReport | null> {
  const name = args.positionals[0];
  if (name === undefined) throw new ConfigError(`train needs a model name: ${modelNames().join(', ')}`, { field: 'model' });
  if (isAgentModel(name)) return trainAgentCommand(name, args, takeParadigm(args), write);
  const json = takeSwitch(args, 'json');
  const out = takeString(args, 'out');
  const { paradigm, workers, strategy, timeoutMs } = takeParadigm(args);
  // Under `cluster` this process is one rank (started by `shardlearn launch`, torchrun-style
  // env, Kubernetes, Slurm): it loads only its shard; rank 0 alone evaluates, prints and saves.
  const place = paradigm === 'cluster' ? rendezvousFromEnv() : null;
  const evaluationArgs = place === null ? null : cloneArgs(args);
  const data = await prepareData(args, place === null ? undefined : { rank: place.rank, worldSize: place.worldSize });
  const model = createModel(name, remainingOptions(args));
  // processes: workers load their own shards of the source (no training data crosses a socket),
  // unless the data was scaled here — then the scaled rows are shipped, counted as setupBytes.
  const source =
    paradigm === 'processes' && !data.scaled
      ? { source: { spec: data.spec, load: data.loadOptions, ...(data.split === null ? {} : { split: data.split }) } }
      : {};

  const bar = progressBar(process.stderr, !json && process.stderr.isTTY === true);
  await model.fit(data.train, {
    paradigm,
    ...(workers === undefined ? {} : { workers }),
    ...(strategy === undefined ? {} : { strategy }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...source,
    onProgress: (event) => bar.update(event.iteration / Math.max(event.total, 1), `${name} ${event.iteration}/${event.total}${event.loss === undefined ? '' : ` loss ${event.loss.toPrecision(4)}`}`),
  });
  bar.done();
  const info = model.fitInfo!;
  if (place !== null && place.rank !== 0) return null;
  // Rank 0 of a cluster job evaluates on the whole evaluation set (not just its shard's part).
  const whole = evaluationArgs === null ? data : await prepareData(evaluationArgs);
  const evaluation = whole.evaluation;
  const metrics = evaluate(model, evaluation);
  if (out !== undefined) await saveModel(model, out, data.preprocess);

  const report: TrainReport = {
    model: name,
    paradigm: info.paradigm,
    workers: info.workers,
    strategy: info.strategy,
    seconds: info.seconds,
    loadSeconds: data.loadSeconds,
    trainSamples: whole.train.rows,
    evalSamples: evaluation.rows,
    eval: data.evaluationName,
    metrics,
    comm: {
      bytesSent: info.comm.reduce((s, c) => s + c.bytesSent, 0),
      messagesSent: info.comm.reduce((s, c) => s + c.messagesSent, 0),
      collectives: info.comm[0]?.collectives ?? 0,
    },
    ...(out === undefined ? {} : { out }),
  };
  if (json) write(JSON.stringify(report));
  else {
    write(`${name}: trained on ${report.trainSamples} rows in ${report.seconds.toFixed(3)} s (${paradigm}, ${report.workers} worker${report.workers === 1 ? '' : 's'}, ${report.strategy}); data loaded in ${report.loadSeconds.toFixed(3)} s`);
    for (const [metric, value] of Object.entries(metrics)) {
      write(`  ${report.eval} ${metric}: ${Array.isArray(value) ? value.map((v) => v.toFixed(4)).join(' ') : value.toFixed(6)}`);
    }
    if (report.comm.bytesSent > 0) write(`  communication: ${report.comm.bytesSent} bytes in ${report.comm.messagesSent} messages, ${report.comm.collectives} collectives per worker`);
    if (out !== undefined) write(`  saved to ${out}`);
  }
  return report;
}
