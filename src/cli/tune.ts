/**
 * `shardlearn tune <model> --data <spec> --space space.json [flags]`: search the space by cross-
 * validation on the training rows, then fit the best configuration (and the model's defaults, for
 * comparison) on all training rows and score the held-out rows. `--standardize`/`--minmax` here are
 * pipeline steps fitted inside each fold, never on all rows. `--json` prints one object:
 *   { model, searcher, metric, objectives, folds, concurrency, paradigm, workers, seconds, trials: [...],
 *     best, paretoFront: [trial ids], resourceSpent, heldOut: { rows, tuned, default } | null }
 * Model options given as flags (`--batch-size 32`) are fixed in every trial. With `--study <name>`,
 * each trial is written to the runs database (`--db`) as it ends, and running the same command again
 * resumes the study: finished trials are reused, the rest run.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import {
  RESOURCE_KINDS,
  SEARCHERS,
  checkObjectives,
  formatPipeline,
  heldOutScore,
  parsePipeline,
  parseSpace,
  tune,
} from '../automl/index.js';
import type { ResourceKind, SearcherName, TrialRecord, TuneOptions, TuneResult } from '../automl/index.js';
import type { FitOptions } from '../models/index.js';
import { modelNames } from '../models/index.js';
import type { ParsedArgs } from './args.js';
import { remainingOptions, takeList, takeNumber, takeString } from './args.js';
import { prepareData } from './data-flags.js';
import { DEFAULT_DB } from './compare.js';
import { StudyStore } from '../compare/study-store.js';
import { renderStudyReport } from '../compare/study-report.js';
import { takeParadigm } from './train.js';

export interface TuneReport extends Omit<TuneResult, 'best' | 'paretoFront'> {
  paradigm: string;
  workers: number;
  pipeline: string;
  best: TrialRecord | null;
  /** Ids of the trials on the Pareto front. */
  paretoFront: number[];
  heldOut: { rows: number; tuned: number; default: number } | null;
  /** With --study: its name, the database, the attempt number and how many trials were reused. */
  study: { name: string; db: string; attempt: number; reused: number } | null;
  /** With --report: the HTML page written (trial curves, parallel coordinates, Pareto front, trials). */
  report?: string;
}

/**
 * A switch the shared parser does not know: `--stratified mlp` would have taken `mlp` as its value,
 * so a non-boolean value goes back to the positionals.
 */
function takeLooseSwitch(args: ParsedArgs, name: string): boolean {
  const value = args.flags.get(name);
  args.flags.delete(name);
  if (value === undefined || value === 'false') return false;
  if (value !== true && value !== 'true') args.positionals.push(value);
  return true;
}

function parseResource(text: string | undefined): TuneOptions['resource'] {
  if (text === undefined) return undefined;
  const [kind, min, max] = text.split(':');
  if (
    !(RESOURCE_KINDS as readonly string[]).includes(kind ?? '') ||
    min === undefined ||
    max === undefined ||
    !Number.isFinite(Number(min)) ||
    !Number.isFinite(Number(max))
  ) {
    throw new ConfigError(`--resource expects <${RESOURCE_KINDS.join('|')}>:<min>:<max> (e.g. epochs:1:27), got '${text}'`, {
      field: 'resource',
    });
  }
  return { kind: kind as ResourceKind, min: Number(min), max: Number(max) };
}

function describeTrial(t: TrialRecord): string {
  const budget = t.resource === null ? '' : ` budget ${Number(t.resource.toPrecision(4))}`;
  if (t.status === 'failed') return `#${t.id}${budget} failed ${t.error!.code}: ${t.error!.message}  ${JSON.stringify(t.params)}`;
  return `#${t.id}${budget} ${t.score!.toFixed(4)} ± ${t.std!.toFixed(4)}  ${t.fitSeconds!.toFixed(2)} s  ${JSON.stringify(t.params)}`;
}

