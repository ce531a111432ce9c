/** FitOptions' `compression`/`compressionWarmup` as the strategy takes them (the rank body builds its strategy with it; launchers check it before any rank starts). */
import type { ModelFitOptions } from '../models/context.js';
import type { CompressionOptions } from '../strategies/index.js';

export function compressionOf(options: Readonly<ModelFitOptions>): CompressionOptions | undefined {
  if (options.compression === undefined) return undefined;
  return { codec: options.compression, warmupEpochs: options.compressionWarmup ?? 0 };
}
