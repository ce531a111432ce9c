/** What every party of one secure aggregation round agrees on before it starts. */
import { ConfigError } from '../../core/errors.js';
import { checkFixedPoint, DEFAULT_FIXED_POINT, type FixedPoint } from './fixed-point.js';

export interface SecAggParameters {
  /** The round number: bound into every message, key derivation and ciphertext. */
  round: number;
  /** Values per client vector (the model's parameter count). */
  vectorLength: number;
  /**
   * Shares needed to reconstruct a secret (t). Security: the server together with fewer than t
   * clients learns nothing beyond the sum; liveness: at least t clients must finish the round.
   */
  threshold: number;
  fixedPoint?: FixedPoint;
}

export type ResolvedParameters = Required<SecAggParameters>;

export function resolveParameters(parameters: SecAggParameters): ResolvedParameters {
  const fixedPoint = parameters.fixedPoint ?? DEFAULT_FIXED_POINT;
  checkFixedPoint(fixedPoint);
  const { round, vectorLength, threshold } = parameters;
  if (!Number.isInteger(round) || round < 0 || round > 0xffffffff)
    throw new ConfigError(`secure aggregation's round must be a 32-bit unsigned integer, found ${round}`, { field: 'rounds' });
  if (!Number.isInteger(vectorLength) || vectorLength < 1)
    throw new ConfigError(`secure aggregation's vector length must be an integer >= 1, found ${vectorLength}`, {
      field: 'secure-aggregation',
    });
  if (!Number.isInteger(threshold) || threshold < 2)
    throw new ConfigError(`secure aggregation's threshold must be an integer >= 2, found ${threshold}`, { field: 'secure-aggregation' });
  return { round, vectorLength, threshold, fixedPoint };
}

/** A threshold for n clients: a strict majority, ⌊n/2⌋ + 1 (and at least 2). */
export function majorityThreshold(clients: number): number {
  return Math.max(2, Math.floor(clients / 2) + 1);
}
