/**
 * The codec registry: a family name (the part of a `--compression` spec before the first colon) to a
 * factory that parses the rest. Adding a codec is a file and a `registerCodec` line in index.ts;
 * registering a family twice throws.
 */
import { ConfigError, ShardlearnError } from '../../core/errors.js';
import type { Codec } from './codec.js';

/** `spec` is the whole spec ('topk:0.01'), `args` the parts after the family (['0.01']). */
export type CodecFactory = (spec: string, args: readonly string[]) => Codec;

interface Entry {
  factory: CodecFactory;
  /** How the spec is written, for messages: 'topk:<ratio>'. */
  usage: string;
}

const families = new Map<string, Entry>();

export function registerCodec(usage: string, factory: CodecFactory): void {
  const family = usage.split(':')[0]!;
  if (families.has(family)) throw new ShardlearnError('REGISTRY', `codec '${family}' is already registered`);
  families.set(family, { factory, usage });
}

/** The registered specs as users write them: 'none', 'fp16', 'topk:<ratio>', … */
export function codecUsages(): string[] {
  return [...families.values()].map((entry) => entry.usage);
}

/** The codec a `--compression` spec names; a ConfigError listing the choices when it names none. */
export function createCodec(spec: string): Codec {
  const [family = '', ...args] = spec.trim().split(':');
  const entry = families.get(family);
  if (entry === undefined) {
    throw new ConfigError(`unknown compression '${spec}'; expected one of: ${codecUsages().join(', ')}`, { field: 'compression' });
  }
  if (!entry.usage.includes(':') && args.length > 0) {
    throw new ConfigError(`compression '${spec}': '${family}' takes no argument (write '${entry.usage}')`, { field: 'compression' });
  }
  return entry.factory(spec.trim(), args);
}
