/** FitOptions' `compression`/`compressionWarmup` as the strategy takes them (the rank body builds its strategy with it; launchers check it before any rank starts). */
import type { ModelFitOptions } from '../models/context.js';
import type { CompressionOptions } from '../strategies/index.js';
import { checkStrategy } from '../strategies/index.js';
import { ConfigError } from '../core/errors.js';

export function compressionOf(options: Readonly<ModelFitOptions>): CompressionOptions | undefined {
  if (options.compression === undefined) return undefined;
  return { codec: options.compression, warmupEpochs: options.compressionWarmup ?? 0 };
}

/**
 * Throws the ConfigError of a codec spec no rank could build ('topk:2', 'zip'); compare validates
 * its matrix's `compression` list with it, before the first cell runs.
 */
export function checkCompressionSpec(spec: string): void {
  checkStrategy('allreduce', { codec: spec });
}

/** Why gradient strategy `strategy` cannot run codec `spec` (it does not compress), or null when it can. */
export function compressionProblem(strategy: string, spec: string): string | null {
  try {
    checkStrategy(strategy, { codec: spec });
    return null;
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}
