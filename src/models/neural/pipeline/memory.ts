/**
 * Memory per pipeline stage (the seed's claim that model parallelism splits a model too big for one
 * processor): what each stage holds — its slice of the parameters with their gradients and
 * optimizer state, and the activations of the micro-batches whose forward ran and backward did not —
 * counted from the same stage plan and schedule the trainer runs (trainer.ts `planStages`,
 * schedule.ts), so the figures are the trainer's, not an estimate of another layout.
 *
 * Activations: a stage keeps one network per stored micro-batch (trainer.ts), and each layer of it
 * keeps its last forward's output for the backward; a micro-batch of r rows therefore holds r × (the
 * stage's input + every layer's output) elements per row. Recurrent layers keep their per-step
 * states too; they are counted as `steps` outputs.
 *
 * @example
 * const { inputShape, layers } = new MLP({ hidden: [64, 64] }).architecture(784, 10);
 * const stages = pipelineMemory({ inputShape, layers }, params, 2, resolvePipeline({}, 2), 128);
 * // stages[s].parameterBytes, stages[s].activationBytes
 */
import type { LayerSpec } from '../../../nn/layer.js';
import { Network } from '../../../nn/network.js';
import type { NeuralParams } from '../options.js';
import { layerCosts, partitionStages } from './partition.js';
import { microBatchSizes, peakStoredMicroBatches, stageOperations } from './schedule.js';
import type { PipelineSettings } from './settings.js';

export interface StageMemory {
  stage: number;
  /** Layer indices [start, end) of the whole network. */
  layers: [number, number];
  parameters: number;
  /** Parameters, their gradient sums and the optimizer's state (Adam: 2 moments; SGD: momentum when > 0). */
  parameterBytes: number;
  /** Elements kept per row of a stored micro-batch: the stage's input and every layer's output. */
  activationValuesPerRow: number;
  /** Most micro-batches the schedule has this stage hold at once (GPipe: all M; 1F1B: ≤ S − stage). */
  peakMicroBatches: number;
  /** peakMicroBatches × the largest micro-batch × activationValuesPerRow × bytes per value. */
  activationBytes: number;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Each stage's memory for a network of `layers` on rows of `inputShape`, cut into `stages` stages
 * (workers / replicas), mini-batches of `batchSize` rows split into the settings' micro-batches.
 */
export function pipelineMemory(
  architecture: { inputShape: readonly number[]; layers: readonly LayerSpec[] },
  params: Pick<NeuralParams, 'precision' | 'optimizer' | 'momentum'>,
  stages: number,
  settings: PipelineSettings,
  batchSize: number,
): StageMemory[] {
  const { inputShape, layers } = architecture;
  const bytes = params.precision === 'float32' ? 4 : 8;
  const optimizerSlots = params.optimizer === 'adam' ? 2 : params.momentum > 0 ? 1 : 0;
  const rowsPerReplica = Math.ceil(batchSize / settings.replicas);
  const largestMicroBatch = Math.max(...microBatchSizes(rowsPerReplica, settings.microBatches));
  const ranges = partitionStages(layerCosts(layers, inputShape, params.precision), stages);
  const result: StageMemory[] = [];
  let shape: readonly number[] = inputShape;
  ranges.forEach(({ start, end }, stage) => {
    let values = size(shape);
    let parameters = 0;
    for (const spec of layers.slice(start, end)) {
      const single = new Network([spec], shape, params.precision);
      const steps = spec.type === 'rnn' || spec.type === 'lstm' || spec.type === 'gru' ? (shape[0] ?? 1) : 1;
      values += steps * size(single.outputShape);
      parameters += single.size;
      shape = single.outputShape;
    }
    const peakMicroBatches = peakStoredMicroBatches(stageOperations(stages, settings.microBatches, stage, settings.schedule));
    result.push({
      stage,
      layers: [start, end],
      parameters,
      parameterBytes: parameters * bytes * (2 + optimizerSlots),
      activationValuesPerRow: values,
      peakMicroBatches,
      activationBytes: peakMicroBatches * largestMicroBatch * values * bytes,
    });
  });
  return result;
}
