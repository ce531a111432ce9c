/**
 * `shardlearn train <model> --data <spec> [flags]`: load, split, (scale), fit in the chosen
 * paradigm, evaluate, optionally save. `--json` prints one object whose shape scripts and the
 * comparison harness rely on:
 *   { model, paradigm, workers, strategy, pipeline?, seconds, loadSeconds, trainSamples, evalSamples, eval,
 *     metrics, comm: { bytesSent, messagesSent, collectives },
 *     federated?: { rounds, roundsToTarget, bytesUp, bytesDown, epsilon, delta, dropped, … } }
 */
import { ConfigError } from '../core/errors.js';
import { placeSharedArraysInWasmMemory } from '../core/kernels-wasm.js';
import type { CheckpointPolicy } from '../models/context.js';
import type { FaultRecord, FitInfo, FitOptions, JoinRecord } from '../models/paradigm.js';
import type { Paradigm } from '../models/index.js';
import { PARADIGMS, createModel, evaluate, modelNames, saveModel } from '../models/index.js';
import type { PipelineOptions } from '../models/neural/pipeline/settings.js';
import { formatPipeline, parsePipelineFlag } from '../models/neural/pipeline/settings.js';
import type { ParsedArgs } from './args.js';
import { remainingOptions, takeNumber, takeString, takeSwitch } from './args.js';
import { applySavedPreprocess, prepareData } from './data-flags.js';
import { prewarmThreads } from '../runtime/index.js';
import type { Output } from './output.js';
import { progressBar } from './progress-bar.js';
import { takeRendezvous } from './rdzv-flags.js';
import { useSecretFile } from './secret-file.js';
import { federatedReport, takeFederated } from './federated-flags.js';
import type { AgentTrainReport } from './rl-flags.js';
import { isAgentModel, trainAgentCommand } from './rl-flags.js';

export interface TrainReport {
  model: string;
  paradigm: Paradigm;
  workers: number;
  strategy: string;
  /** The pipeline trained as ('4:gpipe', '8:1f1b:replicas=2'); absent for data-parallel fits. */
  pipeline?: string;
  seconds: number;
  loadSeconds: number;
  trainSamples: number;
  evalSamples: number;
  eval: 'train' | 'test';
  metrics: Record<string, number | number[]>;
  comm: { bytesSent: number; messagesSent: number; collectives: number };
  /** How the ranks talked (FitInfo.transport): lane-board, lane-shm, lane-ipc, zmq-ipc, lane-tcp-aesgcm, lane-tcp-plain (--insecure-transport), zmq-curve-tcp, zmq-plain-tcp. */
  transport?: string;
  /** The `--compression` codec, when one was asked for. */
  compression?: string;
  /** --paradigm federated: rounds, rounds to --target-score, bytes up and down, (ε, δ) (null until DP), dropped clients. */
  federated?: Record<string, unknown>;
  /** Lost ranks the run survived (FitInfo.faults; --min-workers, --max-restarts). */
  faults?: FaultRecord[];
  /** ps-sync:backup=<b> / deadline=<ms>: gradients aggregated and dropped (FitInfo.rounds). */
  rounds?: FitInfo['rounds'];
  /** Newcomers taken in at epoch boundaries (FitInfo.joins; --max-workers). */
  joins?: JoinRecord[];
  out?: string;
}

