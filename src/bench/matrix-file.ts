/**
 * Reading a matrix file (JSON). Kept apart from `matrix.ts` so the validation stays pure.
 *
 * @example
 * const matrix = await loadMatrixFile('bench/matrix.json');
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import type { Matrix } from './matrix.js';
import { parseMatrix } from './matrix.js';

export async function loadMatrixFile(path: string): Promise<Matrix> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the matrix file '${path}': ${(error as Error).message}`, { field: 'matrix', cause: error });
  }
  try {
    return parseMatrix(text);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${path}: ${error.message}`, { field: error.field ?? 'matrix', cause: error });
    throw error;
  }
}
