/**
 * `shardlearn --help` and `shardlearn <command> --help`: the overview, and each command's flags.
 * `train <model> --help` and `advise --model <name> --help` also list that model's options with their
 * defaults (read from the model itself, so the list cannot fall behind it).
 */
import { createModel, modelNames } from '../models/index.js';
import { kebabCase } from './args.js';

interface CommandHelp {
  usage: string;
  summary: string;
  flags: [flag: string, meaning: string][];
}

const DATA_FLAGS: CommandHelp['flags'] = [
  [
    '--data <spec>',
    'a file (.csv .tsv .txt .libsvm .svm .parquet, IDX), builtin:mnist, builtin:fashion-mnist, or synthetic:<kind>?rows=…&cols=…&seed=…',
  ],
  ['--target <col>', 'the label column: a plain whole number (0, -1) is a 0-based index, anything else (y, 007) a name'],
  ['--delimiter <c>', "the CSV field separator ('tab' for a tab); default: guessed"],
  ['--header true|false|auto', 'whether the first line names the columns (default auto)'],
  ['--missing error|drop|mean|zero', 'what to do with empty cells (default error)'],
  ['--dtype float32|float64', 'the feature storage type'],
  [
    '--max-record-bytes N',
    'longest record (line) read from a CSV or LibSVM file, in bytes (default 67108864); a longer one is an error naming it',
  ],
];

/** Options of the reinforcement-learning agents (q-learning, dqn): no --data, they learn from an environment. */
const AGENT_FLAGS: CommandHelp['flags'] = [
  ['--env <name>', 'agents: the environment, frozenlake-4x4, frozenlake-8x8, cliffwalking or cartpole (no --data)'],
  ['--slippery', 'agents: slippery FrozenLake (slip to either side with probability 1/3 each)'],
  ['--episodes N', 'q-learning: training episodes of all actors together (default 10000)'],
  ['--steps N', 'dqn: environment steps of all actors together (default 100000)'],
  ['--seed N', 'agents: seed of the environments, exploration and initial weights (default 0)'],
  ['--eval-episodes N', 'agents: greedy episodes the reported evalReturn averages over (default 100)'],
  ['--actors sync|async', 'dqn: lockstep rounds (deterministic), or Ape-X actors streaming to a rank-0 learner'],
  ['--hidden 64,64', 'dqn: hidden layer widths'],
  ['--scale-train-every', 'dqn: train-every × actors, so more actors add data, not learner work (Ape-X pace)'],
];

