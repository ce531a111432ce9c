/**
 * The `federated` paradigm: a server (this launcher) and clients that each hold only their own
 * partition of the training rows, training any SGD-trained model in rounds (McMahan et al. 2017).
 *
 * Each round the server samples ⌈fraction·clients⌉ clients (at least `minClients`; seeded), sends
 * each the global weights, and waits for their updates until all have answered or the round's
 * deadline passes; then it drops the non-finite updates and aggregates the rest (federated/server.ts).
 * A client that drops out (seeded `dropout`), misses the deadline (a straggler) or whose host is
 * lost (a killed process) is dropped and counted; the round completes with the others. In the
 * asynchronous mode (FedBuff, Nguyen et al. 2022) `perRound` clients train at all times; each update
 * is weighted by 1/√(1 + staleness) and the server steps once `buffer` updates have arrived.
 *
 * Clients are created lazily: a client is a row-index array until it is sampled, when its rows are
 * copied out for the task and dropped after it, so thousands of clients fit in one process.
 *
 * The model never knows: the server learns the model's initial weights by training it with a
 * 'fixed' client strategy on one row, and builds the final model state the same way from the final
 * global weights (federated/client-strategy.ts).
 *
 * @example
 * await new MLP({ hidden: [64] }).fit(train, { paradigm: 'federated', federated: { clients: 100, rounds: 20, localEpochs: 5 } });
 */
