/**
 * The federated paradigm's flags of `train` (--clients, --fraction, --rounds, --local-epochs,
 * --partition, --aggregator, --dropout, --byzantine, --async --buffer, …) as FitOptions.federated,
 * and the `federated` part of `train --json`. Given with another paradigm, they are an error, not a
 * no-op.
 *
 * `--dropout` is the clients' dropout probability here (the flag); the neural models'
 * dropout-layer rate, which `--dropout` sets under the other paradigms, is `--layer-dropout` then.
 */
import { ConfigError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { FitInfo, FitOptions, Paradigm } from '../models/paradigm.js';
import type { ParsedArgs } from './args.js';
import { takeNumber, takeString, takeSwitch } from './args.js';

type FederatedOptions = NonNullable<FitOptions['federated']>;
type FederatedInfo = NonNullable<FitInfo['federated']>;

/** Every flag this module reads (the help lists them; a flag given without --paradigm federated is refused). */
export const FEDERATED_FLAGS = [
  'clients',
  'fraction',
  'min-clients',
  'rounds',
  'local-epochs',
  'local-batch',
  'partition',
  'aggregator',
  'dropout',
  'stragglers',
  'deadline-ms',
  'byzantine',
  'async',
  'buffer',
  'clients-on',
  'client-data',
  'client-workers',
  'federated-seed',
  'target-score',
  'stop-at-target',
  'eval-every',
  'layer-dropout',
  'dp-clip',
  'dp-noise',
  'dp-delta',
  'dp-mode',
  'secure-aggregation',
  'client-error-feedback',
] as const;

const whole = (n: number): boolean => Number.isInteger(n) && n >= 1;

/**
 * FitOptions.federated from the flags, or undefined for another paradigm (whose federated flags are
 * refused). `evaluation` is what the server scores the global model on (the CLI's held-out rows).
 */
export function takeFederated(args: ParsedArgs, paradigm: Paradigm, evaluation: () => Dataset): FederatedOptions | undefined {
  if (paradigm !== 'federated') {
    const stray = FEDERATED_FLAGS.find((flag) => flag !== 'dropout' && args.flags.has(flag));
    if (stray !== undefined) throw new ConfigError(`--${stray} is a flag of --paradigm federated`, { field: stray });
    return undefined;
  }
  const options: FederatedOptions = {};
  const set = <K extends keyof FederatedOptions>(key: K, value: FederatedOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  set('clients', takeNumber(args, 'clients', whole, 'a whole number ≥ 1'));
  set(
    'fraction',
    takeNumber(args, 'fraction', (n) => n > 0 && n <= 1, 'a number in (0, 1]'),
  );
  set('minClients', takeNumber(args, 'min-clients', whole, 'a whole number ≥ 1'));
  set('rounds', takeNumber(args, 'rounds', whole, 'a whole number ≥ 1'));
  set('localEpochs', takeNumber(args, 'local-epochs', whole, 'a whole number ≥ 1'));
  set('localBatchSize', takeNumber(args, 'local-batch', whole, 'a whole number ≥ 1'));
  set('partition', takeString(args, 'partition'));
  set('aggregator', takeString(args, 'aggregator'));
  set(
    'dropout',
    takeNumber(args, 'dropout', (n) => n >= 0 && n < 1, 'a probability in [0, 1)'),
  );
  const stragglers = takeString(args, 'stragglers');
  if (stragglers !== undefined) {
    const [fraction, delayMs] = stragglers.split(':').map(Number);
    if (!(fraction! >= 0 && fraction! <= 1 && delayMs! >= 0))
      throw new ConfigError(`--stragglers expects <fraction>:<delay ms> (0.1:2000), got '${stragglers}'`, { field: 'stragglers' });
    options.stragglers = { fraction: fraction!, delayMs: delayMs! };
  }
  set(
    'deadlineMs',
    takeNumber(args, 'deadline-ms', (n) => n > 0, 'a positive number of milliseconds'),
  );
  set('byzantine', takeString(args, 'byzantine'));
  if (takeSwitch(args, 'async')) options.async = true;
  set('buffer', takeNumber(args, 'buffer', whole, 'a whole number ≥ 1'));
  const placement = takeString(args, 'clients-on');
  if (placement !== undefined) {
    if (placement !== 'inline' && placement !== 'threads' && placement !== 'processes' && placement !== 'hosts')
      throw new ConfigError(`--clients-on expects inline, threads, processes or hosts, got '${placement}'`, { field: 'clients-on' });
    options.placement = placement;
  }
  const clientData = takeString(args, 'client-data');
  if (clientData !== undefined) {
    if (clientData !== 'server' && clientData !== 'hosts')
      throw new ConfigError(`--client-data expects server or hosts, got '${clientData}'`, { field: 'client-data' });
    options.clientData = clientData;
  }
  set('workers', takeNumber(args, 'client-workers', whole, 'a whole number ≥ 1'));
  set('seed', takeNumber(args, 'federated-seed', Number.isInteger, 'an integer'));
  const target = takeNumber(args, 'target-score', (n) => n > 0 && n <= 1, 'a score in (0, 1]');
  const every = takeNumber(args, 'eval-every', whole, 'a whole number ≥ 1');
  const stopAtTarget = takeSwitch(args, 'stop-at-target');
  if (stopAtTarget && target === undefined)
    throw new ConfigError('--stop-at-target needs --target-score <score>', { field: 'stop-at-target' });
  if (target !== undefined || every !== undefined)
    options.evaluation = {
      data: evaluation(),
      ...(target === undefined ? {} : { target }),
      ...(every === undefined ? {} : { every }),
      ...(stopAtTarget ? { stopAtTarget } : {}),
    };
  if (takeSwitch(args, 'secure-aggregation')) options.secureAggregation = true;
  const feedback = takeString(args, 'client-error-feedback');
  if (feedback !== undefined) {
    if (feedback !== 'on' && feedback !== 'off')
      throw new ConfigError(`--client-error-feedback expects on or off, got '${feedback}'`, { field: 'client-error-feedback' });
    options.clientErrorFeedback = feedback === 'on';
  }
  const dpClip = takeNumber(args, 'dp-clip', (n) => n > 0 && Number.isFinite(n), 'a positive number');
  const dpNoise = takeNumber(args, 'dp-noise', (n) => n >= 0 && Number.isFinite(n), 'a number ≥ 0');
  const dpDelta = takeNumber(args, 'dp-delta', (n) => n > 0 && n < 1, 'a number in (0, 1)');
  const dpMode = takeString(args, 'dp-mode');
  if (dpClip !== undefined || dpNoise !== undefined || dpDelta !== undefined || dpMode !== undefined) {
    if (dpClip === undefined || dpNoise === undefined || dpDelta === undefined)
      throw new ConfigError('differential privacy needs all of --dp-clip C --dp-noise σ --dp-delta δ', { field: 'dp-clip' });
    if (dpMode !== undefined && dpMode !== 'client' && dpMode !== 'server')
      throw new ConfigError(`--dp-mode expects client or server, got '${dpMode}'`, { field: 'dp-mode' });
    options.dp = { clip: dpClip, noiseMultiplier: dpNoise, delta: dpDelta, ...(dpMode === undefined ? {} : { mode: dpMode }) };
  }
  // The model's dropout layer, whose flag --dropout is the clients' dropout here.
  const layerDropout = takeString(args, 'layer-dropout');
  if (layerDropout !== undefined) args.flags.set('dropout', layerDropout);
  return options;
}

/** The `federated` object of `train --json`. */
export function federatedReport(info: FederatedInfo): Record<string, unknown> {
  return {
    rounds: info.rounds,
    roundsToTarget: info.roundsToTarget,
    bytesUp: info.bytesUp,
    bytesDown: info.bytesDown,
    epsilon: info.epsilon,
    delta: info.delta,
    dropped: info.dropped,
    droppedBy: info.droppedBy,
    clients: info.clients,
    clientsPerRound: info.clientsPerRound,
    aggregator: info.aggregator,
    partition: info.partition,
    placement: info.placement,
    mode: info.mode,
    roundsPerSecond: info.roundsPerSecond,
    ...(info.peakRssBytes === undefined ? {} : { peakRssBytes: info.peakRssBytes }),
    ...(info.compression === undefined ? {} : { compression: info.compression }),
  };
}
