// One pipeline rank on a real worker thread, calling runPipeline directly so the test can read the
// stage's peak stored activations (the estimator API returns only the model). The job is built
// exactly as NeuralClassifier.train builds it, so the result is comparable with MLP.fit.
// When the test runner loads this file itself (it collects every file under test/), it does nothing.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import '../../src/index.js';
import type { SharedWorld } from '../../src/comm/shm/world.js';
import { SharedMemoryCommunicator } from '../../src/comm/shm/communicator.js';
import { Rng } from '../../src/core/rng.js';
import { MLP } from '../../src/models/neural/mlp.js';
import type { MLPParams } from '../../src/models/neural/mlp.js';
import { runPipeline } from '../../src/models/neural/pipeline/trainer.js';
import { Network } from '../../src/nn/network.js';
import type { PipelineSettings } from '../../src/models/neural/pipeline/settings.js';
import { AllReduceStrategy } from '../../src/strategies/allreduce.js';
import { xorData } from '../nn/data.js';

export interface StageWorkerInput {
  world: SharedWorld;
  rank: number;
  rows: number;
  dataSeed: number;
  params: Partial<MLPParams>;
  settings: PipelineSettings;
}

if (!isMainThread && parentPort !== null) await runStage(workerData as StageWorkerInput, parentPort);

async function runStage(input: StageWorkerInput, port: MessagePort): Promise<void> {
  const comm = new SharedMemoryCommunicator(input.world, input.rank, { timeoutMs: 30_000 });
  const data = xorData(input.rows, input.dataSeed);
  const per = Math.ceil(data.rows / input.world.size);
  const shard = data.slice(Math.min(input.rank * per, data.rows), Math.min((input.rank + 1) * per, data.rows));
  const model = new MLP(input.params);
  const p = model.params;
  const { inputShape, layers } = model.architecture(data.cols, 2);
  const network = new Network(layers, inputShape, p.precision);
  network.store.initialize(new Rng(p.seed).fork(0x1a1));
  const result = await runPipeline({
    shard,
    context: { comm, strategy: new AllReduceStrategy(comm), options: { pipeline: input.settings }, report: () => undefined },
    codes: Int32Array.from(shard.labels()), // xorData's labels are the codes 0 and 1
    inputShape,
    layers,
    initial: Float64Array.from(network.store.values),
    params: p,
    settings: input.settings,
  });
  port.postMessage({ params: result.params, peak: result.peakStoredMicroBatches, bytesSent: comm.stats.bytesSent });
  await comm.close();
}
