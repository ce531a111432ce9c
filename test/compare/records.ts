// Hand-made run records with known numbers, for the pure summary/claims/store tests.
import type { RunRecord, Session } from '../../src/compare/record.js';
import { cellId } from '../../src/compare/matrix.js';
import { parseMatrix } from '../../src/compare/matrix.js';
import { codeVersion, hostInfo } from '../../src/compare/environment.js';

let next = 0;

export function record(overrides: Partial<RunRecord> & Pick<RunRecord, 'paradigm' | 'wallSeconds'>): RunRecord {
  const base = {
    model: 'kmeans',
    params: {},
    data: 'synthetic:blobs?rows=1000&cols=2&seed=1',
    workers: 1,
    strategy: 'allreduce' as const,
    compression: 'none',
    ...overrides,
  };
  next++;
  return {
    runId: `run-${next}`,
    sessionId: 'session-1',
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, next)).toISOString(),
    cellId: cellId(base),
    modelKind: 'clusterer',
    repeat: 0,
    status: 'ok',
    error: null,
    trainRows: 800,
    testRows: 200,
    cols: 2,
    trainSeconds: base.wallSeconds ?? overrides.wallSeconds,
    cpuSeconds: 1,
    peakRssBytes: 1e8,
    rankPeakRssBytes: 1e8,
    stageMemory: null,
    startupMs: null,
    bytesSent: 0,
    bytesReceived: 0,
    messagesSent: 0,
    setupBytes: 0,
    network: 'loopback',
    commMs: 0,
    computeMs: overrides.wallSeconds * 1000,
    score: 0.9,
    scoreName: 'accuracy',
    higherIsBetter: true,
    metrics: { accuracy: 0.9 },
    finalLoss: 0.3,
    timeToTargetMs: null,
    reachedScoreTarget: null,
    speedup: null,
    efficiency: null,
    history: [
      { elapsedMs: 5, iteration: 1, total: 2, loss: 0.5 },
      { elapsedMs: 9, iteration: 2, total: 2, loss: 0.3 },
    ],
    ...base,
  } as RunRecord;
}

export function session(id = 'session-1'): Session {
  return {
    sessionId: id,
    startedAt: '2026-01-01T00:00:00.000Z',
    matrix: parseMatrix({ models: ['kmeans'], name: 'fixture' }),
    code: codeVersion(),
    host: hostInfo(),
  };
}
