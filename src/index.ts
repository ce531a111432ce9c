/**
 * shardlearn's library entry: the public API, and nothing else. Importing it registers the kernel
 * backends, the models, the strategies and the paradigm launchers.
 *
 * Every name here is deliberate (test/public-api.test.ts pins the list; docs/api.md describes it by
 * group). Internals — launchers, transports, the cost model, the kernels' registry, loaders behind
 * `loadData` — are reachable only inside the package, by relative path (bench/, the CLI, tests).
 *
 * @example
 * import { KMeans, loadData } from 'shardlearn';
 * const { train } = await loadData('synthetic:blobs?rows=10000&cols=2&centers=3&seed=1');
 * const model = await new KMeans({ k: 3 }).fit(train, { paradigm: 'threads', workers: 2 });
 */
// Registration (side effects): kernel backends, models, strategies, launchers — in this order.
import './core/index.js';
import './models/index.js';
import './strategies/index.js';
import './runtime/index.js';

// ─── Models ─────────────────────────────────────────────────────────────────────────────────────

/**
 * Least squares: exact normal equations (one all-reduce of XᵀX and Xᵀy) or mini-batch SGD.
 * @example const model = await new LinearRegression().fit(train); model.score(test); // R²
 */
export { LinearRegression } from './models/linear/linear-regression.js';
/** Options of LinearRegression. */
export type { LinearRegressionParams } from './models/linear/linear-regression.js';
/**
 * Binary or multinomial logistic regression: L-BFGS (default) or mini-batch SGD.
 * @example await new LogisticRegression({ solver: 'sgd' }).fit(train, { paradigm: 'threads', workers: 2, strategy: 'hogwild' });
 */
export { LogisticRegression } from './models/linear/logistic-regression.js';
/** Options of LogisticRegression. */
export type { LogisticRegressionParams } from './models/linear/logistic-regression.js';
/** Linear support-vector classifier (hinge loss, one-vs-rest), trained by SGD or L-BFGS. */
export { LinearSVM } from './models/linear/linear-svm.js';
/** Options of LinearSVM. */
export type { LinearSVMParams } from './models/linear/linear-svm.js';
/**
 * k-means (Lloyd, in summation form): k-means++, k-means|| or random initialisation.
 * @example const model = await new KMeans({ k: 8 }).fit(train, { paradigm: 'processes', workers: 4 });
 */
export { KMeans } from './models/kmeans/kmeans.js';
/** Options of KMeans. */
export type { KMeansParams } from './models/kmeans/kmeans.js';
/** Principal component analysis: the full covariance eigen-decomposition, or randomized. */
export { PCA } from './models/pca/pca.js';
/** Options of PCA. */
export type { PCAParams } from './models/pca/pca.js';
/**
 * Multi-layer perceptron classifier.
 * @example await new MLP({ hidden: [256, 128], dropout: 0.2 }).fit(train, { paradigm: 'threads', workers: 2 });
 */
export { MLP } from './models/neural/mlp.js';
/** Options of MLP (and the options every neural model shares). */
export type { MLPParams } from './models/neural/mlp.js';
/** Convolutional network classifier for images (inputs reshaped to height × width × channels). */
export { CNN } from './models/neural/cnn.js';
/** Options of CNN. */
export type { CNNParams } from './models/neural/cnn.js';
/** Recurrent classifier (RNN, LSTM or GRU cells) over sequences. */
export { RNN } from './models/neural/rnn.js';
/** Options of RNN. */
export type { RNNParams } from './models/neural/rnn.js';
/**
 * Tabular Q-learning agent on FrozenLake or CliffWalking; actors (ranks) average their tables or share one (Hogwild).
 * @example const agent = await new QLearning({ env: 'frozenlake-4x4', slippery: true, episodes: 20_000 }).fit({ paradigm: 'threads', workers: 2 });
 */
export { QLearning } from './models/rl/q-learning.js';
/** Options of QLearning. */
export type { QLearningParams } from './models/rl/q-learning.js';
/**
 * Double DQN agent on CartPole (replay, target network, Adam); synchronous or Ape-X actors on ranks.
 * @example const agent = await new DQN({ env: 'cartpole', steps: 100_000 }).fit();
 */
