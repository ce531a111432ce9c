/**
 * The federated cells in the report (federated-run.ts measures them): rounds and bytes to the
 * target IID against non-IID, FedAvg against FedSGD, each beside the same model trained centrally;
 * a chart of rounds and one of bytes to target; and the evidence for the seed's claim that
 * federated learning lets entities train together without sharing raw data (§1, §3), with what it
 * costs in rounds, bytes and accuracy — and, where the matrix has private cells, what secure
 * aggregation adds in bytes and what DP spends in ε.
 *
 * @example
 * const { header, rows } = federatedTableRows(result.federated ?? []);
 */
import type { TopLevelSpec } from 'vega-lite';
import type { FederatedResult } from './federated-run.js';
import { median } from './stats.js';
import { formatBytes } from './summary.js';

/** A cell's fits summarised: the first ok fit's rounds and bytes (they repeat exactly under a seed), median wall times. */
export interface FederatedFigures {
  /** The cell's first ok fit (rounds, bytes, scores), or its first fit when none was ok. */
  first: FederatedResult;
  fits: number;
  failed: number;
  wallSeconds: number | null;
  secondsToTarget: number | null;
}

const settingOf = (r: FederatedResult): string =>
  [r.model, JSON.stringify(r.params), r.data, r.clients, r.fraction, r.localEpochs, r.target, r.rounds, r.evalEvery, r.seed].join('|');
const isPrivate = (r: FederatedResult): boolean => r.secureAggregation || r.dp !== null;

/** One entry per cell, in the order the cells ran. */
export function federatedFigures(results: readonly FederatedResult[]): FederatedFigures[] {
  const byKey = new Map<string, FederatedResult[]>();
  for (const result of results) byKey.set(result.key, [...(byKey.get(result.key) ?? []), result]);
  return [...byKey.values()].map((fits) => {
    const ok = fits.filter((f) => f.error === null);
    const toTarget = ok.flatMap((f) => (f.secondsToTarget === null ? [] : [f.secondsToTarget]));
    return {
      first: ok[0] ?? fits[0]!,
      fits: fits.length,
      failed: fits.length - ok.length,
      wallSeconds: ok.length === 0 ? null : median(ok.map((f) => f.wallSeconds)),
      secondsToTarget: toTarget.length === 0 ? null : median(toTarget),
    };
  });
}

const privacyOf = (r: FederatedResult): string =>
  [
    ...(r.secureAggregation ? ['secure aggregation'] : []),
    ...(r.dp === null ? [] : [`DP σ ${r.dp.noiseMultiplier}, clip ${r.dp.clip}`]),
  ].join(', ') || '–';
const notWithin = (r: FederatedResult): string => `not within ${r.rounds}`;
const score = (v: number | null): string => (v === null ? '–' : v.toFixed(4));

/** Rows of the report's federated table: one per cell. */
export function federatedTableRows(results: readonly FederatedResult[]): { header: string[]; rows: string[][] } {
  const header = [
    'model',
    'partition',
    'aggregator',
    'clients (a round)',
    'local epochs',
    'privacy',
    'target',
    'rounds to target',
    'up to target',
    'down to target',
    'up + down, all rounds',
    's to target',
    'wall s',
    'final score',
    'centralised score',
    'dropped',
    'ε',
  ];
  const rows = federatedFigures(results).map(({ first: r, secondsToTarget, wallSeconds, failed, fits }) => {
    // FedSGD's clients take one full-batch gradient a round, whatever the local epochs.
    const epochs = r.aggregator.split(':')[0] === 'fedsgd' ? '– (one gradient)' : String(r.localEpochs);
    const cells = [r.model, r.partition, r.aggregator, `${r.clients} (${r.clientsPerRound})`, epochs, privacyOf(r)];
    if (failed === fits) return [...cells, String(r.target), `failed: ${r.error ?? ''}`, '', '', '', '', '', '', '', '', ''];
    const reached = r.roundsToTarget !== null;
    return [
      ...cells,
      `${r.scoreName} ${r.target}`,
      reached ? String(r.roundsToTarget) : notWithin(r),
      reached ? formatBytes(r.bytesUpToTarget!) : '–',
      reached ? formatBytes(r.bytesDownToTarget!) : '–',
      `${formatBytes(r.bytesUp + r.bytesDown)} (${r.roundsRun} rounds)`,
      secondsToTarget === null ? '–' : secondsToTarget.toFixed(2),
      wallSeconds === null ? '–' : wallSeconds.toFixed(2),
      score(r.finalScore),
      `${score(r.centralised.score)}${r.centralised.epochs === null ? '' : ` (${r.centralised.epochs} epochs, ${r.centralised.seconds.toFixed(2)} s)`}`,
      String(r.dropped),
      r.epsilon === null ? '–' : `${r.epsilon.toPrecision(3)} (δ ${r.delta})`,
    ];
  });
  return { header, rows };
}