/** The federated paradigm's flags of train (cli/federated-flags.ts). */
const FEDERATED_HELP: CommandHelp['flags'] = [
  ['--clients N', 'federated: clients, each holding one partition of the training rows (default 10)'],
  ['--fraction F', 'federated: share of the clients sampled per round (default 0.1)'],
  ['--min-clients N', 'federated: fewest clients per round (default 1)'],
  ['--rounds N', 'federated: server rounds (default 10)'],
  ['--local-epochs E', "federated: each client's epochs per round (default 1)"],
  ['--local-batch B', "federated: each client's mini-batch size (default the model's batch-size)"],
  [
    '--partition iid|dirichlet:<α>|shards:<n>|contiguous',
    'federated: how rows are dealt to clients (default iid; seeded; contiguous: runs of consecutive rows, as cross-silo hosts split their own)',
  ],
  [
    '--aggregator <rule>',
    'federated: fedavg (default), fedsgd[:<lr>], fedprox:<μ>, fedavgm[:<β>[:<lr>]], fedadam[:<lr>[:<τ>]]; Byzantine-robust median, trimmed-mean:<β>, krum:<f>, multi-krum:<f>:<m>',
  ],
  [
    '--dropout P',
    "federated: probability a sampled client drops out of a round (seeded); the model's dropout layer is --layer-dropout then",
  ],
  ['--stragglers <fraction>:<ms>', 'federated: that share of sampled clients answer that much later (seeded)'],
  ['--deadline-ms N', 'federated: updates later than this are dropped and the round completes (default --timeout-ms)'],
  ['--byzantine <fraction>:scale:<k>|<fraction>:nan', 'federated: that share of clients send corrupted updates (robustness tests)'],
  [
    '--secure-aggregation',
    "federated: Bonawitz et al.'s secure aggregation: the server steps from the sum of masked updates only (fedavg/fedprox, synchronous rounds)",
  ],
  [
    '--client-error-feedback on|off',
    "federated --compression: each client keeps its biased codec's residual between its rounds (default on; float32, sampled clients only)",
  ],
  ['--dp-clip C', 'federated: differential privacy (DP-FedAvg): clip every client update to L2 norm C (with --dp-noise, --dp-delta)'],
  ['--dp-noise σ', 'federated DP: Gaussian noise std σ·C on the sum of the updates (the noise multiplier)'],
  ['--dp-delta δ', 'federated DP: the δ of the (ε, δ) the Rényi accountant reports per round and at the end'],
  ['--dp-mode client|server', 'federated DP: each client clips and adds its share of the noise (default), or the server does'],
  ['--async', 'federated: FedBuff-style asynchronous rounds, the server stepping every --buffer updates'],
  ['--buffer K', 'federated --async: updates per server step (default 10)'],
  [
    '--clients-on threads|processes|inline|hosts',
    'federated: simulated clients on worker threads (default), real client processes over ZeroMQ, the main thread, or client hosts on other machines (TCP + CURVE: this process is rank 0 of MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK; each host runs shardlearn federated-client)',
  ],
  [
    '--client-data server|hosts',
    "federated --clients-on hosts: 'server' (default, a simulation) partitions this process's data and sends each host its clients' rows; 'hosts' (cross-silo) has each host load its own (federated-client --data), so no row reaches the server: this process's --data only sets the columns and is what it evaluates on, and the clients are the hosts' (no --clients, no --partition)",
  ],
  ['--client-workers N', 'federated: threads or processes hosting the clients (default 2; --clients-on hosts: WORLD_SIZE − 1)'],
  ['--federated-seed N', 'federated: seed of the partition, sampling, dropouts, stragglers, Byzantine clients (default 0)'],
  ['--target-score S', 'federated: score the global model each round on the evaluation rows; report the first round reaching S'],
  ['--eval-every N', 'federated: score the global model every N rounds (default 1 with --target-score)'],
  ['--stop-at-target', 'federated: stop once --target-score is reached'],
  ['--layer-dropout R', "federated: the neural model's dropout rate (its --dropout elsewhere)"],
];

const COMMON: CommandHelp['flags'] = [
  ['--quiet', 'print no progress or summary lines (errors and --json output still print)'],
  ['--help', 'this help'],
];

