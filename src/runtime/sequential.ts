/**
 * The `sequential` paradigm: the one rank body (rank.ts) on the calling thread, world size 1, with
 * the local communicator and the caller's own model object. It is the reference every other
 * paradigm is tested against.
 */
import { LocalCommunicator } from '../comm/local.js';
import { ConfigError } from '../core/errors.js';
import type { FitInfo, LaunchRequest } from '../models/paradigm.js';
import { fitInfoParts, jobFor, resolveTimeout } from './job.js';
import { progressHistory } from './progress.js';
import { refuseCollectiveLane, refuseInsecureTransport, refuseNetwork } from './network.js';
import { runRank } from './rank.js';

export async function launchSequential<State>(request: LaunchRequest<State>): Promise<{ state: State; info: FitInfo }> {
  const { model, data, options } = request;
  refuseNetwork(options.network, 'sequential');
  refuseInsecureTransport(options.insecureTransport, 'sequential');
  refuseCollectiveLane(options.collectiveLane, 'sequential');
  if (options.workers !== undefined && options.workers !== 1) {
    // A world of one: asking for more workers here is a mistake worth saying.
    throw new ConfigError(`the sequential paradigm runs one worker, got workers=${options.workers}; use --paradigm threads for more`, {
      field: 'workers',
    });
  }
  const job = jobFor(request, { kind: 'rows', init: data, start: 0, end: data.rows }, resolveTimeout(options.timeoutMs));
  const comm = new LocalCommunicator();
  const startedAt = performance.timeOrigin + performance.now();
  const { history, onEvents } = progressHistory(options.onProgress, startedAt);
  try {
    const result = await runRank<State>(job, { rank: 0, size: 1, paradigm: 'sequential', comm, model, progress: onEvents });
    const seconds = (performance.timeOrigin + performance.now() - startedAt) / 1000;
    return {
      state: result.state,
      info: { paradigm: 'sequential', workers: 1, strategy: job.strategy, seconds, ...fitInfoParts([result]), history },
    };
  } finally {
    await comm.close();
  }
}
