/**
 * Model options from the command line (`--k 3 --solver sgd --fit-intercept false`): each flag's text
 * converted to the type the model declares for that option, and only there — `--solver 007` stays
 * the text '007'. The declared type is read from the model's defaults (a number, a boolean, text, a
 * list, or null for "number or unset"); an option the model does not have is passed as typed, so the
 * model's own check refuses it with the list of its options.
 *
 * @example
 * modelOptions('kmeans', parseArgs(['--k', '3', '--init', 'random'])); // { k: 3, init: 'random' }
 */
import { ConfigError } from '../core/errors.js';
import { createModel } from '../models/index.js';
import type { FlagValue, ParsedArgs } from './args.js';
import { kebabCase, parseNumber, remainingOptions } from './args.js';

/** Convert one option's text to the type of `declared` (the model's default for it). */
export function convertOption(name: string, value: FlagValue, declared: unknown): unknown {
  if (value === true) return typeof declared === 'boolean' ? true : value;
  if (typeof declared === 'number') {
    const number = parseNumber(value);
    if (number === null) throw new ConfigError(`--${kebabCase(name)} expects a number, got '${value}'`, { field: name });
    return number;
  }
  if (declared === null) return parseNumber(value) ?? value; // "a number or unset" (e.g. rnn --steps), or text the model parses (cnn --input-shape 28x28x1)
  if (typeof declared === 'boolean') {
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw new ConfigError(`--${kebabCase(name)} expects true or false, got '${value}'`, { field: name });
  }
  return value; // text, or a list the model parses from text ('128,64')
}

/** The flags left in `args` as the options of model `modelName`, converted (see the module comment). */
export function modelOptions(modelName: string, args: ParsedArgs): Record<string, unknown> {
  const defaults = createModel(modelName).params as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(remainingOptions(args)).map(([name, value]) => [name, Object.hasOwn(defaults, name) ? convertOption(name, value, defaults[name]) : value]),
  );
}
