/**
 * The comparison harness behind `shardlearn compare`, `shardlearn runs` and `shardlearn report`:
 * the experiment matrix, the runner, the DuckDB results store, summaries, the HTML report.
 *
 * @example
 * import { defaultMatrix, runCompare } from './compare/index.js';
 * const outcome = await runCompare(defaultMatrix(), { loadData, dbPath: 'results.duckdb', reportPath: 'report.html' });
 * console.log(outcome.table);
 */
export {
  parseMatrix,
  defaultMatrix,
  defaultMatrixSpec,
  expandMatrix,
  syntheticSpecFor,
  trainsBySgd,
  parseNetworksFlag,
  STRATEGIES,
  DEFAULT_MODELS,
  LOOPBACK,
} from './matrix.js';
export type { Matrix, ModelSpec, Cell, SkippedCell, Target, StrategyName, NetworkSpec } from './matrix.js';
export { loadMatrixFile, resolveMatrix } from './matrix-file.js';
export type { MatrixFlags } from './matrix-file.js';
export type { FederatedFlags, FederatedSet, FederatedCell } from './federated-cells.js';
export type { FederatedResult, CentralisedFit } from './federated-run.js';
export { runMatrix, describeRun } from './runner.js';
export type { CompareEvent, RunOptions } from './runner.js';
export { runCompare, resumeCompare, loadSession, reportFromStore } from './compare.js';
export type { CompareOptions, CompareOutcome } from './compare.js';
export { ResultsStore, listRuns, exportRuns, exportRunsParquet, withStore, SCHEMA_VERSION } from './store.js';
export type { RunFilter, StoredRun, StoredSession } from './store.js';
export { summarize, summaryTable, summaryRows, formatBytes, cellLabel, nonSgdSolver } from './summary.js';
export type { CellSummary } from './summary.js';
export { renderReport } from './report.js';
export { evaluateClaims, crossovers } from './claims.js';
export type { ClaimResult, Verdict } from './claims.js';
export { spread, median, speedup, efficiency, timeToTargetLoss, crossover } from './stats.js';
export type { Spread, HistoryPoint } from './stats.js';
export { splitTrainTest } from './data.js';
export type { DataLoader } from './data.js';
export type { RunRecord, Session, CompareResult } from './record.js';
export { codeVersion, hostInfo } from './environment.js';
export { advise, validateAdvisor, calibrateFromRuns, algorithmFor, algorithmOfRun } from './advisor.js';
export type { AdviseRequest, Advice, AdviceOption, Validation, ValidationCell } from './advisor.js';
export { DEFAULT_CALIBRATION, predict, workloadOf, parseBandwidth } from './cost-model.js';
export type { Algorithm, Calibration, ClusterSpec, Prediction, RepeatSpread, Workload } from './cost-model.js';
export { calibrate, nonNegativeLeastSquares } from './calibrate.js';
export { remainingSeconds, remainingFederatedSeconds, etaText, formatDuration } from './eta.js';
