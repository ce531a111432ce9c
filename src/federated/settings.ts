/**
 * The federated paradigm's settings (FitOptions.federated; the CLI's --clients, --fraction, --rounds,
 * …), their defaults merged and checked in one place (`resolveFederated`), and what a federated fit
 * reports (FitInfo.federated).
 *
 * @example
 * await new MLP().fit(train, { paradigm: 'federated', federated: { clients: 100, fraction: 0.1, rounds: 50, localEpochs: 5, partition: 'dirichlet:0.5' } });
 */
import { ConfigError } from '../core/errors.js';
import type { Message } from '../comm/communicator.js';
import type { Dataset } from '../data/dataset.js';
import type { ByzantineSpec } from './byzantine.js';
import { parseByzantine } from './byzantine.js';
import { createAggregator } from './aggregators.js';
import { parsePartition } from './partition.js';

/**
 * Where simulated or real clients train: the launcher's thread, worker threads, child processes over
 * ZeroMQ, or client hosts on other machines over TCP with CURVE (runtime/federated-remote.ts: the
 * world of the environment's rendezvous, this process rank 0).
 */
export type ClientPlacement = 'inline' | 'threads' | 'processes' | 'hosts';

export interface FederatedOptions {
  /** Clients in the federation (each holds one partition of the training rows). Default 10. */
  clients?: number;
  /** Share of the clients sampled each round (at least `minClients`). Default 0.1. */
  fraction?: number;
  /** Fewest clients sampled per round. Default 1. */
  minClients?: number;
  /** Server rounds (aggregations). Default 10. */
  rounds?: number;
  /** Local epochs per client per round (the model's `epochs` is replaced). Default 1. */
  localEpochs?: number;
  /** Local mini-batch size; default the model's `batchSize`. FedSGD always uses the client's whole shard. */
  localBatchSize?: number;
  /** 'iid', 'dirichlet:<α>' or 'shards:<n>'. Default 'iid'. */
  partition?: string;
  /** Server rule: 'fedavg', 'fedsgd[:<lr>]', 'fedprox:<μ>', 'fedavgm[:<β>[:<lr>]]', 'fedadam[:<lr>[:<τ>]]', and the robust 'median', 'trimmed-mean:<β>', 'krum:<f>', 'multi-krum:<f>:<m>'. Default 'fedavg'. */
  aggregator?: string;
  /** Probability that a sampled client drops out of a round (seeded). Default 0. */
  dropout?: number;
  /** Seeded stragglers: each sampled client is slowed by `delayMs` with probability `fraction`. */
  stragglers?: { fraction: number; delayMs: number };
  /** A round's deadline in ms: updates arriving later are dropped and the round completes without them. Default: the fit's timeoutMs. */
  deadlineMs?: number;
  /** Byzantine clients: '<fraction>:scale:<k>' or '<fraction>:nan' (robustness tests). */
  byzantine?: string;
  /** FedBuff-style asynchronous mode (Nguyen et al. 2022): clients train continuously; the server steps every `buffer` updates. */
  async?: boolean;
  /** Updates per server step in asynchronous mode. Default 10 (or the clients per round when fewer). */
  buffer?: number;
  /** Where clients train. Default 'threads' (simulated clients on worker threads). 'hosts': WORLD_SIZE − 1 client hosts join this process (rank 0). */
  placement?: ClientPlacement;
  /**
   * Where the clients' rows come from. 'server' (default, a simulation): the server partitions its
   * training data (`partition`) and sends each host its clients' rows. 'hosts' (cross-silo, placement
   * 'hosts' only): each client host loads its own data (`shardlearn federated-client --data …`) and
   * splits it into its clients; the server never holds a client's row — its own data only sets the
   * feature layout and is what it evaluates on — and the clients are the hosts' (clients = their sum).
   */
  clientData?: 'server' | 'hosts';
  /** Worker threads or client processes that host the clients. Default 2. */
  workers?: number;
  /** Seed of the partition, sampling, dropouts, stragglers and Byzantine draw. Default 0. */
  seed?: number;
  /**
   * Client-level differential privacy (DP-FedAvg, federated/dp.ts): every update clipped to L2 norm
   * `clip`, Gaussian noise of std `noiseMultiplier`·clip added to the sum, by each client (its share,
   * mode 'client', the default) or by the server ('server'); the Rényi accountant reports (ε, `delta`)
   * per round (under --async per server step, each buffered update one participation). Needs fedavg or fedprox.
   */
  /**
   * Secure aggregation (Bonawitz et al. 2017; runtime/federated-secure.ts): the server's step comes
   * only from the sum of the clients' masked updates; clients that drop out after sharing their keys
   * are unmasked by the protocol. FedAvg (or fedprox) and synchronous rounds only.
   */
  secureAggregation?: boolean;
  /**
   * Under `compression`: whether each client keeps its biased codec's error-feedback residual between
   * the rounds it is sampled in (float32, only for clients ever sampled; runtime/federated-upload.ts).
   * Default true; false compresses each update on its own and keeps no per-client memory.
   */
  clientErrorFeedback?: boolean;
  /**
   * Tests only: derive every client's secure aggregation secrets from this seed instead of the OS
   * CSPRNG, so a test can recompute them and check the server never holds them. NOT private.
   */
  secureSecretSeed?: number;
  /**
   * Sees every message the server receives from a client host, as it arrived (audits and tests:
   * under secure aggregation, only protocol messages: keys, sealed shares, masked inputs, unmasking shares).
   * Under clientData 'hosts' it also sees each host's start message ('client-hello'), with client −rank.
   */
  onServerReceive?: (client: number, message: Message) => void;
  dp?: { clip: number; noiseMultiplier: number; delta: number; mode?: 'client' | 'server' };
  /** Held-out rows the server scores the global model on after rounds (accuracy or R²); the fit stops once `target` is reached when `stopAtTarget`. */
  evaluation?: { data: Dataset; target?: number; every?: number; stopAtTarget?: boolean };
  /** Called on the caller's thread after every server step. */
  onRound?: (report: RoundReport) => void;
}