/** FedAvg against FedSGD, per setting and partition: how many times fewer rounds FedAvg took (a bound when FedSGD never got there). */
export function fedAvgAgainstFedSgd(results: readonly FederatedResult[]): string[] {
  const plain = federatedFigures(results)
    .map((f) => f.first)
    .filter((r) => r.error === null && !isPrivate(r));
  const lines: string[] = [];
  for (const avg of plain.filter((r) => r.aggregator.split(':')[0] === 'fedavg')) {
    const sgd = plain.find(
      (r) => r.aggregator.split(':')[0] === 'fedsgd' && r.partition === avg.partition && settingOf(r) === settingOf(avg),
    );
    if (sgd === undefined) continue;
    const head = `${avg.partition}: FedAvg`;
    if (avg.roundsToTarget === null && sgd.roundsToTarget === null)
      lines.push(`${head} and FedSGD both missed the target within ${avg.rounds} rounds`);
    else if (avg.roundsToTarget === null)
      lines.push(`${head} missed the target within ${avg.rounds} rounds; FedSGD reached it in ${sgd.roundsToTarget}`);
    else if (sgd.roundsToTarget === null)
      lines.push(
        `${head} ${avg.roundsToTarget} rounds, FedSGD not within ${sgd.rounds}: more than ${(sgd.rounds / avg.roundsToTarget).toFixed(1)}× fewer rounds`,
      );
    else
      lines.push(
        `${head} ${avg.roundsToTarget} rounds against FedSGD's ${sgd.roundsToTarget}: ${(sgd.roundsToTarget / avg.roundsToTarget).toFixed(1)}× fewer rounds, ${((sgd.bytesUpToTarget! + sgd.bytesDownToTarget!) / (avg.bytesUpToTarget! + avg.bytesDownToTarget!)).toFixed(1)}× fewer bytes`,
      );
  }
  return lines;
}

/**
 * A chart of rounds (or megabytes up + down) to the target per partition, one bar per aggregator;
 * a cell that missed the target is drawn faded at what it spent over every round, labelled so.
 */
export function federatedSpec(results: readonly FederatedResult[], measure: 'rounds' | 'megabytes'): TopLevelSpec | null {
  const values = federatedFigures(results)
    .map((f) => f.first)
    .filter((r) => r.error === null && !isPrivate(r))
    .map((r) => {
      const reached = r.roundsToTarget !== null;
      const value =
        measure === 'rounds'
          ? (r.roundsToTarget ?? r.roundsRun)
          : (reached ? r.bytesUpToTarget! + r.bytesDownToTarget! : r.bytesUp + r.bytesDown) / 1e6;
      return { partition: r.partition, aggregator: r.aggregator, value, reached: reached ? 'reached' : `not within ${r.rounds} rounds` };
    });
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: measure === 'rounds' ? 'rounds to the target score' : 'MB up + down to the target score',
    width: 360,
    height: 220,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'partition', type: 'nominal', title: 'partition', sort: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'aggregator', type: 'nominal' },
      y: { field: 'value', type: 'quantitative', title: measure === 'rounds' ? 'rounds' : 'MB' },
      color: { field: 'aggregator', type: 'nominal', title: 'aggregator' },
      opacity: {
        field: 'reached',
        type: 'nominal',
        title: null,
        scale: { range: [1, 0.35] },
        sort: 'descending',
        legend: { labelLimit: 240 },
      },
    },
  };
}

