/**
 * The `sequential` paradigm: the trainer runs on the calling thread, world size 1, with the local
 * communicator. It is the reference every other paradigm is tested against.
 */
import { LocalCommunicator } from '../comm/local.js';
import { ConfigError } from '../core/errors.js';
import type { FitInfo, LaunchRequest } from '../models/paradigm.js';
import { checkStrategy, createStrategy } from '../strategies/index.js';
import { compressionOf } from './compression.js';
import { progressRecorder } from './progress.js';
import { refuseNetwork } from './network.js';

export async function launchSequential<State>(request: LaunchRequest<State>): Promise<{ state: State; info: FitInfo }> {
  const { model, data, options } = request;
  refuseNetwork(options.network, 'sequential');
  if (options.workers !== undefined && options.workers !== 1) {
    // A world of one: asking for more workers here is a mistake worth saying.
    throw new ConfigError(
      `the sequential paradigm runs one worker, got workers=${options.workers}; use --paradigm threads for more`,
      { field: 'workers' },
    );
  }
  const comm = new LocalCommunicator();
  const strategyName = options.strategy ?? 'allreduce';
  const compression = compressionOf(options);
  checkStrategy(strategyName, 1, compression);
  const strategy = createStrategy(strategyName, { comm, compression });
  const recorder = progressRecorder(options.onProgress);
  const started = performance.now();
  const state = await model.train(data, { comm, strategy, report: recorder.report });
  const seconds = (performance.now() - started) / 1000;
  await comm.close();
  return {
    state,
    info: { paradigm: 'sequential', workers: 1, strategy: strategyName, seconds, comm: [{ ...comm.stats }], history: recorder.history },
  };
}
