/**
 * Reading a matrix file (JSON). Kept apart from `matrix.ts` so the validation stays pure.
 *
 * @example
 * const matrix = await loadMatrixFile('bench/matrix.json');
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import type { Matrix, NetworkSpec } from './matrix.js';
import { defaultMatrixSpec, parseMatrix } from './matrix.js';
import type { FederatedFlags } from './federated-cells.js';
import { applyFederatedFlags } from './federated-cells.js';

export async function loadMatrixFile(path: string): Promise<Matrix> {
  return parseMatrix(await readMatrixObject(path));
}

async function readMatrixObject(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the matrix file '${path}': ${(error as Error).message}`, { field: 'matrix', cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: the matrix is not valid JSON: ${(error as Error).message}`, { field: 'matrix', cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${path}: expected a JSON object (the matrix), found ${Array.isArray(value) ? 'an array' : typeof value}`, {
      field: 'matrix',
    });
  }
  return value as Record<string, unknown>;
}

/** What `shardlearn compare` takes on the command line; every field optional. */
export interface MatrixFlags {
  /** A matrix file (JSON); other flags override its fields. Without it: the default matrix. */
  matrix?: string;
  /** Model names (each with default hyperparameters, on the matrix's data). */
  models?: string[];
  data?: string[];
  paradigms?: string[];
  workers?: number[];
  strategies?: string[];
  /** Gradient codecs ('none', 'topk16:0.01', 'powersgd:2', …): replaces the matrix's list and every model's own. */
  compression?: string[];
  /** Injected faults ('kill', 'stop'; fault-cells.ts): replaces the matrix's list and every model's own. */
  faults?: string[];
  repeats?: number;
  /** Rows of the default matrix's synthetic data sets (ignored with --matrix or --data). */
  rows?: number;
  targetLoss?: number;
  targetScore?: number;
  /** Network profiles: proxy ones for processes cells, tbf ones for cluster cells (see parseNetworksFlag). */
  networks?: NetworkSpec[];
  /** The federated cells' lists (--federated-aggregators, --federated-partitions, …): replace every federated set's own. */
  federated?: FederatedFlags;
}

/**
 * The matrix the CLI runs: the file named by `--matrix` or the default matrix, with the other
 * flags overriding its fields, validated as one (so a bad flag gets the same ConfigError).
 *
 * @example
 * const matrix = await resolveMatrix({ models: ['kmeans'], workers: [1, 2, 4], repeats: 5 });
 */
export async function resolveMatrix(flags: MatrixFlags = {}): Promise<Matrix> {
  const base =
    flags.matrix !== undefined
      ? await readMatrixObject(flags.matrix)
      : defaultMatrixSpec(flags.rows === undefined ? {} : { rows: flags.rows });
  const merged: Record<string, unknown> = { ...base };
  if (flags.models !== undefined) merged.models = flags.models;
  if (flags.data !== undefined) {
    merged.data = flags.data;
    // --data replaces every model's own data too, or it would silently not apply
    if (Array.isArray(merged.models))
      merged.models = merged.models.map((m: unknown) => (typeof m === 'object' && m !== null ? { ...m, data: undefined } : m));
  }
  for (const key of ['paradigms', 'workers', 'strategies', 'repeats', 'networks', 'compression', 'faults'] as const)
    if (flags[key] !== undefined) merged[key] = flags[key];
  // --paradigms, --workers and --compression replace every model's own lists too (as --data does); entries that then
  // name the same cell run it once (expandMatrix).
  for (const key of ['paradigms', 'workers', 'compression', 'faults'] as const) {
    if (flags[key] !== undefined && Array.isArray(merged.models))
      merged.models = merged.models.map((m: unknown) => (typeof m === 'object' && m !== null ? { ...m, [key]: undefined } : m));
  }
  if (flags.federated !== undefined) merged.federated = applyFederatedFlags(merged.federated, flags.federated);
  if (flags.targetLoss !== undefined || flags.targetScore !== undefined) {
    merged.target = {
      ...(flags.targetLoss === undefined ? {} : { loss: flags.targetLoss }),
      ...(flags.targetScore === undefined ? {} : { score: flags.targetScore }),
    };
  }
  try {
    return parseMatrix(merged);
  } catch (error) {
    if (error instanceof ConfigError && flags.matrix !== undefined)
      throw new ConfigError(`${flags.matrix}: ${error.message}`, { field: error.field ?? 'matrix', cause: error });
    throw error;
  }
}