export { DQN } from './models/rl/dqn.js';
/** Options of DQN. */
export type { DQNParams } from './models/rl/dqn.js';
/**
 * A registered model by name, as the CLI and `compare` build them (unknown names and options are a ConfigError).
 * @example const model = createModel('kmeans', { k: 3 });
 */
export { createModel } from './models/registry.js';
/** The registered model names (the library's and any you registered). */
export { modelNames } from './models/registry.js';
/** Any estimator, whatever its options and state (what `createModel` and `loadModel` return). */
export type { AnyEstimator } from './models/registry.js';
/** 'regressor' | 'classifier' | 'clusterer' | 'decomposition'. */
export type { ModelKind } from './models/estimator.js';

// ─── Fitting: paradigms, options, what a fit reports ────────────────────────────────────────────

/** Options of `fit`: paradigm, workers, strategy, pipeline, timeout, progress, data source, network profile. */
export type { FitOptions } from './models/paradigm.js';
/** How a fit ran: paradigm, workers, seconds, per-rank communication, compute and CPU time, progress history. */
export type { FaultRecord, FitInfo, JoinRecord } from './models/paradigm.js';
/** One fault to inject (FitOptions.inject: SIGKILL or SIGSTOP of one rank at a seeded point), and what it did (FitInfo.injected). */
export type { FaultInjection, InjectedFault } from './models/paradigm.js';
/** 'sequential' | 'threads' | 'processes' | 'cluster'. */
export type { Paradigm } from './models/paradigm.js';
/** Where every worker loads its own shard from (FitOptions.source). */
export type { DataSource } from './models/paradigm.js';
/** Latency, jitter and bandwidth of the rank-to-rank links (FitOptions.network, processes only). */
export type { NetworkProfile } from './models/paradigm.js';
/** Every paradigm name, in order. */
export { PARADIGMS } from './models/paradigm.js';
/** The paradigms this build can run (cluster needs ZeroMQ). */
export { availableParadigms } from './models/paradigm.js';
/** One progress report of a trainer (iteration, total, loss); FitOptions.onProgress receives it with elapsedMs. */
export type { ProgressEvent } from './models/context.js';
/**
 * FitOptions.federated: clients, fraction, rounds, local epochs, partition, aggregator, dropouts, deadline, Byzantine clients, async mode.
 * @example await new MLP().fit(train, { paradigm: 'federated', federated: { clients: 100, fraction: 0.1, rounds: 50, localEpochs: 5 } });
 */
export type { FederatedOptions, FederatedInfo, RoundReport } from './federated/settings.js';
/** FitOptions.checkpoint: { dir, everySteps | everySeconds, keep, resume } for SGD-trained models under synchronous strategies. */
export type { CheckpointPolicy } from './models/context.js';
/** FitOptions.pipeline: micro-batches, schedule ('gpipe' | '1f1b'), replicas; every field defaulted. */
export type { PipelineOptions } from './models/neural/pipeline/settings.js';
/** A pipeline's options with the defaults filled in (FitInfo.pipeline). */
export type { PipelineSettings } from './models/neural/pipeline/settings.js';
/** 'gpipe' | '1f1b'. */
export type { PipelineSchedule } from './models/neural/pipeline/settings.js';
/** Per-rank bytes and messages sent and received, collectives run, milliseconds blocked in communication. */
export type { CommStats } from './comm/communicator.js';
/**
 * This process's place in a cluster job from the environment (torchrun's MASTER_ADDR/RANK/WORLD_SIZE,
 * Kubernetes indexed jobs, Slurm), to load this rank's shard before a `cluster` fit.
 * @example const { rank, worldSize } = rendezvousFromEnv(); await loadData('x.csv', { shard: { rank, worldSize } });
 */
export { rendezvousFromEnv } from './runtime/rendezvous.js';
/** What rendezvousFromEnv returns: rank, world size, master address and port. */
export type { Rendezvous } from './runtime/rendezvous.js';
/**
 * The environment's world (MASTER_ADDR/WORLD_SIZE/RANK, Slurm, JOB_COMPLETION_INDEX) as a
 * RendezvousBackend: the default of `FitOptions.rendezvous`.
 * @example const { rank, worldSize } = await staticRendezvous().join();
 */
