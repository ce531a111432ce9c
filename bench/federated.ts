/**
 * Federated learning figures (issue 16), measured once, not by the tests:
 *
 * 1. Rounds to a target test accuracy, FedAvg against FedSGD (McMahan et al. 2017, Table 2: FedAvg
 *    needs far fewer rounds), on builtin:mnist with 100 clients, 10% per round, for IID and
 *    Dirichlet(0.5) and Dirichlet(0.1) partitions:
 *
 *      node dist/bench/federated.js rounds [--model mlp] [--hidden 200] [--target 0.95]
 *          [--partitions iid,dirichlet:0.5,dirichlet:0.1] [--aggregators fedavg,fedsgd:0.5]
 *          [--local-epochs 5] [--batch 10] [--lr 0.05] [--max-rounds fedavg=300,fedsgd=3000]
 *          [--eval-every fedavg=1,fedsgd=10] [--clients-on threads] [--client-workers 2]
 *          [--compression none,fp16,qsgd:4,topk16:0.01] [--client-error-feedback on|off]
 *
 *    With --compression, each partition × aggregator runs once per codec (the clients' uploads
 *    compressed, runtime/federated-upload.ts); the records add the codec and the upload bytes
 *    measured to the target round (bytesUpToTarget: the run stops there with --target).
 *
 * 2. Many simulated clients in one process: peak RSS (VmHWM) and rounds per second.
 *
 *      node dist/bench/federated.js scale [--clients 1000] [--fraction 0.01] [--rounds 20] [--clients-on threads]
 *
 * Each record (with the load average: the machine is shared) is appended to bench/results/federated.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createModel, loadData } from '../src/index.js';
import type { FederatedInfo, FederatedOptions } from '../src/federated/settings.js';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

/** 'fedavg=300,fedsgd=3000' → the value for `aggregator` (matched by the name before ':'), else `fallback`. */
function perAggregator(text: string | undefined, aggregator: string, fallback: number): number {
  for (const part of (text ?? '').split(',')) {
    const [name, value] = part.split('=');
    if (name === aggregator.split(':')[0] && value !== undefined) return Number(value);
  }
  return fallback;
}

const RESULTS = new URL('../../bench/results/federated.json', import.meta.url);

function save(record: Record<string, unknown>): void {
  const dir = new URL('.', RESULTS);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const records = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as unknown[]) : [];
  records.push(record);
  writeFileSync(RESULTS, `${JSON.stringify(records, null, 2)}\n`);
}

const environment = (): Record<string, unknown> => ({
  at: new Date().toISOString(),
  cores: cpus().length,
  loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
});

