/**
 * The `cluster` paradigm: this process is one rank of a job spread over hosts. It finds its place
 * from the environment (rendezvous.ts), joins the ZeroMQ world with the job secret, and trains the
 * model on `data` — which under `cluster` is this rank's own shard (load it with
 * loadData(spec, { shard: { rank, worldSize } })). Every rank returns the same learned state;
 * rank 0 is the one that reports and saves (nanoGPT's `master_process`).
 *
 * FitInfo.comm holds every rank's statistics: they are gathered with one small all-reduce at the end.
 *
 * @example
 * // on every host, with MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK and SHARDLEARN_SECRET set:
 * const { rank, worldSize } = rendezvousFromEnv();
 * const { train } = await loadData('data.csv', { target: 'y', shard: { rank, worldSize } });
 * const model = await new LinearRegression().fit(train, { paradigm: 'cluster' });
 */
import type { CommStats } from '../comm/communicator.js';
import { ZmqCommunicator } from '../comm/zmq/communicator.js';
import { readSecret } from '../comm/zmq/security.js';
import type { FitInfo, LaunchRequest } from '../models/paradigm.js';
import { createStrategy } from '../strategies/index.js';
import { compressionOf } from './compression.js';
import { progressRecorder } from './progress.js';
import { refuseNetwork } from './network.js';
import { rendezvousFromEnv } from './rendezvous.js';

const DEFAULT_TIMEOUT_MS = 120_000;
const STAT_FIELDS = ['bytesSent', 'bytesReceived', 'messagesSent', 'messagesReceived', 'collectives', 'commMs'] as const;

export async function launchCluster<State>(request: LaunchRequest<State>): Promise<{ state: State; info: FitInfo }> {
  const { model, data, options } = request;
  refuseNetwork(options.network, 'cluster');
  const place = rendezvousFromEnv();
  const comm = await ZmqCommunicator.join({
    rank: place.rank,
    size: place.worldSize,
    masterAddr: place.masterAddr,
    masterPort: place.masterPort,
    host: place.host,
    secret: readSecret(),
    jobId: place.jobId,
    generation: place.generation,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  try {
    const strategyName = options.strategy ?? 'allreduce';
    const strategy = createStrategy(strategyName, { comm, compression: compressionOf(options) });
    const recorder = progressRecorder(place.rank === 0 ? options.onProgress : undefined);
    const started = performance.now();
    const state = await model.train(data, { comm, strategy, report: recorder.report });
    const trainMs = performance.now() - started;
    const seconds = trainMs / 1000;
    const own = { ...comm.stats };
    // Everyone's statistics and compute time, one all-reduce: rank r fills row r.
    const table = new Float64Array(place.worldSize * (STAT_FIELDS.length + 1));
    const row = place.rank * (STAT_FIELDS.length + 1);
    STAT_FIELDS.forEach((field, k) => (table[row + k] = own[field]));
    table[row + STAT_FIELDS.length] = trainMs - own.commMs;
    await comm.allReduce(table, 'sum');
    const stats: CommStats[] = [];
    const computeMs: number[] = [];
    for (let r = 0; r < place.worldSize; r++) {
      const base = r * (STAT_FIELDS.length + 1);
      stats.push(Object.fromEntries(STAT_FIELDS.map((field, k) => [field, table[base + k]!])) as unknown as CommStats);
      computeMs.push(table[base + STAT_FIELDS.length]!);
    }
    return {
      state,
      info: { paradigm: 'cluster', workers: place.worldSize, strategy: strategyName, seconds, comm: stats, computeMs, history: recorder.history },
    };
  } finally {
    await comm.close();
  }
}