export const COMMANDS: Record<string, CommandHelp> = {
  train: {
    usage:
      'shardlearn train <model> --data <spec> [options] [model options]  |  train q-learning|dqn --env <name> [options] [agent options]',
    summary: 'train one model, evaluate it, optionally save it',
    flags: [
      ...DATA_FLAGS,
      ['--paradigm sequential|threads|processes|cluster|federated', 'where the workers run (default sequential)'],
      ['--workers N', 'number of workers'],
      [
        '--strategy <name>',
        'how workers combine updates: allreduce, hogwild, ps-sync, ps-async, ps-ssp:<s>; ps-sync:backup=<b> (rounds take the first N−b gradients), ps-sync:deadline=<ms>[,min=<m>]',
      ],
      [
        '--compression <codec>',
        "compress gradients: none, fp16, bf16, topk:<ratio>, topk16:<ratio>, randomk:<ratio>, qsgd:<levels>, terngrad, signsgd, powersgd:<rank> (allreduce and ps-* strategies; federated: the clients' uploads)",
      ],
      [
        '--compression-warmup E',
        'epochs of warm-up (dense codecs uncompressed, top-k/random-k DGC density schedule); may be a fraction (default 0)',
      ],
      ['--bucket-bytes B', 'all-reduce (and compress) the gradient in buckets of at most B bytes along tensor boundaries (tensor fusion)'],
      [
        '--pipeline [<m>][:gpipe|1f1b][:replicas=<r>]',
        'train a neural model as a pipeline of stages (bare --pipeline: 4 micro-batches, GPipe, 1 replica)',
      ],
      [
        '--checkpoint-dir <dir>',
        'write checkpoints of an SGD-trained model here (synchronous strategies; rank 0 writes the model, each rank its strategy and codec state; atomically)',
      ],
      ['--checkpoint-every <N>steps|<N>s', 'a checkpoint every N updates or every N seconds (default: at the end of each epoch)'],
      ['--keep N', 'keep the newest N checkpoints (default 3; 0 keeps all)'],
      ['--resume', 'continue from the newest valid checkpoint in --checkpoint-dir (corrupt ones are skipped with a warning)'],
      ['--timeout-ms N', 'give up on a silent worker or peer after N ms'],
      [
        '--min-workers N',
        "processes/cluster (allreduce, ps-sync, ps-async): on a lost rank the survivors re-form and go on while at least N remain (torchrun --nnodes MIN:MAX; with --rdzv-backend etcd also the world's smallest size)",
      ],
      [
        '--max-workers N',
        'the largest world size: a replacement (processes, launch), a rank registered in etcd, or a cluster rank started with SHARDLEARN_JOIN=1 (static rendezvous: it announces itself to the original rank 0 on SHARDLEARN_JOIN_PORT, default MASTER_PORT + 1000) joins the running fit at the next epoch boundary while the world is smaller (default --workers)',
      ],
      [
        '--max-restarts N',
        'lost ranks survived (processes, cluster: the survivors re-form; processes and shardlearn launch also start a replacement) or restarts from the checkpoint (threads); default 3 with --min-workers below --workers, else 0',
      ],
      [
        '--straggler-warning S',
        'processes/cluster: warn, naming the rank, when a collective has waited S seconds on it (default 60; 0: never)',
      ],
      [
        '--secret-file <path>',
        'cluster, federated --clients-on hosts: read the job secret from this file (mode 600 or stricter), instead of SHARDLEARN_SECRET',
      ],
      [
        '--insecure-transport',
        'cluster on an isolated network only: plain TCP without CURVE encryption (hellos still prove the job secret); every rank must pass it; recorded as transport zmq-plain-tcp (lane-tcp-plain with --collective-lane)',
      ],
      [
        '--collective-lane',
        'cluster: the collectives on their own TCP lane beside ZeroMQ, every record sealed with AES-256-GCM (plain with --insecure-transport); every rank must pass it (or set SHARDLEARN_COLLECTIVE_LANE=1); recorded as transport lane-tcp-aesgcm',
      ],
      [
        '--rdzv-backend static|etcd',
        'cluster: how a rank learns its world: static (default) from MASTER_ADDR/WORLD_SIZE/RANK, Slurm (srun) or JOB_COMPLETION_INDEX; etcd: registered with a lease, a new generation on every membership change',
      ],
      ['--rdzv-endpoint <host:port>', 'cluster with --rdzv-backend etcd: the etcd client endpoint (e.g. 10.0.0.5:2379)'],
      ['--rdzv-id <job>', 'cluster with --rdzv-backend etcd: the job the ranks share (default SHARDLEARN_JOB_ID, or slurm-<SLURM_JOB_ID>)'],
      [
        '--rdzv-workers N|MIN:MAX',
        "refused: the etcd world's size is --workers N, or its bounds --min-workers MIN --max-workers MAX (one setting with the restart policy)",
      ],
      ...FEDERATED_HELP,
      ['--eval test|train', 'metrics on the held-out split (default) or on the training rows'],
      ['--test-fraction F', 'held-out fraction (default 0.2)'],
      ['--split-seed N', 'seed of the held-out split (default 0)'],
      ['--standardize | --minmax', 'scale features (fitted on the training rows, saved with the model)'],
      ['--out <file>', 'save the fitted model (written atomically; an existing file is replaced)'],
      [
        '--json',
        'print one JSON object (model, paradigm, workers, strategy, pipeline, seconds, loadSeconds, trainSamples, evalSamples, eval, metrics, comm, transport; federated: rounds, roundsToTarget, bytesUp, bytesDown, epsilon, delta, dropped; faults; ps-sync backup/deadline: rounds)',
      ],
      ['--<option> <value>', "any model option in kebab-case (--k 3, --max-iter 20); 'shardlearn train <model> --help' lists them"],
      ...AGENT_FLAGS,
    ],
  },
  tune: {
    usage: 'shardlearn tune <model> --data <spec> --space space.json [options] [fixed model options]',
    summary:
      'search hyperparameters by cross-validation (trials run concurrently), then refit the best and the defaults and score both on held-out rows',
    flags: [
      ...DATA_FLAGS,
      ['--space <file>', 'the search space (JSON): uniform, log-uniform, int, choice, fixed values, conditions (docs/automl.md)'],
      ['--searcher grid|random|tpe|sha|asha|hyperband', 'how trials are chosen (default random)'],
      ['--trials N', 'trials to run (random, tpe; a budget for the others)'],
      ['--cv K', 'folds of the cross-validation (default 5)'],
      ['--stratified', 'stratified folds (classifiers)'],
      ['--shuffle', 'shuffle rows before cutting folds (seeded)'],
      ['--metric accuracy|f1|r2|neg-mse', 'the score to maximise'],
      [
        '--preprocess <steps>',
        'pipeline fitted inside each fold: standardize, minmax, onehot, variance:<t>, kbest:<f|chi2|mi>:<k>, l1:<alpha>',
      ],
      ['--standardize | --minmax', 'shorthand for an in-fold scaling step'],
      ['--resource <kind>:<min>:<max>', 'the budget early-stopping searchers grow: epochs, maxIter or rows'],
      ['--eta N', 'reduction factor of sha, asha and hyperband (default 3)'],
      ['--objectives score,fitSeconds', 'a second objective: the study reports the Pareto front'],
      ['--concurrency W', 'trials run at the same time (without --paradigm, each fit then runs on one worker thread)'],
      ['--paradigm, --workers, --strategy, --pipeline, --timeout-ms', 'how each trial fits (as for train)'],
      ['--eval test|train', 'held-out scoring of the refitted best (as for train)'],
      ['--test-fraction F', 'held-out fraction (default 0.2)'],
      ['--split-seed N', 'seed of the held-out split (default 0)'],
      ['--seed N', 'seed of the searcher and of shuffled folds'],
      ['--study <name>', 'store every trial in the runs database and resume a study of that name'],
      ['--db <file>', 'the runs database of --study (default shardlearn-results/results.duckdb)'],
      ['--report <file>', 'write the study page: trial curves, parallel coordinates, Pareto front'],
      ['--json', 'print one JSON object: best, trials, pareto, held-out scores of the best and of the defaults'],
    ],
  },
  predict: {
    usage:
      'shardlearn predict --model model.json --data <spec> [--out predictions.csv] [--json]  |  predict --model policy.json [--episodes N] [--seed N] [--json]',
    summary: 'apply a saved model (and its saved preprocessing) to new rows',
    flags: [
      ['--model <file>', 'a file written by train --out'],
      ...DATA_FLAGS,
      ['--out <file>', 'write one prediction per line (written atomically)'],
      ['--json', 'print one JSON object (model, rows, metrics, out)'],
      ['--episodes N', "a saved agent (no --data): greedy evaluation episodes (default the policy's evalEpisodes)"],
      ['--seed N', 'a saved agent: seed of the first evaluation episode (episode i uses seed + i)'],
    ],
  },
  compare: {
    usage: 'shardlearn compare [--quick] [--matrix m.json] [flags]',
    summary: 'run the same training in every paradigm, store the runs, write a report',
    flags: [
      ['--quick', 'one repeat, 20000 rows (less for the neural models), 2 workers'],
      ['--resume', 'continue the latest comparison in --db: its matrix, skipping the runs it stored'],
      ['--matrix <file>', 'the experiment matrix as JSON (docs/compare.md)'],
      ['--models a,b', 'models to compare'],
      ['--data a,b', 'data specs to compare on'],
      ['--paradigms a,b', 'paradigms to compare'],
      ['--workers 1,2', 'worker counts'],
      ['--strategies a,b', 'strategies (allreduce, hogwild, …)'],
      ['--networks a,b', 'network profiles: loopback, wan:5ms:100mbit, lan:tbf:1000mbit'],
      ['--compression a,b', 'gradient codecs, each a cell of its own: none, topk16:0.01, powersgd:2, …'],
      ['--federated-aggregators a,b', "federated cells' server rules: fedavg, fedsgd:0.5, … (replaces every federated set's list)"],
      ['--federated-partitions a,b', "federated cells' partitions: iid, dirichlet:0.5, shards:2, …"],
      ['--federated-clients a,b', "federated cells' client counts"],
      ['--federated-local-epochs a,b', "federated cells' local epochs per round"],
      ['--federated-target X', "federated cells' target test score (rounds and bytes are counted to it)"],
      [
        '--faults kill,stop',
        'inject one fault per run (SIGKILL or SIGSTOP of one rank) into processes/cluster cells of ≥ 2 workers, beside an undisturbed twin',
      ],
      ['--repeats N', 'repeats per cell'],
      ['--rows N', 'rows of the synthetic data'],
      ['--target-loss X', 'record the time to reach this training loss'],
      ['--target-score X', 'record whether the test score reaches X'],
      ['--db <file>', 'the results database (created or appended to; default shardlearn-results/results.duckdb)'],
      ['--report <file>', 'the HTML report (default shardlearn-results/report.html)'],
      ['--json', 'print one JSON object (db, report, summary, tuning, federated)'],
    ],
  },
  runs: {
    usage: 'shardlearn runs [--db file] [--format table|csv|json|parquet] [--out file]',
    summary: 'list or export the stored comparison runs',
    flags: [
      ['--db <file>', 'an existing results database (default shardlearn-results/results.duckdb)'],
      ['--format table|csv|json|parquet', 'a table (default), or an export (parquet needs --out)'],
      ['--out <file>', 'write the listing or export to a file (atomically) instead of stdout'],
      ['--model <name>', 'only this model'],
      ['--paradigm <name>', 'only this paradigm'],
      ['--session <id>', 'only this session'],
      ['--limit N', 'only the last N runs'],
    ],
  },
  report: {
    usage: 'shardlearn report [--db file] [--report file] [--session id]',
    summary: "re-render a stored comparison's HTML report",
    flags: [
      ['--db <file>', 'an existing results database (default shardlearn-results/results.duckdb)'],
      ['--report <file>', 'where to write the report (atomically; default shardlearn-results/report.html)'],
      ['--session <id>', 'which comparison (default the latest)'],
    ],
  },
  advise: {
    usage: 'shardlearn advise --model <name> --rows N --cols D [flags] [model options]',
    summary: 'predict the fastest paradigm and worker count, with its reasoning; says when the runner-up is too close to call',
    flags: [
      ['--model <name>', 'the model to train'],
      ['--rows N', 'training rows'],
      ['--cols D', 'feature columns'],
      ['--workers 2,4,8', 'worker counts to consider'],
      ['--paradigms a,b', 'paradigms to consider'],
      ['--strategies a,b', 'strategies to consider'],
      ['--cores N', 'cores per host (default this machine)'],
      ['--bandwidth 1Gbit', 'network bandwidth between hosts'],
      ['--latency-ms X', 'one-way latency per hop'],
      ['--db <file>', 'calibrate on the runs of this results database (3+ repeats also give the run-to-run spread)'],
      ['--session <id>', "calibrate on this session's runs only"],
      ['--json', 'print the advice as one JSON object'],
      ['--<option> <value>', 'model options that change the work (--k 8, --solver sgd)'],
    ],
  },
  launch: {
    usage: 'shardlearn launch --workers N [--master-port P] [--secret-file F] -- <command> …',
    summary: 'start N local ranks of a cluster job (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK set)',
    flags: [
      ['--workers N', 'number of ranks (default 2)'],
      ['--master-port P', "rank 0's port (default a free one)"],
      ['--secret-file <path>', 'the job secret (mode 600 or stricter); default SHARDLEARN_SECRET, else a fresh one'],
      [
        '-- <command> …',
        "the ranks' command, e.g. train kmeans --data x.csv --paradigm cluster; when a rank dies launch stops the others and exits with its code, unless the command's --min-workers/--max-restarts let the survivors re-form; then launch also starts a replacement (SHARDLEARN_JOIN=1, within the command's --max-restarts, below its --max-workers) that joins at the next epoch boundary",
      ],
    ],
  },
  'federated-client': {
    usage:
      'shardlearn federated-client --master <host:port> --world-size N --rank R [--secret-file F] [--job-id J] [--data <spec> [--clients-per-host K]]',
    summary: 'serve as a federated client host of a server started with train … --paradigm federated --clients-on hosts',
    flags: [
      [
        '--data <spec>',
        "cross-silo (server started with --client-data hosts): this host's own data, loaded here and never sent (same spec as train: a file, builtin:…, synthetic:…; a source's training part); the server learns only its column count, label names and values, and each client's row count",
      ],
      [
        '--clients-per-host K',
        "with --data: split this host's rows into K clients, contiguous runs in file order (default 1: the host is one client, as a Flower cross-silo client)",
      ],
      ['--target <col>', 'with --data: the label column (name or 0-based index; as train)'],
      ['--delimiter <c>', 'with --data: the CSV delimiter (as train)'],
      ['--header true|false|auto', 'with --data: whether the CSV has a header row (as train)'],
      ['--missing error|drop|mean|zero', 'with --data: missing values (as train)'],
      ['--dtype float32|float64', 'with --data: storage precision (as train)'],
      ['--max-record-bytes N', 'with --data: longest CSV record (as train)'],
      ['--master <host:port>', "the server's address (default MASTER_ADDR:MASTER_PORT)"],
      ['--world-size N', 'the server and its client hosts (default WORLD_SIZE)'],
      ['--rank R', "this host's rank, 1..N−1 (default RANK)"],
      ['--secret-file <path>', "the job secret (mode 600 or stricter), the server's; default SHARDLEARN_SECRET"],
      ['--job-id J', "the server's job id (default SHARDLEARN_JOB_ID, else the master address)"],
      ['--timeout-ms N', 'longest wait for the server (default 120000)'],
    ],
  },
  info: {
    usage: 'shardlearn info [--json]',
    summary: 'models, paradigms, strategies, kernel backends and this machine',
    flags: [['--json', 'print it as one JSON object']],
  },
};

