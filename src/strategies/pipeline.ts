/**
 * The `pipeline` strategy: model parallelism. Each rank holds one stage of the network and updates
 * only that stage's parameters, so for plain pipelines the strategy combines no gradients: it is a
 * marker the neural models read (`name === 'pipeline'` and the settings below) to run their
 * pipeline trainer instead of data-parallel SGD. A model without a pipeline trainer that reaches
 * `setup` gets a ConfigError.
 *
 * Name grammar: `pipeline` then any of these parts, each after a colon, in any order:
 * - `<m>` — micro-batches per global mini-batch (default 4);
 * - `gpipe` | `1f1b` — the schedule (default gpipe; 1f1b bounds stored activations by the stage count);
 * - `replicas=<r>` — hybrid: r data-parallel replicas of a pipeline of workers / r stages; each
 *   stage's gradient is summed over its replicas (`allReduceReplicas`) before the update.
 *
 * @example
 * await new CNN().fit(data, { paradigm: 'threads', workers: 2, strategy: 'pipeline' });
 * // CLI: --workers 2 --strategy pipeline:8:1f1b     --workers 4 --strategy pipeline:8:replicas=2
 */
import type { Communicator } from '../comm/communicator.js';
import { ConfigError } from '../core/errors.js';
import { groupAllReduce } from '../comm/collectives/group-allreduce.js';
import type { ApplyUpdate, GradientStrategy } from './strategy.js';

/** Micro-batches per global mini-batch when the name gives none. */
export const DEFAULT_MICRO_BATCHES = 4;

export type PipelineSchedule = 'gpipe' | '1f1b';

/** What a pipeline run is asked to do (read structurally by models/neural/pipeline/trainer.ts). */
export interface PipelineSettings {
  microBatches: number;
  schedule: PipelineSchedule;
  /** Data-parallel copies of the pipeline; stages = workers / replicas. */
  replicas: number;
}

/**
 * Throws a ConfigError naming the field when `settings` cannot run (on `workers` workers, when given).
 * The strategy checks itself on construction; launchers call it through `checkStrategy` before any
 * worker starts.
 */
export function validatePipelineSettings(settings: PipelineSettings, workers?: number): void {
  if (!Number.isInteger(settings.microBatches) || settings.microBatches < 1) {
    throw new ConfigError(`strategy 'pipeline:<m>' needs a whole number of micro-batches m ≥ 1, got ${settings.microBatches}`, { field: 'strategy' });
  }
  if (settings.schedule !== 'gpipe' && settings.schedule !== '1f1b') {
    throw new ConfigError(`pipeline schedule must be 'gpipe' or '1f1b', got '${String(settings.schedule)}'`, { field: 'strategy' });
  }
  if (!Number.isInteger(settings.replicas) || settings.replicas < 1) {
    throw new ConfigError(`strategy 'pipeline:replicas=<r>' needs a whole number of replicas r ≥ 1, got ${settings.replicas}`, { field: 'strategy' });
  }
  if (workers !== undefined && workers % settings.replicas !== 0) {
    throw new ConfigError(`strategy 'pipeline:replicas=${settings.replicas}' splits the workers into ${settings.replicas} equal pipelines, but ${workers} workers is not a multiple of ${settings.replicas}; choose --workers ${settings.replicas * Math.max(2, Math.round(workers / settings.replicas))} or another replica count`, { field: 'workers' });
  }
}

export class PipelineStrategy implements GradientStrategy, PipelineSettings {
  readonly name = 'pipeline';
  readonly synchronous = true;
  readonly microBatches: number;
  readonly schedule: PipelineSchedule;
  readonly replicas: number;

  /** `comm` is needed only with replicas > 1 (for `allReduceReplicas`). */
  constructor(settings: Partial<PipelineSettings> = {}, private readonly comm: Communicator | null = null) {
    this.microBatches = settings.microBatches ?? DEFAULT_MICRO_BATCHES;
    this.schedule = settings.schedule ?? 'gpipe';
    this.replicas = settings.replicas ?? 1;
    validatePipelineSettings(this, comm?.size);
  }

  /**
   * Sum `gradient` over the replicas of this rank's stage (ranks ≡ rank mod stages; replica k holds
   * ranks k·S … k·S + S − 1). Every replica of the stage calls it at the same step.
   */
  allReduceReplicas(gradient: Float64Array): Promise<void> {
    if (this.replicas === 1) return Promise.resolve();
    const comm = this.comm;
    if (comm === null) return Promise.reject(new ConfigError('pipeline strategy with replicas > 1 was built without a communicator', { field: 'strategy' }));
    const stages = comm.size / this.replicas;
    const stage = comm.rank % stages;
    return groupAllReduce(comm, Array.from({ length: this.replicas }, (_, k) => k * stages + stage), gradient);
  }

  setup(_initial: Float64Array): Promise<Float64Array> {
    return Promise.reject(new ConfigError(
      "strategy 'pipeline' splits a neural network's layers over the workers; only the neural models (mlp, cnn, rnn) train with it — choose 'allreduce' for this model",
      { field: 'strategy' },
    ));
  }

  step(_params: Float64Array, _gradientSum: Float64Array, _count: number, _apply: ApplyUpdate): Promise<void> {
    return this.setup(_params).then(() => undefined);
  }

  finish(_params: Float64Array): Promise<void> {
    return Promise.resolve();
  }
}

/** 'pipeline:8:1f1b:replicas=2' → { microBatches: 8, schedule: '1f1b', replicas: 2 }; unknown parts are a ConfigError. */
export function parsePipelineSettings(name: string): PipelineSettings {
  const [head, ...parts] = name.split(':');
  if (head !== 'pipeline') throw new ConfigError(`expected a strategy name starting with 'pipeline', got '${name}'`, { field: 'strategy' });
  const settings: PipelineSettings = { microBatches: DEFAULT_MICRO_BATCHES, schedule: 'gpipe', replicas: 1 };
  for (const part of parts) {
    const replicas = /^replicas=(\d+)$/.exec(part);
    if (/^\d+$/.test(part)) settings.microBatches = Number(part);
    else if (part === 'gpipe' || part === '1f1b') settings.schedule = part;
    else if (replicas !== null) settings.replicas = Number(replicas[1]);
    else {
      throw new ConfigError(`strategy '${name}': unknown part '${part}'; expected 'pipeline' followed by ':<micro-batches>', ':gpipe' or ':1f1b', ':replicas=<r>' (e.g. 'pipeline:8:1f1b')`, { field: 'strategy' });
    }
  }
  return settings;
}

/** 'pipeline' → 4 micro-batches, 'pipeline:8' → 8. */
export function parseMicroBatches(name: string): number {
  return parsePipelineSettings(name).microBatches;
}
