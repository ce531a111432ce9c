// The package's public surface is deliberate: src/index.ts exports exactly the names pinned here
// (values and types, sorted), each with a doc comment; the compiled entry imports cleanly in a fresh
// `node` process, by path and by package name, and exposes exactly the pinned values; and bench/,
// scripts/ and the CLI import from the entry only names it still has (internals by relative path).
// Adding a name is a change to this list, reviewed like any other (and a line in docs/api.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const entrySource = readFileSync(join(root, 'src/index.ts'), 'utf8');

const VALUES = [
  'CNN',
  'CheckpointError',
  'CommError',
  'ConfigError',
  'DQN',
  'DataError',
  'Dataset',
  'Estimator',
  'EtcdRendezvous',
  'FileError',
  'KMeans',
  'LinearRegression',
  'LinearSVM',
  'LogisticRegression',
  'MLP',
  'MinMaxScaler',
  'ModelFormatError',
  'NetworkError',
  'NotFittedError',
  'PARADIGMS',
  'PCA',
  'QLearning',
  'RNN',
  'RendezvousError',
  'Rng',
  'ShardlearnError',
  'StandardScaler',
  'WorkerError',
  'accuracy',
  'advise',
  'aggregatorUsages',
  'allocate',
  'availableParadigms',
  'calibrateFromRuns',
  'codecUsages',
  'columnStatistics',
  'configureThreadPool',
  'confusionMatrix',
  'contiguousPartition',
  'createCodec',
  'createModel',
  'crossValidate',
  'defaultMatrix',
  'deserializeModel',
  'dirichletPartition',
  'evaluate',
  'explainedVarianceScore',
  'exportRuns',
  'f1Score',
  'heldOutScore',
  'iidPartition',
  'kFold',
  'kernelBackends',
  'kernels',
  'listRuns',
  'loadData',
  'loadMatrixFile',
  'loadModel',
  'loadSavedModel',
  'meanSquaredError',
  'modelNames',
  'nn',
  'oneHot',
  'parseMatrix',
  'parsePipeline',
  'parseSpace',
  'placeSharedArraysInWasmMemory',
  'prewarmThreads',
  'r2Score',
  'registerAggregator',
  'registerCodec',
  'registerModel',
  'registerStrategy',
  'rendezvousFromEnv',
  'reportFromStore',
  'resolveParams',
  'runCompare',
  'saveModel',
  'serializeModel',
  'shutdownProcessPool',
  'shutdownThreadPool',
  'staticRendezvous',
  'strategyNames',
  'stratifiedKFold',
  'sumOverRows',
  'syntheticGenerator',
  'trainTestSplit',
  'tune',
  'useKernels',
];

const TYPES = [
  'Advice',
  'AdviceOption',
  'AdviseRequest',
  'Aggregator',
  'AggregatorChoice',
  'AggregatorFactory',
  'AnyEstimator',
  'ApplyUpdate',
  'CNNParams',
  'CheckpointPolicy',
  'ClientRule',
  'ClientUpdate',
  'Codec',
  'CodecFactory',
  'CodecLayout',
  'CodecState',
  'ColumnStatistics',
  'CommStats',
  'Communicator',
  'CompareOptions',
  'CompareOutcome',
  'CompressionOptions',
  'ConfusionMatrix',
  'CrossValidateOptions',
  'CrossValidation',
  'DQNParams',
  'DataSource',
  'DatasetInit',
  'DirichletOptions',
  'ErrorCode',
  'EtcdRendezvousOptions',
  'FaultInjection',
  'FaultRecord',
  'FederatedInfo',
  'FederatedOptions',
  'FitInfo',
  'FitOptions',
  'Fold',
  'GradientStrategy',
  'InjectedFault',
  'JoinRecord',
  'KMeansParams',
  'LinearRegressionParams',
  'LinearSVMParams',
  'LoadOptions',
  'LoadedData',
  'LogisticRegressionParams',
  'MLPParams',
  'Matrix',
  'Message',
  'Metrics',
  'ModelEntry',
  'ModelKind',
  'ModelSpec',
  'NetworkProfile',
  'PCAParams',
  'Paradigm',
  'PipelineOptions',
  'PipelineSchedule',
  'PipelineSettings',
  'PipelineStep',
  'ProgressEvent',
  'QLearningParams',
  'RNNParams',
  'ReduceOp',
  'Rendezvous',
  'RendezvousBackend',
  'RoundReport',
  'RowAccumulator',
  'RunFilter',
  'RunRecord',
  'SavedModel',
  'SearchSpace',
  'SharedRows',
  'SplitOptions',
  'StoredRun',
  'StrategyEnvironment',
  'StrategyFactory',
  'SyntheticSpec',
  'TrainContext',
  'TrialRecord',
  'TuneOptions',
  'TuneResult',
  'World',
  'WorldMember',
];

/** The names an `export { a, b as c } from` clause exports. */
function clauseNames(clause: string): string[] {
  return clause
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => part.split(/\s+as\s+/).pop()!);
}

