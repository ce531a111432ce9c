/**
 * Byzantine clients for robustness tests (`--byzantine <fraction>:scale:<k>` or `<fraction>:nan`): a
 * seeded set of ⌊fraction × clients⌋ clients, fixed for the whole run, send a corrupted update
 * whenever they are sampled — their honest delta times k (k = −10 flips and magnifies it), or NaN
 * everywhere. The corruption happens on the client, after training and before serialisation, where
 * a real attacker would act.
 *
 * @example
 * const attack = parseByzantine('0.2:scale:-10'); // { fraction: 0.2, kind: 'scale', factor: -10 }
 * const bad = byzantineClients(attack, 100, seed); // 20 client ids
 */
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export type ByzantineAttack = { kind: 'scale'; factor: number } | { kind: 'nan' };

export interface ByzantineSpec {
  /** Share of all clients that are Byzantine, in [0, 1]. */
  fraction: number;
  attack: ByzantineAttack;
}

const USAGE = "'<fraction>:scale:<k>' or '<fraction>:nan' (e.g. 0.2:scale:-10)";

export function parseByzantine(spec: string): ByzantineSpec {
  const [fractionText = '', kind, factorText, ...rest] = spec.split(':');
  const fraction = Number(fractionText);
  if (fractionText === '' || !(fraction >= 0 && fraction <= 1))
    throw new ConfigError(`--byzantine '${spec}': the fraction must be a number in [0, 1]; expected ${USAGE}`, { field: 'byzantine' });
  if (kind === 'nan' && factorText === undefined) return { fraction, attack: { kind: 'nan' } };
  if (kind === 'scale' && factorText !== undefined && rest.length === 0) {
    const factor = Number(factorText);
    if (factorText !== '' && Number.isFinite(factor)) return { fraction, attack: { kind: 'scale', factor } };
  }
  throw new ConfigError(`--byzantine '${spec}' is not understood; expected ${USAGE}`, { field: 'byzantine' });
}

/** The Byzantine clients among `clients`: a seeded draw of ⌊fraction·clients⌋ ids, fixed for the run. */
export function byzantineClients(spec: ByzantineSpec, clients: number, seed: number): Set<number> {
  const count = Math.floor(spec.fraction * clients + 1e-9);
  return new Set(new Rng(seed).fork(0xb12).sample(clients, count));
}

/** `delta` corrupted in place by `attack`. */
export function corruptUpdate(delta: Float64Array, attack: ByzantineAttack): Float64Array {
  if (attack.kind === 'nan') delta.fill(NaN);
  else for (let j = 0; j < delta.length; j++) delta[j]! *= attack.factor;
  return delta;
}