export function takeParadigm(args: ParsedArgs): {
  paradigm: Paradigm;
  workers: number | undefined;
  strategy: string | undefined;
  pipeline: PipelineOptions | undefined;
  timeoutMs: number | undefined;
} {
  const paradigm = (takeString(args, 'paradigm') ?? 'sequential') as Paradigm;
  if (!PARADIGMS.includes(paradigm))
    throw new ConfigError(`--paradigm expects one of ${PARADIGMS.join(', ')}, got '${paradigm}'`, { field: 'paradigm' });
  const workers = takeNumber(args, 'workers', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  const strategy = takeString(args, 'strategy');
  // `--pipeline` alone takes the defaults; `--pipeline 8:1f1b:replicas=2` sets parts of them.
  const pipelineFlag = args.flags.get('pipeline') === true ? (args.flags.delete('pipeline'), 'default') : takeString(args, 'pipeline');
  const pipeline = pipelineFlag === undefined ? undefined : parsePipelineFlag(pipelineFlag);
  const timeoutMs = takeNumber(args, 'timeout-ms', (n) => n > 0, 'a positive number of milliseconds');
  return { paradigm, workers, strategy, pipeline, timeoutMs };
}

/** `--min-workers`, `--max-workers`, `--max-restarts`, `--straggler-warning <s>` (runtime/elastic.ts): the restart policy and the stall warning. */
export function takeRestartPolicy(
  args: ParsedArgs,
): Pick<FitOptions, 'minWorkers' | 'maxWorkers' | 'maxRestarts' | 'stragglerWarningSeconds'> {
  const whole = (name: string, least: number): number | undefined =>
    takeNumber(args, name, (n) => Number.isInteger(n) && n >= least, `a whole number ≥ ${least}`);
  const minWorkers = whole('min-workers', 1);
  const maxWorkers = whole('max-workers', 1);
  const maxRestarts = whole('max-restarts', 0);
  const stragglerWarningSeconds = takeNumber(args, 'straggler-warning', (n) => n >= 0, 'a number of seconds ≥ 0 (0: no warning)');
  return {
    ...(minWorkers === undefined ? {} : { minWorkers }),
    ...(maxWorkers === undefined ? {} : { maxWorkers }),
    ...(maxRestarts === undefined ? {} : { maxRestarts }),
    ...(stragglerWarningSeconds === undefined ? {} : { stragglerWarningSeconds }),
  };
}

/** Default of `--keep`: the newest three checkpoints. */
const DEFAULT_KEEP = 3;

/** `--checkpoint-dir`, `--checkpoint-every <N>steps|<N>s`, `--keep N`, `--resume` as a CheckpointPolicy (undefined without a folder). */
export function takeCheckpointPolicy(args: ParsedArgs): CheckpointPolicy | undefined {
  const dir = takeString(args, 'checkpoint-dir');
  const every = takeString(args, 'checkpoint-every');
  const keep = takeNumber(args, 'keep', (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0');
  const resume = takeSwitch(args, 'resume');
  if (dir === undefined) {
    const stray = every !== undefined ? 'checkpoint-every' : keep !== undefined ? 'keep' : resume ? 'resume' : null;
    if (stray !== null) throw new ConfigError(`--${stray} needs --checkpoint-dir <dir>`, { field: stray });
    return undefined;
  }
  const policy: CheckpointPolicy = { dir, keep: keep ?? DEFAULT_KEEP, resume };
  if (every !== undefined) {
    const match = /^(\d+(?:\.\d+)?)\s*(steps?|s)?$/.exec(every.trim());
    const value = match === null ? NaN : Number(match[1]);
    if (match === null || !(value > 0))
      throw new ConfigError(`--checkpoint-every expects <N>steps or <N>s (100steps, 30s), got '${every}'`, { field: 'checkpoint-every' });
    if (match[2] === 's') policy.everySeconds = value;
    else if (Number.isInteger(value)) policy.everySteps = value;
    else throw new ConfigError(`--checkpoint-every: a number of steps must be whole, got '${every}'`, { field: 'checkpoint-every' });
  }
  return policy;
}

function cloneArgs(args: ParsedArgs): ParsedArgs {
  return { positionals: [...args.positionals], flags: new Map(args.flags), rest: [...args.rest] };
}

/** Returns the report, or null on a cluster rank other than 0 (which prints nothing). */
export async function trainCommand(args: ParsedArgs, write: Output): Promise<TrainReport | AgentTrainReport | null> {
  const name = args.positionals[0];
  if (name === undefined) throw new ConfigError(`train needs a model name: ${modelNames().join(', ')}`, { field: 'model' });
  if (isAgentModel(name)) return trainAgentCommand(name, args, takeParadigm(args), write);
  const json = takeSwitch(args, 'json');
  const out = takeString(args, 'out');
  const { paradigm, workers, strategy, pipeline, timeoutMs } = takeParadigm(args);
  const secretFile = takeString(args, 'secret-file');
  if (secretFile !== undefined && paradigm !== 'cluster' && paradigm !== 'federated') {
    throw new ConfigError(
      `--secret-file is for --paradigm cluster, whose ranks share one secret (or federated --clients-on hosts); ${paradigm} needs none (processes makes a fresh one per job)`,
      { field: 'secret-file' },
    );
  }
  if (paradigm === 'cluster' || paradigm === 'federated') useSecretFile(secretFile);
  const insecureTransport = takeSwitch(args, 'insecure-transport');
  if (insecureTransport && paradigm !== 'cluster') {
    throw new ConfigError(
      `--insecure-transport is for --paradigm cluster on an isolated network; ${paradigm} ${paradigm === 'processes' ? 'already uses the unencrypted local path (ipc:// in a 0700 folder)' : 'sends nothing over a network'}`,
      { field: 'insecure-transport' },
    );
  }
  // Said before training, on every rank, so it is in every rank's log whatever happens next.
  if (insecureTransport)
    process.stderr.write(
      'shardlearn: --insecure-transport: rank-to-rank traffic is NOT encrypted (plain TCP, no CURVE); use only on an isolated network\n',
    );
  const collectiveLane = takeSwitch(args, 'collective-lane');
  if (collectiveLane && paradigm !== 'cluster') {
    throw new ConfigError(
      `--collective-lane is for --paradigm cluster, between hosts; ${paradigm} ${paradigm === 'processes' ? 'already carries its collectives on the lane (Unix sockets in the job folder)' : 'sends no collectives over a network'}`,
      { field: 'collective-lane' },
    );
  }
  const compression = takeString(args, 'compression');
  const compressionWarmup = takeNumber(
    args,
    'compression-warmup',
    (n) => Number.isFinite(n) && n >= 0,
    'a number of epochs ≥ 0 (0.1: a tenth of the first)',
  );
  const bucketBytes = takeNumber(args, 'bucket-bytes', (n) => Number.isInteger(n) && n >= 1, 'a whole number of bytes ≥ 1');
  const checkpoint = takeCheckpointPolicy(args);
  const restartPolicy = takeRestartPolicy(args);
  const elastic =
    restartPolicy.minWorkers !== undefined || restartPolicy.maxWorkers !== undefined || restartPolicy.maxRestarts !== undefined;
  // Under `cluster` this process is one rank (started by `shardlearn launch`, torchrun-style
  // env, Kubernetes, Slurm, or met through etcd): it loads only its shard; rank 0 alone evaluates,
  // prints and saves.
  // The etcd world's bounds are the restart policy's (--min-workers, --max-workers: torchrun's --nnodes MIN:MAX).
  const rendezvous = takeRendezvous(args, paradigm, {
    workers,
    timeoutMs,
    minWorkers: restartPolicy.minWorkers,
    maxWorkers: restartPolicy.maxWorkers,
  });
  const place = rendezvous === undefined ? null : await rendezvous.join();
  const evaluationArgs = place === null ? null : cloneArgs(args);
  // processes: workers load their own shards of the source (no training data crosses a socket);
  // cluster: each rank loaded its shard here. Either way a scaler (--standardize, --minmax) is fitted
  // by the ranks, all-reducing their shards' statistics, and comes back in fitInfo.preprocess.
  const ranksLoad = paradigm === 'processes' || paradigm === 'cluster';
  // threads: the workers start while the data loads, and the data is loaded into shared memory,
  // which the threads read in place (else the fit copies it there first). Together these were the
  // 0.4–0.7 s by which threads×1 trailed sequential on a 1M-row k-means (issue #19).
  // sequential and threads: that shared memory is this thread's WASM kernel memory, so the kernels
  // read the rows where they were loaded (else each fit copies them in once: 0.1–0.3 s for 1M×50).
  const threads = paradigm === 'threads' && pipeline === undefined;
  if (threads) void prewarmThreads(workers);
  const inProcess = threads || paradigm === 'sequential';
  if (inProcess) placeSharedArraysInWasmMemory();
  const data = await prepareData(
    args,
    // A newcomer (SHARDLEARN_JOIN=1, rank −1 until admitted) loads its shard of the grown world once admitted.
    place === null ? undefined : { rank: Math.max(0, place.rank), worldSize: place.worldSize },
    ranksLoad,
    inProcess ? 'shared' : 'heap',
  );
  const federated = takeFederated(args, paradigm, () => data.evaluation);
  if (secretFile !== undefined && paradigm === 'federated' && federated?.placement !== 'hosts')
    throw new ConfigError('--secret-file is for federated --clients-on hosts, whose client hosts share the secret with the server', {
      field: 'secret-file',
    });
  const model = createModel(name, remainingOptions(args));
  const source =
    // A re-formed cluster world loads new shards of the source (runtime/elastic.ts).
    paradigm === 'processes' || (paradigm === 'cluster' && (data.scale !== null || elastic))
      ? {
          source: {
            spec: data.spec,
            load: data.loadOptions,
            ...(data.split === null ? {} : { split: data.split }),
            ...(data.scale === null ? {} : { scale: data.scale }),
          },
        }
      : {};

  const bar = progressBar(process.stderr, !json && !write.quiet && process.stderr.isTTY === true);
  await model
    .fit(data.train, {
      paradigm,
      ...(workers === undefined ? {} : { workers }),
      ...(strategy === undefined ? {} : { strategy }),
      ...(pipeline === undefined ? {} : { pipeline }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(compression === undefined ? {} : { compression }),
      ...(compressionWarmup === undefined ? {} : { compressionWarmup }),
      ...(bucketBytes === undefined ? {} : { bucketBytes }),
      ...(checkpoint === undefined ? {} : { checkpoint }),
      ...(insecureTransport ? { insecureTransport } : {}),
      ...(collectiveLane ? { collectiveLane } : {}),
      ...(rendezvous === undefined ? {} : { rendezvous }),
      ...(federated === undefined ? {} : { federated }),
      ...restartPolicy,
      ...source,
      onProgress: (event) =>
        bar.update(
          event.iteration / Math.max(event.total, 1),
          `${name} ${event.iteration}/${event.total}${event.loss === undefined ? '' : ` loss ${event.loss.toPrecision(4)}`}`,
        ),
    })
    .finally(() => rendezvous?.leave()); // at once, done or failed: the others need not wait out this rank's lease
  bar.done();
  const info = model.fitInfo!;
  if (place !== null && place.rank !== 0) return null;
  // Rank 0 of a cluster job evaluates on the whole evaluation set (not just its shard's part).
  const whole = evaluationArgs === null ? data : await prepareData(evaluationArgs, undefined, true);
  // The scaler the ranks fitted, or the one fitted here: applied to the evaluation rows, saved with the model.
  const preprocess = info.preprocess ?? data.preprocess;
  const evaluation = info.preprocess === undefined ? whole.evaluation : applySavedPreprocess(whole.evaluation, info.preprocess);
  const metrics = evaluate(model, evaluation);
  if (out !== undefined) await saveModel(model, out, preprocess);

  const report: TrainReport = {
    model: name,
    paradigm: info.paradigm,
    workers: info.workers,
    strategy: info.strategy,
    ...(info.pipeline === undefined ? {} : { pipeline: formatPipeline(info.pipeline) }),
    seconds: info.seconds,
    loadSeconds: data.loadSeconds,
    // the rows the ranks trained on, as they report them (each loads its own shard), else the caller's
    trainSamples: info.rows === undefined ? whole.train.rows : info.rows.reduce((sum, rows) => sum + rows, 0),
    evalSamples: evaluation.rows,
    eval: data.evaluationName,
    metrics,
    comm: {
      bytesSent: info.comm.reduce((s, c) => s + c.bytesSent, 0),
      messagesSent: info.comm.reduce((s, c) => s + c.messagesSent, 0),
      collectives: info.comm[0]?.collectives ?? 0,
    },
    ...(info.transport === undefined ? {} : { transport: info.transport }),
    ...(compression === undefined ? {} : { compression }),
    ...(info.federated === undefined ? {} : { federated: federatedReport(info.federated) }),
    ...(info.faults === undefined ? {} : { faults: info.faults }),
    ...(info.rounds === undefined ? {} : { rounds: info.rounds }),
    ...(info.joins === undefined ? {} : { joins: info.joins }),
    ...(out === undefined ? {} : { out }),
  };
  if (json) write.data(JSON.stringify(report));
  else {
    write(
      `${name}: trained on ${report.trainSamples} rows in ${report.seconds.toFixed(3)} s (${paradigm}, ${report.workers} worker${report.workers === 1 ? '' : 's'}, ${report.pipeline === undefined ? report.strategy : `pipeline ${report.pipeline}`}); data loaded in ${report.loadSeconds.toFixed(3)} s`,
    );
    for (const [metric, value] of Object.entries(metrics)) {
      write(`  ${report.eval} ${metric}: ${Array.isArray(value) ? value.map((v) => v.toFixed(4)).join(' ') : value.toFixed(6)}`);
    }
    if (report.comm.bytesSent > 0)
      write(
        `  communication: ${report.comm.bytesSent} bytes in ${report.comm.messagesSent} messages, ${report.comm.collectives} collectives per worker${report.transport === undefined ? '' : ` (${report.transport === 'zmq-plain-tcp' || report.transport === 'lane-tcp-plain' ? `${report.transport}: NOT encrypted, --insecure-transport` : report.transport})`}`,
      );
    if (info.federated !== undefined) {
      const f = info.federated;
      write(
        `  federated: ${f.rounds} rounds (${f.roundsPerSecond.toFixed(2)}/s), ${f.clientsPerRound} of ${f.clients} clients per round, ${f.aggregator}, ${f.partition}; ${f.bytesUp} bytes up, ${f.bytesDown} down; ${f.dropped} dropped${f.roundsToTarget === null ? '' : `; target reached in round ${f.roundsToTarget}`}`,
      );
      for (const round of f.history)
        if (round.epsilon !== undefined) write(`  round ${round.round}: ε = ${round.epsilon.toPrecision(4)}, δ = ${f.delta}`);
    }
    for (const fault of report.faults ?? [])
      write(
        `  fault: rank ${fault.lost.join(', ')} lost; ${fault.workers} workers went on (generation ${fault.generation}), ${fault.lostMs.toFixed(0)} ms lost (detect ${fault.detectedMs.toFixed(0)}, re-form ${fault.reformMs.toFixed(0)}, reload ${fault.reloadMs.toFixed(0)})`,
      );
    if (report.rounds !== undefined)
      write(
        `  rounds: ${report.rounds.rounds} closed with ${report.rounds.aggregated} gradients, ${report.rounds.dropped} stale ones dropped${report.rounds.deadlineRounds > 0 ? `, ${report.rounds.deadlineRounds} closed by the deadline` : ''}; rounds missed per rank: ${report.rounds.missedByRank.join(' ')}`,
      );
    for (const join of report.joins ?? [])
      write(
        `  join: rank ${join.added.join(', ')} joined before epoch ${join.epoch + 1}; ${join.workers} workers (generation ${join.generation}), ${join.joinMs.toFixed(0)} ms from announce to training (wait for the boundary ${join.waitMs.toFixed(0)}, re-form ${join.reformMs.toFixed(0)})`,
      );
    if (out !== undefined) write(`  saved to ${out}`);
  }
  return report;
}
