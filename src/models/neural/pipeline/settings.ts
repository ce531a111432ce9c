/**
 * Pipeline parallelism as a fit option. `FitOptions.pipeline` asks a neural model to cut its layers
 * into stages, one per worker (or per worker of a replica), instead of training data-parallel; the
 * runtime carries the options, unchanged and serialisable, to every rank's `TrainContext.pipeline`,
 * and the model's trainer (./trainer.ts) resolves them here. The CLI spells them `--pipeline`.
 *
 * - `microBatches` — micro-batches per global mini-batch (default 4);
 * - `schedule` — 'gpipe' (all forwards, then all backwards) or '1f1b' (bounds stored activations by
 *   the stage count); default 'gpipe';
 * - `replicas` — hybrid: r data-parallel copies of a pipeline of workers / r stages; each stage's
 *   gradient is summed over its replicas (comm/collectives/group-allreduce.ts) before the update.
 *
 * @example
 * await new CNN().fit(data, { paradigm: 'threads', workers: 4, pipeline: { microBatches: 8, schedule: '1f1b', replicas: 2 } });
 * // CLI: --workers 2 --pipeline 8:1f1b     --workers 4 --pipeline 8:replicas=2     --pipeline default
 */
import { ConfigError } from '../../../core/errors.js';

export type PipelineSchedule = 'gpipe' | '1f1b';

/** What a caller asks for; every field has a default (`{}` is a 4-micro-batch GPipe pipeline). */
export interface PipelineOptions {
  microBatches?: number;
  schedule?: PipelineSchedule;
  /** Data-parallel copies of the pipeline; stages = workers / replicas. */
  replicas?: number;
}

/** The options with their defaults, checked. */
export interface PipelineSettings {
  readonly microBatches: number;
  readonly schedule: PipelineSchedule;
  readonly replicas: number;
}

/** Micro-batches per global mini-batch when the options give none. */
export const DEFAULT_MICRO_BATCHES = 4;

const KEYS: readonly string[] = ['microBatches', 'schedule', 'replicas'];

/**
 * `options` with defaults filled in; a ConfigError naming the field when they cannot run (on
 * `workers` workers, when given: the replicas must divide them).
 *
 * @example
 * resolvePipeline({ schedule: '1f1b' }, 4); // { microBatches: 4, schedule: '1f1b', replicas: 1 }
 */
export function resolvePipeline(options: PipelineOptions, workers?: number): PipelineSettings {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(`pipeline must be an object { microBatches?, schedule?, replicas? }, got ${String(options)}`, {
      field: 'pipeline',
    });
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key))
      throw new ConfigError(`pipeline has no option '${key}'; its options are: ${KEYS.join(', ')}`, { field: `pipeline.${key}` });
  }
  const settings: PipelineSettings = {
    microBatches: options.microBatches ?? DEFAULT_MICRO_BATCHES,
    schedule: options.schedule ?? 'gpipe',
    replicas: options.replicas ?? 1,
  };
  if (!Number.isInteger(settings.microBatches) || settings.microBatches < 1) {
    throw new ConfigError(`pipeline.microBatches must be a whole number ≥ 1, got ${settings.microBatches}`, {
      field: 'pipeline.microBatches',
    });
  }
  if (settings.schedule !== 'gpipe' && settings.schedule !== '1f1b') {
    throw new ConfigError(`pipeline.schedule must be 'gpipe' or '1f1b', got '${String(settings.schedule)}'`, {
      field: 'pipeline.schedule',
    });
  }
  if (!Number.isInteger(settings.replicas) || settings.replicas < 1) {
    throw new ConfigError(`pipeline.replicas must be a whole number ≥ 1, got ${settings.replicas}`, { field: 'pipeline.replicas' });
  }
  if (workers !== undefined && workers % settings.replicas !== 0) {
    throw new ConfigError(
      `pipeline.replicas = ${settings.replicas} splits the workers into ${settings.replicas} equal pipelines, but ${workers} workers is not a multiple of ${settings.replicas}; choose --workers ${settings.replicas * Math.max(2, Math.round(workers / settings.replicas))} or another replica count`,
      { field: 'workers' },
    );
  }
  return settings;
}

/**
 * The CLI's `--pipeline` value: parts separated by colons, in any order — `<m>` micro-batches,
 * `gpipe` | `1f1b`, `replicas=<r>` — or `default` for all defaults. Unknown parts are a ConfigError.
 *
 * @example
 * parsePipelineFlag('8:1f1b:replicas=2'); // { microBatches: 8, schedule: '1f1b', replicas: 2 }
 */
export function parsePipelineFlag(text: string): PipelineOptions {
  const options: PipelineOptions = {};
  if (text === 'default') return options;
  for (const part of text.split(':')) {
    const replicas = /^replicas=(\d+)$/.exec(part);
    if (/^\d+$/.test(part)) options.microBatches = Number(part);
    else if (part === 'gpipe' || part === '1f1b') options.schedule = part;
    else if (replicas !== null) options.replicas = Number(replicas[1]);
    else {
      throw new ConfigError(
        `--pipeline '${text}': unknown part '${part}'; expected parts separated by ':' — <micro-batches>, gpipe or 1f1b, replicas=<r> (e.g. '8:1f1b', '4:replicas=2') — or 'default'`,
        { field: 'pipeline' },
      );
    }
  }
  return options;
}

/** The settings as the CLI writes them: '4:gpipe', '8:1f1b:replicas=2'. */
export function formatPipeline(settings: PipelineSettings): string {
  return `${settings.microBatches}:${settings.schedule}${settings.replicas === 1 ? '' : `:replicas=${settings.replicas}`}`;
}