export async function tuneCommand(args: ParsedArgs, write: (line: string) => void): Promise<TuneReport> {
  const model = args.positionals[0];
  if (model === undefined) throw new ConfigError(`tune needs a model name: ${modelNames().join(', ')}`, { field: 'model' });
  const json = takeLooseSwitch(args, 'json');
  const stratified = takeLooseSwitch(args, 'stratified');
  const shuffle = takeLooseSwitch(args, 'shuffle');
  const spacePath = takeString(args, 'space');
  if (spacePath === undefined)
    throw new ConfigError('--space is required: a JSON file mapping model options to domains (docs/automl.md)', { field: 'space' });
  const searcher = (takeString(args, 'searcher') ?? 'random') as SearcherName;
  if (!(SEARCHERS as readonly string[]).includes(searcher))
    throw new ConfigError(`--searcher expects one of ${SEARCHERS.join(', ')}, got '${searcher}'`, { field: 'searcher' });
  const trials = takeNumber(args, 'trials', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  const cv = takeNumber(args, 'cv', (n) => Number.isInteger(n) && n >= 2, 'a whole number ≥ 2') ?? 5;
  const metric = takeString(args, 'metric');
  const concurrency = takeNumber(args, 'concurrency', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1') ?? 1;
  const seed = takeNumber(args, 'seed', Number.isInteger, 'an integer') ?? 0;
  const eta = takeNumber(args, 'eta', (n) => n > 1, 'a number > 1');
  const resource = parseResource(takeString(args, 'resource'));
  const objectives = checkObjectives(takeList(args, 'objectives') ?? ['score']);
  const studyName = takeString(args, 'study');
  const dbPath = takeString(args, 'db') ?? DEFAULT_DB;
  const reportPath = takeString(args, 'report');
  // Scaling flags become the first pipeline step, fitted inside each fold.
  const scale = ['standardize', 'minmax'].filter((name) => takeLooseSwitch(args, name));
  const steps = parsePipeline([...scale, takeString(args, 'preprocess') ?? ''].filter((s) => s !== '').join(','));
  // Without --paradigm, concurrent trials run their fits on threads (TuneOptions.fit).
  const paradigmGiven = args.flags.has('paradigm');
  const { paradigm: paradigmFlag, workers: workersFlag, strategy, pipeline, timeoutMs } = takeParadigm(args);
  const fit: FitOptions = {
    ...(paradigmGiven ? { paradigm: paradigmFlag } : {}),
    ...(workersFlag === undefined ? {} : { workers: workersFlag }),
    ...(strategy === undefined ? {} : { strategy }),
    ...(pipeline === undefined ? {} : { pipeline }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };

  const data = await prepareData(args);
  const fixed = remainingOptions(args);
  let rawSpace: unknown;
  try {
    rawSpace = JSON.parse(await readFile(spacePath, 'utf8'));
  } catch (error: unknown) {
    throw new ConfigError(
      `--space ${spacePath}: ${error instanceof SyntaxError ? `not valid JSON (${error.message})` : (error as Error).message}`,
      { field: 'space', cause: error },
    );
  }
  // Options given as flags are fixed values of the space (a flag and a domain for one option is a mistake).
  const spaceObject = { ...(rawSpace as Record<string, unknown>) };
  for (const [name, value] of Object.entries(fixed)) {
    if (name in spaceObject)
      throw new ConfigError(
        `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} fixes an option that ${spacePath} searches; drop one of them`,
        { field: name },
      );
    spaceObject[name] = value;
  }
  const space = parseSpace(spaceObject, spacePath);

  // The settings a resumed study must share with its earlier attempts (the trials' meaning depends on
  // them). Not --trials: a study may be resumed with more, reusing the configurations it finished.
  const settings = {
    model,
    data: data.spec,
    target: data.loadOptions.target ?? null,
    split: data.split,
    space: spaceObject,
    searcher,
    cv,
    stratified,
    shuffle,
    metric: metric ?? null,
    pipeline: formatPipeline(steps),
    resource: resource ?? null,
    eta: eta ?? null,
    objectives,
    seed,
  };
  const store = studyName === undefined ? null : await StudyStore.open(dbPath);
  let study: TuneResult;
  let studyInfo: TuneReport['study'] = null;
  try {
    const begun = store === null ? null : await store.begin<TrialRecord>(studyName!, model, settings);
    // Each trial is stored as it ends, so a study cut short keeps what it finished.
    let writes = Promise.resolve();
    const record = (t: TrialRecord): void => {
      if (store !== null) writes = writes.then(() => store.writeTrial(studyName!, begun!.attempt, t));
      if (!json) process.stderr.write(`  trial ${describeTrial(t)}${t.reused ? ' (reused)' : ''}\n`);
    };
    study = await tune(data.train, {
      model,
      space,
      searcher,
      cv,
      stratified,
      shuffle,
      pipeline: steps,
      concurrency,
      fit,
      objectives,
      seed,
      ...(trials === undefined ? {} : { trials }),
      ...(metric === undefined ? {} : { metric: metric as NonNullable<TuneOptions['metric']> }),
      ...(resource === undefined ? {} : { resource }),
      ...(eta === undefined ? {} : { eta }),
      ...(begun === null ? {} : { previous: begun.previous }),
      onTrial: record,
    });
    await writes;
    if (begun !== null)
      studyInfo = { name: studyName!, db: dbPath, attempt: begun.attempt, reused: study.trials.filter((t) => t.reused).length };
  } finally {
    store?.close();
  }

  const paradigm = study.fit.paradigm ?? 'sequential';
  const workers = study.fit.workers;
  let heldOut: TuneReport['heldOut'] = null;
  if (study.best !== null && data.evaluationName === 'test' && data.evaluation !== data.train) {
    const common = { model, pipeline: steps, fit, metric: study.metric };
    const bestParams = {
      ...study.best.params,
      ...(resource !== undefined && study.best.resource !== null && resource.kind !== 'rows'
        ? { [resource.kind]: Math.round(study.best.resource) }
        : {}),
    };
    const tuned = await heldOutScore(data.train, data.evaluation, { ...common, params: bestParams });
    const baseline = await heldOutScore(data.train, data.evaluation, { ...common, params: fixed });
    heldOut = { rows: data.evaluation.rows, tuned: tuned.score, default: baseline.score };
  }
  const report: TuneReport = {
    ...study,
    paradigm,
    workers: workers ?? 1,
    pipeline: formatPipeline(steps),
    paretoFront: study.paretoFront.map((t) => t.id),
    heldOut,
    study: studyInfo,
    ...(reportPath === undefined ? {} : { report: reportPath }),
  };
  if (reportPath !== undefined) {
    await writeFile(
      reportPath,
      await renderStudyReport({
        title: `${model}: ${searcher} search${studyInfo === null ? '' : ` (study '${studyInfo.name}')`}`,
        metric: study.metric,
        trials: study.trials,
        paretoFront: report.paretoFront,
      }),
    );
  }
  if (json) {
    write(JSON.stringify(report));
    return report;
  }
  const failed = study.trials.filter((t) => t.status === 'failed');
  write(
    `${model}: ${searcher} search, ${study.trials.length} trials (${failed.length} failed) in ${study.seconds.toFixed(2)} s; ${study.folds}-fold${stratified ? ' stratified' : ''} CV ${study.metric}${steps.length > 0 ? ` after ${report.pipeline}` : ''}; ${concurrency} at a time (${paradigm}${workers === undefined ? '' : ` ×${workers}`})`,
  );
  if (study.best === null) write('  no trial succeeded');
  else write(`  best ${describeTrial(study.best)}`);
  if (reportPath !== undefined) write(`  report: ${reportPath}`);
  if (studyInfo !== null)
    write(
      `  study '${studyInfo.name}' attempt ${studyInfo.attempt} in ${studyInfo.db}: ${studyInfo.reused} trials reused from earlier attempts`,
    );
  if (resource !== undefined) write(`  budget spent: ${Number(study.resourceSpent.toPrecision(6))} ${resource.kind} (over all trials)`);
  if (heldOut !== null)
    write(`  held-out ${study.metric}: tuned ${heldOut.tuned.toFixed(4)}, default ${heldOut.default.toFixed(4)} (${heldOut.rows} rows)`);
  if (objectives.length > 1)
    write(
      `  Pareto front (${objectives.join(' vs ')}): ${study.paretoFront.map((t) => `#${t.id} ${t.score!.toFixed(4)}/${t.fitSeconds!.toFixed(2)} s`).join(', ')}`,
    );
  const ranked = study.trials
    .filter((t) => t.status === 'ok')
    .sort((a, b) => b.score! - a.score!)
    .slice(0, 10);
  write('  top trials:');
  for (const t of ranked) write(`    ${describeTrial(t)}`);
  for (const t of failed.slice(0, 5)) write(`  ${describeTrial(t)}`);
  return report;
}