import { CommError, ConfigError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { ClientUpdate } from '../federated/aggregator.js';
import { createAggregator } from '../federated/aggregators.js';
import { byzantineClients } from '../federated/byzantine.js';
import { createDpAggregator, l2Norm } from '../federated/dp.js';
import { RdpAccountant } from '../federated/dp-accountant.js';
import { clientPartition } from '../federated/partition.js';
import { clientSeed, dropsOut, sampleClients, stragglerDelayMs } from '../federated/sampling.js';
import type { RoundOutcome } from '../federated/server.js';
import { aggregateRound, allFinite } from '../federated/server.js';
import { localDpSpec } from '../federated/transforms.js';
import { Rng } from '../core/rng.js';
import type { FederatedInfo, FederatedOptions, FederatedSettings, RoundReport } from '../federated/settings.js';
import { resolveFederated } from '../federated/settings.js';
import type { FitInfo, LaunchRequest } from '../models/paradigm.js';
import { createModel } from '../models/registry.js';
import type { ClientJob, ClientTask } from './federated-client.js';
import { trainWithStrategy } from './federated-client.js';
import type { ClientHosts, ClientResult, ServerAudit } from './federated-hosts.js';
import type { SiloWorld } from './federated-remote.js';
import { joinSiloHosts, startRemoteHosts, startSiloHosts } from './federated-remote.js';
import { secureRound } from './federated-secure.js';
import type { UploadSettings } from './federated-upload.js';
import { keepsClientMemory } from './federated-upload.js';
import { createCodec } from '../comm/codecs/index.js';
import type { RendezvousBackend } from '../comm/rendezvous-backend.js';
import { staticRendezvous } from './rendezvous.js';
import { InlineHosts, isLoss, ProcessHosts, ThreadHosts, WorldHosts } from './federated-hosts.js';
import { moduleUrl, rankOptions, resolveTimeout } from './job.js';
import { refuseCollectiveLane, refuseInsecureTransport, refuseNetwork } from './network.js';
import { processPeakRssBytes } from './peak-rss.js';

/** Why a sampled client's update did not count. */
type DropCause = 'dropout' | 'deadline' | 'lost' | 'nonFinite';

/**
 * Check federated options as a fit would, before any training (a ConfigError naming the field):
 * for callers that plan fits ahead, such as compare's federated cells.
 *
 * @example
 * checkFederatedOptions({ clients: 20, partition: 'dirichlet:0.5', aggregator: 'fedsgd:0.5' });
 */
export function checkFederatedOptions(options: FederatedOptions): void {
  resolveFederated(options, 1);
}

export async function launchFederated<State>(request: LaunchRequest<State>): Promise<{ state: State; info: FitInfo }> {
  const { model, data, options } = request;
  refuseNetwork(options.network, 'federated');
  refuseInsecureTransport(options.insecureTransport, 'federated');
  refuseCollectiveLane(options.collectiveLane, 'federated');
  if (options.strategy !== undefined)
    throw new ConfigError(
      `the federated paradigm combines updates with --aggregator, not a strategy ('${options.strategy}'); leave --strategy out`,
      {
        field: 'strategy',
      },
    );
  if (options.workers !== undefined)
    throw new ConfigError('the federated paradigm sizes its hosts with federated.workers (CLI --client-workers), not workers', {
      field: 'workers',
    });
  const timeoutMs = resolveTimeout(options.timeoutMs);
  // Cross-silo: the hosts bring their own clients; the server learns their layout and sizes first.
  const silo = await joinSilo(options.federated ?? {}, data, timeoutMs, options.rendezvous, options.federated?.onServerReceive);
  let settings: FederatedSettings;
  try {
    // Cross-silo: the hosts' clients, each host's rows split in contiguous runs (what FederatedInfo.partition reports).
    const federated = silo === null ? (options.federated ?? {}) : { ...options.federated, clients: silo.clients, partition: 'contiguous' };
    settings = resolveFederated(federated, timeoutMs);
  } catch (error) {
    await silo?.comm.close();
    throw error;
  }
  const upload = uploadSettings(options.compression, options.compressionWarmup, settings);
  const chosen = createAggregator(settings.aggregator);
  const rule = chosen.client;
  const dp = settings.dp;
  // DP-FedAvg replaces the mean (clipping and noise at the server, or a fixed-denominator mean of the
  // clients' privatized updates); the accountant composes one sampled Gaussian mechanism per round.
  // Asynchronous (FedBuff): a server step averages `buffer` updates, so the mean's denominator and the
  // clients' noise shares are per buffer, and each step is accounted from the updates it took.
  const perStep = settings.async ? settings.buffer : settings.perRound;
  const aggregator =
    dp === null
      ? chosen.aggregator
      : createDpAggregator({ ...dp, expectedClients: perStep, placement: dp.mode }, new Rng(settings.seed ^ 0x0d95));
  const accountant = dp === null ? null : new RdpAccountant();
  const labels = data.y;
  // Cross-silo: no partition here (each host split its own rows); the classes are the union of the hosts' labels.
  const parts =
    silo === null ? clientPartition(settings.partition, { rows: data.rows, labels, clients: settings.clients, seed: settings.seed }) : [];
  const trainingRows = silo === null ? data.rows : silo.clientRows.reduce((sum, rows) => sum + rows, 0);
  const classes = silo !== null ? silo.classes : labels === null ? null : [...new Set(labels)].sort((a, b) => a - b);
  const job: ClientJob = {
    model: { name: model.name, params: { ...model.params } as Record<string, unknown> },
    classes: isClassifier(model.name) ? classes : null,
    rule,
    localEpochs: settings.localEpochs,
    localBatchSize: settings.localBatchSize,
    transforms: dp?.mode === 'client' ? [localDpSpec(dp.clip, dp.noiseMultiplier, perStep, settings.seed)] : [],
    options: rankOptions(options),
    modules: (options.workerModules ?? []).map(moduleUrl),
    upload,
  };
  const byzantine = settings.byzantine === null ? new Set<number>() : byzantineClients(settings.byzantine, settings.clients, settings.seed);
  const probe = data.take([0]);
  // The model's own initial weights: every client builds the same ones from the same seed.
  const initial = (await trainWithStrategy(job, probe, 'fixed', null, { epochs: 1, batchSize: 1 })).strategy.initialWeights();
  const stateOf = async (weights: Float64Array): Promise<State> =>
    (await trainWithStrategy(job, probe, 'fixed', weights, { epochs: 1, batchSize: 1 })).state as State;
  const evaluation = options.federated?.evaluation ?? null;
  const scorer = evaluation === null ? null : createModel(model.name, job.model.params);
  const score = async (weights: Float64Array): Promise<number> => {
    scorer!.setState((await stateOf(weights)) as object);
    return scorer!.score(evaluation!.data);
  };

  const started = performance.now();
  const hosts =
    silo === null
      ? await startHosts(settings, job, data, parts, timeoutMs, options.federated?.onServerReceive, options.rendezvous)
      : await startSiloHosts(silo, job, options.federated?.onServerReceive);
  const dropped: Record<DropCause, number> = { dropout: 0, deadline: 0, lost: 0, nonFinite: 0 };
  const history: RoundReport[] = [];
  let roundsToTarget: number | null = null;
  let global = initial;
  let rounds = 0;
  const taskFor = (round: number, client: number): ClientTask => ({
    round,
    client,
    seed: clientSeed(settings.seed, round, client),
    attack: byzantine.has(client) ? settings.byzantine!.attack : null,
    delayMs: stragglerDelayMs(settings, round, client),
  });
  const secureBytes = { up: 0, down: 0 };
  // Under secure aggregation the clients' uploads are the SecAgg messages; the downloads, the tasks' global weights and the protocol's messages.
  const bytesSoFar = (): { up: number; down: number } => (settings.secureAggregation ? { ...secureBytes } : hosts.bytes());
  /** Record a server step; returns true when training should stop (target reached and asked to stop). */
  const record = async (
    round: number,
    participants: number,
    droppedNow: number,
    maxUpdateNorm?: number,
    buffered?: readonly ClientUpdate[],
  ): Promise<boolean> => {
    rounds = round;
    const sofar = bytesSoFar();
    const report: RoundReport = {
      round,
      participants,
      dropped: droppedNow,
      elapsedMs: performance.now() - started,
      bytesUp: sofar.up,
      bytesDown: sofar.down,
    };
    if (accountant !== null) {
      accountant.step(
        buffered === undefined
          ? { sampleRate: settings.perRound / settings.clients, noiseMultiplier: dp!.noiseMultiplier }
          : bufferedParticipation(buffered, settings.clients, dp!.noiseMultiplier),
      );
      report.epsilon = accountant.epsilon(dp!.delta).epsilon;
      if (maxUpdateNorm !== undefined) report.maxUpdateNorm = maxUpdateNorm;
    }
    const every = evaluation?.every ?? 1;
    if (evaluation !== null && (round % every === 0 || round === settings.rounds)) {
      report.score = await score(global);
      if (roundsToTarget === null && evaluation.target !== undefined && report.score >= evaluation.target) roundsToTarget = round;
    }
    history.push(report);
    options.federated?.onRound?.(report);
    options.onProgress?.({
      iteration: round,
      total: settings.rounds,
      ...(report.score === undefined ? {} : { loss: 1 - report.score }),
      elapsedMs: report.elapsedMs,
    });
    return roundsToTarget !== null && evaluation?.stopAtTarget === true;
  };

  /** The round through secure aggregation: the step comes from the SecAgg sum alone; the clients' sides run in their hosts. */
  const secure = async (round: number): Promise<{ outcome: RoundOutcome; dropped: number }> => {
    const before = dropped.dropout + dropped.deadline + dropped.lost;
    const result = await secureRound({
      settings,
      hosts,
      round,
      global,
      taskFor,
      scale: trainingRows / settings.clients,
      unweighted: dp !== null,
      secretSeed: options.federated?.secureSecretSeed ?? null,
      dropped,
    });
    secureBytes.up += result.bytesUp;
    secureBytes.down += result.bytesDown;
    const droppedNow = dropped.dropout + dropped.deadline + dropped.lost - before + result.nonFinite.length;
    const { nonFinite } = result;
    if (result.step === null || !allFinite(result.step))
      return { outcome: { global, used: 0, nonFinite, applied: false }, dropped: droppedNow };
    const next = global.map((value, j) => value + result.step![j]!);
    return { outcome: { global: next, used: result.included.length, nonFinite, applied: true }, dropped: droppedNow };
  };

  try {
    if (settings.async) {
      await runAsync(settings, hosts, taskFor, dropped, {
        global: () => global,
        step: async (updates, round) => {
          const outcome = aggregateRound(aggregator, updates, global, round);
          global = outcome.global;
          dropped.nonFinite += outcome.nonFinite.length;
          const maxUpdateNorm = dp === null ? undefined : updates.reduce((max, update) => Math.max(max, l2Norm(update.delta)), 0);
          return record(round, outcome.used, outcome.nonFinite.length, maxUpdateNorm, updates);
        },
      });
    } else {
      for (let round = 1; round <= settings.rounds; round++) {
        if (settings.secureAggregation) {
          // No individual update reaches this process: no per-update norm to report.
          const { outcome, dropped: droppedNow } = await secure(round);
          global = outcome.global;
          dropped.nonFinite += outcome.nonFinite.length;
          if (await record(round, outcome.used, droppedNow)) break;
          continue;
        }
        const before = dropped.dropout + dropped.deadline + dropped.lost;
        const updates = await syncRound(settings, hosts, round, global, taskFor, dropped);
        const outcome = aggregateRound(aggregator, updates, global, round);
        global = outcome.global;
        dropped.nonFinite += outcome.nonFinite.length;
        const droppedNow = dropped.dropout + dropped.deadline + dropped.lost - before + outcome.nonFinite.length;
        const maxUpdateNorm = updates.reduce((max, update) => Math.max(max, l2Norm(update.delta)), 0);
        if (await record(round, outcome.used, droppedNow, maxUpdateNorm)) break;
      }
    }
  } finally {
    await hosts.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const bytes = bytesSoFar();
  const federated: FederatedInfo = {
    rounds,
    roundsToTarget,
    bytesUp: bytes.up,
    bytesDown: bytes.down,
    ...(upload === null ? {} : { compression: { codec: upload.codec, errorFeedback: keepsClientMemory(upload) } }),
    epsilon: accountant === null ? null : accountant.epsilon(dp!.delta).epsilon,
    delta: dp === null ? null : dp.delta,
    dropped: dropped.dropout + dropped.deadline + dropped.lost + dropped.nonFinite,
    droppedBy: dropped,
    clients: settings.clients,
    clientsPerRound: settings.perRound,
    aggregator: settings.aggregator,
    partition: settings.partition,
    placement: settings.placement,
    mode: settings.async ? 'async' : 'sync',
    roundsPerSecond: rounds / seconds,
    peakRssBytes: processPeakRssBytes(),
    history,
  };
  return {
    state: await stateOf(global),
    info: {
      paradigm: 'federated',
      workers: hosts instanceof WorldHosts ? hosts.hostCount : settings.workers,
      strategy: settings.aggregator,
      seconds,
      comm: [{ bytesSent: bytes.down, bytesReceived: bytes.up, messagesSent: 0, messagesReceived: 0, collectives: 0, commMs: 0 }],
      rows: [trainingRows],
      history: history.map((report) => ({ iteration: report.round, total: settings.rounds, elapsedMs: report.elapsedMs })),
      federated,
    },
  };
}

/**
 * The clients' upload codec (`--compression`), checked here before any client starts, or null for
 * dense uploads ('none' included). Secure aggregation is refused: its masks are added to dense
 * fixed-point field elements, one per parameter, so a sparse or quantised upload would have to be
 * densified before masking and would save nothing (compressed SecAgg needs a shared sparsity
 * pattern, as in FetchSGD's sketches, which this protocol does not have).
 */
function uploadSettings(codec: string | undefined, warmup: number | undefined, settings: FederatedSettings): UploadSettings | null {
  if (codec === undefined || codec.trim() === 'none') return null;
  const parsed = createCodec(codec);
  if (settings.secureAggregation)
    throw new ConfigError(
      `--compression ${parsed.spec} and --secure-aggregation cannot be combined: secure aggregation masks every parameter as a dense field element, so a compressed upload would be densified before masking; drop one of the two flags`,
      { field: 'compression' },
    );
  const warmupRounds = warmup ?? 0;
  if (!(warmupRounds >= 0))
    throw new ConfigError(`compressionWarmup must be ≥ 0 rounds, found ${warmupRounds}`, { field: 'compression-warmup' });
  return { codec: parsed.spec, warmupRounds, errorFeedback: settings.clientErrorFeedback };
}

/**
 * One asynchronous server step as a sampled Gaussian mechanism, counting each buffered update as one
 * participation of its client: the step's sampling rate is the distinct clients in the buffer over the
 * population, and a client that is in the buffer k times moves the clipped sum by up to k·C, so the
 * step is accounted at noise multiplier σ/k (the Gaussian mechanism of sensitivity kC and noise σC).
 * FedBuff draws clients from a seeded stream, not by Poisson sampling: the rate is the same expected
 * participation, not the subsampling the RDP bound assumes exactly (said in docs/federated.md).
 */
export function bufferedParticipation(
  buffered: readonly ClientUpdate[],
  clients: number,
  noiseMultiplier: number,
): { sampleRate: number; noiseMultiplier: number } {
  const times = new Map<number, number>();
  for (const update of buffered) times.set(update.client, (times.get(update.client) ?? 0) + 1);
  const most = Math.max(1, ...times.values());
  return { sampleRate: Math.min(1, times.size / clients), noiseMultiplier: noiseMultiplier / most };
}

/** Whether a registered model is a classifier (its clients must agree on the classes). */
function isClassifier(name: string): boolean {
  try {
    return createModel(name).kind === 'classifier';
  } catch {
    return false;
  }
}

/**
 * Cross-silo (`clientData: 'hosts'`): join the client hosts and learn what they hold (their layout
 * checked against the server's `data`, which is only its evaluation data's layout here), or null when
 * the server partitions its own data. The client count is the hosts'; a different `clients` is an error.
 */
async function joinSilo(
  options: FederatedOptions,
  data: Dataset,
  timeoutMs: number,
  rendezvous: RendezvousBackend = staticRendezvous(),
  audit?: ServerAudit,
): Promise<SiloWorld | null> {
  if ((options.clientData ?? 'server') === 'server') return null;
  if (options.clientData !== 'hosts')
    throw new ConfigError(`clientData must be 'server' or 'hosts', found '${String(options.clientData)}'`, { field: 'client-data' });
  if (options.placement !== 'hosts')
    throw new ConfigError(
      `--client-data hosts needs --clients-on hosts (the hosts load their own data), found '${options.placement ?? 'threads'}'`,
      {
        field: 'client-data',
      },
    );
  if (options.partition !== undefined)
    throw new ConfigError(
      "--partition splits the server's data; with --client-data hosts each host splits its own (federated-client --clients-per-host)",
      {
        field: 'partition',
      },
    );
  const place = await rendezvous.join();
  const world = await joinSiloHosts(place, timeoutMs, { cols: data.cols, labelNames: data.labelNames, labelled: data.y !== null }, audit);
  if (options.clients !== undefined && options.clients !== world.clients) {
    for (let rank = 1; rank <= world.hosts; rank++)
      await world.comm.send(rank, { tag: 'stop', header: { message: 'the server stopped' } }).catch(() => undefined);
    await world.comm.close();
    throw new ConfigError(
      `--clients ${options.clients}, but the client hosts hold ${world.clients} clients (leave --clients out with --client-data hosts)`,
      {
        field: 'clients',
      },
    );
  }
  return world;
}

function startHosts(
  settings: FederatedSettings,
  job: ClientJob,
  data: Dataset,
  parts: Uint32Array[],
  timeoutMs: number,
  audit: ServerAudit = () => undefined,
  rendezvous: RendezvousBackend = staticRendezvous(),
): Promise<ClientHosts> {
  switch (settings.placement) {
    case 'inline':
      return Promise.resolve(new InlineHosts(job, data, parts, audit));
    case 'threads':
      return ThreadHosts.start(job, data, parts, settings.workers, audit);
    case 'processes':
      return ProcessHosts.start(job, data, parts, settings.workers, timeoutMs, audit);
    case 'hosts':
      return rendezvous.join().then((place) => startRemoteHosts(job, data, parts, place, timeoutMs, audit));
    default: {
      const unknown: never = settings.placement;
      throw new ConfigError(`unknown client placement '${String(unknown)}'; expected inline, threads, processes or hosts`, {
        field: 'placement',
      });
    }
  }
}

/** One synchronous round: the updates that arrived by the deadline (drops counted into `dropped`). */
async function syncRound(
  settings: FederatedSettings,
  hosts: ClientHosts,
  round: number,
  global: Float64Array,
  taskFor: (round: number, client: number) => ClientTask,
  dropped: Record<DropCause, number>,
): Promise<ClientUpdate[]> {
  const sampled = sampleClients(settings, round);
  const updates: ClientUpdate[] = [];
  let deadline: NodeJS.Timeout | undefined;
  const expired = new Promise<'deadline'>((resolve) => (deadline = setTimeout(() => resolve('deadline'), settings.deadlineMs)));
  try {
    const outcomes = await Promise.all(
      sampled.map(async (client): Promise<void> => {
        if (dropsOut(settings, round, client)) {
          dropped.dropout++;
          return;
        }
        const result = hosts.run(taskFor(round, client), global);
        result.catch(() => undefined);
        const first = await Promise.race([result.then((value): ClientResult => value), expired]).catch((error: unknown) => {
          if (isLoss(error)) return 'lost' as const;
          throw error;
        });
        if (first === 'deadline') dropped.deadline++;
        else if (first === 'lost') dropped.lost++;
        else updates.push({ client, delta: first.delta, weight: first.reply.weight });
      }),
    );
    void outcomes;
  } finally {
    clearTimeout(deadline);
  }
  // Aggregate in client order whatever order the replies came in: the same run gives the same model.
  return updates.sort((a, b) => a.client - b.client);
}

interface AsyncServer {
  global(): Float64Array;
  /** Apply one buffered step; resolves true to stop. */
  step(updates: ClientUpdate[], round: number): Promise<boolean>;
}

/**
 * FedBuff: keep `perRound` clients training; weight each arriving update by 1/√(1 + staleness)
 * (staleness = server steps since the client was sent the weights), and step every `buffer` updates.
 */
async function runAsync(
  settings: FederatedSettings,
  hosts: ClientHosts,
  taskFor: (round: number, client: number) => ClientTask,
  dropped: Record<DropCause, number>,
  server: AsyncServer,
): Promise<void> {
  let version = 0;
  let dispatched = 0;
  const inFlight = new Set<number>();
  const buffer: ClientUpdate[] = [];
  let finished = false;
  let failuresInARow = 0;
  const pick = (): number => {
    // A seeded stream of candidates; skip those already training.
    for (;;) {
      const [client] = sampleClients({ clients: settings.clients, perRound: 1, seed: settings.seed ^ 0x0a5c }, dispatched++);
      if (!inFlight.has(client!) || inFlight.size >= settings.clients) return client!;
    }
  };
  let fail: (error: unknown) => void = () => undefined;
  let done: () => void = () => undefined;
  const ended = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  let chain = Promise.resolve();
  const launch = (): void => {
    if (finished) return;
    const client = pick();
    const sentAt = version;
    // Each dispatch is its own "round" of the client's seed stream, so repeated clients draw fresh batches.
    const task = taskFor(dispatched, client);
    if (dropsOut(settings, dispatched, client)) {
      dropped.dropout++;
      setImmediate(launch);
      return;
    }
    inFlight.add(client);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), settings.deadlineMs)));
    const result = hosts.run(task, server.global());
    result.catch(() => undefined);
    Promise.race([result, expired])
      .catch((error: unknown) => {
        if (isLoss(error)) return 'lost' as const;
        throw error;
      })
      .then((first) => {
        clearTimeout(timer);
        inFlight.delete(client);
        if (finished) return;
        if (first === 'deadline' || first === 'lost') {
          dropped[first === 'lost' ? 'lost' : 'deadline']++;
          // Every host lost, or every client too slow: say so instead of dispatching forever.
          if (++failuresInARow > 10 * settings.perRound + settings.clients)
            throw new CommError(
              'PEER_LOST',
              `no client update arrived in ${failuresInARow} tries in a row (${dropped.lost} lost, ${dropped.deadline} past the deadline)`,
            );
        } else {
          failuresInARow = 0;
          const weight = first.reply.weight / Math.sqrt(1 + (version - sentAt));
          buffer.push({ client, delta: first.delta, weight });
          if (buffer.length >= settings.buffer) {
            const updates = buffer.splice(0, buffer.length).sort((a, b) => a.client - b.client);
            const round = ++version;
            chain = chain.then(async () => {
              const stop = await server.step(updates, round);
              if (stop || round >= settings.rounds) {
                finished = true;
                done();
              }
            });
            chain.catch(fail);
          }
        }
        launch();
      })
      .catch(fail);
  };
  for (let i = 0; i < settings.perRound; i++) launch();
  await ended;
  finished = true;
}
