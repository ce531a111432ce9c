/** FitOptions' `compression`/`compressionWarmup` as the strategy takes them (every launcher passes this on to its ranks). */
import type { FitOptions } from '../models/paradigm.js';
import type { CompressionOptions } from '../strategies/index.js';

export function compressionOf(options: FitOptions): CompressionOptions | undefined {
  if (options.compression === undefined) return undefined;
  return { codec: options.compression, warmupEpochs: options.compressionWarmup ?? 0 };
}
