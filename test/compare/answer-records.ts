// Hand-made federated results and fault runs with known numbers, for the answer tests (answers.test.ts,
// report-browser.test.ts).
import type { FaultKind } from '../../src/compare/fault-cells.js';
import { expandFederated, parseFederatedList } from '../../src/compare/federated-cells.js';
import type { FederatedResult } from '../../src/compare/federated-run.js';
import { failedFederated } from '../../src/compare/federated-run.js';
import type { RunRecord } from '../../src/compare/record.js';
import { record } from './records.js';

const SET = {
  model: 'logistic-regression',
  params: { solver: 'sgd', epochs: 3, lr: 0.1 },
  data: 'synthetic:classification?rows=1200&cols=6&seed=2',
  target: 0.9,
  rounds: 100,
  aggregators: ['fedavg', 'fedsgd:0.5'],
  partitions: ['iid', 'dirichlet:0.1'],
  clients: [20],
  fractions: [0.25],
  localEpochs: [2],
};

/** The stored fits of SET's four cells: FedAvg 6 and 60 rounds, FedSGD 59 and not within 100. */
export function federatedResults(): FederatedResult[] {
  const rounds: Record<string, number | null> = { 'fedavg|iid': 6, 'fedavg|dirichlet:0.1': 60, 'fedsgd:0.5|iid': 59, 'fedsgd:0.5|dirichlet:0.1': null };
  return expandFederated(parseFederatedList('federated', [SET])).map(({ cell }) => {
    const reached = rounds[`${cell.aggregator}|${cell.partition}`]!;
    return {
      ...failedFederated(cell, 0, ''),
      error: null,
      clientsPerRound: 5,
      trainRows: 960,
      testRows: 240,
      roundsRun: reached ?? 100,
      roundsToTarget: reached,
      // 1 MB up and 0.5 MB down a round
      bytesUpToTarget: reached === null ? null : reached * 1e6,
      bytesDownToTarget: reached === null ? null : reached * 5e5,
      bytesUp: (reached ?? 100) * 1e6,
      bytesDown: (reached ?? 100) * 5e5,
      wallSeconds: 3,
      finalScore: 0.91,
      bestScore: 0.91,
      rawDataBytes: 2e6,
      centralised: { score: 0.94, seconds: 0.5, epochs: 3, error: null },
    };
  });
}

export function faultRun(kind: FaultKind, score: number, wallSeconds: number): RunRecord {
  return record({
    model: 'logistic-regression',
    paradigm: 'processes',
    workers: 3,
    wallSeconds,
    score,
    fault: {
      kind,
      victim: kind === 'none' ? null : 1,
      atFraction: kind === 'none' ? null : 0.5,
      firedAtMs: kind === 'none' ? null : 1500,
      heldMs: null,
      finalWorkers: kind === 'none' ? 3 : 2,
      faults: kind === 'none' ? [] : [{ rank: 1, lost: [1], generation: 1, workers: 2, detectedMs: 100, reformMs: 150, reloadMs: 50, lostMs: 300 }],
    },
  });
}

export const faultRecords = (): RunRecord[] => [faultRun('none', 0.93, 4), faultRun('kill', 0.93, 4.4)];