/** One server step as the fit reports it. */
export interface RoundReport {
  round: number;
  /** Clients whose update was aggregated. */
  participants: number;
  /** Sampled clients whose update did not count: dropped out, missed the deadline, lost, or non-finite. */
  dropped: number;
  /** Milliseconds since training started. */
  elapsedMs: number;
  /**
   * Bytes the clients sent and the server sent them so far, this round included (FederatedInfo's
   * bytesUp/bytesDown at this round), so the bytes to a target score are read off the round that reached it.
   */
  bytesUp: number;
  bytesDown: number;
  /** The global model's score on the evaluation rows, when evaluated this round. */
  score?: number;
  /** With DP: ε spent so far (at the fit's δ), and the largest L2 norm of the updates the server received this round. */
  epsilon?: number;
  maxUpdateNorm?: number;
}

/** What FitInfo.federated holds. */
export interface FederatedInfo {
  /** Server steps done. */
  rounds: number;
  /** First round whose evaluation reached `evaluation.target`; null when never (or no target). */
  roundsToTarget: number | null;
  /**
   * Bytes the clients sent (their serialised updates, compressed under `--compression`), and the
   * server sent them (the serialised global weights, always dense). Under secure aggregation: the
   * protocol's messages the clients sent; the tasks and the protocol's messages the server sent.
   */
  bytesUp: number;
  bytesDown: number;
  /** The uploads' codec and whether clients kept error feedback; absent for dense uploads. */
  compression?: { codec: string; errorFeedback: boolean };
  /** Differential privacy's (ε, δ) after the last round (the Rényi accountant); null without `dp`. */
  epsilon: number | null;
  delta: number | null;
  /** Sampled clients whose update did not count, in total and by cause. */
  dropped: number;
  droppedBy: { dropout: number; deadline: number; lost: number; nonFinite: number };
  clients: number;
  clientsPerRound: number;
  aggregator: string;
  partition: string;
  placement: ClientPlacement;
  mode: 'sync' | 'async';
  roundsPerSecond: number;
  /** Peak resident set size of the server's process (VmHWM), bytes, where known. */
  peakRssBytes?: number;
  /** Per round: participants, drops, time and score. */
  history: RoundReport[];
}

export interface FederatedSettings {
  clients: number;
  fraction: number;
  minClients: number;
  perRound: number;
  rounds: number;
  localEpochs: number;
  localBatchSize: number | undefined;
  partition: string;
  aggregator: string;
  dropout: number;
  stragglers: { fraction: number; delayMs: number };
  deadlineMs: number;
  byzantine: ByzantineSpec | null;
  async: boolean;
  buffer: number;
  placement: ClientPlacement;
  workers: number;
  seed: number;
  dp: { clip: number; noiseMultiplier: number; delta: number; mode: 'client' | 'server' } | null;
  secureAggregation: boolean;
  clientErrorFeedback: boolean;
}

const positiveInteger = (value: number, field: string): number => {
  if (!(Number.isInteger(value) && value >= 1)) throw new ConfigError(`${field} must be a positive integer, found ${value}`, { field });
  return value;
};

const probability = (value: number, field: string, allowOne = false): number => {
  if (!(value >= 0 && (allowOne ? value <= 1 : value < 1)))
    throw new ConfigError(`${field} must be in [0, ${allowOne ? '1]' : '1)'}, found ${value}`, { field });
  return value;
};