/**
 * The evidence for claim C10: per setting (model, data, federation size), each partition counts for
 * the claim when some aggregator brought the global model to the target within the round cap (the
 * clients sent model updates, never rows), against it when none did; the cost is stated beside it
 * — rounds, bytes against the raw rows, the accuracy against the same model trained centrally — and
 * what the private cells add (secure aggregation's bytes against its plain twin; DP's ε).
 */
export function federatedEvidence(results: readonly FederatedResult[]): { forCount: number; againstCount: number; evidence: string } {
  const figures = federatedFigures(results).map((f) => f.first);
  const ok = figures.filter((r) => r.error === null);
  if (ok.length === 0)
    return {
      forCount: 0,
      againstCount: 0,
      evidence:
        results.length === 0
          ? "the comparison ran no federated cell (the matrix's `federated` list, docs/compare.md); `shardlearn train --paradigm federated` reports rounds, bytes and (ε, δ) per fit"
          : `every federated cell failed: ${[...new Set(results.map((r) => r.error))].join('; ')}`,
    };
  let forCount = 0;
  let againstCount = 0;
  const parts: string[] = [];
  const plain = ok.filter((r) => !isPrivate(r));
  for (const setting of [...new Set(plain.map(settingOf))]) {
    const cells = plain.filter((r) => settingOf(r) === setting);
    const head = cells[0]!;
    const centralised =
      head.centralised.score === null
        ? 'centralised fit failed'
        : `centralised ${head.scoreName} ${head.centralised.score.toFixed(4)}${head.centralised.epochs === null ? '' : ` after ${head.centralised.epochs} epochs`} in ${head.centralised.seconds.toFixed(2)} s`;
    const partitions = [...new Set(cells.map((r) => r.partition))].map((partition) => {
      const inPartition = cells.filter((r) => r.partition === partition);
      if (inPartition.some((r) => r.roundsToTarget !== null)) forCount++;
      else againstCount++;
      const each = inPartition.map((r) =>
        r.roundsToTarget === null
          ? `${r.aggregator} not within ${r.rounds} rounds (best ${score(r.bestScore)})`
          : `${r.aggregator} ${r.roundsToTarget} rounds, ${formatBytes(r.bytesUpToTarget! + r.bytesDownToTarget!)} up+down (${((r.bytesUpToTarget! + r.bytesDownToTarget!) / r.rawDataBytes).toFixed(2)}× the raw rows)`,
      );
      return `${partition}: ${each.join(', ')}`;
    });
    const stops = head.stopAtTarget ? '; a run stops at the target, so its final score is the target, not its ceiling' : '';
    parts.push(
      `${head.model} on ${head.data} (${head.trainRows} rows, ${formatBytes(head.rawDataBytes)} raw as held in memory), ${head.clients} clients, ${head.clientsPerRound} a round, ${head.localEpochs} local epochs, to ${head.scoreName} ${head.target} (${centralised}${stops}): ${partitions.join('; ')}`,
    );
  }
  parts.push(privacyEvidence(ok));
  return {
    forCount,
    againstCount,
    evidence: `clients sent model updates only, never rows; rounds and bytes to the target (bytes counted at the clients' and the server's transport): ${parts.join('. ')}`,
  };
}