export { staticRendezvous } from './runtime/rendezvous.js';
/**
 * Elastic membership through etcd (torchrun's etcd backend): ranks register with a lease, agree on a
 * world per generation, and observe membership changes. Pass it as `FitOptions.rendezvous`; call `leave()` when done.
 * @example const rendezvous = new EtcdRendezvous({ endpoint: '10.0.0.5:2379', jobId: 'run-7', minWorkers: 2, maxWorkers: 4 });
 */
export { EtcdRendezvous } from './runtime/rendezvous-etcd.js';
/** EtcdRendezvous's options: endpoint, jobId, minWorkers, maxWorkers, lease, last call and timeouts. */
export type { EtcdRendezvousOptions } from './runtime/rendezvous-etcd.js';
/** How a cluster rank learns its world and its changes: join(), onChange(listener), leave(). */
export type { RendezvousBackend } from './comm/rendezvous-backend.js';
/** One generation's world as a member sees it: generation, rank, worldSize, master, members in rank order. */
export type { World } from './comm/rendezvous-backend.js';
/** One member of a World: its id, advertised host and port. */
export type { WorldMember } from './comm/rendezvous-backend.js';
/**
 * End the idle worker threads the `threads` paradigm keeps for reuse (they never hold the process open).
 * @example await shutdownThreadPool();
 */
export { shutdownThreadPool } from './runtime/thread-pool.js';
/**
 * Start the `threads` paradigm's workers ahead of a fit (they import the library meanwhile), and set
 * how long idle ones are kept (default 30 s; Infinity keeps them for the life of the process).
 * @example await prewarmThreads(2); configureThreadPool({ idleTimeoutMs: Infinity });
 */
export { configureThreadPool, prewarmThreads } from './runtime/thread-pool.js';
/**
 * Kill the idle child processes the `processes` paradigm keeps for `reuseProcesses` fits (they never hold the process open).
 * @example await shutdownProcessPool();
 */
export { shutdownProcessPool } from './runtime/process-pool.js';

// ─── Data ───────────────────────────────────────────────────────────────────────────────────────

/**
 * Load a data set from a spec: a CSV, TSV, Parquet, LibSVM or IDX path, `builtin:mnist`,
 * `builtin:fashion-mnist`, `synthetic:<kind>?rows=…`.
 * @example const { train, test } = await loadData('data.csv', { target: 'label' });
 */
export { loadData } from './data/load.js';
/** Options of loadData: target column, delimiter, header, missing values, dtype, placement, shard. */
export type { LoadOptions } from './data/load.js';
/** What loadData returns: the training rows, and the source's own test rows when it has them. */
export type { LoadedData } from './data/load.js';
/** Rows of features (row-major, float32 or float64) with optional labels; views, slices, shared placement. */
export { Dataset } from './data/dataset.js';
/** What a Dataset is made from. */
export type { DatasetInit } from './data/dataset.js';
/**
 * Split rows into train and test by a seeded per-row hash.
 * @example const { train, test } = trainTestSplit(data, { testFraction: 0.2, seed: 1 });
 */
export { trainTestSplit } from './data/split.js';
/** Options of trainTestSplit. */
export type { SplitOptions } from './data/split.js';
/** Scale each column to zero mean and unit variance (fit on training rows, apply to any). */
export { StandardScaler } from './data/preprocess.js';
/** Scale each column to [0, 1] (fit on training rows, apply to any). */
export { MinMaxScaler } from './data/preprocess.js';
/**
 * Per-column sums, squares, minima and maxima of a shard: all-reduce them, then fit a scaler on the merged statistics.
 * @example const stats = columnStatistics(shard); // then all-reduce sum and sumOfSquares (sum), min (min), max (max)
 */
export { columnStatistics } from './data/preprocess.js';
/** What columnStatistics returns. */
export type { ColumnStatistics } from './data/preprocess.js';
/** Labels as a rows × classes 0/1 matrix. */
export { oneHot } from './data/preprocess.js';
/** Row indices per worker: contiguous blocks. */
export { contiguousPartition } from './data/partition.js';
/**
 * Row indices per worker: a seeded shuffle, dealt evenly.
 * @example const parts = iidPartition(data.rows, 4, 1); const mine = data.take(parts[rank]!);
 */
