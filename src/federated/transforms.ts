/**
 * Steps a client update goes through on its way to the server, in order: where differential privacy
 * (clip to a norm, add Gaussian noise) and secure aggregation's masking plug in. A transform is
 * pure: it returns the update to send (it may reuse the arrays) and never sees the model. Transforms
 * are named so a client in another thread or process can rebuild them from the task it is sent.
 *
 * The server side has its own seam: `aggregateRound` (server.ts) receives the round's updates after
 * every client transform, drops the non-finite ones, and hands the rest to the aggregator.
 *
 * @example
 * registerUpdateTransform('clip', (args) => ({ name: 'clip', apply: (update) => clipToNorm(update, Number(args[0])) }));
 * const transforms = ['clip:1.0'].map(createUpdateTransform);
 */
import { ConfigError, ShardlearnError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { ClientUpdate } from './aggregator.js';
import { privatizeLocally } from './dp.js';
import { clientSeed } from './sampling.js';

export interface UpdateTransform {
  readonly name: string;
  /** The update to send on; `round` and the client's id (in `update`) seed any randomness. */
  apply(update: ClientUpdate, round: number): ClientUpdate;
}

export type UpdateTransformFactory = (args: readonly string[], spec: string) => UpdateTransform;

const transforms = new Map<string, UpdateTransformFactory>();

export function registerUpdateTransform(name: string, factory: UpdateTransformFactory): void {
  if (transforms.has(name)) throw new ShardlearnError('REGISTRY', `update transform '${name}' is already registered`);
  transforms.set(name, factory);
}

/** The transform a spec ('name:arg:…') names. */
export function createUpdateTransform(spec: string): UpdateTransform {
  const [name = '', ...args] = spec.split(':');
  const factory = transforms.get(name);
  if (factory === undefined)
    throw new ConfigError(`unknown update transform '${spec}'; registered: ${[...transforms.keys()].join(', ') || 'none'}`, {
      field: 'transforms',
    });
  return factory(args, spec);
}

/** `update` through `chain`, in order. */
export function transformUpdate(chain: readonly UpdateTransform[], update: ClientUpdate, round: number): ClientUpdate {
  let current = update;
  for (const transform of chain) current = transform.apply(current, round);
  return current;
}

/** The client-side DP transform's spec: clip to `clip`, add this client's share of N(0, σ²C²) over `expectedClients`, seeded by (seed, round, client). */
export function localDpSpec(clip: number, noiseMultiplier: number, expectedClients: number, seed: number): string {
  return `dp-local:${clip}:${noiseMultiplier}:${expectedClients}:${seed}`;
}

registerUpdateTransform('dp-local', (args, spec) => {
  const [clip, noiseMultiplier, expectedClients, seed] = args.map(Number);
  if (args.length !== 4 || ![clip, noiseMultiplier, expectedClients, seed].every(Number.isFinite))
    throw new ConfigError(`update transform '${spec}' expects dp-local:<clip>:<σ>:<clients per round>:<seed>`, { field: 'transforms' });
  const options = { clip: clip!, noiseMultiplier: noiseMultiplier!, expectedClients: expectedClients! };
  return {
    name: 'dp-local',
    apply: (update, round) => ({
      ...update,
      delta: privatizeLocally(update.delta, options, new Rng(clientSeed(seed! ^ 0x0d90, round, update.client))),
    }),
  };
});
