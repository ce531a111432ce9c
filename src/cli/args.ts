/**
 * Command-line arguments: `command [positionals] --flag value --switch`. Flags are kebab-case and
 * map to camelCase option names (`--max-iter 20` → maxIter: 20), so model hyperparameters need no
 * per-model flag table: the model's own option check (resolveParams) rejects a misspelt flag.
 *
 * Values stay the text the user typed until the code that reads a flag converts it (takeNumber,
 * takeSwitch, modelOptions): `--target 007` names a column, `--delimiter 1` is the character 1,
 * `--data 123` is a file called 123. Converting up front turned all three into the number.
 */
import { ConfigError } from '../core/errors.js';

/** The text after a flag, or `true` for a flag given without a value (`--standardize`). */
export type FlagValue = string | true;

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, FlagValue>;
  /** Everything after a bare `--`, untouched. */
  rest: string[];
}

/** Flags that never take a value. */
const SWITCHES = new Set(['json', 'help', 'standardize', 'minmax', 'quiet', 'quick', 'resume', 'version']);

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
      flags.set(name, body.slice(eq + 1));
    } else if (SWITCHES.has(name) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) {
      flags.set(name, true);
    } else {
      flags.set(name, argv[++i]!);
    }
  }
  return { positionals, flags, rest };
}

/** The number a flag's text spells (decimal, exponent, Infinity excluded), or null. */
export function parseNumber(text: string): number | null {
  if (text.trim() === '' || !/^[\s+\-.\deE]+$/.test(text)) return null; // no hex, binary, 'Infinity'
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
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
  if (value === true) throw new ConfigError(`--${name} needs a value`, { field: name });
  return value;
}

export function takeNumber(
  args: ParsedArgs,
  name: string,
  check: (n: number) => boolean = Number.isFinite,
  expected = 'a number',
): number | undefined {
  const value = args.flags.get(name);
  args.flags.delete(name);
  if (value === undefined) return undefined;
  if (value === true) throw new ConfigError(`--${name} needs a value: ${expected}`, { field: name });
  const number = parseNumber(value);
  if (number === null || !check(number)) throw new ConfigError(`--${name} expects ${expected}, got '${value}'`, { field: name });
  return number;
}

export function takeSwitch(args: ParsedArgs, name: string): boolean {
  const value = args.flags.get(name);
  args.flags.delete(name);
  if (value === undefined) return false;
  if (value === true || value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`--${name} is a switch and takes no value, got '${value}'`, { field: name });
}

/** The remaining flags as camelCase options, still as typed (see modelOptions to convert them). */
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
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Refuse any flag the command did not take (after it took all of its own). */
export function rejectLeftovers(args: ParsedArgs, command: string): void {
  const first = [...args.flags.keys()][0];
  if (first !== undefined)
    throw new ConfigError(`${command} does not take --${first}; 'shardlearn ${command} --help' lists its flags`, { field: first });
}