export { iidPartition } from './data/partition.js';
/** Row indices per worker, non-IID by label (Dirichlet(α) class proportions; small α → few classes per worker). */
export { dirichletPartition } from './data/partition.js';
/** Options of dirichletPartition: `alpha`, `seed`, `minRowsPerWorker`. */
export type { DirichletOptions } from './data/partition.js';
/**
 * A seeded synthetic data generator with its ground truth (weights, class means, centers, components).
 * @example syntheticGenerator({ kind: 'blobs', rows: 1000, cols: 2, centers: 3, seed: 1 }).truth;
 */
export { syntheticGenerator } from './data/synthetic.js';
/** What syntheticGenerator takes: kind, rows, cols and the kind's parameters. */
export type { SyntheticSpec } from './data/synthetic.js';

// ─── Evaluation ─────────────────────────────────────────────────────────────────────────────────

/**
 * The metrics that suit the model's kind (accuracy and F1, R² and MSE, inertia, explained variance).
 * @example const metrics = evaluate(model, test); // { accuracy: 0.97, f1: 0.96, … }
 */
export { evaluate } from './models/evaluate.js';
/** Metric name → value (a number, or one per class/component). */
export type { Metrics } from './models/evaluate.js';
/** Fraction of predictions equal to the truth. */
export { accuracy } from './models/metrics.js';
/** Counts of (truth, predicted) class pairs. */
export { confusionMatrix } from './models/metrics.js';
/** What confusionMatrix returns: the classes and the count matrix. */
export type { ConfusionMatrix } from './models/metrics.js';
/** F1 score: binary, or the macro or weighted mean over classes (as scikit-learn's f1_score). */
export { f1Score } from './models/metrics.js';
/** Mean of squared errors. */
export { meanSquaredError } from './models/metrics.js';
/** Coefficient of determination R². */
export { r2Score } from './models/metrics.js';
/** Explained variance score. */
export { explainedVarianceScore } from './models/metrics.js';

// ─── AutoML: tuning and cross-validation ────────────────────────────────────────────────────────

/**
 * Search a model's options by cross-validation (grid, random, TPE, successive halving, ASHA, HyperBand),
 * trials run `concurrency` at a time, each fold's fit with `fit` as its FitOptions; failed trials kept.
 * @example const study = await tune(train, { model: 'mlp', space: { lr: { type: 'log-uniform', low: 1e-4, high: 0.1 } }, searcher: 'asha', resource: { kind: 'epochs', min: 1, max: 27 }, cv: 5 });
 */
export { tune } from './automl/tune.js';
/** Options of tune: model, space, searcher, trials, cv, stratified, metric, pipeline, concurrency, fit, resource, objectives, seed. */
export type { TuneOptions } from './automl/tune.js';
/** What tune returns: every trial, the best, the Pareto front, the budget spent. */
export type { TuneResult } from './automl/tune.js';
/** One trial of a study: its options, budget, fold scores, fit seconds, or its error. */
export type { TrialRecord } from './automl/study.js';
/**
 * Fit a pipeline and model on all training rows and score held-out rows (a tuned configuration against the defaults).
 * @example const { score } = await heldOutScore(train, test, { model: 'mlp', params: study.best!.params });
 */
export { heldOutScore } from './automl/tune.js';
/**
 * Cross-validated score of one configuration (scikit-learn's cross_val_score), the pipeline fitted inside each fold.
 * @example const { scores, mean } = await crossValidate(data, { model: 'logistic-regression', folds: { k: 5, stratified: true }, pipeline: parsePipeline('standardize') });
 */
export { crossValidate } from './automl/cross-validate.js';
/** Options of crossValidate: model, params, folds, pipeline, metric, fit. */
export type { CrossValidateOptions } from './automl/cross-validate.js';
/** What crossValidate returns: per-fold scores, mean, standard deviation, fit seconds. */
export type { CrossValidation } from './automl/cross-validate.js';
/** k consecutive folds (scikit-learn's KFold), shuffled by a seed if asked. */
export { kFold } from './automl/folds.js';
/** Folds that hold each class in proportion (scikit-learn's StratifiedKFold). */
export { stratifiedKFold } from './automl/folds.js';
/** One fold: the row indices trained on and tested on. */
export type { Fold } from './automl/folds.js';
/**
 * A search space from JSON (uniform, log-uniform, int, choice, fixed; `when` for conditional options), errors naming the field.
 * @example const space = parseSpace({ l2: { type: 'log-uniform', low: 1e-5, high: 1 } });
 */
