/**
 * The memory of each pipeline stage of a fitted pipeline cell (the neural models' `pipeline` fit
 * option), from the network the fit trained and the pipeline it trained as (FitInfo.pipeline):
 * what compare reports for model parallelism — each stage holding only its slice of the model.
 *
 * @example
 * const stages = stageMemoryOf(model); // null unless the fit ran as a pipeline
 */
import type { Architecture } from '../models/neural/classifier.js';
import type { StageMemory } from '../models/neural/pipeline/memory.js';
import { pipelineMemory } from '../models/neural/pipeline/memory.js';
import type { NeuralParams } from '../models/neural/options.js';
import type { AnyEstimator } from '../models/registry.js';

export type { StageMemory } from '../models/neural/pipeline/memory.js';

export function stageMemoryOf(model: AnyEstimator): StageMemory[] | null {
  const info = model.fitInfo;
  if (info?.pipeline === undefined) return null;
  const architecture = model.state as unknown as Architecture;
  if (!Array.isArray(architecture.layers) || !Array.isArray(architecture.inputShape)) return null;
  const params = model.params as unknown as NeuralParams;
  const stages = Math.max(1, Math.floor(info.workers / info.pipeline.replicas));
  return pipelineMemory(architecture, params, stages, info.pipeline, params.batchSize);
}
