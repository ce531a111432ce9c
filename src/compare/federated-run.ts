/**
 * Running a federated cell (federated-cells.ts says what one is): the federated fit on the training
 * rows, the server scoring the global model on the held-out rows after every `evalEvery` rounds,
 * and what it cost — rounds, bytes up and down (read off the round that reached the target, and in
 * total), wall time — beside the same model fitted centrally (sequential, the model's own epochs)
 * on the same rows and scored on the same held-out rows.
 *
 * @example
 * const centralised = await fitCentralised(cell, split);
 * const result = await runFederatedCell(cell, { split, repeat: 0, centralised });
 * console.log(result.roundsToTarget ?? `not within ${result.rounds} rounds`, result.bytesUpToTarget);
 */
import type { Dataset } from '../data/dataset.js';
import { evaluate, primaryMetric } from '../models/evaluate.js';
import type { AnyEstimator } from '../models/registry.js';
import { createModel } from '../models/registry.js';
import type { Split } from './data.js';
import type { FederatedCell } from './federated-cells.js';
import { federatedOptions } from './federated-cells.js';

/** The same model and data trained centrally: the accuracy federated training is set against. */
export interface CentralisedFit {
  /** Held-out score (the cells' scoreName); null when the fit failed. */
  score: number | null;
  seconds: number;
  /** The centralised fit's epochs (the model's `epochs` option), null when the model has none. */
  epochs: number | null;
  error: string | null;
}

/** One fit of a federated cell. */
export interface FederatedResult extends Omit<FederatedCell, 'key'> {
  key: string;
  repeat: number;
  /** Clients sampled per round (FederatedInfo.clientsPerRound). */
  clientsPerRound: number;
  trainRows: number;
  testRows: number;
  /** Rounds run: the round that reached the target (stopAtTarget), else the cap. */
  roundsRun: number;
  /** First evaluated round whose score reached the target; null = not within `rounds`. */
  roundsToTarget: number | null;
  /** Bytes the clients sent (their updates) and the server sent (the global model) up to that round; null = not reached. */
  bytesUpToTarget: number | null;
  bytesDownToTarget: number | null;
  /** Bytes over every round run. */
  bytesUp: number;
  bytesDown: number;
  /** Seconds from the start of training to the round that reached the target; null = not reached. */
  secondsToTarget: number | null;
  /** Wall seconds of the fit (client start-up included). */
  wallSeconds: number;
  scoreName: string;
  /** The final global model's held-out score. */
  finalScore: number | null;
  /** The best score the server measured over the rounds. */
  bestScore: number | null;
  /** Sampled clients whose update did not count (dropouts, deadline, lost, non-finite). */
  dropped: number;
  /** DP's (ε, δ) after the last round; null without `dp`. */
  epsilon: number | null;
  delta: number | null;
  /** Bytes of the training rows as held in memory (features and labels): what centralising them would move once. */
  rawDataBytes: number;
  centralised: CentralisedFit;
  error: string | null;
}

const rawBytes = (data: Dataset): number => data.x.byteLength + (data.y?.byteLength ?? 0);

function heldOut(model: AnyEstimator, test: Dataset): { name: string; score: number | null } {
  const { name } = primaryMetric(model);
  const value = evaluate(model, test)[name];
  return { name, score: typeof value === 'number' ? value : null };
}

