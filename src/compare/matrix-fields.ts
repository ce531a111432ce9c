/**
 * Small validators shared by the matrix parsers (matrix.ts, network-spec.ts): each throws a
 * ConfigError naming the matrix field, what was expected and what was found.
 *
 * @example
 * const list = nonEmptyList('workers', value); // ConfigError "matrix field 'workers': expected a non-empty list, found 3"
 */
import { ConfigError } from '../core/errors.js';

export function fail(field: string, expected: string, found: unknown): never {
  throw new ConfigError(`matrix field '${field}': expected ${expected}, found ${describe(found)}`, { field });
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value}'`;
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkKeys(field: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const where = field === '' ? key : `${field}.${key}`;
      throw new ConfigError(`matrix has an unknown field '${where}'; allowed here: ${allowed.join(', ')}`, { field: where });
    }
  }
}

export function nonEmptyList(field: string, value: unknown): unknown[] {
  if (!Array.isArray(value) || value.length === 0) fail(field, 'a non-empty list', value);
  return value;
}