export function commandNames(): string[] {
  return Object.keys(COMMANDS);
}

function flagLines(flags: CommandHelp['flags']): string[] {
  const width = Math.max(...flags.map(([flag]) => flag.length));
  return flags.map(([flag, meaning]) => `  ${flag.padEnd(width)}  ${meaning}`);
}

/** The top-level usage: every command with its summary. */
export function overview(): string {
  const width = Math.max(...commandNames().map((c) => c.length));
  return [
    'usage: shardlearn <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, help]) => `  ${name.padEnd(width)}  ${help.summary}`),
    '',
    'options of every command:',
    ...flagLines([...COMMON, ['--version', 'print the version']]),
    '',
    `models: ${modelNames().join(', ')}`,
    "Run 'shardlearn <command> --help' for a command's flags; the README documents every flag.",
  ].join('\n');
}

/** One command's help; with a model name, that model's options and defaults too. */
export function commandHelp(command: string, model?: string): string {
  const help = COMMANDS[command];
  if (help === undefined) return overview();
  const lines = [`usage: ${help.usage}`, '', help.summary, '', 'flags:', ...flagLines([...help.flags, ...COMMON])];
  if (model !== undefined && modelNames().includes(model)) {
    const defaults = createModel(model).params as Record<string, unknown>;
    lines.push(
      '',
      `${model} options (default):`,
      ...flagLines(Object.entries(defaults).map(([name, value]) => [`--${kebabCase(name)}`, JSON.stringify(value)])),
    );
  } else if (command === 'train' || command === 'advise') {
    lines.push('', `models: ${modelNames().join(', ')}`);
  }
  return lines.join('\n');
}