/** Every export statement of src/index.ts: the names, whether type-only, and the line it starts on. */
function entryExports(): { names: string[]; type: boolean; line: number }[] {
  const lines = entrySource.split('\n');
  const exports: { names: string[]; type: boolean; line: number }[] = [];
  lines.forEach((text, index) => {
    if (!text.startsWith('export')) return;
    const named = /^export (type )?\{([^}]*)\} from '\.\/[^']+\.js';$/.exec(text);
    const namespace = /^export \* as (\w+) from '\.\/[^']+\.js';$/.exec(text);
    if (named !== null) exports.push({ names: clauseNames(named[2]!), type: named[1] !== undefined, line: index });
    else if (namespace !== null) exports.push({ names: [namespace[1]!], type: false, line: index });
    else
      assert.fail(
        `src/index.ts line ${index + 1}: only one-line 'export { … } from', 'export type { … } from' and 'export * as name from' are allowed, found: ${text}`,
      );
  });
  return exports;
}

test('src/index.ts exports exactly the pinned values and types, by explicit name', () => {
  const exports = entryExports();
  const values = exports
    .filter((e) => !e.type)
    .flatMap((e) => e.names)
    .sort();
  const types = exports
    .filter((e) => e.type)
    .flatMap((e) => e.names)
    .sort();
  assert.deepEqual(values, [...VALUES].sort(), 'value exports (update VALUES and docs/api.md deliberately)');
  assert.deepEqual(types, [...TYPES].sort(), 'type exports (update TYPES and docs/api.md deliberately)');
  assert.equal(new Set([...values, ...types]).size, values.length + types.length, 'a name exported twice');
  assert.doesNotMatch(entrySource, /^export \* from/m);
  // The cost model's `predict` and the launchers were public by accident once.
  for (const internal of ['predict', 'launchThreads', 'registerLauncher', 'getLauncher', 'fitInNamespaces', 'registerKernels']) {
    assert.ok(!values.includes(internal), `${internal} is internal`);
  }
});

test('every export of src/index.ts has a doc comment right above it', () => {
  const lines = entrySource.split('\n');
  const undocumented = entryExports()
    .filter(({ line }) => !(lines[line - 1] ?? '').trimEnd().endsWith('*/'))
    .map((e) => e.names.join(', '));
  assert.deepEqual(undocumented, []);
});

test('every name docs/api.md lists is exported, and every export is listed there', () => {
  const doc = readFileSync(join(root, 'docs/api.md'), 'utf8');
  const listed = new Set([...doc.matchAll(/^\| `(\w+)`/gm)].map((m) => m[1]!));
  const exported = [...VALUES, ...TYPES];
  assert.deepEqual(exported.filter((name) => !listed.has(name)).sort(), [], 'exported but not in docs/api.md');
  assert.deepEqual([...listed].filter((name) => !exported.includes(name)).sort(), [], 'in docs/api.md but not exported');
});

/** Runs `script` as an ES module in a fresh node process in the package root; returns its output. */
function freshNode(script: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the compiled entry imports cleanly in a fresh node process, by path and by package name, with exactly the pinned values', () => {
  const entry = join(root, 'dist/src/index.js');
  assert.ok(existsSync(entry), `${entry} is missing: build with npx tsc -p tsconfig.json`);
  for (const specifier of [pathToFileURL(entry).href, 'shardlearn']) {
    const run = freshNode(`
      const api = await import(${JSON.stringify(specifier)});
      const data = new api.Dataset({ x: Float64Array.from({ length: 40 }, (_, i) => (i * 7) % 11), rows: 20, cols: 2 });
      const model = await new api.KMeans({ k: 2, seed: 1 }).fit(data);
      console.log(JSON.stringify({ names: Object.keys(api).sort(), paradigms: api.availableParadigms(), predicted: model.predict(data).length }));`);
    assert.equal(run.status, 0, `${specifier}: ${run.stderr}`);
    // The only warning allowed is the documented one when WASM kernels cannot load.
    assert.equal(run.stderr.split('\n').filter((line) => line.trim() !== '' && !/SHARDLEARN_NO_WASM/.test(line)).length, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { names: string[]; paradigms: string[]; predicted: number };
    assert.deepEqual(out.names, [...VALUES].sort(), specifier);
    assert.ok(out.paradigms.includes('threads') && out.paradigms.includes('processes'), 'importing the entry registers the launchers');
    assert.equal(out.predicted, 20);
  }
});

test("internals are not importable from outside: the package's exports map has only its entry", () => {
  const run = freshNode(`
    try { await import('shardlearn/dist/src/compare/cost-model.js'); console.log('imported'); }
    catch (error) { console.log(error.code); }`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'ERR_PACKAGE_PATH_NOT_EXPORTED');
});

test('bench/, scripts/ and the CLI import from the entry only names it exports', () => {
  const files = ['bench', 'scripts', 'src/cli'].flatMap((dir) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .filter((name) => name.endsWith('.ts'))
          .map((name) => join(dir, name))
      : [],
  );
  assert.ok(files.length > 5);
  const exported = new Set([...VALUES, ...TYPES]);
  const missing: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const match of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
      if (resolve(root, dirname(file), match[2]!) !== join(root, 'src/index.js')) continue;
      const imported = match[1]!
        .split(',')
        .map(
          (part) =>
            part
              .trim()
              .replace(/^type\s+/, '')
              .split(/\s+as\s+/)[0]!,
        )
        .filter((name) => name !== '');
      for (const name of imported) if (!exported.has(name)) missing.push(`${file}: ${name}`);
    }
  }
  assert.deepEqual(missing, []);
});
