/**
 * Command-line arguments: `command [positionals] --flag value --switch`. Flags are kebab-case and
 * map to camelCase option names (`--max-iter 20` → maxIter: 20), so model hyperparameters need no
 * per-model flag table: the model's own option check (resolveParams) rejects a misspelt flag.
 */
import { ConfigError } from '../core/errors.js';

export type FlagValue = string | number | boolean;

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, FlagValue>;
  /** Everything after a bare `--`, untouched. */
  rest: string[];
}

/** Flags that never take a value. */
const SWITCHES = new Set(['json', 'help', 'standardize', 'minmax', 'quiet', 'quick', 'version']);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, FlagValue>();
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (!token.startsWith('--')) {
      positionals.push(token);
      continue;
    }
    const body = token.slice(2);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (name === '') throw new ConfigError(`empty flag '${token}'`);
    if (flags.has(name)) throw new ConfigError(`flag --${name} is given twice`, { field: name });
    if (eq >= 0) {
      flags.set(name, coerce(body.slice(eq + 1)));
    } else if (SWITCHES.has(name) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) {
      flags.set(name, true);
    } else {
      flags.set(name, coerce(argv[++i]!));
    }
  }
  return { positionals, flags, rest };
}

function coerce(text: string): FlagValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  return text;
}

export function camelCase(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Take a flag out of the map (so what remains can be handed to the model), typed. */
export function takeString(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags.get(name);
  args.flags.delete(name);
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') throw new ConfigError(`--${name} needs a value`, { field: name });
  return String(value);
}

export function takeNumber(args: ParsedArgs, name: string, check: (n: number) => boolean = Number.isFinite, expected = 'a number'): number | undefined {
  const value = args.flags.get(name);
  args.flags.delete(name);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !check(value)) throw new ConfigError(`--${name} expects ${expected}, got '${String(value)}'`, { field: name });
  return value;
}

export function takeSwitch(args: ParsedArgs, name: string): boolean {
  const value = args.flags.get(name);
  args.flags.delete(name);
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ConfigError(`--${name} is a switch and takes no value, got '${String(value)}'`, { field: name });
  return value;
}

/** The remaining flags as camelCase options (model hyperparameters). */
export function remainingOptions(args: ParsedArgs): Record<string, FlagValue> {
  // fromEntries defines own keys: `--__proto__ 1` stays an option the model refuses, where
  // `options[name] = value` would call Object.prototype's __proto__ setter and drop it silently.
  return Object.fromEntries([...args.flags].map(([name, value]) => [camelCase(name), value]));
}

/** A comma-separated list flag (`--workers 1,2,4`), taken out of the map. */
export function takeList(args: ParsedArgs, name: string): string[] | undefined {
  const value = args.flags.get(name);
  args.flags.delete(name);
  if (value === undefined) return undefined;
  if (value === true) throw new ConfigError(`--${name} needs a comma-separated list`, { field: name });
  return String(value).split(',').map((s) => s.trim()).filter((s) => s !== '');
}