/** `options` merged over the defaults and checked; `timeoutMs` is the default round deadline. */
export function resolveFederated(options: FederatedOptions, timeoutMs: number): FederatedSettings {
  const clients = positiveInteger(options.clients ?? 10, 'clients');
  const fraction = options.fraction ?? 0.1;
  if (!(fraction > 0 && fraction <= 1)) throw new ConfigError(`fraction must be in (0, 1], found ${fraction}`, { field: 'fraction' });
  const minClients = positiveInteger(options.minClients ?? 1, 'minClients');
  if (minClients > clients) throw new ConfigError(`minClients ${minClients} exceeds the ${clients} clients`, { field: 'minClients' });
  const perRound = Math.min(clients, Math.max(minClients, Math.round(fraction * clients)));
  const partition = options.partition ?? 'iid';
  parsePartition(partition);
  const aggregator = options.aggregator ?? 'fedavg';
  createAggregator(aggregator);
  const stragglers = options.stragglers ?? { fraction: 0, delayMs: 0 };
  probability(stragglers.fraction, 'stragglers.fraction', true);
  if (!(stragglers.delayMs >= 0))
    throw new ConfigError(`stragglers.delayMs must be ≥ 0, found ${stragglers.delayMs}`, { field: 'stragglers' });
  const deadlineMs = options.deadlineMs ?? timeoutMs;
  if (!(deadlineMs > 0)) throw new ConfigError(`deadlineMs must be positive, found ${deadlineMs}`, { field: 'deadlineMs' });
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer, found ${seed}`, { field: 'seed' });
  checkKrumQuorum(aggregator, perRound);
  const dp = resolveDp(options, aggregator);
  const buffer = positiveInteger(options.buffer ?? Math.min(10, perRound), 'buffer');
  return {
    clients,
    fraction,
    minClients,
    perRound,
    rounds: positiveInteger(options.rounds ?? 10, 'rounds'),
    localEpochs: positiveInteger(options.localEpochs ?? 1, 'localEpochs'),
    localBatchSize: options.localBatchSize === undefined ? undefined : positiveInteger(options.localBatchSize, 'localBatchSize'),
    partition,
    aggregator,
    dropout: probability(options.dropout ?? 0, 'dropout'),
    stragglers,
    deadlineMs,
    byzantine: options.byzantine === undefined ? null : parseByzantine(options.byzantine),
    async: options.async ?? false,
    buffer,
    placement: options.placement ?? 'threads',
    workers: positiveInteger(options.workers ?? 2, 'workers'),
    seed,
    dp,
    secureAggregation: resolveSecure(options, aggregator, dp),
    clientErrorFeedback: options.clientErrorFeedback ?? true,
  };
}

/** Krum's n > 2f + 2 (Blanchard et al. 2017) against the clients sampled per round, before any training. */
function checkKrumQuorum(aggregator: string, perRound: number): void {
  const [name, f] = aggregator.split(':');
  if ((name === 'krum' || name === 'multi-krum') && perRound <= 2 * Number(f) + 2)
    throw new ConfigError(
      `${aggregator} needs more than 2f + 2 = ${2 * Number(f) + 2} clients per round, ${perRound} are sampled; raise --fraction or --min-clients, or lower f`,
      { field: 'aggregator' },
    );
}

function resolveSecure(options: FederatedOptions, aggregator: string, dp: FederatedSettings['dp']): boolean {
  if (options.secureAggregation !== true) return false;
  const name = aggregator.split(':')[0];
  if (name !== 'fedavg' && name !== 'fedprox')
    throw new ConfigError(
      `secure aggregation gives the server only the sum of the clients' masked updates, never an individual update, so '${aggregator}' cannot run on it; use --aggregator fedavg or fedprox:<μ>`,
      { field: 'aggregator' },
    );
  if (options.async === true) throw new ConfigError('secure aggregation runs per synchronous round; leave --async out', { field: 'async' });
  if (dp?.mode === 'server')
    throw new ConfigError('server-side DP clips each client update, which secure aggregation hides from the server; use --dp-mode client', {
      field: 'dp-mode',
    });
  return true;
}

function resolveDp(options: FederatedOptions, aggregator: string): FederatedSettings['dp'] {
  const dp = options.dp;
  if (dp === undefined) return null;
  if (!(dp.clip > 0 && Number.isFinite(dp.clip)))
    throw new ConfigError(`dp.clip must be a finite number > 0, found ${dp.clip}`, { field: 'dp-clip' });
  if (!(dp.noiseMultiplier >= 0 && Number.isFinite(dp.noiseMultiplier)))
    throw new ConfigError(`dp.noiseMultiplier must be a finite number ≥ 0, found ${dp.noiseMultiplier}`, { field: 'dp-noise' });
  if (!(dp.delta > 0 && dp.delta < 1)) throw new ConfigError(`dp.delta must be in (0, 1), found ${dp.delta}`, { field: 'dp-delta' });
  const mode = dp.mode ?? 'client';
  if (mode !== 'client' && mode !== 'server')
    throw new ConfigError(`dp.mode must be 'client' or 'server', found '${String(mode)}'`, { field: 'dp-mode' });
  const name = aggregator.split(':')[0];
  if (name !== 'fedavg' && name !== 'fedprox')
    throw new ConfigError(
      `differential privacy averages the clipped updates as DP-FedAvg; use --aggregator fedavg or fedprox:<μ>, not '${aggregator}'`,
      {
        field: 'aggregator',
      },
    );
  return { clip: dp.clip, noiseMultiplier: dp.noiseMultiplier, delta: dp.delta, mode };
}
