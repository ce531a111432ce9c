/**
 * AutoML: search spaces, cross-validation with pipelines fitted inside each fold, feature
 * selection, searchers (grid, random, successive halving, ASHA, HyperBand) and studies that run
 * trials concurrently in any paradigm. See docs/automl.md.
 */
export { parseSpace, sampleSpace, gridOf, gridValues, paramsKey, DOMAIN_TYPES } from './space.js';
export type { SearchSpace, SpaceParam, Domain, Condition, Params, ParamValue } from './space.js';
export { kFold, stratifiedKFold, foldsFromAssignment } from './folds.js';
export type { Fold, FoldOptions } from './folds.js';
export { parsePipeline, formatPipeline, fitPipeline, selectColumns, STEP_NAMES } from './pipeline.js';
export type { PipelineStep, FittedPipeline, FittedStep, UnivariateScore } from './pipeline.js';
export { fClassif, fRegression, chi2, mutualInfoClassif, lasso, digamma } from './feature-scores.js';
export type { LassoOptions, Matrix } from './feature-scores.js';
export { crossValidate, makeFolds, scoreWith, checkMetric, METRICS, RESOURCE_KINDS } from './cross-validate.js';
export type { CrossValidateOptions, CrossValidation, FoldSpec, MetricName, ResourceKind } from './cross-validate.js';
export {
  GridSearcher,
  RandomSearcher,
  SuccessiveHalving,
  AsyncSuccessiveHalving,
  HyperBand,
  rankOutcomes,
  checkBudget,
  SEARCHERS,
} from './searchers.js';
export type { Searcher, SearcherName, TrialRequest, TrialOutcome, Budget } from './searchers.js';
export { TpeSearcher } from './tpe.js';
export type { TpeOptions } from './tpe.js';
export { runStudy, checkObjectives, oriented, OBJECTIVES } from './study.js';
export type { ObjectiveName, StudyOptions, StudyRun, TrialRecord, TrialResult } from './study.js';
export { dominates, paretoFront, paretoRanks } from './pareto.js';
export { tune, heldOutScore } from './tune.js';
export type { TuneOptions, TuneResult, HeldOutOptions } from './tune.js';
