/**
 * The comparison's codec dimension (issue 17): a matrix's `compression` list (`['none',
 * 'topk16:0.01', 'powersgd:2']`, CLI `--compression a,b`) multiplies the cells of every model that
 * trains by SGD under a strategy that compresses (allreduce, the parameter server); the measured
 * bytes (comm.bytesSent, counted at the transport) and the test score of each codec are then set
 * against the same cell uncompressed, and the seed's claim that "gradient compression reduces the
 * amount of data sent between processors" (§4) reads those pairs.
 *
 * @example
 * parseMatrix({ models: ['mlp'], paradigms: ['threads'], workers: [2], compression: ['none', 'topk16:0.01'] });
 */
import { ConfigError } from '../core/errors.js';
import type { Paradigm } from '../models/paradigm.js';
import { checkCompressionSpec, compressionProblem } from '../runtime/compression.js';
import { fail, nonEmptyList } from './matrix-fields.js';

/** The codec of a cell that sends its gradients as they are. */
export const NO_COMPRESSION = 'none';

/** A matrix `compression` list, each spec checked as a rank would build it (a ConfigError naming the entry). */
export function compressionList(field: string, value: unknown): string[] {
  const specs = nonEmptyList(field, value).map((spec, i) => {
    if (typeof spec !== 'string' || spec.trim() === '')
      fail(`${field}[${i}]`, "a codec spec such as 'none', 'topk16:0.01' or 'powersgd:2'", spec);
    try {
      checkCompressionSpec(spec.trim());
    } catch (error) {
      if (error instanceof ConfigError)
        throw new ConfigError(`matrix field '${field}[${i}]': ${error.message}`, { field: `${field}[${i}]`, cause: error });
      throw error;
    }
    return spec.trim();
  });
  return [...new Set(specs)];
}

/**
 * The codecs a cell runs: every listed codec where the cell's gradients pass through a codec (an
 * SGD model, not sequential — the baseline stays uncompressed — under a strategy that compresses),
 * else 'none' alone; `refused` says why a listed codec was left out, for the skipped list.
 */
export function cellCodecs(
  listed: readonly string[],
  cell: { paradigm: Paradigm; strategy: string; trainsBySgd: boolean },
): { codecs: string[]; refused: { codec: string; reason: string }[] } {
  const compressed = listed.filter((codec) => codec !== NO_COMPRESSION);
  const plain = listed.includes(NO_COMPRESSION) || compressed.length === 0;
  if (compressed.length === 0 || cell.paradigm === 'sequential' || !cell.trainsBySgd) return { codecs: [NO_COMPRESSION], refused: [] };
  const refused: { codec: string; reason: string }[] = [];
  const codecs = plain ? [NO_COMPRESSION] : [];
  for (const codec of compressed) {
    const problem =
      cell.strategy === 'pipeline'
        ? 'pipeline stages pass activations, not gradients a codec compresses'
        : compressionProblem(cell.strategy, codec);
    if (problem === null) codecs.push(codec);
    else refused.push({ codec, reason: problem });
  }
  return { codecs, refused };
}

/** The fit options of a cell's codec ({} for 'none'). */
export function codecFitOptions(codec: string): { compression?: string } {
  return codec === NO_COMPRESSION ? {} : { compression: codec };
}