export { parseSpace } from './automl/space.js';
/** A parsed search space. */
export type { SearchSpace } from './automl/space.js';
/**
 * Preprocessing steps from text or JSON: standardize, minmax, one-hot, variance, kbest (f, chi2, mutual-info), l1.
 * @example parsePipeline('standardize,kbest:f:5');
 */
export { parsePipeline } from './automl/pipeline.js';
/** One preprocessing step. */
export type { PipelineStep } from './automl/pipeline.js';

// ─── Saving and loading models ──────────────────────────────────────────────────────────────────

/**
 * Write a fitted model (name tag, options, learned state, and optionally its preprocessing) to a JSON file.
 * @example await saveModel(model, 'model.json');
 */
export { saveModel } from './models/persist.js';
/**
 * Read a model written by saveModel; the name tag is checked (and against `expected`, when given).
 * @example const model = await loadModel('model.json', 'kmeans');
 */
export { loadModel } from './models/persist.js';
/** Read a saved model together with the preprocessing it was saved with. */
export { loadSavedModel } from './models/persist.js';
/** What loadSavedModel returns: the model and its preprocessing. */
export type { SavedModel } from './models/persist.js';
/** A fitted model as the JSON text saveModel writes. */
export { serializeModel } from './models/persist.js';
/** A model from the text serializeModel produced. */
export { deserializeModel } from './models/persist.js';

// ─── Your own models and strategies ─────────────────────────────────────────────────────────────

/**
 * The base class of every model: store options in the constructor, write one SPMD `train(shard, context)`,
 * `predict` and `score`; `fit`, `state` and saving come with it.
 * @example
 * class MeanModel extends Estimator<{ scale: number }, { mean: number }> {
 *   readonly name = 'mean'; readonly kind = 'regressor';
 *   constructor(params: Partial<{ scale: number }> = {}) { super(resolveParams('mean', { scale: 1 }, params)); }
 *   async train(shard: Dataset, { comm }: TrainContext) {
 *     const sums = Float64Array.of(shard.labels().reduce((a, b) => a + b, 0), shard.rows);
 *     await comm.allReduce(sums);
 *     return { mean: (this.params.scale * sums[0]!) / sums[1]! };
 *   }
 *   predict(data: Dataset) { return new Float64Array(data.rows).fill(this.state.mean); }
 *   score(data: Dataset) { return r2Score(data.labels(), this.predict(data)); }
 * }
 */
export { Estimator } from './models/estimator.js';
/** Merge given options over defaults once, refusing unknown keys with a ConfigError (for Estimator constructors). */
export { resolveParams } from './models/estimator.js';
/**
 * Register a model by name, so `createModel`, the CLI, `compare`, `loadModel` and every worker can build it
 * (workers of threads/processes import the registering module through FitOptions.workerModules).
 * @example registerModel({ name: 'mean', kind: 'regressor', summary: 'predicts the mean', create: (p) => new MeanModel(p) });
 */
export { registerModel } from './models/registry.js';
/** What registerModel takes: name, kind, a one-line summary, a factory from options. */
export type { ModelEntry } from './models/registry.js';
/** What a trainer gets besides its shard: the Communicator, the gradient strategy, the pipeline options, a progress reporter. */
export type { TrainContext } from './models/context.js';
/** Every rank's rows where a rank can read them at no cost (threads): TrainContext.shared. */
export type { SharedRows } from './models/context.js';
/**
 * Σ of a per-row quantity over every rank's rows, the same array on every rank: shared out among
 * threads by chunk (a slow core takes fewer), elsewhere the local pass plus one all-reduce.
 * @example
 * const sums = await sumOverRows(context, shard, 2, (data, start, count, out) => {
 *   const y = data.labels();
 *   for (let i = start; i < start + count; i++) { out[0]! += y[i]!; out[1]! += 1; }
 * });
 */