/** Fit the cell's model centrally (sequential) on the training rows and score it on the held-out rows. */
export async function fitCentralised(cell: Pick<FederatedCell, 'model' | 'params'>, split: Split): Promise<CentralisedFit> {
  const model = createModel(cell.model, cell.params);
  const epochs = (model.params as Record<string, unknown>).epochs;
  const started = performance.now();
  try {
    await model.fit(split.train, { paradigm: 'sequential' });
    const seconds = (performance.now() - started) / 1000;
    return { score: heldOut(model, split.test).score, seconds, epochs: typeof epochs === 'number' ? epochs : null, error: null };
  } catch (error) {
    const seconds = (performance.now() - started) / 1000;
    return { score: null, seconds, epochs: null, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Fit one federated cell; a failed fit is recorded (its `error`), never thrown. */
export async function runFederatedCell(
  cell: FederatedCell,
  input: { split: Split; repeat: number; centralised: CentralisedFit; timeoutMs?: number | null; signal?: AbortSignal },
): Promise<FederatedResult> {
  const { split, repeat, centralised } = input;
  const model = createModel(cell.model, cell.params);
  const result: FederatedResult = {
    ...failedFederated(cell, repeat, ''),
    trainRows: split.train.rows,
    testRows: split.test.rows,
    rawDataBytes: rawBytes(split.train),
    centralised,
    error: null,
  };
  const started = performance.now();
  try {
    await model.fit(split.train, {
      paradigm: 'federated',
      ...(input.timeoutMs === null || input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
      federated: {
        ...federatedOptions(cell),
        evaluation: { data: split.test, target: cell.target, every: cell.evalEvery, stopAtTarget: cell.stopAtTarget },
      },
    });
    result.wallSeconds = (performance.now() - started) / 1000;
    const info = model.fitInfo!.federated!;
    const reached = info.roundsToTarget === null ? undefined : info.history.find((round) => round.round === info.roundsToTarget);
    const scores = info.history.flatMap((round) => (round.score === undefined ? [] : [round.score]));
    Object.assign(result, {
      clientsPerRound: info.clientsPerRound,
      roundsRun: info.rounds,
      roundsToTarget: info.roundsToTarget,
      bytesUpToTarget: reached?.bytesUp ?? null,
      bytesDownToTarget: reached?.bytesDown ?? null,
      bytesUp: info.bytesUp,
      bytesDown: info.bytesDown,
      secondsToTarget: reached === undefined ? null : reached.elapsedMs / 1000,
      finalScore: heldOut(model, split.test).score,
      bestScore: scores.length === 0 ? null : Math.max(...scores),
      dropped: info.dropped,
      epsilon: info.epsilon,
      delta: info.delta,
    });
  } catch (error) {
    result.wallSeconds = (performance.now() - started) / 1000;
    result.error = error instanceof Error ? error.message : String(error);
  }
  return result;
}

/** The record of a cell that could not run at all (its data did not load): every measure empty, the reason in `error`. */
export function failedFederated(cell: FederatedCell, repeat: number, error: string): FederatedResult {
  return {
    ...cell,
    repeat,
    clientsPerRound: 0,
    trainRows: 0,
    testRows: 0,
    roundsRun: 0,
    roundsToTarget: null,
    bytesUpToTarget: null,
    bytesDownToTarget: null,
    bytesUp: 0,
    bytesDown: 0,
    secondsToTarget: null,
    wallSeconds: 0,
    scoreName: primaryMetric(createModel(cell.model, cell.params)).name,
    finalScore: null,
    bestScore: null,
    dropped: 0,
    epsilon: null,
    delta: null,
    rawDataBytes: 0,
    centralised: { score: null, seconds: 0, epochs: null, error },
    error,
  };
}

/** One line for progress output. */
export function federatedLine(result: FederatedResult): string {
  const what = `federated ${result.model} ${result.aggregator} ${result.partition}${result.secureAggregation ? ' secagg' : ''}${result.dp === null ? '' : ' dp'} (${result.clients} clients, ${result.fraction} a round, E=${result.localEpochs}) #${result.repeat + 1}`;
  if (result.error !== null) return `${what}: failed — ${result.error}`;
  const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
  const reached =
    result.roundsToTarget === null
      ? `${result.scoreName} ${result.target} not reached within ${result.rounds} rounds`
      : `${result.scoreName} ${result.target} in ${result.roundsToTarget} rounds, ${mb(result.bytesUpToTarget! + result.bytesDownToTarget!)} up+down`;
  return `${what}: ${reached}, final ${result.finalScore?.toFixed(4) ?? '–'} (centralised ${result.centralised.score?.toFixed(4) ?? '–'}), ${result.wallSeconds.toFixed(2)} s`;
}