async function rounds(): Promise<void> {
  const { train, test } = await loadData('builtin:mnist');
  if (test === null) throw new Error('builtin:mnist has no test part');
  const target = Number(argument('target') ?? '0.95');
  const hidden = (argument('hidden') ?? '200').split(',').map(Number);
  const modelName = argument('model') ?? 'mlp';
  const partitions = (argument('partitions') ?? 'iid,dirichlet:0.5,dirichlet:0.1').split(',');
  const aggregators = (argument('aggregators') ?? 'fedavg,fedsgd:0.5').split(',');
  const localEpochs = Number(argument('local-epochs') ?? '5');
  const batch = Number(argument('batch') ?? '10');
  const lr = Number(argument('lr') ?? '0.05');
  const placement = (argument('clients-on') ?? 'threads') as NonNullable<FederatedOptions['placement']>;
  const workers = Number(argument('client-workers') ?? '2');
  const codecs = (argument('compression') ?? 'none').split(',');
  const clientErrorFeedback = (argument('client-error-feedback') ?? 'on') === 'on';
  const params =
    modelName === 'mlp'
      ? { hidden, optimizer: 'sgd', momentum: 0, lr, batchSize: batch, epochs: 1 }
      : { filters: [8, 16], dense: [64], optimizer: 'sgd', momentum: 0, lr, batchSize: batch, epochs: 1 };
  for (const partition of partitions) {
    for (const aggregator of aggregators)
      for (const compression of codecs) {
        const maxRounds = perAggregator(argument('max-rounds'), aggregator, aggregator.startsWith('fedsgd') ? 3000 : 300);
        const every = perAggregator(argument('eval-every'), aggregator, aggregator.startsWith('fedsgd') ? 10 : 1);
        const started = performance.now();
        const model = createModel(modelName, params);
        await model.fit(train, {
          paradigm: 'federated',
          ...(compression === 'none' ? {} : { compression }),
          federated: {
            clientErrorFeedback,
            clients: 100,
            fraction: 0.1,
            rounds: maxRounds,
            localEpochs,
            partition,
            aggregator,
            placement,
            workers,
            seed: 1,
            evaluation: { data: test, target, every, stopAtTarget: true },
            onRound: (report) => {
              if (report.score !== undefined && report.round % (every * 10) === 0)
                process.stderr.write(`${aggregator} ${partition} ${compression} round ${report.round}: ${report.score.toFixed(4)}\n`);
            },
          },
        });
        const info = model.fitInfo!.federated! as FederatedInfo;
        const scores = info.history.filter((round) => round.score !== undefined);
        const record = {
          figure: 'rounds-to-target',
          ...environment(),
          model: modelName,
          params,
          data: 'builtin:mnist',
          trainRows: train.rows,
          testRows: test.rows,
          clients: 100,
          fraction: 0.1,
          localEpochs: aggregator.startsWith('fedsgd') ? 1 : localEpochs,
          partition,
          aggregator,
          compression,
          clientErrorFeedback: info.compression?.errorFeedback ?? null,
          target,
          evalEvery: every,
          roundsToTarget: info.roundsToTarget,
          roundsRun: info.rounds,
          bestScore: Math.max(...scores.map((round) => round.score!)),
          finalScore: scores.at(-1)?.score ?? null,
          // The first round reaching each lower bar too, from the same run's curve.
          roundsTo: Object.fromEntries(
            [0.9, 0.93, 0.95, 0.97].map((bar) => [bar, scores.find((round) => round.score! >= bar)?.round ?? null]),
          ),
          curve: scores.map((round) => [round.round, Number(round.score!.toFixed(4))]),
          bytesUp: info.bytesUp,
          bytesDown: info.bytesDown,
          seconds: (performance.now() - started) / 1000,
          loadAverageAfter: loadavg().map((x) => Number(x.toFixed(2))),
        };
        save(record);
        console.log(JSON.stringify(record));
      }
  }
}

async function scale(): Promise<void> {
  const { train } = await loadData('builtin:mnist');
  const clients = Number(argument('clients') ?? '1000');
  const fraction = Number(argument('fraction') ?? '0.01');
  const roundCount = Number(argument('rounds') ?? '20');
  const placement = (argument('clients-on') ?? 'threads') as NonNullable<FederatedOptions['placement']>;
  const workers = Number(argument('client-workers') ?? '2');
  const before = process.memoryUsage().rss;
  const model = createModel('mlp', { hidden: [200], optimizer: 'sgd', momentum: 0, lr: 0.05, batchSize: 10, epochs: 1 });
  await model.fit(train, {
    paradigm: 'federated',
    federated: { clients, fraction, rounds: roundCount, localEpochs: 1, partition: 'dirichlet:0.5', placement, workers, seed: 1 },
  });
  const info = model.fitInfo!.federated! as FederatedInfo;
  const record = {
    figure: 'scale',
    ...environment(),
    model: 'mlp',
    hidden: [200],
    clients,
    clientsPerRound: info.clientsPerRound,
    placement,
    workers,
    rounds: info.rounds,
    roundsPerSecond: Number(info.roundsPerSecond.toFixed(3)),
    peakRssMiB: Number(((info.peakRssBytes ?? 0) / 2 ** 20).toFixed(1)),
    rssBeforeFitMiB: Number((before / 2 ** 20).toFixed(1)),
    seconds: model.fitInfo!.seconds,
    loadAverageAfter: loadavg().map((x) => Number(x.toFixed(2))),
  };
  save(record);
  console.log(JSON.stringify(record));
}

const command = process.argv[2];
if (command === 'rounds') await rounds();
else if (command === 'scale') await scale();
else {
  process.stderr.write('usage: node dist/bench/federated.js rounds|scale [flags] (see the file comment)\n');
  process.exit(2);
}