export { sumOverRows } from './models/row-sums.js';
/** One chunk of a row pass: add the terms of rows start … start + count − 1 of data into out. */
export type { RowAccumulator } from './models/context.js';
/**
 * One worker's link to the others: rank, size, allReduce, broadcast, send/recv, barrier, stats — the
 * same on every paradigm, so a trainer never knows which transport it runs on.
 */
export type { Communicator } from './comm/communicator.js';
/** A point-to-point message: a tag, typed arrays and/or a JSON-able value. */
export type { Message } from './comm/communicator.js';
/** 'sum' | 'max' | 'min'. */
export type { ReduceOp } from './comm/communicator.js';
/** How workers combine gradients of mini-batch SGD: setup, step, finish over flat vectors. */
export type { GradientStrategy } from './strategies/strategy.js';
/** A model's update rule, `apply(params, meanGradient)`, which a strategy runs when and where it decides. */
export type { ApplyUpdate } from './strategies/strategy.js';
/**
 * Register a gradient strategy by name (also its `--strategy` value); registering a name twice throws.
 * @example registerStrategy('my-allreduce', ({ comm }) => new MyAllReduce(comm));
 */
export { registerStrategy } from './strategies/index.js';
/** What a strategy factory is given (the communicator; shared parameters where the paradigm has them). */
export type { StrategyEnvironment, StrategyFactory } from './strategies/index.js';
/** The registered strategy names (parametric families as their pattern, e.g. 'ps-ssp:<s>'). */
export { strategyNames } from './strategies/index.js';
/**
 * Register a federated aggregator by name (its `--aggregator` value): a factory that parses the spec's
 * arguments and returns the server rule and what clients compute; registering a name twice throws.
 * @example registerAggregator('mean', 'mean', () => ({ aggregator: new MyMean(), client: { kind: 'local-sgd', proximalMu: 0 } }));
 */
export { registerAggregator } from './federated/aggregators.js';
/** The registered aggregators' specs ('fedavg', 'fedprox:<μ>', …). */
export { aggregatorUsages } from './federated/aggregators.js';
/** A federated server rule over the round's client updates, and one client's update (delta, weight). */
export type { Aggregator, ClientUpdate } from './federated/aggregator.js';
/** What registerAggregator takes and builds: the factory, the rule with its clients' rule. */
export type { AggregatorFactory, AggregatorChoice, ClientRule } from './federated/aggregators.js';
/**
 * A gradient codec by its `--compression` name (fp16, topk:0.01, powersgd:4, …): encode/decode on flat vectors.
 * @example const codec = createCodec('topk:0.01'); const state = codec.createState(n, { seed: 1 });
 */
export { createCodec } from './comm/codecs/index.js';
/** Register a codec family by name pattern; registering a name twice throws. */
export { registerCodec } from './comm/codecs/index.js';
/** Each registered codec's name pattern with a one-line description. */
export { codecUsages } from './comm/codecs/index.js';
/** A codec, its per-tensor state (error feedback, warm-started factors), its layout on the wire, its factory. */
export type { Codec, CodecState, CodecLayout, CodecFactory } from './comm/codecs/index.js';
/** FitOptions.compression resolved: the codec and its warm-up epochs, as a strategy receives it. */
export type { CompressionOptions } from './strategies/index.js';
/**
 * The neural-network engine: layers, losses, optimizers, Network — for networks the three neural models do not cover.
 * @example const net = new nn.Network([{ type: 'dense', units: 10 }], [784], 'float32');
 */
export * as nn from './nn/index.js';
/**
 * The seeded random number generator every random choice goes through.
 * @example const rng = new Rng(42); rng.uniform(); rng.fork(1).normal();
 */
export { Rng } from './core/rng.js';

// ─── Kernels ────────────────────────────────────────────────────────────────────────────────────

/** This thread's kernel backend (gemm, syrk, dot, axpy, … on typed arrays). */
export { kernels } from './core/kernels.js';
/**
 * Switch this thread's kernel backend by name ('wasm' or 'ts').
 * @example useKernels('ts');
 */