/** What the private cells measured: secure aggregation's bytes against its plain twin, DP's ε and accuracy. */
function privacyEvidence(ok: readonly FederatedResult[]): string {
  const lines: string[] = [];
  for (const secure of ok.filter((r) => r.secureAggregation && r.dp === null)) {
    const twin = ok.find(
      (r) => !isPrivate(r) && r.aggregator === secure.aggregator && r.partition === secure.partition && settingOf(r) === settingOf(secure),
    );
    if (twin === undefined || secure.roundsRun === 0 || twin.roundsRun === 0) continue;
    const perRound = (r: FederatedResult, bytes: number): number => bytes / r.roundsRun;
    lines.push(
      `secure aggregation (${secure.aggregator}, ${secure.partition}): ${secure.roundsToTarget ?? `not within ${secure.rounds}`} rounds against ${twin.roundsToTarget ?? `not within ${twin.rounds}`} plain; per round ${formatBytes(perRound(secure, secure.bytesUp))} up and ${formatBytes(perRound(secure, secure.bytesDown))} down against ${formatBytes(perRound(twin, twin.bytesUp))} and ${formatBytes(perRound(twin, twin.bytesDown))} plain (${(perRound(secure, secure.bytesUp) / perRound(twin, twin.bytesUp)).toFixed(2)}× up, ${(perRound(secure, secure.bytesDown) / perRound(twin, twin.bytesDown)).toFixed(3)}× down; masked updates travel as 32-bit fixed-point ring elements, plain ones as float64, and the protocol's key and share messages are counted in)`,
    );
  }
  for (const dp of ok.filter((r) => r.dp !== null))
    lines.push(
      `DP (${dp.aggregator}, ${dp.partition}, σ ${dp.dp!.noiseMultiplier}): ε ${dp.epsilon?.toPrecision(3) ?? '–'} at δ ${dp.delta ?? '–'} after ${dp.roundsRun} rounds, final ${dp.scoreName} ${score(dp.finalScore)}, target ${dp.roundsToTarget === null ? `not within ${dp.rounds} rounds` : `in ${dp.roundsToTarget} rounds`}`,
    );
  if (!ok.some((r) => r.secureAggregation))
    lines.push('no secure-aggregation cell (set `secureAggregation: true`): its byte overhead is not measured');
  if (!ok.some((r) => r.dp !== null))
    lines.push('no DP cell (set `dp`): no (ε, δ) is measured, so the privacy half rests on the raw rows staying with their clients');
  return `Privacy: ${lines.join('; ')}`;
}

const words = (name: string): string => name.replace(/^fedavg/, 'FedAvg').replace(/^fedsgd/, 'FedSGD');

/**
 * The report's opening line per federated setting (model, data, federation), from the stored fits:
 * rounds to the target per aggregator and partition, the bytes the cheapest cell moved against the
 * raw rows, and the centralised score. Private cells (secure aggregation, DP) are left to the
 * section and claim C10. Empty when no federated cell ran.
 *
 * @example
 * federatedAnswers(results);
 * // ['mlp on builtin:mnist, 20 clients (5 a round): rounds to accuracy 0.9 — FedAvg iid 6, dirichlet:0.5 23; …']
 */
export function federatedAnswers(results: readonly FederatedResult[]): string[] {
  const figures = federatedFigures(results).map((f) => f.first);
  if (figures.length === 0) return [];
  const plain = figures.filter((r) => r.error === null && !isPrivate(r));
  if (plain.length === 0)
    return figures.every((r) => r.error !== null) ? [`every federated fit failed (${[...new Set(figures.map((r) => r.error))].join('; ')})`] : [];
  return [...new Set(plain.map(settingOf))].map((setting) => {
    const cells = plain.filter((r) => settingOf(r) === setting);
    const head = cells[0]!;
    const perAggregator = [...new Set(cells.map((r) => r.aggregator))].map(
      (aggregator) =>
        `${words(aggregator)} ${cells
          .filter((r) => r.aggregator === aggregator)
          .map((r) => `${r.partition} ${r.roundsToTarget ?? notWithin(r)}`)
          .join(', ')}`,
    );
    const reached = cells.filter((r) => r.roundsToTarget !== null);
    const bytes = (r: FederatedResult): number => r.bytesUpToTarget! + r.bytesDownToTarget!;
    const cheapest = reached.reduce<FederatedResult | null>((best, r) => (best === null || bytes(r) < bytes(best) ? r : best), null);
    const moved =
      cheapest === null
        ? `no cell reached it within ${head.rounds} rounds`
        : `the cheapest (${words(cheapest.aggregator)} ${cheapest.partition}) moved ${formatBytes(bytes(cheapest))} up + down, ${(bytes(cheapest) / cheapest.rawDataBytes).toFixed(2)}× the ${formatBytes(cheapest.rawDataBytes)} of raw rows that stayed with the clients`;
    const centralised = head.centralised.score === null ? 'the centralised fit failed' : `centralised ${head.scoreName} ${head.centralised.score.toFixed(4)}`;
    return `${head.model} on ${head.data}, ${head.clients} clients (${head.clientsPerRound} a round): rounds to ${head.scoreName} ${head.target} — ${perAggregator.join('; ')}; ${moved}; ${centralised}`;
  });
}