export { useKernels } from './core/kernels.js';
/** The registered kernel backends, the default first. */
export { kernelBackends } from './core/kernels.js';
/** Allocate arrays placed 'shared' from then on inside the WASM memory, so kernels read them without a copy. */
export { placeSharedArraysInWasmMemory } from './core/kernels-wasm.js';
/**
 * A float32 or float64 array on the heap or in shared memory.
 * @example const x = allocate('float64', rows * cols, 'shared');
 */
export { allocate } from './core/storage.js';

// ─── Comparing paradigms, advice ────────────────────────────────────────────────────────────────

/**
 * Run a comparison matrix, store every run in DuckDB, summarise, write the HTML report (`shardlearn compare`).
 * @example const outcome = await runCompare(defaultMatrix(), { dbPath: 'results.duckdb', reportPath: 'report.html' });
 */
export { runCompare } from './compare/compare.js';
/** Options of runCompare (results file, report file, data loader, progress events, abort signal). */
export type { CompareOptions, CompareOutcome } from './compare/compare.js';
/** The built-in matrix `shardlearn compare` runs without a matrix file. */
export { defaultMatrix } from './compare/matrix.js';
/** A matrix from its JSON form, each bad field a ConfigError naming it. */
export { parseMatrix } from './compare/matrix.js';
/** A matrix from a JSON file (errors name the file). */
export { loadMatrixFile } from './compare/matrix-file.js';
/** An experiment matrix: models × data × paradigms × workers × strategies × networks × repeats. */
export type { Matrix, ModelSpec } from './compare/matrix.js';
/** One stored run of a comparison (its cell, timings, communication, score). */
export type { RunRecord } from './compare/record.js';
/** Stored runs of a results file, filtered (`shardlearn runs`). */
export { listRuns } from './compare/store.js';
/** Stored runs as CSV or JSON text. */
export { exportRuns } from './compare/store.js';
/** What listRuns and exportRuns filter on; a stored run with its session. */
export type { RunFilter, StoredRun } from './compare/store.js';
/** Re-render the HTML report of a stored session (`shardlearn report`). */
export { reportFromStore } from './compare/compare.js';
/**
 * Predict the fastest paradigm and worker count for a model and data size, with the reasoning (`shardlearn advise`).
 * @example advise({ model: 'kmeans', rows: 1e6, cols: 20 }).best.label;
 */
export { advise } from './compare/advisor.js';
/** Fit the advisor's cost model to stored runs of this machine (pass it as AdviseRequest.calibration). */
export { calibrateFromRuns } from './compare/advisor.js';
/** advise's request and answer. */
export type { AdviseRequest, Advice, AdviceOption } from './compare/advisor.js';

// ─── Errors ─────────────────────────────────────────────────────────────────────────────────────

/** The base of every shardlearn error: a stable `code` and a `cause`. */
export { ShardlearnError } from './core/errors.js';
/** The stable error codes. */
export type { ErrorCode } from './core/errors.js';
/** A bad option, name or combination; `field` names it. The CLI exits 2. */
export { ConfigError } from './core/errors.js';
/** Bad or missing data; names the file, row and column at fault. The CLI exits 3. */
export { DataError } from './core/errors.js';
/** predict/score/state before fit or load. */
export { NotFittedError } from './core/errors.js';
/** A lost, silent or misbehaving peer (recoverable: rerun), naming the rank or host. */
export { CommError } from './core/errors.js';
/** A worker failed; carries the rank and the worker's own error as `cause`. */
export { WorkerError } from './core/errors.js';
/** An address that does not resolve or cannot be listened on (MASTER_ADDR, SHARDLEARN_HOST), naming the host and port. The CLI exits 4. */
export { NetworkError } from './core/errors.js';
/** The rendezvous store (etcd) failed or no world was agreed in time, naming the endpoint and the call. The CLI exits 4. */
export { RendezvousError } from './core/errors.js';
/** A file that cannot be read or written (permissions, a folder, a full disk), naming the path. The CLI exits 5. */
export { FileError } from './core/errors.js';
/** A saved model file that fails its checks, naming the file and the field. The CLI exits 3. */
export { ModelFormatError } from './models/state-schema.js';
/** A checkpoint file that is corrupt, truncated, of another format version, or of another model or hyperparameters, naming it. The CLI exits 3. */
export { CheckpointError } from './core/checkpoint.js';
